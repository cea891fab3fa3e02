package mcp

import (
	"context"
	"errors"
	"time"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/scheduler"
	"github.com/stratadata/strata/web/api"
)

// Backend is what the tools need of the warehouse and the scheduler. There are three: a
// running server's API (Remote), serve's own warehouse and scheduler (Served), and, with
// no server, the warehouse opened for each call and closed after it (Local), so an agent
// session never holds the file.
type Backend interface {
	Runs(ctx context.Context, limit int) ([]engine.RunRecord, error)
	Run(ctx context.Context, id string) (*api.RunDetail, error)
	Partitions(ctx context.Context, sel []string, from, to string) ([]engine.PartitionSummary, error)
	Query(ctx context.Context, sql string, limit int, timeout time.Duration) (*engine.QueryResult, error)
	PlanBackfill(ctx context.Context, r api.RunRequest) (*api.BackfillPlan, error)
	Why(ctx context.Context, key string) (*scheduler.Why, error)
	// Submit starts a run: queued on a server (returning at once), or run here and
	// waited for.
	Submit(ctx context.Context, r api.RunRequest) (*Started, error)
}

// Started is what a write tool says of the run it started.
type Started struct {
	ID     string          `json:"id"`
	State  string          `json:"state"` // queued (on a server) or finished
	RunID  string          `json:"run_id,omitempty"`
	Result *engine.RunJSON `json:"result,omitempty"`
	Note   string          `json:"note,omitempty"`
}

// Remote is a running server, through its API.
type Remote struct{ Client *api.Client }

func (r Remote) Runs(ctx context.Context, limit int) ([]engine.RunRecord, error) {
	return r.Client.Runs(ctx, limit)
}
func (r Remote) Run(ctx context.Context, id string) (*api.RunDetail, error) {
	return r.Client.Run(ctx, id)
}
func (r Remote) Partitions(ctx context.Context, sel []string, from, to string) ([]engine.PartitionSummary, error) {
	return r.Client.Partitions(ctx, sel, nil, from, to, true)
}
func (r Remote) Query(ctx context.Context, sql string, limit int, timeout time.Duration) (*engine.QueryResult, error) {
	return r.Client.Query(ctx, api.QueryRequest{SQL: sql, Limit: limit, TimeoutMS: int(timeout.Milliseconds()), Guarded: true})
}
func (r Remote) PlanBackfill(ctx context.Context, req api.RunRequest) (*api.BackfillPlan, error) {
	req.DryRun = true
	_, plan, err := r.Client.Backfill(ctx, req)
	return plan, err
}
func (r Remote) Why(ctx context.Context, key string) (*scheduler.Why, error) {
	return r.Client.Why(ctx, key)
}
func (r Remote) Submit(ctx context.Context, req api.RunRequest) (*Started, error) {
	var j *api.Job
	var err error
	if req.Command == scheduler.CommandBackfill {
		j, _, err = r.Client.Backfill(ctx, req)
	} else {
		j, err = r.Client.Submit(ctx, req)
	}
	if err != nil {
		return nil, err
	}
	return &Started{ID: j.ID, State: j.State, Note: "queued on the running server: list_runs and diagnose_run follow it"}, nil
}

// Served is serve's own warehouse and scheduler, in its process.
type Served struct {
	Project   *models.Project
	Graph     *lineage.Graph
	Warehouse *engine.Warehouse
	Scheduler *scheduler.Scheduler
}

func (s Served) Runs(ctx context.Context, limit int) ([]engine.RunRecord, error) {
	return s.Warehouse.Runs(ctx, limit)
}
func (s Served) Run(ctx context.Context, id string) (*api.RunDetail, error) {
	return runDetail(ctx, s.Warehouse, id)
}
func (s Served) Partitions(ctx context.Context, sel []string, from, to string) ([]engine.PartitionSummary, error) {
	return engine.Partitions(ctx, s.Graph, s.Warehouse, sel, nil, from, to, true, time.Now())
}
func (s Served) Query(ctx context.Context, sql string, limit int, timeout time.Duration) (*engine.QueryResult, error) {
	return s.Warehouse.ReadQuery(ctx, sql, engine.QueryOptions{Limit: limit, Timeout: timeout, Root: s.Project.Dir})
}
func (s Served) PlanBackfill(ctx context.Context, req api.RunRequest) (*api.BackfillPlan, error) {
	return planBackfill(ctx, s.Warehouse, s.Graph, req)
}
func (s Served) Why(ctx context.Context, key string) (*scheduler.Why, error) {
	return scheduler.Explain(ctx, s.Project, s.Graph, s.Warehouse, key, s.Scheduler)
}
func (s Served) Submit(ctx context.Context, req api.RunRequest) (*Started, error) {
	j, err := s.Scheduler.Submit(req)
	if err != nil {
		return nil, err
	}
	return &Started{ID: j.ID, State: j.State, Note: "queued: list_runs and diagnose_run follow it"}, nil
}

// Local opens the project's warehouse for each call and closes it after, so that the
// agent's session never holds the file between calls.
type Local struct {
	Project   *models.Project
	Graph     *lineage.Graph
	Observers []engine.Observer // added to the runs it starts
	Threads   int               // of the runs it starts; 4 when 0
}

// with opens the warehouse for one call; f gets nil when nothing has been built yet.
func (l Local) with(ctx context.Context, f func(*engine.Warehouse) error) error {
	return l.openWith(ctx, f, false)
}

// open is with for calls that need state even before anything is built: they get an
// empty warehouse in memory then, and no file is created.
func (l Local) open(ctx context.Context, f func(*engine.Warehouse) error) error {
	return l.openWith(ctx, f, true)
}

func (l Local) openWith(ctx context.Context, f func(*engine.Warehouse) error, empty bool) error {
	w, err := engine.OpenExisting(ctx, l.Project)
	var nw *engine.NoWarehouseError
	if errors.As(err, &nw) {
		if !empty {
			return f(nil)
		}
		if w, err = engine.OpenPath(ctx, ":memory:", l.Project.Dir); err != nil {
			return err
		}
	}
	if err != nil {
		return err
	}
	defer w.Close()
	return f(w)
}

func (l Local) Runs(ctx context.Context, limit int) (runs []engine.RunRecord, err error) {
	err = l.with(ctx, func(w *engine.Warehouse) error {
		if w == nil {
			runs = []engine.RunRecord{}
			return nil
		}
		runs, err = w.Runs(ctx, limit)
		return err
	})
	return runs, err
}

func (l Local) Run(ctx context.Context, id string) (d *api.RunDetail, err error) {
	err = l.with(ctx, func(w *engine.Warehouse) error {
		if w == nil {
			return &engine.InputError{Field: "run_id", Msg: "no runs yet: nothing has been built in this project"}
		}
		d, err = runDetail(ctx, w, id)
		return err
	})
	return d, err
}

func (l Local) Partitions(ctx context.Context, sel []string, from, to string) (out []engine.PartitionSummary, err error) {
	err = l.with(ctx, func(w *engine.Warehouse) error {
		out, err = engine.Partitions(ctx, l.Graph, w, sel, nil, from, to, true, time.Now())
		return err
	})
	return out, err
}

func (l Local) Query(ctx context.Context, sql string, limit int, timeout time.Duration) (res *engine.QueryResult, err error) {
	err = l.with(ctx, func(w *engine.Warehouse) error {
		if w == nil {
			return &engine.QueryError{Msg: "nothing has been built in this project yet: there is no warehouse to query"}
		}
		res, err = w.ReadQuery(ctx, sql, engine.QueryOptions{Limit: limit, Timeout: timeout, Root: l.Project.Dir})
		return err
	})
	return res, err
}

func (l Local) PlanBackfill(ctx context.Context, req api.RunRequest) (plan *api.BackfillPlan, err error) {
	err = l.open(ctx, func(w *engine.Warehouse) error {
		plan, err = planBackfill(ctx, w, l.Graph, req)
		return err
	})
	return plan, err
}

func (l Local) Why(ctx context.Context, key string) (y *scheduler.Why, err error) {
	err = l.open(ctx, func(w *engine.Warehouse) error {
		y, err = scheduler.Explain(ctx, l.Project, l.Graph, w, key, nil)
		return err
	})
	return y, err
}

// Submit runs here, through the one runner, and waits for the run to end.
func (l Local) Submit(ctx context.Context, req api.RunRequest) (st *Started, err error) {
	w, err := engine.Open(ctx, l.Project)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	err = func() error {
		plan, err := scheduler.PlanRequest(ctx, w, l.Graph, req, time.Now())
		if err != nil {
			return err
		}
		threads := l.Threads
		if threads <= 0 {
			threads = 4
		}
		res, err := engine.Run(ctx, w, plan, engine.RunOptions{Threads: threads, Retries: req.Retries, Observers: l.Observers})
		if err != nil {
			return err
		}
		j := engine.NewRunJSON(res)
		st = &Started{ID: res.RunID, RunID: res.RunID, State: "finished", Result: &j}
		return nil
	}()
	return st, err
}

func runDetail(ctx context.Context, w *engine.Warehouse, id string) (*api.RunDetail, error) {
	r, err := w.FindRun(ctx, id)
	if err != nil {
		return nil, err
	}
	tasks, err := w.RunTasks(ctx, r.RunID)
	if err != nil {
		return nil, err
	}
	return &api.RunDetail{Run: r, Tasks: tasks}, nil
}

func planBackfill(ctx context.Context, w *engine.Warehouse, g *lineage.Graph, req api.RunRequest) (*api.BackfillPlan, error) {
	opts, err := scheduler.BackfillOptions(req)
	if err != nil {
		return nil, err
	}
	plan, err := engine.PlanBackfill(ctx, w, g, opts, req.Resume)
	if err != nil {
		return nil, err
	}
	bp := api.NewBackfillPlan(plan)
	return &bp, nil
}
