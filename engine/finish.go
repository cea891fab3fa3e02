package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/stratadata/strata/internal/duckdb"
)

// What happens when a task ends: its dependents released or skipped (release), and its
// end told to the observers (announce). An ungrouped run does both at once (finish); a
// grouped one releases at once and announces when the group commits (group.go).

// finish records a task's end and releases or skips its dependents.
func (r *runner) finish(ctx context.Context, c *duckdb.Conn, t *Task) {
	skipped := r.release(ctx, c, t)
	r.announce(append([]*Task{t}, skipped...)...)
}

// release makes a task's dependents ready when it succeeded, or skips everything below
// it (their rows recorded) when it did not; it returns the tasks it skipped.
func (r *runner) release(ctx context.Context, c *duckdb.Conn, t *Task) []*Task {
	r.mu.Lock()
	var skip []*Task
	for _, k := range t.kids {
		if !t.Status.OK() {
			skip = append(skip, k)
			continue
		}
		r.waiting[k]--
		if r.waiting[k] == 0 && k.Status == StatusPending {
			r.ready <- k
		}
	}
	r.mu.Unlock()
	return r.skip(ctx, c, t, skip)
}

// skip marks what is below t skipped and records their rows.
func (r *runner) skip(ctx context.Context, c *duckdb.Conn, t *Task, skip []*Task) []*Task {
	if t.Status == StatusCancelled {
		return nil // what is downstream of a task cut short stays pending, to run on resume
	}
	var skipped []*Task
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
		skipped = append(skipped, k)
		skip = append(skip, k.kids...)
	}
	if len(skipped) > 0 {
		if err := recordTasks(context.WithoutCancel(ctx), c, r.res.RunID, skipped); err != nil {
			r.mu.Lock()
			if r.res.Err == nil {
				r.res.Err = err
			}
			r.mu.Unlock()
		}
	}
	return skipped
}

// skipKids skips what is below a task whose dependents were released already (a group
// task that failed when it ran again alone).
func (r *runner) skipKids(ctx context.Context, c *duckdb.Conn, t *Task) []*Task {
	return r.skip(ctx, c, t, append([]*Task(nil), t.kids...))
}

// announce counts tasks finished and tells the observers, in order.
func (r *runner) announce(ts ...*Task) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range ts {
		r.done++
		r.notifyLocked(Event{Kind: EventTaskFinished, RunID: r.res.RunID, Plan: r.plan, Task: t, Done: r.done, Total: len(r.plan.Tasks)})
	}
	if len(ts) > 0 && r.done == len(r.plan.Tasks) {
		close(r.finished)
	}
}
