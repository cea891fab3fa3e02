package engine

import (
	"context"

	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/models"
)

// liveConn is a task's connection as the warehouse a model's Jinja reads while it
// renders at run time (run_query, adapter.get_columns_in_relation, dbt_utils.star): in
// the task's transaction, after its upstream models are built.
type liveConn struct {
	ctx context.Context
	c   *duckdb.Conn
}

// introspectRows is the most rows a template's query reads.
const introspectRows = 100_000

func (l liveConn) Query(q string) ([]string, [][]any, error) {
	r, err := l.c.Query(l.ctx, q, introspectRows)
	if err != nil {
		return nil, nil, err
	}
	return r.Columns, r.Rows, nil
}

// Introspect runs f with the warehouse as a read-only Introspector: for rendering models
// whose Jinja reads it (strata compile, lineage) as they would render when they run.
func (w *Warehouse) Introspect(ctx context.Context, f func(models.Introspector) error) error {
	c, err := w.conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.ReadOnly(ctx, func() error { return f(liveConn{ctx, c}) })
}

// flags are dbt's flags a model renders with when it runs: FULL_REFRESH and WHICH.
func (r *runner) flags() map[string]any {
	return map[string]any{"FULL_REFRESH": r.plan.FullRefresh, "WHICH": string(r.plan.Command)}
}
