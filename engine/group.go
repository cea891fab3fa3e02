package engine

import (
	"cmp"
	"context"
	"maps"
	"time"

	"github.com/stratadata/strata/internal/duckdb"
)

// Group commit. A run on one connection (--threads 1, a backfill's --parallel 1, a plan
// that is one chain) runs consecutive tasks in one transaction and commits them
// together: every task's row still commits with its data, in the same transaction, but
// a transaction's BEGIN, COMMIT and the rows' INSERT are paid once per group instead of
// once per task, which was most of what strata added to a chain of small models
// (DuckDB makes each statement cost ~0.1-0.3 ms and each commit its WAL write).
//
//   - A group commits when nothing else is ready (its tasks' dependents need nothing
//     more), when it holds groupMax tasks or is groupAge old, before a task that does
//     not join groups (CDC stages), and when the run stops. A crash loses at most the
//     open group: its data and its rows both, so a rerun does that work again.
//   - A task's finish (its progress event, its run-log line) is announced when its
//     group commits, never before: what a user sees done is durable.
//   - If a statement fails inside a group, the whole transaction is rolled back and the
//     group's tasks run again one transaction each, the failed one last, as they would
//     have without a group: the error, the skips below it and every other task's
//     outcome are exactly those of an ungrouped run.
//
// With more than one connection tasks run one transaction each, as before: a task on
// another connection could not see a group's uncommitted tables.

const (
	groupMax = 256
	groupAge = 500 * time.Millisecond
)

// group is the open transaction of a one-connection run.
type group struct {
	open    bool
	solo    bool      // running tasks one transaction each (redoing a rolled-back group)
	aborted bool      // a statement failed: the transaction must be rolled back
	start   time.Time // when it began
	ran     []*Task   // every task run in it, in order
	rows    []*Task   // the tasks whose rows it writes at commit (the successes)
	kinds   map[string]string
	prior   []priorPart // partitions' records before the group built them
}

// priorPart is a partition's in-memory record before a group rebuilt it, put back if
// the group rolls back.
type priorPart struct {
	model string
	start time.Time
	rec   PartitionRecord
	had   bool
}

// grouped says whether a task may run in the open group: CDC stages hold a lock per
// model across their window and are left out.
func (r *runner) grouped(t *Task) bool {
	g := r.grp
	return g != nil && !g.solo && !(t.Window != nil && t.node != nil && t.node.Model != nil && t.node.Model.CDC() != nil)
}

// begin opens the group's transaction if it is not open.
func (r *runner) begin(ctx context.Context, c *duckdb.Conn) error {
	g := r.grp
	if g.open {
		return nil
	}
	if _, err := c.ExecCached(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	g.open, g.start, g.kinds = true, time.Now(), r.w.catalogCopy()
	return nil
}

// aborted says whether the open group's transaction failed.
func (r *runner) aborted() bool { return r.grp != nil && r.grp.aborted }

// executeGrouped is execute for one connection: the tasks in order of readiness, in
// groups.
func (r *runner) executeGrouped(ctx context.Context, c *duckdb.Conn) {
	r.grp = &group{}
	released := map[*Task]bool{}
	defer r.commitGroup(ctx, c, released)
	for {
		if len(r.ready) == 0 {
			// nothing is ready: what is waiting depends on the open group (this is the
			// only worker, so nothing else can make a task ready meanwhile)
			r.commitGroup(ctx, c, released)
		}
		var t *Task
		select {
		case <-r.stop:
			return
		case <-r.finished:
			return
		case t = <-r.ready:
		}
		if t.Status != StatusPending {
			continue // skipped while it was queued (a group task failed when redone)
		}
		if r.stopped() {
			return // t stays pending: it never started
		}
		if !r.grouped(t) {
			r.commitGroup(ctx, c, released)
		}
		r.runTask(ctx, c, t)
		g := r.grp
		switch {
		case g.aborted:
			r.redo(ctx, c, append(g.ran, t), released, t)
		case !g.open:
			r.finish(ctx, c, t) // it ran on its own
		case t.Status.OK():
			g.ran = append(g.ran, t)
			r.release(ctx, c, t) // its dependents may go on in the group
			released[t] = true
			if len(g.ran) >= cmp.Or(r.opts.GroupMax, groupMax) || time.Since(g.start) >= groupAge {
				r.commitGroup(ctx, c, released)
			}
		default:
			// it did not fail but did not succeed (a partition waiting for its checks):
			// its row is in the group; commit, then skip what is below it
			g.ran = append(g.ran, t)
			if r.commitGroup(ctx, c, released) {
				released[t] = true
				r.announce(r.release(ctx, c, t)...)
			}
		}
	}
}

// commitGroup writes the open group's rows and commits it, then announces its tasks;
// if the commit fails, the group is redone task by task (and it reports false).
func (r *runner) commitGroup(ctx context.Context, c *duckdb.Conn, released map[*Task]bool) bool {
	g := r.grp
	if !g.open {
		return true
	}
	end := context.WithoutCancel(ctx)
	err := recordTasks(end, c, r.res.RunID, g.rows)
	if err == nil {
		_, err = c.ExecCached(end, "COMMIT")
	}
	ran := g.ran
	if err != nil {
		g.aborted = true
		r.redo(ctx, c, ran, released, nil)
		return false
	}
	*g = group{}
	r.announce(ran...)
	return true
}

// redo rolls the group back and runs its tasks again, one transaction each, in the
// order they ran (the last may be cut, the one whose failure aborted the group), so
// that every outcome, error and skip is what an ungrouped run gives. When the run is
// stopping they stay pending (they never committed), but for cut, cut short while it
// ran: it is recorded cancelled, as without a group.
func (r *runner) redo(ctx context.Context, c *duckdb.Conn, tasks []*Task, released map[*Task]bool, cut *Task) {
	g := r.grp
	if g.open {
		_, _ = c.ExecCached(context.WithoutCancel(ctx), "ROLLBACK")
		r.w.restoreCatalog(g.kinds)
		for i := len(g.prior) - 1; i >= 0; i-- {
			pp := g.prior[i]
			if pp.had {
				r.parts.Put(pp.model, pp.rec)
			} else {
				r.parts.remove(pp.model, pp.start)
			}
		}
	}
	*g = group{solo: true}
	defer func() { g.solo = false }()
	for _, t := range tasks {
		t.Status, t.Message, t.Err, t.Rows = StatusPending, "", nil, 0
	}
	for _, t := range tasks {
		if t == cut && ctx.Err() != nil {
			t.Status, t.Message, t.Ended = StatusCancelled, "cancelled while running", time.Now().UTC()
			if err := recordTask(context.WithoutCancel(ctx), c, r.res.RunID, t); err != nil {
				r.mu.Lock()
				if r.res.Err == nil {
					r.res.Err = err
				}
				r.mu.Unlock()
			}
			r.announce(t)
			continue
		}
		if t.Status != StatusPending || r.stopped() {
			continue // skipped below an earlier failure; or the run stops: it stays pending
		}
		r.runTask(ctx, c, t)
		if !released[t] {
			released[t] = true
			r.finish(ctx, c, t)
			continue
		}
		var skipped []*Task
		if !t.Status.OK() {
			skipped = r.skipKids(ctx, c, t)
		}
		r.announce(append([]*Task{t}, skipped...)...)
	}
}

// catalogCopy and restoreCatalog keep the relation kinds a group's rollback undoes.
func (w *Warehouse) catalogCopy() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.catalog)
}

func (w *Warehouse) restoreCatalog(m map[string]string) {
	if m == nil {
		return
	}
	w.mu.Lock()
	w.catalog = m
	w.mu.Unlock()
}
