package engine

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"syscall"
	"time"
)

// The _strata schema evolves by numbered migrations, recorded in _strata.migrations and
// applied in order, each in its own transaction, when a warehouse is opened. A warehouse
// written before migrations were recorded holds exactly migration 1.
type migration struct {
	version int
	name    string
	stmts   []string
}

var migrations = []migration{
	{1, "runs, tasks, backfills and their views", []string{
		`CREATE SCHEMA IF NOT EXISTS _strata`,
		`CREATE TABLE IF NOT EXISTS _strata.runs (
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
			backfill_id VARCHAR)`,
		`CREATE TABLE IF NOT EXISTS _strata.tasks (
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
			attempts      INTEGER)`,
		`CREATE TABLE IF NOT EXISTS _strata.backfills (
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
			runs         INTEGER)`,
		`CREATE TABLE IF NOT EXISTS _strata.backfill_tasks (
			backfill_id     VARCHAR,
			node            VARCHAR,
			partition_start TIMESTAMP)`,
		// a partition's state is its latest successful task: the task row commits with the data
		`CREATE OR REPLACE VIEW _strata.partitions AS
			SELECT node AS model, partition_start, arg_max(partition_end, ended_at) AS partition_end,
				arg_max(fingerprint, ended_at) AS fingerprint, max(ended_at) AS built_at,
				arg_max(rows_affected, ended_at) AS rows, arg_max(run_id, ended_at) AS run_id
			FROM _strata.tasks
			WHERE status = 'success' AND partition_start IS NOT NULL
			GROUP BY node, partition_start`,
		`CREATE OR REPLACE VIEW _strata.model_state AS
			SELECT DISTINCT ON (node) node, relation, materialized, fingerprint, ended_at AS built_at, run_id, rows_affected
			FROM _strata.tasks
			WHERE status = 'success' AND resource IN ('model', 'seed') AND partition_start IS NULL
			ORDER BY node, ended_at DESC`,
	}},
	{2, "the process of each run and its cancelled tasks", []string{
		// who ran it: a run left running by a process that is gone is marked aborted
		`ALTER TABLE _strata.runs ADD COLUMN pid INTEGER`,
		`ALTER TABLE _strata.runs ADD COLUMN host VARCHAR`,
		`ALTER TABLE _strata.runs ADD COLUMN tasks_cancelled INTEGER`,
	}},
	{3, "the scheduler's ledger of intervals", []string{
		// one row per (schedule, interval): what the scheduler owes and where it stands
		`CREATE TABLE _strata.intervals (
			schedule       VARCHAR,
			interval_start TIMESTAMP,
			interval_end   TIMESTAMP,
			state          VARCHAR,
			kind           VARCHAR,
			run_id         VARCHAR,
			attempts       INTEGER,
			queued_at      TIMESTAMP,
			started_at     TIMESTAMP,
			ended_at       TIMESTAMP,
			error          VARCHAR)`,
		`CREATE TABLE _strata.schedule_state (
			schedule   VARCHAR,
			paused     BOOLEAN,
			first_seen TIMESTAMP,
			updated_at TIMESTAMP)`,
	}},
	{4, "CDC schema history and repairs", []string{
		// a column a CDC model's events brought (or widened), with the window that did
		`CREATE TABLE _strata.cdc_columns (
			model       VARCHAR,
			column_name VARCHAR,
			data_type   VARCHAR,
			window_start TIMESTAMP,
			file        VARCHAR,
			added_at    TIMESTAMP)`,
		// what strata verify --repair re-applied from the source's snapshot
		`CREATE TABLE _strata.cdc_repairs (
			repair_id  VARCHAR,
			model      VARCHAR,
			missing    BIGINT,
			extra      BIGINT,
			different  BIGINT,
			position   VARCHAR,
			repaired_at TIMESTAMP)`,
	}},
}

// SchemaVersion is the _strata version this build writes.
var SchemaVersion = migrations[len(migrations)-1].version

// migrate brings _strata to SchemaVersion.
func (w *Warehouse) migrate(ctx context.Context) error {
	have, err := w.schemaVersion(ctx)
	if err != nil {
		return err
	}
	if have > SchemaVersion {
		return fmt.Errorf("written by a newer strata (state version %d; this one knows %d): upgrade strata", have, SchemaVersion)
	}
	for _, m := range migrations {
		if m.version <= have {
			continue
		}
		if err := w.apply(ctx, m); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

// schemaVersion reads the latest applied migration; 1 for a warehouse from before they
// were recorded, 0 for a new one.
func (w *Warehouse) schemaVersion(ctx context.Context) (int, error) {
	var tables int
	if err := w.db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = '_strata' AND table_name IN ('migrations', 'runs')`).Scan(&tables); err != nil {
		return 0, err
	}
	if tables == 0 {
		return 0, nil
	}
	var n int
	err := w.db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = '_strata' AND table_name = 'migrations'`).Scan(&n)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		// the release before versioning: its tables are migration 1; record it as such
		if err := w.createMigrations(ctx); err != nil {
			return 0, err
		}
		if _, err := w.db.ExecContext(ctx, `INSERT INTO _strata.migrations (version, name, applied_at) VALUES (1, ?, ?)`,
			migrations[0].name+" (found)", time.Now().UTC()); err != nil {
			return 0, err
		}
		return 1, nil
	}
	var v sql.NullInt64
	if err := w.db.QueryRowContext(ctx, `SELECT max(version) FROM _strata.migrations`).Scan(&v); err != nil {
		return 0, err
	}
	return int(v.Int64), nil
}

func (w *Warehouse) createMigrations(ctx context.Context) error {
	_, err := w.db.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS _strata`)
	if err == nil {
		_, err = w.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS _strata.migrations (version INTEGER, name VARCHAR, applied_at TIMESTAMP)`)
	}
	return err
}

// apply runs one migration and records it, in one transaction.
func (w *Warehouse) apply(ctx context.Context, m migration) error {
	if err := w.createMigrations(ctx); err != nil {
		return err
	}
	c, err := w.conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.InTx(ctx, func() error {
		for _, s := range m.stmts {
			if _, err := c.Exec(ctx, s); err != nil {
				return err
			}
		}
		_, err := c.Exec(ctx, `INSERT INTO _strata.migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.version, m.name, time.Now().UTC())
		return err
	})
}

// abortDeadRuns marks runs left running by a process that is gone as aborted, and their
// backfills as interrupted. This process holds the file's write lock, so no other
// process can be writing those runs; a run of this host whose pid is still alive is left
// alone all the same (a warehouse shared by in-process opens).
func (w *Warehouse) abortDeadRuns(ctx context.Context) error {
	rows, err := w.db.QueryContext(ctx, `SELECT run_id, pid, coalesce(host, ''), backfill_id FROM _strata.runs WHERE status = 'running'`)
	if err != nil {
		return err
	}
	type stale struct {
		id, backfill string
	}
	var dead []stale
	host, _ := os.Hostname()
	for rows.Next() {
		var id, h string
		var pid sql.NullInt64
		var bf sql.NullString
		if err := rows.Scan(&id, &pid, &h, &bf); err != nil {
			rows.Close()
			return err
		}
		if pid.Valid && h == host && alive(int(pid.Int64)) {
			continue
		}
		dead = append(dead, stale{id, bf.String})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, d := range dead {
		if _, err := w.db.ExecContext(ctx, `UPDATE _strata.runs SET status = 'aborted', ended_at = coalesce(ended_at, started_at),
			error = 'the process running it stopped without finishing it (killed, or the machine went down)' WHERE run_id = ?`, d.id); err != nil {
			return err
		}
		if d.backfill != "" {
			if _, err := w.db.ExecContext(ctx, `UPDATE _strata.backfills SET status = 'interrupted' WHERE backfill_id = ? AND status = 'running'`, d.backfill); err != nil {
				return err
			}
		}
	}
	return nil
}

// alive reports whether a process of this host is running.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
