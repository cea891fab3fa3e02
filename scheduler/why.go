package scheduler

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// Why explains why one partition is (or is not) built: its status, what it waits on,
// its checks, the schedules that own it and whether they are paused, the jobs that will
// build it, and retries spent; and what to do.
type Why struct {
	Model     string              `json:"model"`
	Partition string              `json:"partition"`
	Status    string              `json:"status"`
	Reasons   []string            `json:"reasons"`
	Advice    string              `json:"advice,omitempty"`
	Detail    *engine.Explanation `json:"detail"`
}

// ParsePartitionKey reads model@partition (events_daily@2024-01-05, m@2024-01-05T03).
func ParsePartitionKey(g *lineage.Graph, key string) (string, time.Time, error) {
	model, part, ok := strings.Cut(key, "@")
	if !ok || model == "" || part == "" {
		return "", time.Time{}, &engine.InputError{Field: "partition", Msg: fmt.Sprintf("%q: name a partition as model@partition, e.g. events_daily@2024-01-05", key)}
	}
	n := g.Node(model)
	if n == nil || n.Model == nil {
		return "", time.Time{}, &engine.InputError{Field: "partition", Msg: fmt.Sprintf("unknown model %q", model)}
	}
	t, err := models.ParseTime(part)
	if err != nil {
		return "", time.Time{}, &engine.InputError{Field: "partition", Msg: err.Error()}
	}
	return model, t, nil
}

// Explain answers why for a partition key. s, when not nil, is the running scheduler:
// its queue and running jobs say what will build it.
func Explain(ctx context.Context, p *models.Project, g *lineage.Graph, w *engine.Warehouse, key string, s *Scheduler) (*Why, error) {
	model, start, err := ParsePartitionKey(g, key)
	if err != nil {
		return nil, err
	}
	ex, err := w.Explain(ctx, g, model, start)
	if err != nil {
		return nil, err
	}
	y := &Why{Model: model, Partition: ex.Name, Status: string(ex.Status), Reasons: []string{}, Detail: ex}
	add := func(format string, args ...any) { y.Reasons = append(y.Reasons, fmt.Sprintf(format, args...)) }
	switch ex.Status {
	case engine.PartDone:
		add("built at %s by run %s (%d rows); its model and upstream have not changed since", ex.BuiltAt.Format(time.RFC3339), ex.RunID, ex.Rows)
	case engine.PartStale:
		add("stale: %s", ex.Reason)
	case engine.PartWaiting:
		add("its last attempt (run %s) waited: %s", ex.LastAttempt.RunID, ex.Reason)
	case engine.PartFailed:
		add("its last attempt failed: %s", ex.Reason)
	case engine.PartMissing:
		add("never built")
	}
	if len(ex.MissingUpstream) > 0 {
		list := ex.MissingUpstream
		if len(list) > 6 {
			list = append(list[:5:5], fmt.Sprintf("… %d more", len(ex.MissingUpstream)-5))
		}
		add("waiting on upstream: %s", strings.Join(list, ", "))
	}
	m := p.Models[model]
	for _, c := range m.Partition().Checks {
		add("checked before it runs: %s", c.Describe())
	}
	owners := owningSchedules(p, g, model)
	if fmt.Sprint(m.Config.Raw["trigger"]) == "upstream" {
		add("it runs when its upstream lands (trigger: upstream)")
	}
	paused := map[string]bool{}
	if s != nil {
		s.mu.Lock()
		for k, v := range s.paused {
			paused[k] = v
		}
		s.mu.Unlock()
	} else if states, err := w.ScheduleStates(ctx, nil, nil, time.Now()); err == nil {
		for k, v := range states {
			paused[k] = v.Paused
		}
	}
	for _, name := range owners {
		sc := p.Schedules[name]
		if paused[name] {
			add("schedule %s would build it, but it is paused", name)
		} else {
			add("schedule %s (%s%s) builds it", name, sc.Cron, tzSuffix(sc))
		}
		ivs, err := w.Intervals(ctx, name, time.Time{}, 1000)
		if err != nil {
			return nil, err
		}
		for _, iv := range ivs {
			if covers(m, iv, ex.Window) {
				switch iv.State {
				case engine.IntervalFailed:
					add("its interval %s→%s failed after %d attempt(s) (retries: %d): %s", iv.Start.Format(time.RFC3339), iv.End.Format(time.RFC3339), iv.Attempts, sc.Retries, iv.Error)
				case engine.IntervalSkipped:
					add("its interval %s→%s was skipped: %s", iv.Start.Format(time.RFC3339), iv.End.Format(time.RFC3339), iv.Error)
				case engine.IntervalQueued, engine.IntervalRunning:
					add("its interval %s→%s is %s", iv.Start.Format(time.RFC3339), iv.End.Format(time.RFC3339), iv.State)
				}
				break
			}
		}
	}
	if len(owners) == 0 && fmt.Sprint(m.Config.Raw["trigger"]) != "upstream" {
		add("no schedule selects %s: only a run or a backfill builds it", model)
	}
	if s != nil {
		for _, j := range append(s.queue.List(s.clock.Now()), runningJobs(s)...) {
			if jobCovers(g, j, model, ex.Window) {
				add("job %s (%s, %s priority) is %s and will build it", j.ID, j.Kind, j.Priority, j.State)
			}
		}
	}
	if ex.Status != engine.PartDone {
		y.Advice = fmt.Sprintf("to build it now: strata backfill %s --from %s --to %s", model, ex.Name, ex.Name)
		if len(ex.MissingUpstream) > 0 {
			y.Advice = fmt.Sprintf("to build it with its upstream: strata backfill +%s --from %s --to %s", model, ex.Name, ex.Name)
		}
	}
	return y, nil
}

func tzSuffix(sc *models.Schedule) string {
	if sc.Timezone == "" {
		return ""
	}
	return " " + sc.Timezone
}

// owningSchedules are the schedules whose selection includes model.
func owningSchedules(p *models.Project, g *lineage.Graph, model string) []string {
	var out []string
	for _, name := range sortedNames(p.Schedules) {
		if ids, err := g.Select(p.Schedules[name].Select, nil); err == nil && ids[model] {
			out = append(out, name)
		}
	}
	return out
}

// covers reports whether an interval's run builds a window of m.
func covers(m *models.Model, iv engine.Interval, w models.Window) bool {
	for _, x := range m.Partition().Closed(iv.Start, iv.End) {
		if x.Start.Equal(w.Start) {
			return true
		}
	}
	return false
}

func runningJobs(s *Scheduler) []*Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Job, 0, len(s.running))
	for _, j := range s.running {
		out = append(out, j)
	}
	return out
}

// jobCovers reports whether a job's run will build a model's window.
func jobCovers(g *lineage.Graph, j *Job, model string, w models.Window) bool {
	if j.windows != nil {
		for _, st := range j.windows[model] {
			if st.Equal(w.Start) {
				return true
			}
		}
		return false
	}
	ids, err := g.Select(j.Request.Select, j.Request.Exclude)
	if err != nil || !ids[model] {
		return false
	}
	if j.Interval != nil {
		return covers(g.Node(model).Model, *j.Interval, w)
	}
	return j.Request.Command == CommandBackfill
}
