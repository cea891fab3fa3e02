package engine

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"strings"
	"time"

	"github.com/stratadata/strata/internal/duckdb"
)

// newRunID returns a sortable, readable run ID: 20240501-120000-3fa2.
func newRunID(now time.Time) string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

// IntervalRef names the ledger interval a run is for.
type IntervalRef struct {
	Schedule string
	End      time.Time
}

// startRun records a run, and the interval it is for as running, in one transaction.
func (w *Warehouse) startRun(ctx context.Context, r *Result, iv *IntervalRef) error {
	var bf any
	if r.Backfill != "" {
		bf = r.Backfill
	}
	host, _ := os.Hostname()
	c, err := w.conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.InTx(ctx, func() error {
		if _, err := c.Exec(ctx, `INSERT INTO _strata.runs (run_id, command, selector, started_at, status, tasks_total, backfill_id, pid, host)
			VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?)`, r.RunID, string(r.Command), r.Selector, r.Started, len(r.Tasks), bf, os.Getpid(), host); err != nil {
			return err
		}
		if iv == nil {
			return nil
		}
		_, err := c.Exec(ctx, `UPDATE _strata.intervals SET state = 'running', run_id = ?, attempts = coalesce(attempts, 0) + 1,
			started_at = ?, ended_at = NULL, error = NULL WHERE schedule = ? AND interval_end = ?`, r.RunID, r.Started, iv.Schedule, iv.End)
		return err
	})
}

// endRun records a run's end, and its interval's outcome, in one transaction.
func (w *Warehouse) endRun(ctx context.Context, r *Result, iv *IntervalRef) error {
	var errMsg any
	if r.Err != nil {
		errMsg = sanitize(r.Err.Error())
	}
	c, err := w.conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.InTx(ctx, func() error {
		if _, err := c.Exec(ctx, `UPDATE _strata.runs SET ended_at = ?, status = ?, tasks_ok = ?, tasks_error = ?, tasks_skipped = ?,
			tasks_cancelled = ?, error = ? WHERE run_id = ?`, r.Ended, r.Status, r.Count(StatusSuccess)+r.Count(StatusPass)+r.Count(StatusWarn),
			r.Count(StatusError)+r.Count(StatusFail)+r.Count(StatusWaiting), r.Count(StatusSkipped), r.Count(StatusCancelled)+r.Count(StatusPending), errMsg, r.RunID); err != nil {
			return err
		}
		if iv == nil {
			return nil
		}
		state, msg := IntervalDone, ""
		switch r.Status {
		case "cancelled":
			state = IntervalInterrupted
		case "error":
			state, msg = IntervalFailed, r.Summary()
		}
		_, err := c.Exec(ctx, `UPDATE _strata.intervals SET state = ?, ended_at = ?, error = ? WHERE schedule = ? AND interval_end = ?`,
			state, r.Ended, nullString(sanitize(msg)), iv.Schedule, iv.End)
		return err
	})
}

// taskColumns are _strata.tasks' columns in the order taskArgs gives them.
const taskColumns = `(run_id, node, resource, materialized, status, started_at, ended_at, rows_affected, fingerprint, relation, message, partition_start, partition_end, attempts)`

const insertTask = `INSERT INTO _strata.tasks ` + taskColumns + ` VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// taskArgs are a task's values for its _strata.tasks row.
func taskArgs(runID string, t *Task) []any {
	var msg any
	if t.Message != "" {
		msg = sanitize(t.Message)
	}
	var part, partEnd any
	if t.Window != nil {
		part, partEnd = t.Window.Start, t.Window.End
	}
	return []any{runID, t.Name, string(t.Resource), t.Materialized, string(t.Status),
		t.Started, t.Ended, t.Rows, t.Fingerprint, t.Relation, msg, part, partEnd, t.Attempts}
}

// recordTask writes a task's row on c, inside the transaction of its data when c has
// one open. The insert is prepared once per connection and reused: preparing it again
// for every task was a third of its cost.
func recordTask(ctx context.Context, c *duckdb.Conn, runID string, t *Task) error {
	_, err := c.ExecCached(ctx, insertTask, taskArgs(runID, t)...)
	return err
}

// recordTasks writes many tasks' rows (the skipped ones below a failure) in few
// statements: one row at a time took minutes for a large backfill.
func recordTasks(ctx context.Context, c *duckdb.Conn, runID string, tasks []*Task) error {
	const batch = 500
	for len(tasks) > 0 {
		n := min(batch, len(tasks))
		var b strings.Builder
		b.WriteString("INSERT INTO _strata.tasks " + taskColumns + " VALUES ")
		args := make([]any, 0, n*14)
		for i, t := range tasks[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, taskArgs(runID, t)...)
		}
		if _, err := c.Exec(ctx, b.String(), args...); err != nil {
			return err
		}
		tasks = tasks[n:]
	}
	return nil
}

// RunRecord is one row of run history.
type RunRecord struct {
	RunID     string     `json:"run_id"`
	Command   string     `json:"command"`
	Selector  string     `json:"selector"`
	Started   time.Time  `json:"started_at"`
	Ended     *time.Time `json:"ended_at,omitempty"`
	Status    string     `json:"status"`
	Total     int        `json:"tasks_total"`
	OK        int        `json:"tasks_ok"`
	Errors    int        `json:"tasks_error"`
	Skipped   int        `json:"tasks_skipped"`
	Cancelled int        `json:"tasks_cancelled"` // never started or cut short, when the run was cancelled
	Error     string     `json:"error,omitempty"`
	Backfill  string     `json:"backfill_id,omitempty"`
	PID       int        `json:"pid,omitempty"`
	Host      string     `json:"host,omitempty"`
}

// TaskRecord is one recorded task of a run.
type TaskRecord struct {
	RunID        string     `json:"run_id,omitempty"`
	Node         string     `json:"node"`
	Resource     string     `json:"resource"`
	Materialized string     `json:"materialized,omitempty"`
	Status       string     `json:"status"`
	Started      *time.Time `json:"started_at,omitempty"`
	Ended        *time.Time `json:"ended_at,omitempty"`
	Rows         int64      `json:"rows_affected"`
	Fingerprint  string     `json:"fingerprint,omitempty"`
	Relation     string     `json:"relation,omitempty"`
	Message      string     `json:"message,omitempty"`
	Partition    *time.Time `json:"partition_start,omitempty"`
	Attempts     int        `json:"attempts"`
}

// Runs returns the latest runs, newest first.
func (w *Warehouse) Runs(ctx context.Context, limit int) ([]RunRecord, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT run_id, command, coalesce(selector, ''), started_at, ended_at, status,
		coalesce(tasks_total, 0), coalesce(tasks_ok, 0), coalesce(tasks_error, 0), coalesce(tasks_skipped, 0), coalesce(tasks_cancelled, 0), coalesce(error, ''),
		coalesce(backfill_id, ''), coalesce(pid, 0), coalesce(host, '')
		FROM _strata.runs ORDER BY started_at DESC, run_id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []RunRecord{}
	for rows.Next() {
		var r RunRecord
		var ended sql.NullTime
		if err := rows.Scan(&r.RunID, &r.Command, &r.Selector, &r.Started, &ended, &r.Status, &r.Total, &r.OK, &r.Errors, &r.Skipped,
			&r.Cancelled, &r.Error, &r.Backfill, &r.PID, &r.Host); err != nil {
			return nil, err
		}
		if ended.Valid {
			r.Ended = &ended.Time
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RunTasks returns the recorded tasks of one run, in the order they ended.
func (w *Warehouse) RunTasks(ctx context.Context, runID string) ([]TaskRecord, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT node, resource, coalesce(materialized, ''), status, started_at, ended_at,
		coalesce(rows_affected, 0), coalesce(fingerprint, ''), coalesce(relation, ''), coalesce(message, ''),
		partition_start, coalesce(attempts, 0)
		FROM _strata.tasks WHERE run_id = ? ORDER BY ended_at NULLS LAST, node, partition_start`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TaskRecord{}
	for rows.Next() {
		var t TaskRecord
		var s, e, p sql.NullTime
		if err := rows.Scan(&t.Node, &t.Resource, &t.Materialized, &t.Status, &s, &e, &t.Rows, &t.Fingerprint, &t.Relation, &t.Message,
			&p, &t.Attempts); err != nil {
			return nil, err
		}
		if p.Valid {
			pt := p.Time.UTC()
			t.Partition = &pt
		}
		if s.Valid {
			t.Started = &s.Time
		}
		if e.Valid {
			t.Ended = &e.Time
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// FindRun returns a run by ID or unique ID prefix.
func (w *Warehouse) FindRun(ctx context.Context, id string) (*RunRecord, error) {
	runs, err := w.Runs(ctx, 1<<30)
	if err != nil {
		return nil, err
	}
	var found []RunRecord
	for _, r := range runs {
		if r.RunID == id {
			return &r, nil
		}
		if len(id) >= 4 && len(r.RunID) >= len(id) && r.RunID[:len(id)] == id {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 0:
		return nil, inputErrorf("run", "no run %q", id)
	case 1:
		return &found[0], nil
	}
	return nil, inputErrorf("run", "run ID %q is ambiguous (%d runs start with it)", id, len(found))
}
