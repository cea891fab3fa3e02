package engine

import (
	"context"

	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/models"
)

// introspectRows is the most rows a template's query reads.
const introspectRows = 100_000

// liveConn is a task's connection as the warehouse a model's Jinja reads while it
// renders at run time (run_query, adapter.get_columns_in_relation, dbt_utils.star): in
// the task's transaction, after its upstream models are built.
func liveConn(ctx context.Context, c *duckdb.Conn) duckdb.Rows {
	return duckdb.Rows{Ctx: ctx, Conn: c, Limit: introspectRows}
}

// Introspect runs f with the warehouse as a read-only Introspector: for rendering models
// whose Jinja reads it (strata compile, lineage) as they would render when they run.
func (w *Warehouse) Introspect(ctx context.Context, f func(models.Introspector) error) error {
	c, err := w.conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.ReadOnly(ctx, func() error { return f(liveConn(ctx, c)) })
}

// Compile is a model's SQL as it runs: one whose Jinja reads the warehouse renders
// against this one (read-only), the rest as the project compiles them. strata compile,
// show and the web UI's model pages go through it.
func (w *Warehouse) Compile(ctx context.Context, p *models.Project, m *models.Model) (string, error) {
	if !p.Introspects(m) {
		return p.Compile(m, models.CompileOptions{})
	}
	var q string
	err := w.Introspect(ctx, func(live models.Introspector) error {
		var err error
		q, err = p.Compile(m, models.CompileOptions{Live: live})
		return err
	})
	return q, err
}

// flags are dbt's flags a model renders with when it runs: FULL_REFRESH and WHICH.
func (r *runner) flags() map[string]any {
	return map[string]any{"FULL_REFRESH": r.plan.FullRefresh, "WHICH": string(r.plan.Command)}
}
