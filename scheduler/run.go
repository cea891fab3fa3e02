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

// runID is a job's run ID: derived from the interval and the attempt for scheduled work,
// so a crash between queueing and running never makes two runs of one attempt.
func (j *Job) runID() string {
	if j.Interval == nil {
		return j.ID
	}
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, j.Schedule)
	return fmt.Sprintf("%s-%s-%d", name, j.Interval.End.UTC().Format("20060102T1504Z"), j.Attempt+1)
}

// run executes one job through the engine's runner.
func (s *Scheduler) run(j *Job) {
	defer s.runs.Done()
	ctx, cancel := context.WithCancel(s.ctx)
	s.mu.Lock()
	j.cancel = cancel
	j.RunID = j.runID()
	s.mu.Unlock()
	defer cancel()
	res, err := s.execute(ctx, j)
	now := s.clock.Now().UTC()
	s.mu.Lock()
	j.State, j.Ended = JobFinished, &now
	switch {
	case err != nil:
		j.Status, j.Error = "error", err.Error()
	default:
		j.Status = res.Status
		if res.Status != "success" {
			j.Error = res.Summary()
		}
	}
	s.mu.Unlock()
	if err != nil && j.Interval != nil {
		_ = s.w.SetInterval(context.WithoutCancel(ctx), j.Schedule, j.Interval.End, engine.IntervalFailed, err.Error())
	}
	if err != nil {
		j.hub.add(map[string]any{"event": "error", "message": err.Error()})
	}
	j.hub.close()
	s.opts.Metrics.finished(j, res)
	s.log.Info("run finished", "job", j.ID, "run", j.RunID, "status", j.Status, "error", j.Error)
	if res != nil && res.Status == "error" && j.Interval != nil {
		s.retry(j, res)
	}
	if res != nil && res.Count(engine.StatusSuccess) > 0 {
		s.checkTriggers(false)
	}
	s.mu.Lock()
	delete(s.running, j.ID) // only now: the retry and triggers are queued, so Wait sees them
	if j.Schedule != "" {
		s.active[j.Schedule]--
	}
	s.signal()
	s.mu.Unlock()
	s.kick()
}

// retry queues a failed interval again after a backoff, while its schedule's retries
// last and its failures may pass on retry (never an SQL error or a failed check).
func (s *Scheduler) retry(j *Job, res *engine.Result) {
	sc := s.schedules[j.Schedule]
	if sc == nil || j.Attempt+1 > sc.Retries || !res.Retryable() {
		return
	}
	wait := Backoff(sc.RetryDelay, s.opts.RetryCap, j.Attempt+1, nil)
	iv := *j.Interval
	now := s.clock.Now().UTC()
	next := &Job{ID: j.ID, Kind: j.Kind, Schedule: j.Schedule, Interval: &iv, Request: j.Request, Priority: j.Priority,
		State: JobQueued, Attempt: j.Attempt + 1, Due: j.Due, Enqueued: now, NotBefore: now.Add(wait)}
	msg := fmt.Sprintf("attempt %d failed (%s); retry %d of %d in %s", j.Attempt+1, res.Summary(), next.Attempt, sc.Retries, wait.Round(time.Second))
	_ = s.w.SetInterval(s.ctx, j.Schedule, iv.End, engine.IntervalQueued, msg)
	s.log.Info("retry", "job", j.ID, "attempt", next.Attempt+1, "in", wait)
	s.push(next)
}

// execute plans a job and runs it.
func (s *Scheduler) execute(ctx context.Context, j *Job) (*engine.Result, error) {
	plan, err := s.plan(ctx, j)
	if err != nil {
		return nil, err
	}
	if plan.Backfill != nil {
		s.mu.Lock()
		j.Backfill = plan.Backfill.ID
		s.mu.Unlock()
	}
	threads := j.Request.Threads
	if threads <= 0 {
		threads = s.opts.Threads
	}
	retries := s.opts.Retries
	if j.Request.Retries > 0 {
		retries = j.Request.Retries
	}
	opts := engine.RunOptions{Threads: threads, Retries: retries, Check: j.Request.Check, Drain: s.drain, RunID: j.RunID,
		Observers: append([]engine.Observer{s.opts.Metrics.observer(), &j.hub}, s.opts.Observers...)} // metrics before the stream ends
	if j.Interval != nil {
		opts.Interval = &engine.IntervalRef{Schedule: j.Schedule, End: j.Interval.End}
	}
	return engine.Run(ctx, s.w, plan, opts)
}

// plan makes a job's plan on the current graph.
func (s *Scheduler) plan(ctx context.Context, j *Job) (*engine.Plan, error) {
	r := j.Request
	switch {
	case r.Command == CommandBackfill:
		return PlanRequest(ctx, s.w, s.g, r, s.clock.Now())
	case j.Interval != nil:
		return engine.NewPlan(s.g, engine.PlanOptions{Command: r.Command, Select: r.Select, Exclude: r.Exclude,
			Interval: &models.Window{Start: j.Interval.Start, End: j.Interval.End}, Now: j.Interval.End})
	case j.windows != nil:
		wins := j.windows
		return engine.NewPlan(s.g, engine.PlanOptions{Command: engine.CommandRun, Select: r.Select, Windows: func(m *models.Model) []models.Window {
			var out []models.Window
			for _, st := range wins[m.Name] {
				out = append(out, m.Partition().Granularity.Window(st))
			}
			return out
		}})
	}
	return PlanRequest(ctx, s.w, s.g, r, s.clock.Now())
}

// PlanRequest plans a submitted request as the scheduler does: a backfill (new, or
// resumed) over its range, or a run, build, test or seed of its selection due at now.
func PlanRequest(ctx context.Context, w *engine.Warehouse, g *lineage.Graph, r Request, now time.Time) (*engine.Plan, error) {
	if r.Command == CommandBackfill {
		opts, err := BackfillOptions(r)
		if err != nil {
			return nil, err
		}
		return engine.PlanBackfill(ctx, w, g, opts, r.Resume)
	}
	return engine.NewPlan(g, engine.PlanOptions{Command: r.Command, Select: r.Select, Exclude: r.Exclude, FullRefresh: r.FullRefresh, Now: now})
}

// CommandBackfill is the Request command of a backfill.
const CommandBackfill engine.Command = "backfill"

// BackfillOptions reads a backfill request into the engine's options.
func BackfillOptions(r Request) (engine.BackfillOptions, error) {
	opts := engine.BackfillOptions{Select: r.Select, Exclude: r.Exclude, Force: r.Force, Reprocess: r.Reprocess, MaxTasks: r.MaxTasks}
	if r.Resume == "" {
		f, t, end, err := engine.ParseRange(r.From, r.To)
		if err != nil {
			return opts, err
		}
		opts.From, opts.To, opts.ToEnd = f, t, end
	}
	return opts, nil
}
