package engine

import (
	"context"
	"database/sql"
)

// NodeTasks returns the latest recorded tasks of one node (a model, seed, snapshot or
// test, by name), newest first: by their run's start, then by when each ended, so a
// backfill's partitions come latest first. Each carries its RunID. limit <= 0 reads
// them all.
func (w *Warehouse) NodeTasks(ctx context.Context, node string, limit int) ([]TaskRecord, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	rows, err := w.db.QueryContext(ctx, `SELECT t.run_id, t.node, t.resource, coalesce(t.materialized, ''), t.status, t.started_at, t.ended_at,
		coalesce(t.rows_affected, 0), coalesce(t.fingerprint, ''), coalesce(t.relation, ''), coalesce(t.message, ''),
		t.partition_start, coalesce(t.attempts, 0)
		FROM _strata.tasks t LEFT JOIN _strata.runs r ON r.run_id = t.run_id
		WHERE t.node = ?
		ORDER BY r.started_at DESC NULLS LAST, t.run_id DESC, t.ended_at DESC NULLS LAST, t.partition_start DESC NULLS LAST
		LIMIT ?`, node, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TaskRecord{}
	for rows.Next() {
		var t TaskRecord
		var s, e, p sql.NullTime
		if err := rows.Scan(&t.RunID, &t.Node, &t.Resource, &t.Materialized, &t.Status, &s, &e, &t.Rows, &t.Fingerprint, &t.Relation, &t.Message,
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
