package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// env is a loaded project with its warehouse open.
type env struct {
	t   *testing.T
	dir string
	g   *lineage.Graph
	w   *engine.Warehouse
}

func open(t *testing.T, dir string) *env {
	t.Helper()
	p, g := testgraph.Load(t, dir)
	w, err := engine.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return &env{t: t, dir: dir, g: g, w: w}
}

func (e *env) backfill(from, to string, reprocess string, force bool, sel ...string) *engine.Result {
	e.t.Helper()
	f, tt, end, err := engine.ParseRange(from, to)
	if err != nil {
		e.t.Fatal(err)
	}
	plan, err := engine.PlanBackfill(context.Background(), e.w, e.g, engine.BackfillOptions{Select: sel, From: f, To: tt, ToEnd: end, Reprocess: reprocess, Force: force}, "")
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := engine.Run(context.Background(), e.w, plan, engine.RunOptions{Threads: 2})
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func labels(res *engine.Result, status engine.Status) []string {
	var out []string
	for _, t := range res.Tasks {
		if t.Status == status {
			out = append(out, t.Label())
		}
	}
	return out
}

const hourly = `{{ config(materialized='partitioned', partition_by={'column': 'ts', 'granularity': 'hour'}, start='2024-01-01') }}
select {{ partition_start }} + to_minutes(i::bigint) as ts, i as v from range(60) r(i)`

const daily = `{{ config(materialized='partitioned', partition_by={'column': 'day', 'granularity': 'day'}, start='2024-01-01') }}
select cast(date_trunc('day', ts) as timestamp) as day, count(*) as n from {{ ref('hourly') }}
where ts >= {{ partition_start }} and ts < {{ partition_end }} group by all`

func TestMissingUpstreamWaits(t *testing.T) {
	t.Parallel()
	e := open(t, testproj.Write(t, map[string]string{"models/hourly.sql": hourly, "models/daily.sql": daily}))
	// build only the first 30 hours: day 1 complete, day 2 has 6 of 24 hours
	res := e.backfill("2024-01-01T00", "2024-01-02T05", "", false, "hourly")
	if res.Failed() {
		t.Fatalf("hourly backfill failed: %v", labels(res, engine.StatusError))
	}
	res = e.backfill("2024-01-01", "2024-01-02", "", false, "daily")
	if diff := cmp.Diff([]string{"daily 2024-01-02"}, labels(res, engine.StatusWaiting)); diff != "" {
		t.Errorf("waiting partitions (-want +got):\n%s", diff)
	}
	for _, tk := range res.Tasks {
		if tk.Status == engine.StatusWaiting && !strings.Contains(tk.Message, "hourly 2024-01-02T06") || strings.Contains(tk.Message, "2024-01-02T05") {
			t.Errorf("waiting message should name the first missing hour and not a built one: %q", tk.Message)
		}
	}
	if got := queryInt(t, e.w, "select count(*) from main.daily where day = '2024-01-02'"); got != 0 {
		t.Errorf("a partition waiting on upstream wrote %d rows", got)
	}
	if got := queryInt(t, e.w, "select n from main.daily where day = '2024-01-01'"); got != 1440 {
		t.Errorf("day 1 counts %d rows, want 1440", got)
	}
	// once the hours arrive, rerunning finishes the job
	e.backfill("2024-01-02", "2024-01-02", "", false, "hourly")
	res = e.backfill("2024-01-01", "2024-01-02", "", false, "daily")
	if diff := cmp.Diff([]string{"daily 2024-01-02"}, labels(res, engine.StatusSuccess)); diff != "" {
		t.Errorf("rerun built (-want +got):\n%s", diff)
	}
}

func TestChecks(t *testing.T) {
	t.Parallel()
	model := func(check string) string {
		return `{{ config(materialized='partitioned', partition_by={'column': 'd', 'granularity': 'day'}, start='2024-01-01', checks=[` + check + `]) }}
select {{ partition_start }} as d`
	}
	dir := testproj.Write(t, map[string]string{
		"models/by_sql.sql":           model(`{'sql': "select count(*) > 0 from range(10) r(i) where i = {{ ds_nodash[-1:] }}"}`),
		"models/by_files.sql":         model(`{'files': 'landing/dt={{ ds }}/*.csv'}`),
		"models/broken.sql":           model(`{'sql': 'select nope from nowhere'}`),
		"models/child.sql":            `{{ config(materialized='partitioned', partition_by={'column': 'd', 'granularity': 'day'}, start='2024-01-01') }} select d from {{ ref('by_files') }} where d >= {{ partition_start }} and d < {{ partition_end }}`,
		"landing/dt=2024-01-01/a.csv": "x\n1\n",
	})
	e := open(t, dir)
	res := e.backfill("2024-01-01", "2024-01-02", "", false)
	got := map[string]engine.Status{}
	msgs := map[string]string{}
	for _, tk := range res.Tasks {
		got[tk.Label()] = tk.Status
		msgs[tk.Label()] = tk.Message
	}
	want := map[string]engine.Status{
		"by_sql 2024-01-01": "success", "by_sql 2024-01-02": "success",
		"by_files 2024-01-01": "success", "by_files 2024-01-02": "waiting_upstream",
		"child 2024-01-01": "success", "child 2024-01-02": "skipped",
		"broken 2024-01-01": "error", "broken 2024-01-02": "error",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if m := msgs["by_files 2024-01-02"]; !strings.Contains(m, "no files match landing/dt=2024-01-02/*.csv") {
		t.Errorf("files check message: %q", m)
	}
	if m := msgs["broken 2024-01-01"]; !strings.Contains(m, "check sql") || !strings.Contains(m, "nowhere") {
		t.Errorf("a broken check should say which SQL failed: %q", m)
	}
	if m := msgs["child 2024-01-02"]; !strings.Contains(m, "by_files 2024-01-02 waiting_upstream") {
		t.Errorf("the skipped child should name its waiting upstream: %q", m)
	}
}

func TestCheckPokesUntilTimeout(t *testing.T) {
	t.Parallel()
	dir := testproj.Write(t, map[string]string{
		"models/m.sql": `{{ config(materialized='partitioned', partition_by={'column': 'd', 'granularity': 'day'}, start='2024-01-01',
			checks=[{'files': 'landing/{{ ds }}.ready', 'timeout': 5, 'poke_interval': 0.1}]) }} select {{ partition_start }} as d`,
	})
	e := open(t, dir)
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = os.MkdirAll(filepath.Join(dir, "landing"), 0o755)
		_ = os.WriteFile(filepath.Join(dir, "landing", "2024-01-01.ready"), nil, 0o644)
	}()
	res := e.backfill("2024-01-01", "2024-01-01", "", false)
	if s := labels(res, engine.StatusSuccess); len(s) != 1 {
		t.Errorf("the partition should run once its file lands within the timeout; got %v / %v", res.Tasks[0].Status, res.Tasks[0].Message)
	}
}

func TestReprocessModes(t *testing.T) {
	t.Parallel()
	e := open(t, testproj.Write(t, map[string]string{"models/hourly.sql": hourly, "models/daily.sql": daily}))
	e.backfill("2024-01-01", "2024-01-03", "", false)
	// a rerun skips everything as done
	if res := e.backfill("2024-01-01", "2024-01-03", "", false); len(res.Tasks) != 0 {
		t.Errorf("rerun of a finished range ran %d tasks", len(res.Tasks))
	}
	// rebuilding one hour makes its day stale (built before an upstream partition it read)
	e.backfill("2024-01-02T05", "2024-01-02T05", "", true, "hourly")
	res := e.backfill("2024-01-01", "2024-01-03", "stale", false, "daily")
	if diff := cmp.Diff([]string{"daily 2024-01-02"}, labels(res, engine.StatusSuccess)); diff != "" {
		t.Errorf("--reprocess stale built (-want +got):\n%s", diff)
	}
	if res := e.backfill("2024-01-01", "2024-01-04", "missing", false, "daily"); len(res.Tasks) != 1 || res.Tasks[0].Label() != "daily 2024-01-04" {
		t.Errorf("--reprocess missing should run only 2024-01-04, ran %d", len(res.Tasks))
	}
	if res := e.backfill("2024-01-01", "2024-01-03", "all", false, "daily"); len(res.Tasks) != 3 {
		t.Errorf("--reprocess all should run all 3 days, ran %d", len(res.Tasks))
	}
	if got := queryInt(t, e.w, "select count(*) from main.hourly"); got != 72*60 {
		t.Errorf("hourly holds %d rows after rebuilds, want %d: a window's rows must never appear twice", got, 72*60)
	}
}

func TestStaleAfterModelChange(t *testing.T) {
	t.Parallel()
	dir := testproj.Write(t, map[string]string{"models/hourly.sql": hourly, "models/daily.sql": daily})
	e := open(t, dir)
	e.backfill("2024-01-01", "2024-01-01", "", false)
	if err := os.WriteFile(filepath.Join(dir, "models/daily.sql"), []byte(strings.Replace(daily, "count(*) as n", "count(*) as n, sum(1) as m", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	e = open(t, dir)
	state, err := e.w.LoadPartitionState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.NewPlan(e.g, engine.PlanOptions{Command: engine.CommandRun})
	if err != nil {
		t.Fatal(err)
	}
	w := models.Day.Window(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	info := state.Status(e.g, plan.Fingerprints(), "daily", w)
	if info.Status != engine.PartStale {
		t.Errorf("daily 2024-01-01 is %s after its SQL changed, want stale", info.Status)
	}
	if info := state.Status(e.g, plan.Fingerprints(), "hourly", models.Hour.Window(w.Start)); info.Status != engine.PartDone {
		t.Errorf("hourly is %s though nothing it depends on changed", info.Status)
	}
}

func TestRowsOutsideWindowFail(t *testing.T) {
	t.Parallel()
	e := open(t, testproj.Write(t, map[string]string{
		"models/m.sql": `{{ config(materialized='partitioned', partition_by={'column': 'd', 'granularity': 'day'}, start='2024-01-01') }}
select {{ partition_start }} + interval 1 day as d`,
	}))
	res := e.backfill("2024-01-01", "2024-01-01", "", false)
	if res.Tasks[0].Status != engine.StatusError || !strings.Contains(res.Tasks[0].Message, "outside its partition") {
		t.Errorf("a row outside the window must fail the partition: %s %q", res.Tasks[0].Status, res.Tasks[0].Message)
	}
	if got := queryInt(t, e.w, "select count(*) from main.m"); got != 0 {
		t.Errorf("a failed partition left %d rows", got)
	}
}

func TestRunBuildsDueWindows(t *testing.T) {
	t.Parallel()
	e := open(t, testproj.Write(t, map[string]string{
		"models/m.sql": `{{ config(materialized='partitioned', partition_by={'column': 'd', 'granularity': 'day'}, start='2024-01-01', lookback=1) }}
select {{ partition_start }} as d`,
	}))
	plan, err := engine.NewPlan(e.g, engine.PlanOptions{Command: engine.CommandRun, Now: time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range plan.Tasks {
		got = append(got, tk.Label())
	}
	if diff := cmp.Diff([]string{"m 2024-02-28", "m 2024-02-29"}, got); diff != "" {
		t.Errorf("due partitions (-want +got):\n%s", diff)
	}
}

func TestParseRange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ from, to, field, want string }{
		{"2024-03-31", "2024-01-01", "from", "after its end"},
		{"2024-13-01", "2024-12-01", "from", `"2024-13-01" is not a date`},
		{"2024-01-01", "tomorrow", "to", `"tomorrow" is not a date`},
	} {
		_, _, _, err := engine.ParseRange(tc.from, tc.to)
		var ie *engine.InputError
		if !errors.As(err, &ie) || ie.Field != tc.field || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRange(%q, %q) = %v, want an InputError on %s containing %q", tc.from, tc.to, err, tc.field, tc.want)
		}
		if strings.Contains(err.Error(), "--") {
			t.Errorf("ParseRange(%q, %q) = %v: an engine error speaks of values, not of flags", tc.from, tc.to, err)
		}
	}
	_, _, end, err := engine.ParseRange("2024-02-01", "2024-02-29")
	if err != nil || !end.Equal(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("--to 2024-02-29 must include that whole day: end %v, %v", end, err)
	}
}
