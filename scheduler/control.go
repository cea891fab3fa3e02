package scheduler

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/stratadata/strata/engine"
)

// Submit queues a run someone asked for and returns its job. The request is checked
// first, so a bad one is refused with the error a CLI would give, before it is queued.
func (s *Scheduler) Submit(r Request) (*Job, error) {
	switch r.Command {
	case engine.CommandRun, engine.CommandBuild, engine.CommandTest, engine.CommandSeed, engine.CommandSnapshot:
		if _, err := s.g.Select(r.Select, r.Exclude); err != nil {
			return nil, err
		}
	case CommandBackfill:
		if r.Resume == "" && len(r.Select) == 0 {
			return nil, &engine.InputError{Field: "select", Msg: "a backfill needs a selection: the models to backfill"}
		}
		if _, err := BackfillOptions(r); err != nil {
			return nil, err
		}
	default:
		return nil, &engine.InputError{Field: "command", Msg: fmt.Sprintf("unknown command %q: use run, build, test, seed or backfill", r.Command)}
	}
	prio := r.Priority
	if prio == "" {
		prio = "medium"
		if r.Command == CommandBackfill {
			prio = "low" // below scheduled work unless told otherwise
		}
	}
	if !slices.Contains(priorityOrder, prio) {
		return nil, &engine.InputError{Field: "priority", Msg: fmt.Sprintf("priority %q: use high, medium or low", prio)}
	}
	now := s.clock.Now().UTC()
	kind := "submitted"
	if r.Command == CommandBackfill {
		kind = "backfill"
	}
	j := &Job{ID: newRunID(now), Kind: kind, Request: r, Priority: prio, State: JobQueued, Due: now, Enqueued: now}
	// the answer is the job as it was accepted: once pushed, a free worker may start it
	// before a snapshot taken after could say "queued"
	accepted := j.snapshot()
	s.push(j)
	return accepted, nil
}

// newRunID is a sortable, readable ID: 20240501-120000-3fa2.
func newRunID(now time.Time) string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

// Job returns a copy of a job this process knows, by its ID or its run's ID.
func (s *Scheduler) Job(id string) (*Job, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j, ok := s.job(id); ok {
		return j.snapshot(), true
	}
	return nil, false
}

// job finds a job itself; the caller holds s.mu.
func (s *Scheduler) job(id string) (*Job, bool) {
	if j, ok := s.jobs[id]; ok {
		return j, true
	}
	for _, j := range s.jobs {
		if j.RunID == id {
			return j, true
		}
	}
	return nil, false
}

// ErrNotFound says no job, schedule or run has the name given.
var ErrNotFound = errors.New("not found")

// Cancel takes a queued job out of the queue, or cancels a running one (its running
// tasks are cut short and recorded cancelled).
func (s *Scheduler) Cancel(id string) error {
	s.mu.Lock()
	j, ok := s.job(id)
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("no job or run %q: %w", id, ErrNotFound)
	}
	if _, ok := s.queue.Remove(j.ID); ok {
		now := s.clock.Now().UTC()
		s.mu.Lock()
		j.State, j.Ended, j.Status = JobFinished, &now, "cancelled"
		s.mu.Unlock()
		j.hub.add(map[string]any{"event": "done", "status": "cancelled", "tasks": 0})
		j.hub.close()
		if j.Interval != nil {
			_ = s.w.SetInterval(s.ctx, j.Schedule, j.Interval.End, engine.IntervalInterrupted, "cancelled before it started")
		}
		return nil
	}
	s.mu.Lock()
	cancel := j.cancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return nil
}

// SetPriority changes a queued job's priority.
func (s *Scheduler) SetPriority(id, priority string) error {
	if !slices.Contains(priorityOrder, priority) {
		return &engine.InputError{Field: "priority", Msg: fmt.Sprintf("priority %q: use high, medium or low", priority)}
	}
	j, ok := s.Job(id)
	if !ok || !s.queue.SetPriority(j.ID, priority) {
		return fmt.Errorf("no queued job %q: %w", id, ErrNotFound)
	}
	s.kick()
	return nil
}

// Trigger queues a schedule's latest interval now, as a manual run of it.
func (s *Scheduler) Trigger(name string) (*Job, error) {
	sc, ok := s.schedules[name]
	if !ok {
		return nil, fmt.Errorf("no schedule %q: %w", name, ErrNotFound)
	}
	now := s.clock.Now().UTC()
	r := Request{Command: scheduleCommand(sc), Select: sc.Select, Priority: sc.Priority}
	j := &Job{ID: newRunID(now), Kind: "manual", Schedule: name, Request: r, Priority: sc.Priority, State: JobQueued, Due: now, Enqueued: now}
	accepted := j.snapshot() // as Submit's: the job as it was accepted
	s.push(j)
	return accepted, nil
}

// Pause stops a schedule from queueing more intervals (durably); Resume lets it catch up.
func (s *Scheduler) Pause(name string, paused bool) error {
	if _, ok := s.schedules[name]; !ok {
		return fmt.Errorf("no schedule %q: %w", name, ErrNotFound)
	}
	if err := s.w.SetPaused(s.ctx, name, paused); err != nil {
		return err
	}
	s.mu.Lock()
	s.paused[name] = paused
	s.mu.Unlock()
	if !paused {
		return s.Tick(s.ctx)
	}
	return nil
}

// checkTriggers queues the partitions of upstream-triggered models whose upstream has
// landed. After a run it leaves out windows whose last attempt failed or waited; the
// periodic tick tries those again.
func (s *Scheduler) checkTriggers(retryFailed bool) {
	if len(s.triggered) == 0 {
		return
	}
	state, err := s.w.LoadPartitionState(s.ctx)
	if err != nil {
		s.log.Error("trigger", "error", err)
		return
	}
	built, err := s.w.BuiltModels(s.ctx)
	if err != nil {
		s.log.Error("trigger", "error", err)
		return
	}
	now := s.clock.Now().UTC()
	for _, name := range s.triggered {
		id := "trigger:" + name
		s.mu.Lock()
		old, ok := s.jobs[id]
		s.mu.Unlock()
		if ok && old.State != JobFinished {
			continue // one trigger run at a time per model; the next check picks up what landed meanwhile
		}
		ready := state.Ready(s.g, built, name, time.Time{}, now, retryFailed)
		if len(ready) == 0 {
			continue
		}
		starts := make([]time.Time, len(ready))
		for i, w := range ready {
			starts[i] = w.Start
		}
		m := s.p.Models[name]
		prio := fmt.Sprint(m.Config.Raw["priority"])
		if !slices.Contains(priorityOrder, prio) {
			prio = "medium"
		}
		j := &Job{ID: id, Kind: "trigger", Request: Request{Command: engine.CommandRun, Select: []string{name}}, Priority: prio,
			State: JobQueued, Due: ready[0].End, Enqueued: now, windows: map[string][]time.Time{name: starts}}
		s.log.Info("upstream landed", "model", name, "partitions", len(ready))
		s.push(j)
	}
}
