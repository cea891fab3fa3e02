package scheduler

import (
	"time"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/models"
)

// Clock is what a schedule's arithmetic needs of its cron: the next fire after a time.
type Clock interface {
	Next(t time.Time) time.Time
}

// Plan says what a schedule owes at one moment, for Owed.
type Plan struct {
	Schedule *models.Schedule
	Latest   time.Time // the end of its latest interval in the ledger; zero when none
	Start    time.Time // how far back catch-up may go with no ledger: its models' start, or when it was first seen
	Now      time.Time
	Max      int // at most this many intervals (the oldest first are dropped); 0 for 10,000
}

// maxFires bounds the fires walked in one computation.
const maxFires = 1_000_000

// Owed returns the intervals a schedule owes at Now, oldest first: each window
// [fire, next fire) that closed after the latest interval in the ledger. With catch-up
// that is every one since (bounded by the catch-up window; with no ledger yet, back to
// Start); without, only the latest. Intervals tile time: each begins where the one before
// it ends.
func Owed(p Plan) []engine.Interval {
	s := p.Schedule
	max := p.Max
	if max <= 0 {
		max = 10_000
	}
	var cur time.Time
	switch {
	case !p.Latest.IsZero():
		cur = p.Latest
	case s.Catchup && !p.Start.IsZero():
		cur = s.Next(p.Start.Add(-time.Second)) // the first fire at or after Start
	default:
		// no history: only the interval that closed last, if any
		last, prev, ok := lastTwoFires(s, p.Now)
		if !ok {
			return nil
		}
		return []engine.Interval{{Schedule: s.Name, Start: prev, End: last, Kind: "scheduled"}}
	}
	var out []engine.Interval
	for i := 0; i < maxFires; i++ {
		next := s.Next(cur)
		if next.After(p.Now) {
			break
		}
		out = append(out, engine.Interval{Schedule: s.Name, Start: cur, End: next, Kind: "catchup"})
		cur = next
	}
	if len(out) == 0 {
		return nil
	}
	if s.CatchupWindow > 0 {
		from := p.Now.Add(-s.CatchupWindow)
		i := 0
		for i < len(out)-1 && out[i].End.Before(from) {
			i++
		}
		out = out[i:]
	}
	if !s.Catchup {
		out = out[len(out)-1:]
	}
	if len(out) > max {
		out = out[len(out)-max:]
	}
	out[len(out)-1].Kind = "scheduled" // the one due now; the others are catch-up
	return out
}

// lastTwoFires finds the last fire at or before now and the one before it.
func lastTwoFires(s *models.Schedule, now time.Time) (last, prev time.Time, ok bool) {
	for _, back := range []time.Duration{2 * time.Hour, 49 * time.Hour, 15 * 24 * time.Hour, 63 * 24 * time.Hour, 367 * 24 * time.Hour, 5 * 367 * 24 * time.Hour} {
		var fires []time.Time
		for f := s.Next(now.Add(-back)); !f.After(now) && len(fires) < maxFires; f = s.Next(f) {
			fires = append(fires, f)
		}
		if len(fires) >= 2 {
			return fires[len(fires)-1], fires[len(fires)-2], true
		}
	}
	return time.Time{}, time.Time{}, false
}

// Fire is one thing the scheduler will do: an interval it owes now (catch-up) or one
// that will close within the horizon.
type Fire struct {
	Schedule string    `json:"schedule"`
	At       time.Time `json:"at"` // when it is queued: now for what is owed, else the interval's end
	Start    time.Time `json:"interval_start"`
	End      time.Time `json:"interval_end"`
	Kind     string    `json:"kind"` // catchup, scheduled or upcoming
	Paused   bool      `json:"paused,omitempty"`
}

// Upcoming lists, for each plan, what is owed at its Now and every interval that will
// close before Now + horizon: what the scheduler would do, without doing it. It is a
// pure function.
func Upcoming(plans []Plan, horizon time.Duration, paused map[string]bool) []Fire {
	var out []Fire
	for _, p := range plans {
		s := p.Schedule
		cur := p.Latest
		for _, iv := range Owed(p) {
			out = append(out, Fire{Schedule: s.Name, At: p.Now, Start: iv.Start, End: iv.End, Kind: iv.Kind, Paused: paused[s.Name]})
			cur = iv.End
		}
		if cur.IsZero() {
			if last, _, ok := lastTwoFires(s, p.Now); ok {
				cur = last
			} else {
				cur = p.Now
			}
		}
		for i := 0; i < maxFires; i++ {
			next := s.Next(cur)
			if next.After(p.Now.Add(horizon)) {
				break
			}
			out = append(out, Fire{Schedule: s.Name, At: next, Start: cur, End: next, Kind: "upcoming", Paused: paused[s.Name]})
			cur = next
		}
	}
	sortFires(out)
	return out
}
