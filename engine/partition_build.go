package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/models"
)

// buildPartition writes one partition: after its checks pass, the window's rows are
// replaced and its state recorded in one transaction, so re-running is always safe and a
// crash leaves either the old window or the new one, never both or neither.
func (r *runner) buildPartition(ctx context.Context, c *duckdb.Conn, t *Task) error {
	p := r.plan.Project
	m := t.node.Model
	spec := m.Partition()
	if ok, err := r.checksPass(ctx, c, t); !ok {
		return err
	}
	q, err := p.Compile(m, models.CompileOptions{Window: t.Window, Live: liveConn(ctx, c), Flags: r.flags()})
	if err != nil {
		return err
	}
	schema, ident := p.Schema(m), m.Identifier()
	rel := models.Quote(schema) + "." + models.Quote(ident)
	head := "INSERT INTO " + rel + " BY NAME SELECT * FROM (\n"
	fail := func(err error) error { return r.sqlError(t, q, head, err) }
	if err := r.createPartitioned(ctx, c, m, schema, ident, rel, q); err != nil {
		return fail(err)
	}
	col := models.Quote(spec.Column)
	ps, pe := models.SQLTimestamp(t.Window.Start), models.SQLTimestamp(t.Window.End)
	inWindow := fmt.Sprintf("%s >= %s AND %s < %s", col, ps, col, pe)
	outside := fmt.Sprintf("error('%s returned a row with %s outside its partition [%s, %s): filter on partition_start and partition_end')",
		t.Name, spec.Column, t.Window.Start.Format(time.DateTime), t.Window.End.Format(time.DateTime))
	err = r.inTask(ctx, c, t, fail, func() (int64, error) {
		if _, err := c.Exec(ctx, "DELETE FROM "+rel+" WHERE "+inWindow); err != nil {
			return 0, fail(err)
		}
		n, err := c.Exec(ctx, fmt.Sprintf("%s%s\n) AS strata_partition WHERE CASE WHEN %s THEN true ELSE %s END",
			head, q, inWindow, outside))
		if err != nil {
			return 0, fail(err)
		}
		return n, nil
	})
	if err != nil {
		return err
	}
	r.parts.Put(t.Name, PartitionRecord{Start: t.Window.Start, End: t.Window.End, Fingerprint: t.Fingerprint, BuiltAt: t.Ended, Rows: t.Rows, RunID: r.res.RunID})
	return nil
}

// checksPass runs a partition's checks; when one does not pass it sets the task waiting
// (or cancelled, when the run is stopping) and returns false.
func (r *runner) checksPass(ctx context.Context, c *duckdb.Conn, t *Task) (bool, error) {
	miss, err := r.runChecks(ctx, c, t)
	if err != nil {
		return false, err
	}
	if miss != "" {
		t.Status, t.Message = StatusWaiting, miss
		if r.stopped() {
			t.Status, t.Message = StatusCancelled, "cancelled while waiting for its checks: "+miss
		}
		return false, nil
	}
	return true, nil
}

// createPartitioned creates a partitioned model's empty table the first time, once per
// model even when its partitions run in parallel.
func (r *runner) createPartitioned(ctx context.Context, c *duckdb.Conn, m *models.Model, schema, ident, rel, q string) error {
	if r.w.kind(schema, ident) == "table" {
		return nil
	}
	r.mu.Lock()
	if r.creating == nil {
		r.creating = map[string]*sync.Mutex{}
	}
	mu := r.creating[rel]
	if mu == nil {
		mu = &sync.Mutex{}
		r.creating[rel] = mu
	}
	r.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	existing := r.w.kind(schema, ident)
	if existing == "table" {
		return nil
	}
	stmts := []string{}
	if existing == "view" {
		stmts = append(stmts, "DROP VIEW "+rel)
	}
	stmts = append(stmts, "CREATE TABLE IF NOT EXISTS "+rel+" AS SELECT * FROM (\n"+q+"\n) AS strata_partition LIMIT 0")
	for _, s := range stmts {
		if _, err := c.Exec(ctx, s); err != nil {
			return err
		}
	}
	r.w.setKind(schema, ident, "table")
	return nil
}
