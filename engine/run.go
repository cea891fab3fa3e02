package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Event reports a task changing state while a plan runs.
type Event struct {
	Task  *Task
	Done  int // tasks finished so far
	Total int
}

// RunOptions change how a plan runs.
type RunOptions struct {
	Threads int           // tasks run at once; 1 when 0
	OnEvent func(Event)   // called as each task starts and ends, from one goroutine at a time
	Retries int           // extra attempts after a transient error (a write conflict, I/O); SQL errors never retry
	Backoff time.Duration // wait before the first retry, doubling each time; 200ms when 0
}

// Result is what a run did.
type Result struct {
	RunID    string
	Command  Command
	Selector string
	Status   string // success, error, cancelled
	Started  time.Time
	Ended    time.Time
	Tasks    []*Task
	Backfill string // the backfill this run belongs to
	Err      error  // a failure outside any task (state could not be written, …)
}

// Count returns how many tasks ended with a status.
func (r *Result) Count(s Status) int {
	n := 0
	for _, t := range r.Tasks {
		if t.Status == s {
			n++
		}
	}
	return n
}

// Failed reports whether any model, seed or test failed.
func (r *Result) Failed() bool {
	return r.Count(StatusError) > 0 || r.Count(StatusFail) > 0 || r.Count(StatusWaiting) > 0 || r.Err != nil || r.Status == "cancelled"
}

// Run executes a plan: each task once its dependencies succeed, up to Threads at once. A
// failed task skips everything downstream of it and the rest go on. Every task's outcome
// is recorded in _strata.tasks; a model's row commits with its data.
func Run(ctx context.Context, w *Warehouse, plan *Plan, opts RunOptions) (*Result, error) {
	threads := max(opts.Threads, 1)
	now := time.Now().UTC()
	res := &Result{RunID: newRunID(now), Command: plan.Command, Selector: plan.Selector, Started: now, Tasks: plan.Tasks}
	if plan.Backfill != nil {
		res.Backfill = plan.Backfill.ID
	}
	if err := w.loadCatalog(ctx); err != nil {
		return nil, err
	}
	if err := w.ensureSchemas(ctx, plan.Schemas()); err != nil {
		return nil, err
	}
	parts := plan.parts
	if parts == nil {
		for _, t := range plan.Tasks {
			if t.Window != nil {
				var err error
				if parts, err = w.LoadPartitionState(ctx); err != nil {
					return nil, fmt.Errorf("partition state: %w", err)
				}
				break
			}
		}
	}
	if parts == nil {
		parts = NewPartitionState()
	}
	if plan.Backfill != nil {
		if err := w.startBackfill(ctx, plan); err != nil {
			return nil, fmt.Errorf("record backfill: %w", err)
		}
	}
	if err := w.startRun(ctx, res); err != nil {
		return nil, fmt.Errorf("record run: %w", err)
	}
	r := &runner{w: w, plan: plan, opts: opts, res: res, parts: parts}
	r.execute(ctx, threads)

	res.Ended = time.Now().UTC()
	res.Status = "success"
	switch {
	case ctx.Err() != nil:
		res.Status = "cancelled"
		res.Err = ctx.Err()
	case res.Failed():
		res.Status = "error"
	}
	if err := w.endRun(context.WithoutCancel(ctx), res); err != nil && res.Err == nil {
		res.Err = fmt.Errorf("record run end: %w", err)
	}
	if plan.Backfill != nil {
		if err := w.endBackfill(context.WithoutCancel(ctx), plan.Backfill, res); err != nil && res.Err == nil {
			res.Err = fmt.Errorf("record backfill end: %w", err)
		}
	}
	return res, nil
}

// runner schedules one plan's tasks.
type runner struct {
	w    *Warehouse
	plan *Plan
	opts RunOptions
	res  *Result

	mu       sync.Mutex
	done     int
	waiting  map[*Task]int // unfinished deps
	parts    *PartitionState
	creating map[string]*sync.Mutex // partitioned tables being created, by relation
}

func (r *runner) execute(ctx context.Context, threads int) {
	r.waiting = make(map[*Task]int, len(r.plan.Tasks))
	ready := make(chan *Task, len(r.plan.Tasks))
	for _, t := range r.plan.Tasks {
		r.waiting[t] = len(t.Deps)
		if len(t.Deps) == 0 {
			ready <- t
		}
	}
	total := len(r.plan.Tasks)
	if total == 0 {
		return
	}
	finished := make(chan struct{})
	var wg sync.WaitGroup
	for range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case t := <-ready:
					r.runTask(ctx, t)
					r.finish(ctx, t, ready, finished)
				case <-finished:
					return
				}
			}
		}()
	}
	wg.Wait()
}

// finish records a task's end and releases or skips its dependents.
func (r *runner) finish(ctx context.Context, t *Task, ready chan<- *Task, finished chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done++
	r.emit(t)
	ok := t.Status == StatusSuccess || t.Status == StatusPass || t.Status == StatusWarn
	var skip []*Task
	for _, k := range t.kids {
		if !ok {
			skip = append(skip, k)
			continue
		}
		r.waiting[k]--
		if r.waiting[k] == 0 && k.Status == StatusPending {
			ready <- k
		}
	}
	for len(skip) > 0 {
		k := skip[0]
		skip = skip[1:]
		if k.Status != StatusPending {
			continue
		}
		k.Status = StatusSkipped
		k.Message = fmt.Sprintf("skipped: upstream %s %s", t.Label(), t.Status)
		if t.Status == StatusSkipped {
			k.Message = t.Message
		}
		now := time.Now().UTC()
		k.Started, k.Ended = now, now
		if err := r.recordEnd(context.WithoutCancel(ctx), k); err != nil && r.res.Err == nil {
			r.res.Err = err
		}
		r.done++
		r.emit(k)
		skip = append(skip, k.kids...)
	}
	if r.done == len(r.plan.Tasks) {
		close(finished)
	}
}

func (r *runner) emit(t *Task) {
	if r.opts.OnEvent != nil {
		r.opts.OnEvent(Event{Task: t, Done: r.done, Total: len(r.plan.Tasks)})
	}
}

// runTask runs one task and sets its status; it never panics the run.
func (r *runner) runTask(ctx context.Context, t *Task) {
	t.Started = time.Now().UTC()
	t.Status = StatusRunning
	r.mu.Lock()
	r.emit(t)
	r.mu.Unlock()
	if ctx.Err() != nil {
		t.Status, t.Message, t.Ended = StatusSkipped, "cancelled", time.Now().UTC()
		_ = r.recordEnd(context.WithoutCancel(ctx), t)
		return
	}
	backoff := r.opts.Backoff
	if backoff == 0 {
		backoff = 200 * time.Millisecond
	}
	var err error
	for attempt := 0; ; attempt++ {
		t.Attempts = attempt + 1
		switch {
		case t.Resource == ResourceTest:
			err = r.runTest(ctx, t)
		case t.Window != nil:
			err = r.buildPartition(ctx, t)
		default:
			err = r.build(ctx, t)
		}
		if err == nil || !transient(err) || attempt >= r.opts.Retries || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff << attempt):
		}
	}
	t.Ended = time.Now().UTC()
	if err != nil {
		t.Status = StatusError
		var se *SQLError
		if errors.As(err, &se) {
			t.Message = se.Where() + ": " + se.Err.Error()
		} else {
			t.Message = err.Error()
		}
	}
	if t.Status == StatusError || t.Status == StatusWaiting {
		if t.Window != nil {
			r.parts.Fail(t.Name, t.Window.Start, t.Message)
		}
		if rerr := r.recordEnd(context.WithoutCancel(ctx), t); rerr != nil {
			r.mu.Lock()
			if r.res.Err == nil {
				r.res.Err = rerr
			}
			r.mu.Unlock()
		}
	}
}

// recordEnd writes a task that ended without building anything (failed, waiting, skipped).
func (r *runner) recordEnd(ctx context.Context, t *Task) error {
	return r.w.recordTask(ctx, nil, r.res.RunID, t)
}

// commitState writes a finished task's row inside the transaction of its data. The task
// log is the only state: partitions and backfill progress are read from it, so there is
// one row to write per task and it can never disagree with the data.
func (r *runner) commitState(ctx context.Context, tx *sql.Tx, t *Task) error {
	if err := r.w.recordTask(ctx, tx, r.res.RunID, t); err != nil {
		return fmt.Errorf("record task: %w", err)
	}
	return nil
}
