package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// RunOptions are what an entry point adds to a run.
type RunOptions struct {
	Threads int           // tasks run at once; 1 when 0
	Retries int           // extra attempts after a transient error (a write conflict, I/O); SQL errors never retry
	Backoff time.Duration // wait before the first retry, doubling each time; 200ms when 0
	// GroupMax is how many tasks a one-connection run commits together at most (group
	// commit, group.go); 256 when 0, 1 for a commit per task.
	GroupMax int

	// Check validates every model's SQL in a shadow catalog first (as `strata check`):
	// when it finds errors, Run returns them (models.Errors) and runs nothing.
	Check bool

	// Observers see every event of the run, in order.
	Observers []Observer

	// Drain, when closed, stops the run from starting more tasks: running tasks finish,
	// the others stay pending, and the run ends cancelled. Cancelling ctx does the same
	// and also cuts running tasks short.
	Drain <-chan struct{}

	// RunID, when set, is the run's ID (the scheduler derives it from the interval and
	// the attempt); a new one is made when empty.
	RunID string
	// Interval, when set, is the ledger interval the run is for: it is marked running
	// with the run's start and done, failed or interrupted with its end.
	Interval *IntervalRef
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

// Summary says in one line what failed in a run: its first failed task and how many
// more.
func (r *Result) Summary() string {
	var first *Task
	n := 0
	for _, t := range r.Tasks {
		if t.Status.Failed() {
			if first == nil {
				first = t
			}
			n++
		}
	}
	switch {
	case first == nil && r.Err != nil:
		return r.Err.Error()
	case first == nil:
		return ""
	case n == 1:
		return first.Label() + ": " + first.Message
	}
	return fmt.Sprintf("%s: %s (and %d more)", first.Label(), first.Message, n-1)
}

// Retryable reports whether every failure of the run may pass on another attempt: a
// write conflict or an I/O error, never an error in the SQL or the data, nor a check
// that did not pass.
func (r *Result) Retryable() bool {
	any := false
	for _, t := range r.Tasks {
		switch {
		case t.Status == StatusError:
			if !transient(t.Err) {
				return false
			}
			any = true
		case t.Status == StatusFail || t.Status == StatusWaiting:
			return false
		}
	}
	return any || (r.Err != nil && transient(r.Err))
}

// Failed reports whether any model, seed or test failed, or the run did not finish.
func (r *Result) Failed() bool {
	return r.Count(StatusError) > 0 || r.Count(StatusFail) > 0 || r.Count(StatusWaiting) > 0 || r.Err != nil || r.Status == "cancelled"
}

// Run executes a plan: each task once its dependencies succeed, up to Threads at once. A
// failed task skips everything downstream of it and the rest go on. Every task's outcome
// is recorded in _strata.tasks; a model's row commits with its data.
//
// With a nil w, Run opens the project's warehouse itself once it knows there is work
// (after the check, when asked for one) and closes it at the end: a plan with no tasks,
// or one whose check fails, touches nothing and creates no file.
func Run(ctx context.Context, w *Warehouse, plan *Plan, opts RunOptions) (*Result, error) {
	now := time.Now().UTC()
	res := &Result{Command: plan.Command, Selector: plan.Selector, Started: now, Tasks: plan.Tasks}
	if plan.Backfill != nil {
		res.Backfill = plan.Backfill.ID
	}
	r := &runner{ctx: ctx, w: w, plan: plan, opts: opts, res: res}
	cat, err := r.catalog(ctx)
	if err != nil {
		return nil, err
	}
	if len(plan.Tasks) == 0 {
		res.Status, res.Ended = "success", now
		r.notify(Event{Kind: EventRunStarted, Plan: plan, Catalog: cat})
		r.notify(Event{Kind: EventRunFinished, Plan: plan, Result: res})
		return res, nil
	}
	if w == nil {
		if w, err = Open(ctx, plan.Project); err != nil {
			return nil, err
		}
		defer w.Close()
		r.w = w
	}
	res.RunID = opts.RunID
	if res.RunID == "" {
		res.RunID = newRunID(now)
	}
	if err := w.ensureCatalog(ctx); err != nil {
		return nil, err
	}
	if err := w.ensureSchemas(ctx, plan.Schemas()); err != nil {
		return nil, err
	}
	if r.parts = plan.parts; r.parts == nil {
		if r.parts, err = r.partitionState(ctx); err != nil {
			return nil, err
		}
	}
	threads := min(max(opts.Threads, 1), len(plan.Tasks))
	if serial(plan) {
		threads = 1 // a chain runs one task at a time anyway: one connection groups its commits
	}
	conns := make([]*duckdb.Conn, 0, threads)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range threads {
		c, err := w.conn(ctx)
		if err != nil {
			return nil, err
		}
		conns = append(conns, c)
	}
	if plan.Backfill != nil {
		if err := w.startBackfill(ctx, plan); err != nil {
			return nil, fmt.Errorf("record backfill: %w", err)
		}
	}
	if err := w.startRun(ctx, res, opts.Interval); err != nil {
		return nil, fmt.Errorf("record run: %w", err)
	}
	r.notify(Event{Kind: EventRunStarted, RunID: res.RunID, Plan: plan, Catalog: cat, Total: len(plan.Tasks)})
	if err := projectHooks(ctx, conns[0], plan, res, plan.Project.OnRunStart, "on-run-start"); err != nil {
		res.Err = err
		for _, t := range plan.Tasks {
			t.Status, t.Message = StatusSkipped, "skipped: "+err.Error()
		}
	} else {
		r.execute(ctx, conns)
	}
	end := context.WithoutCancel(ctx)
	if err := projectHooks(end, conns[0], plan, res, plan.Project.OnRunEnd, "on-run-end"); err != nil && res.Err == nil {
		res.Err = err
	}

	res.Ended = time.Now().UTC()
	res.Status = "success"
	switch {
	case r.stopped() && r.done < len(plan.Tasks) || res.Count(StatusCancelled) > 0:
		res.Status = "cancelled"
	case res.Failed():
		res.Status = "error"
	}
	if err := w.endRun(end, res, opts.Interval); err != nil && res.Err == nil {
		res.Err = fmt.Errorf("record run end: %w", err)
	}
	if plan.Backfill != nil {
		if err := w.endBackfill(end, plan.Backfill, res); err != nil && res.Err == nil {
			res.Err = fmt.Errorf("record backfill end: %w", err)
		}
	}
	r.notify(Event{Kind: EventRunFinished, RunID: res.RunID, Plan: plan, Result: res, Done: r.done, Total: len(plan.Tasks)})
	return res, nil
}

// serial reports whether a plan's tasks can only run one at a time: each depth (the
// longest path to it) holds one task, so every task reads all those before it.
func serial(plan *Plan) bool {
	depth := make(map[*Task]int, len(plan.Tasks))
	count := map[int]int{}
	for _, t := range plan.Tasks { // in dependency order
		d := 0
		for _, dep := range t.Deps {
			d = max(d, depth[dep]+1)
		}
		depth[t] = d
		if count[d]++; count[d] > 1 {
			return false
		}
	}
	return true
}

// catalog builds the shadow catalog when the run checks first or an observer needs it.
func (r *runner) catalog(ctx context.Context) (*lineage.Catalog, error) {
	need := r.opts.Check
	for _, o := range r.opts.Observers {
		if co, ok := o.(CatalogObserver); ok && co.NeedsCatalog() {
			need = true
		}
	}
	if !need {
		return nil, nil
	}
	var opts lineage.AnalyzeOptions
	if r.w != nil {
		opts.SourceColumns = r.w.TableColumns
	} else {
		opts.Warehouse = r.plan.Project.Warehouse.Path
	}
	cat, err := lineage.Analyze(ctx, r.plan.Project, r.plan.Graph, opts)
	if err != nil {
		if r.opts.Check {
			return nil, fmt.Errorf("check: %w", err)
		}
		return nil, nil // observers then go without column lineage
	}
	if r.opts.Check && len(cat.Errors) > 0 {
		return nil, cat.Errors
	}
	return cat, nil
}

func (r *runner) partitionState(ctx context.Context) (*PartitionState, error) {
	for _, t := range r.plan.Tasks {
		if t.Window != nil {
			s, err := r.w.LoadPartitionState(ctx)
			if err != nil {
				return nil, fmt.Errorf("partition state: %w", err)
			}
			return s, nil
		}
	}
	return NewPartitionState(), nil
}

// runner schedules one plan's tasks.
type runner struct {
	w    *Warehouse
	plan *Plan
	opts RunOptions
	res  *Result

	ctx      context.Context
	stop     chan struct{} // closed when the run is drained or cancelled
	mu       sync.Mutex
	done     int
	waiting  map[*Task]int // unfinished deps
	parts    *PartitionState
	creating map[string]*sync.Mutex // partitioned tables being created, by relation
	stages   map[string]*sync.Mutex // CDC stages, by model: one window at a time

	auditSchema bool // store_failures' schema exists

	grp      *group        // the open transaction of a one-connection run (group.go)
	ready    chan *Task    // tasks whose dependencies all succeeded
	finished chan struct{} // closed when every task is announced

	unitOnce sync.Once // the shadow catalog unit tests read their inputs' types from
	unitCat  *lineage.Catalog
	unitErr  error
}

// stopped reports whether the run was asked to stop starting tasks. It looks at the
// drain channel and the context themselves too: the watcher that closes stop may not
// have run yet.
func (r *runner) stopped() bool {
	select {
	case <-r.stop:
		return true
	case <-r.opts.Drain:
		return true
	default:
		return r.ctx.Err() != nil
	}
}

// execute runs the plan's tasks on one worker per connection.
func (r *runner) execute(ctx context.Context, conns []*duckdb.Conn) {
	r.waiting = make(map[*Task]int, len(r.plan.Tasks))
	ready := make(chan *Task, len(r.plan.Tasks))
	r.ready = ready
	for _, t := range r.plan.Tasks {
		r.waiting[t] = len(t.Deps)
		if len(t.Deps) == 0 {
			ready <- t
		}
	}
	r.stop = make(chan struct{})
	finished := make(chan struct{})
	r.finished = finished
	go func() {
		select {
		case <-ctx.Done():
		case <-r.opts.Drain:
		case <-finished:
			return
		}
		close(r.stop)
	}()
	if len(conns) == 1 {
		r.executeGrouped(ctx, conns[0])
	} else {
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Go(func() {
				for {
					select {
					case <-r.stop:
						return
					case <-finished:
						return
					case t := <-ready:
						if r.stopped() {
							return // t stays pending: it never started
						}
						r.runTask(ctx, c, t)
						r.finish(ctx, c, t)
					}
				}
			})
		}
		wg.Wait()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done < len(r.plan.Tasks) {
		close(finished) // stopped early: let the watcher go
	}
}

func (r *runner) notify(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notifyLocked(e)
}

func (r *runner) notifyLocked(e Event) {
	for _, o := range r.opts.Observers {
		o.Observe(e)
	}
}

// runTask runs one task and sets its status; it never panics the run.
func (r *runner) runTask(ctx context.Context, c *duckdb.Conn, t *Task) {
	t.Started = time.Now().UTC()
	t.Status = StatusRunning
	r.mu.Lock() // r.done moves as other workers finish
	r.notifyLocked(Event{Kind: EventTaskStarted, RunID: r.res.RunID, Plan: r.plan, Task: t, Done: r.done, Total: len(r.plan.Tasks)})
	r.mu.Unlock()
	backoff := r.opts.Backoff
	if backoff == 0 {
		backoff = 200 * time.Millisecond
	}
	var err error
	for attempt := 0; ; attempt++ {
		t.Attempts = attempt + 1
		switch {
		case t.Resource == ResourceTest:
			err = r.runTest(ctx, c, t)
		case t.Resource == ResourceUnit:
			err = r.runUnitTest(ctx, c, t)
		case t.Window != nil && t.node.Model.CDC() != nil:
			err = r.buildCDC(ctx, c, t)
		case t.Window != nil:
			err = r.buildPartition(ctx, c, t)
		default:
			err = r.build(ctx, c, t)
		}
		if err == nil || !transient(err) || attempt >= r.opts.Retries || r.stopped() || r.aborted() {
			break
		}
		select {
		case <-r.stop:
		case <-time.After(backoff << attempt):
		}
	}
	if r.aborted() {
		return // the group rolls back and runs it again on its own
	}
	t.Ended = time.Now().UTC()
	switch {
	case err != nil && (interrupted(err) || ctx.Err() != nil):
		t.Status, t.Message = StatusCancelled, "cancelled while running"
	case err != nil:
		t.Status, t.Message, t.Err = StatusError, err.Error(), err
	}
	if g := r.grp; g != nil && g.open && !g.solo && (t.Status == StatusError || t.Status == StatusCancelled) {
		g.aborted = true // its statement may have aborted the group's transaction: redo it alone
		return
	}
	if t.Status == StatusError {
		r.w.forgetCatalog()
	}
	if t.Status == StatusError || t.Status == StatusWaiting || t.Status == StatusCancelled {
		if t.Window != nil && t.Status != StatusCancelled {
			r.parts.Fail(t.Name, t.Window.Start, t.Message, t.Status == StatusWaiting)
		}
		if rerr := recordTask(context.WithoutCancel(ctx), c, r.res.RunID, t); rerr != nil {
			r.mu.Lock()
			if r.res.Err == nil {
				r.res.Err = rerr
			}
			r.mu.Unlock()
		}
	}
}

// projectHooks runs a project's on-run-start or on-run-end statements (Jinja with ref(),
// source() and var()), in order; the first that fails is the error.
func projectHooks(ctx context.Context, c *duckdb.Conn, plan *Plan, res *Result, hooks []models.Hook, which string) error {
	p := plan.Project
	extra := map[string]any{"schemas": plan.Schemas(), "database_schemas": plan.Schemas(), "invocation_id": res.RunID,
		"run_started_at": res.Started.Format(time.RFC3339Nano)}
	if which == "on-run-end" {
		var results []map[string]any
		for _, t := range plan.Tasks {
			results = append(results, map[string]any{"status": string(t.Status), "message": t.Message, "node": map[string]any{"name": t.Name, "resource_type": string(t.Resource)}})
		}
		extra["results"] = results
	}
	for _, h := range hooks {
		q, err := p.CompileHook(h.Pos.File, h.SQL, extra)
		if err == nil && strings.TrimSpace(strings.Trim(strings.TrimSpace(q), ";")) == "" {
			continue // a loop over nothing renders no statement
		}
		if err == nil {
			err = c.ExecScript(ctx, q)
		}
		if err != nil {
			return &SQLError{Node: which, Path: h.Pos.File, Line: h.Pos.Line, Col: h.Pos.Col, Err: err, Msg: which + ": " + cleanMessage(err)}
		}
	}
	return nil
}
