package scheduler

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/models"
)

// schedule loads a project whose strata.yml holds one schedule.
func schedule(t *testing.T, yml string) *models.Schedule {
	t.Helper()
	dir := testproj.Write(t, map[string]string{
		"strata.yml":   "name: p\nschedules:\n  s: " + yml + "\n",
		"models/m.sql": "select 1 as x",
	})
	p, err := models.Load(dir, models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p.Schedules["s"]
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ends(ivs []engine.Interval) []string {
	out := []string{}
	for _, iv := range ivs {
		out = append(out, iv.Start.Format("01-02T15:04")+"→"+iv.End.Format("01-02T15:04")+" "+iv.Kind)
	}
	return out
}

func TestOwed(t *testing.T) {
	t.Parallel()
	hourly := schedule(t, `{select: m, cron: "5 * * * *", catchup: true}`)
	latestOnly := schedule(t, `{select: m, cron: "5 * * * *"}`)
	windowed := schedule(t, `{select: m, cron: "5 * * * *", catchup: true, catchup_window: 3h}`)
	for _, tc := range []struct {
		name string
		plan Plan
		want []string
	}{
		{"nothing new within the hour", Plan{Schedule: hourly, Latest: at("2024-01-01T10:05:00Z"), Now: at("2024-01-01T11:04:59Z")},
			[]string{}},
		{"the interval closing now", Plan{Schedule: hourly, Latest: at("2024-01-01T10:05:00Z"), Now: at("2024-01-01T11:05:00Z")},
			[]string{"01-01T10:05→01-01T11:05 scheduled"}},
		{"5 h of downtime: exactly the 5 missed, oldest first", Plan{Schedule: hourly, Latest: at("2024-01-01T10:05:00Z"), Now: at("2024-01-01T15:30:00Z")},
			[]string{"01-01T10:05→01-01T11:05 catchup", "01-01T11:05→01-01T12:05 catchup", "01-01T12:05→01-01T13:05 catchup",
				"01-01T13:05→01-01T14:05 catchup", "01-01T14:05→01-01T15:05 scheduled"}},
		{"catchup false: only the latest", Plan{Schedule: latestOnly, Latest: at("2024-01-01T10:05:00Z"), Now: at("2024-01-01T15:30:00Z")},
			[]string{"01-01T14:05→01-01T15:05 scheduled"}},
		{"the catch-up window bounds how far back", Plan{Schedule: windowed, Latest: at("2024-01-01T00:05:00Z"), Now: at("2024-01-01T15:30:00Z")},
			[]string{"01-01T12:05→01-01T13:05 catchup", "01-01T13:05→01-01T14:05 catchup", "01-01T14:05→01-01T15:05 scheduled"}},
		{"no ledger, catch-up from the models' start", Plan{Schedule: hourly, Start: at("2024-01-01T00:00:00Z"), Now: at("2024-01-01T03:10:00Z")},
			[]string{"01-01T00:05→01-01T01:05 catchup", "01-01T01:05→01-01T02:05 catchup", "01-01T02:05→01-01T03:05 scheduled"}},
		{"no ledger, no catch-up: the last closed interval", Plan{Schedule: latestOnly, Now: at("2024-01-01T03:10:00Z")},
			[]string{"01-01T02:05→01-01T03:05 scheduled"}},
	} {
		if diff := cmp.Diff(tc.want, ends(Owed(tc.plan))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

// TestOwedADay fires hourly for a day, ticking at every fire and at random moments in
// between (as gocron and the safety tick do): every interval is owed exactly once.
func TestOwedADay(t *testing.T) {
	t.Parallel()
	s := schedule(t, `{select: m, cron: "5 * * * *", catchup: true}`)
	rng := rand.New(rand.NewPCG(1, 2))
	latest := at("2024-03-01T00:05:00Z")
	var got []engine.Interval
	end := at("2024-03-02T00:06:00Z")
	for now := latest; ; {
		owed := Owed(Plan{Schedule: s, Latest: latest, Now: now})
		got = append(got, owed...)
		if len(owed) > 0 {
			latest = owed[len(owed)-1].End
		}
		if now.Equal(end) {
			break
		}
		if now = now.Add(time.Duration(rng.IntN(50)+1) * time.Minute); now.After(end) {
			now = end
		}
	}
	if len(got) != 24 {
		t.Fatalf("%d intervals in a day of hourly fires, want 24: %v", len(got), ends(got))
	}
	tiles(t, got, at("2024-03-01T00:05:00Z"), at("2024-03-02T00:05:00Z"))
}

// tiles checks that intervals cover [from, to) with no gap and no overlap.
func tiles(t *testing.T, ivs []engine.Interval, from, to time.Time) {
	t.Helper()
	cur := from
	for _, iv := range ivs {
		if !iv.Start.Equal(cur) || !iv.End.After(iv.Start) {
			t.Fatalf("interval %v→%v does not follow %v: a gap or an overlap", iv.Start, iv.End, cur)
		}
		cur = iv.End
	}
	if !cur.Equal(to) {
		t.Fatalf("the intervals end at %v, want %v", cur, to)
	}
}

// TestOwedSleep: a machine that sleeps through fires (a clock jump) owes the same
// intervals as one that was awake: ticking once after the jump queues them all, once.
func TestOwedSleep(t *testing.T) {
	t.Parallel()
	s := schedule(t, `{select: m, cron: "*/15 * * * *", catchup: true}`)
	awake := []engine.Interval{}
	latest := at("2024-05-01T08:00:00Z")
	for now := latest; !now.After(at("2024-05-01T14:00:00Z")); now = now.Add(time.Minute) {
		owed := Owed(Plan{Schedule: s, Latest: latest, Now: now})
		awake = append(awake, owed...)
		if len(owed) > 0 {
			latest = owed[len(owed)-1].End
		}
	}
	slept := Owed(Plan{Schedule: s, Latest: at("2024-05-01T08:00:00Z"), Now: at("2024-05-01T14:00:30Z")})
	for i := range slept {
		slept[i].Kind = ""
	}
	for i := range awake {
		awake[i].Kind = ""
	}
	if diff := cmp.Diff(awake, slept); diff != "" {
		t.Errorf("after a sleep (-awake +slept):\n%s", diff)
	}
	if len(slept) != 24 {
		t.Errorf("%d intervals over 6 h of a 15-minute cron, want 24", len(slept))
	}
}

// TestOwedAcrossDST is a property test: for schedules in zones with daylight saving, over
// years that cross every change, the owed intervals tile the elapsed time (nothing lost,
// nothing repeated), a daily cron fires at most once per local day, and every day's
// partition closes in exactly one interval.
func TestOwedAcrossDST(t *testing.T) {
	t.Parallel()
	for _, yml := range []string{
		`{select: m, cron: "30 2 * * *", timezone: Europe/Berlin, catchup: true}`, // 02:30 is skipped in spring, repeated in autumn
		`{select: m, cron: "0 * * * *", timezone: America/New_York, catchup: true}`,
		`{select: m, cron: "15 1 * * 0", timezone: Australia/Lord_Howe, catchup: true}`, // a half-hour change
		`{select: m, cron: "0 2 * * *", timezone: Asia/Seoul, catchup: true}`,
	} {
		s := schedule(t, yml)
		from, to := at("2023-01-01T00:00:00Z"), at("2025-01-01T00:00:00Z")
		rng := rand.New(rand.NewPCG(3, 4))
		first := s.Next(from)
		latest := first
		var got []engine.Interval
		for now := from; now.Before(to); now = now.Add(time.Duration(rng.IntN(36*60)+1) * time.Minute) {
			owed := Owed(Plan{Schedule: s, Latest: latest, Now: now})
			got = append(got, owed...)
			if len(owed) > 0 {
				latest = owed[len(owed)-1].End
			}
		}
		tiles(t, got, first, latest)
		days := map[string]int{}
		for _, iv := range got {
			days[iv.End.In(s.Location()).Format("2006-01-02 15:04")]++
		}
		for day, n := range days {
			if n > 1 {
				t.Errorf("%s: the local time %s fired %d times", s.Timezone, day, n)
			}
		}
		// each UTC day's partition closes in exactly one interval
		spec := &models.PartitionSpec{Granularity: models.Day, Start: from}
		built := map[time.Time]int{}
		for _, iv := range got {
			for _, w := range spec.Closed(iv.Start, iv.End) {
				built[w.Start]++
			}
		}
		for d := models.Day.Add(models.Day.Floor(first), 1); d.Add(24 * time.Hour).Before(latest); d = d.Add(24 * time.Hour) {
			if built[d] != 1 {
				t.Fatalf("%s: the partition %s was built %d times", s.Timezone, d.Format(time.DateOnly), built[d])
			}
		}
	}
}

func TestUpcoming(t *testing.T) {
	t.Parallel()
	s := schedule(t, `{select: m, cron: "0 */6 * * *", catchup: true}`)
	fires := Upcoming([]Plan{{Schedule: s, Latest: at("2024-01-01T00:00:00Z"), Now: at("2024-01-01T13:00:00Z")}}, 24*time.Hour, nil)
	var got []string
	for _, f := range fires {
		got = append(got, f.Kind+" "+f.End.Format("01-02T15"))
	}
	want := []string{"catchup 01-01T06", "scheduled 01-01T12", "upcoming 01-01T18", "upcoming 01-02T00", "upcoming 01-02T06", "upcoming 01-02T12"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("upcoming (-want +got):\n%s", diff)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	mid := func() float64 { return 0.5 } // no jitter
	var got []time.Duration
	for a := 1; a <= 8; a++ {
		got = append(got, Backoff(10*time.Second, 5*time.Minute, a, mid))
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 5 * time.Minute, 5 * time.Minute, 5 * time.Minute}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backoff (-want +got):\n%s", diff)
	}
	for i := 0; i < 100; i++ {
		if d := Backoff(10*time.Second, time.Hour, 3, nil); d < 32*time.Second || d > 48*time.Second {
			t.Fatalf("jittered backoff %v outside 40s ± 20%%", d)
		}
	}
}
