package engine

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"
)

// The _strata schema: every run and every task, with timings, rows, errors and the
// fingerprint a model was built from. A task's row is written in the same transaction
// as the data it built, so state never claims what the warehouse does not hold.
const stateDDL = `
CREATE SCHEMA IF NOT EXISTS _strata;
CREATE TABLE IF NOT EXISTS _strata.runs (
	run_id      VARCHAR,
	command     VARCHAR,
	selector    VARCHAR,
	started_at  TIMESTAMP,
	ended_at    TIMESTAMP,
	status      VARCHAR,
	tasks_total INTEGER,
	tasks_ok    INTEGER,
	tasks_error INTEGER,
	tasks_skipped INTEGER,
	error       VARCHAR,
	backfill_id VARCHAR
);
CREATE TABLE IF NOT EXISTS _strata.tasks (
	run_id        VARCHAR,
	node          VARCHAR,
	resource      VARCHAR,
	materialized  VARCHAR,
	status        VARCHAR,
	started_at    TIMESTAMP,
	ended_at      TIMESTAMP,
	rows_affected BIGINT,
	fingerprint   VARCHAR,
	relation      VARCHAR,
	message       VARCHAR,
	partition_start TIMESTAMP,
	partition_end TIMESTAMP,
	attempts      INTEGER
);
CREATE TABLE IF NOT EXISTS _strata.backfills (
	backfill_id  VARCHAR,
	selector     VARCHAR,
	from_ts      TIMESTAMP,
	to_ts        TIMESTAMP,
	options      VARCHAR,
	status       VARCHAR,
	created_at   TIMESTAMP,
	updated_at   TIMESTAMP,
	tasks_total  INTEGER,
	tasks_done   INTEGER,
	tasks_failed INTEGER,
	tasks_waiting INTEGER,
	runs         INTEGER
);
CREATE TABLE IF NOT EXISTS _strata.backfill_tasks (
	backfill_id     VARCHAR,
	node            VARCHAR,
	partition_start TIMESTAMP
);
-- A partition's state is its latest successful task: the task row commits with the data.
CREATE OR REPLACE VIEW _strata.partitions AS
	SELECT node AS model, partition_start, arg_max(partition_end, ended_at) AS partition_end,
		arg_max(fingerprint, ended_at) AS fingerprint, max(ended_at) AS built_at,
		arg_max(rows_affected, ended_at) AS rows, arg_max(run_id, ended_at) AS run_id
	FROM _strata.tasks
	WHERE status = 'success' AND partition_start IS NOT NULL
	GROUP BY node, partition_start;
CREATE OR REPLACE VIEW _strata.model_state AS
	SELECT DISTINCT ON (node) node, relation, materialized, fingerprint, ended_at AS built_at, run_id, rows_affected
	FROM _strata.tasks
	WHERE status = 'success' AND resource IN ('model', 'seed') AND partition_start IS NULL
	ORDER BY node, ended_at DESC;
`

func (w *Warehouse) initState(ctx context.Context) error {
	var n int
	err := w.DB.QueryRowContext(ctx, `select count(*) from duckdb_views() where schema_name = '_strata' and view_name = 'partitions'`).Scan(&n)
	if err != nil || n != 1 {
		if _, err := w.DB.ExecContext(ctx, stateDDL); err != nil {
			return err
		}
	}
	w.insertTask, err = w.DB.PrepareContext(ctx, insertTask)
	return err
}

// newRunID returns a sortable, readable run ID: 20240501-120000-3fa2.
func newRunID(now time.Time) string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

func (w *Warehouse) startRun(ctx context.Context, r *Result) error {
	var bf any
	if r.Backfill != "" {
		bf = r.Backfill
	}
	_, err := w.DB.ExecContext(ctx, `INSERT INTO _strata.runs (run_id, command, selector, started_at, status, tasks_total, backfill_id)
		VALUES (?, ?, ?, ?, 'running', ?, ?)`, r.RunID, r.Command, r.Selector, r.Started, len(r.Tasks), bf)
	return err
}

func (w *Warehouse) endRun(ctx context.Context, r *Result) error {
	var errMsg any
	if r.Err != nil {
		errMsg = r.Err.Error()
	}
	_, err := w.DB.ExecContext(ctx, `UPDATE _strata.runs SET ended_at = ?, status = ?, tasks_ok = ?, tasks_error = ?, tasks_skipped = ?, error = ?
		WHERE run_id = ?`, r.Ended, r.Status, r.Count(StatusSuccess)+r.Count(StatusPass)+r.Count(StatusWarn),
		r.Count(StatusError)+r.Count(StatusFail), r.Count(StatusSkipped), errMsg, r.RunID)
	return err
}

const insertTask = `INSERT INTO _strata.tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// recordTask writes a task's row, inside tx when given (so it commits with the task's
// data), else on its own.
func (w *Warehouse) recordTask(ctx context.Context, tx *sql.Tx, runID string, t *Task) error {
	var msg any
	if t.Message != "" {
		msg = t.Message
	}
	var part, partEnd any
	if t.Window != nil {
		part, partEnd = t.Window.Start, t.Window.End
	}
	args := []any{runID, t.Name, string(t.Resource), t.Materialized, string(t.Status),
		t.Started, t.Ended, t.Rows, t.Fingerprint, t.Relation, msg, part, partEnd, t.Attempts}
	// the insert is prepared once per connection and reused: preparing it again for
	// every task was a third of its cost
	st := w.insertTask
	if tx != nil {
		st = tx.StmtContext(ctx, st)
	}
	_, err := st.ExecContext(ctx, args...)
	return err
}

// RunRecord is one row of run history.
type RunRecord struct {
	RunID    string     `json:"run_id"`
	Command  string     `json:"command"`
	Selector string     `json:"selector"`
	Started  time.Time  `json:"started_at"`
	Ended    *time.Time `json:"ended_at,omitempty"`
	Status   string     `json:"status"`
	Total    int        `json:"tasks_total"`
	OK       int        `json:"tasks_ok"`
	Errors   int        `json:"tasks_error"`
	Skipped  int        `json:"tasks_skipped"`
	Error    string     `json:"error,omitempty"`
}

// TaskRecord is one recorded task of a run.
type TaskRecord struct {
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
}

// Runs returns the latest runs, newest first.
func (w *Warehouse) Runs(ctx context.Context, limit int) ([]RunRecord, error) {
	rows, err := w.DB.QueryContext(ctx, `SELECT run_id, command, coalesce(selector, ''), started_at, ended_at, status,
		coalesce(tasks_total, 0), coalesce(tasks_ok, 0), coalesce(tasks_error, 0), coalesce(tasks_skipped, 0), coalesce(error, '')
		FROM _strata.runs ORDER BY started_at DESC, run_id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RunRecord
	for rows.Next() {
		var r RunRecord
		var ended sql.NullTime
		if err := rows.Scan(&r.RunID, &r.Command, &r.Selector, &r.Started, &ended, &r.Status, &r.Total, &r.OK, &r.Errors, &r.Skipped, &r.Error); err != nil {
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
	rows, err := w.DB.QueryContext(ctx, `SELECT node, resource, coalesce(materialized, ''), status, started_at, ended_at,
		coalesce(rows_affected, 0), coalesce(fingerprint, ''), coalesce(relation, ''), coalesce(message, '')
		FROM _strata.tasks WHERE run_id = ? ORDER BY ended_at NULLS LAST, node`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TaskRecord
	for rows.Next() {
		var t TaskRecord
		var s, e sql.NullTime
		if err := rows.Scan(&t.Node, &t.Resource, &t.Materialized, &t.Status, &s, &e, &t.Rows, &t.Fingerprint, &t.Relation, &t.Message); err != nil {
			return nil, err
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
		return nil, fmt.Errorf("no run %q; `strata runs` lists them", id)
	case 1:
		return &found[0], nil
	}
	return nil, fmt.Errorf("run ID %q is ambiguous (%d runs start with it)", id, len(found))
}
