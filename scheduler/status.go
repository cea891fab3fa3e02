package scheduler

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// Status is where everything stands, as `strata status` prints it and GET /status serves
// it: what runs, what is queued, what waits and on what, what failed, when each schedule
// fires next, and which models are late.
type Status struct {
	Now       time.Time         `json:"now"`
	Server    bool              `json:"server"` // a scheduler is running (else: the ledger alone)
	Running   []*Job            `json:"running"`
	Queued    []*Job            `json:"queued"`
	Waiting   []engine.Waiting  `json:"waiting"`
	Failed    []engine.Interval `json:"failed"` // intervals that failed in the last day
	Schedules []ScheduleStatus  `json:"schedules"`
	Late      []Late            `json:"late"`
}

// ScheduleStatus is one schedule's state.
type ScheduleStatus struct {
	Name     string     `json:"name"`
	Select   []string   `json:"select"`
	Cron     string     `json:"cron"`
	Timezone string     `json:"timezone,omitempty"`
	Priority string     `json:"priority"`
	Catchup  bool       `json:"catchup"`
	Paused   bool       `json:"paused"`
	LastEnd  *time.Time `json:"last_interval_end,omitempty"` // the latest interval in the ledger
	LastDone *time.Time `json:"last_done,omitempty"`         // the latest interval done
	Next     time.Time  `json:"next_fire"`
	Owed     int        `json:"owed"` // intervals owed now and not yet queued
}

// Late is a model later than its freshness allows.
type Late struct {
	Model  string    `json:"model"`
	Level  string    `json:"level"` // warn or error
	Since  time.Time `json:"since"` // its last build, or when its latest owed partition closed
	Late   string    `json:"late"`  // how long, rounded
	Reason string    `json:"reason"`
}

// Report builds the status from the ledger and the task log. s, when not nil, adds the
// running scheduler's jobs and pauses.
func Report(ctx context.Context, p *models.Project, g *lineage.Graph, w *engine.Warehouse, now time.Time, s *Scheduler) (*Status, error) {
	st := &Status{Now: now.UTC(), Server: s != nil, Running: []*Job{}, Queued: []*Job{}, Schedules: []ScheduleStatus{}, Late: []Late{}}
	if s != nil {
		queued := s.queue.List(now)
		s.mu.Lock()
		for _, j := range s.running {
			st.Running = append(st.Running, j.snapshot())
		}
		for _, j := range queued {
			st.Queued = append(st.Queued, j.snapshot())
		}
		s.mu.Unlock()
		slices.SortFunc(st.Running, func(a, b *Job) int { return a.Started.Compare(*b.Started) })
	}
	var err error
	if st.Waiting, err = w.WaitingPartitions(ctx, 100); err != nil {
		return nil, err
	}
	recent, err := w.Intervals(ctx, "", now.Add(-24*time.Hour), 1000)
	if err != nil {
		return nil, err
	}
	st.Failed = []engine.Interval{}
	lastDone := map[string]time.Time{}
	for _, iv := range recent {
		if iv.State == engine.IntervalFailed {
			st.Failed = append(st.Failed, iv)
		}
		if iv.State == engine.IntervalDone && iv.End.After(lastDone[iv.Schedule]) {
			lastDone[iv.Schedule] = iv.End
		}
	}
	latest, err := w.LatestIntervals(ctx)
	if err != nil {
		return nil, err
	}
	paused := map[string]bool{}
	if s != nil {
		s.mu.Lock()
		for k, v := range s.paused {
			paused[k] = v
		}
		s.mu.Unlock()
	} else if states, err := w.ScheduleStates(ctx, nil, nil, now); err == nil {
		for k, v := range states {
			paused[k] = v.Paused
		}
	}
	for _, name := range sortedNames(p.Schedules) {
		sc := p.Schedules[name]
		ss := ScheduleStatus{Name: name, Select: sc.Select, Cron: sc.Cron, Timezone: sc.Timezone, Priority: sc.Priority,
			Catchup: sc.Catchup, Paused: paused[name] || (s == nil && sc.Paused && latest[name].IsZero()), Next: sc.Next(now)}
		if t, ok := latest[name]; ok {
			ss.LastEnd = &t
		}
		if t, ok := lastDone[name]; ok {
			ss.LastDone = &t
		}
		if !ss.Paused {
			ss.Owed = len(Owed(Plan{Schedule: sc, Latest: latest[name], Now: now}))
		}
		st.Schedules = append(st.Schedules, ss)
	}
	if st.Late, err = late(ctx, p, w, now); err != nil {
		return nil, err
	}
	return st, nil
}

func sortedNames(m map[string]*models.Schedule) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// late lists the models later than their freshness allows: an unpartitioned model by
// its last build; a partitioned one by its latest owed window (the last that closed
// before now), late from the moment it closed while it is not built.
func late(ctx context.Context, p *models.Project, w *engine.Warehouse, now time.Time) ([]Late, error) {
	out := []Late{}
	var state *engine.PartitionState
	var built map[string]time.Time
	for _, name := range p.ModelNames() {
		m := p.Models[name]
		f := m.Freshness
		if f == nil || (f.WarnAfter == 0 && f.ErrorAfter == 0) {
			continue
		}
		var since time.Time
		var reason string
		if spec := m.Partition(); spec != nil {
			if state == nil {
				var err error
				if state, err = w.LoadPartitionState(ctx); err != nil {
					return nil, err
				}
			}
			last := spec.Granularity.Add(spec.Granularity.Floor(now), -1)
			if last.Before(spec.Start) {
				continue
			}
			if _, ok := state.Get(name, last); ok {
				continue
			}
			since = spec.Granularity.Add(last, 1)
			reason = fmt.Sprintf("partition %s closed at %s and is not built", spec.Granularity.Name(last), since.Format(time.RFC3339))
		} else {
			if built == nil {
				var err error
				if built, err = w.LastBuilt(ctx); err != nil {
					return nil, err
				}
			}
			t, ok := built[name]
			if !ok {
				continue // never built: nothing is late yet
			}
			since, reason = t, "last built at "+t.Format(time.RFC3339)
		}
		age := now.Sub(since)
		level := ""
		switch {
		case f.ErrorAfter > 0 && age > f.ErrorAfter:
			level = "error"
		case f.WarnAfter > 0 && age > f.WarnAfter:
			level = "warn"
		}
		if level != "" {
			out = append(out, Late{Model: name, Level: level, Since: since, Late: age.Round(time.Minute).String(), Reason: reason})
		}
	}
	return out, nil
}

// Status reports where the running scheduler stands.
func (s *Scheduler) Status(ctx context.Context) (*Status, error) {
	st, err := Report(ctx, s.p, s.g, s.w, s.clock.Now(), s)
	if err == nil {
		warn, errs := 0, 0
		for _, l := range st.Late {
			if l.Level == "error" {
				errs++
			} else {
				warn++
			}
		}
		s.opts.Metrics.Late(warn, errs)
	}
	return st, err
}

// Plans returns each schedule's Plan at now, from the ledger: what Upcoming needs.
func Plans(ctx context.Context, p *models.Project, g *lineage.Graph, w *engine.Warehouse, now time.Time) ([]Plan, map[string]bool, error) {
	latest, err := w.LatestIntervals(ctx)
	if err != nil {
		return nil, nil, err
	}
	states, err := w.ScheduleStates(ctx, nil, nil, now)
	if err != nil {
		return nil, nil, err
	}
	paused := map[string]bool{}
	var plans []Plan
	for _, name := range sortedNames(p.Schedules) {
		sc := p.Schedules[name]
		start := states[name].FirstSeen
		if ids, err := g.Select(sc.Select, nil); err == nil {
			for id := range ids {
				if n := g.Node(id); n.Model != nil && n.Model.Partition() != nil {
					if st := n.Model.Partition().Start; start.IsZero() || st.Before(start) {
						start = st
					}
				}
			}
		}
		paused[name] = states[name].Paused || (sc.Paused && latest[name].IsZero())
		plans = append(plans, Plan{Schedule: sc, Latest: latest[name], Start: start, Now: now})
	}
	return plans, paused, nil
}
