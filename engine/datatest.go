package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	duck "github.com/duckdb/duckdb-go/v2"

	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/models"
)

// runTest counts a test's failing rows and records the outcome.
func (r *runner) runTest(ctx context.Context, c *duckdb.Conn, t *Task) error {
	test := t.node.Test
	if test.Generic == models.CDCVerifyTest {
		return r.runVerify(ctx, c, t)
	}
	q, err := r.plan.Project.CompileTest(test)
	if err != nil {
		return err
	}
	if test.Limit > 0 {
		q = "select * from (\n" + q + "\n) as dbt_limited limit " + strconv.Itoa(test.Limit)
	}
	// dbt's test result: fail_calc over the failing rows, then warn_if and error_if on it
	row, err := c.QueryRow(ctx, "SELECT CAST("+test.FailCalc+" AS BIGINT), coalesce(("+test.FailCalc+") "+test.WarnIf+", false), coalesce(("+test.FailCalc+") "+test.ErrorIf+", false) FROM (\n"+q+"\n) AS dbt_internal_test")
	var n int64
	var warn, fail bool
	if err == nil {
		n, _ = duckdb.Int64(row[0])
		warn, _ = row[1].(bool)
		fail, _ = row[2].(bool)
		if test.StoreFailures {
			err = r.storeFailures(ctx, c, test, q)
		}
	}
	if err != nil {
		se := &SQLError{Node: t.Name, Path: t.Path, Line: test.Pos.Line, Col: test.Pos.Col, Msg: cleanMessage(err), Err: err}
		var de *duck.Error
		switch {
		case errors.Is(err, duckdb.ErrNotOneStatement):
			se.Msg = "the test's SQL is not exactly one statement: text after a `;` would run as a statement of its own"
			se.Hint = "check the column name and the test's arguments"
		case errors.As(err, &de) && de.Type == duck.ErrorTypeBinder && test.ColumnIsName():
			se.Hint = fmt.Sprintf("test %s reads column %q of %s: check the column's name in the YAML", test.Name, test.Column, test.Model)
		}
		return se
	}
	t.Rows = n
	t.Ended = time.Now().UTC()
	switch {
	case test.Severity != "warn" && fail:
		t.Status = StatusFail
		t.Message = fmt.Sprintf("%d failing rows", n)
	case warn:
		t.Status = StatusWarn
		t.Message = fmt.Sprintf("%d failing rows", n)
	default:
		t.Status = StatusPass
	}
	return recordTask(ctx, c, r.res.RunID, t)
}

// storeFailures keeps a test's failing rows in <schema>_dbt_test__audit.<test>, as a table
// or a view (store_failures_as), replaced at every run of the test.
func (r *runner) storeFailures(ctx context.Context, c *duckdb.Conn, test *models.Test, q string) error {
	schema := models.Quote(r.plan.Project.Warehouse.Schema + "_dbt_test__audit")
	r.mu.Lock() // tests run at once: one of them creates the schema
	if !r.auditSchema {
		if _, err := c.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
			r.mu.Unlock()
			return err
		}
		r.auditSchema = true
	}
	r.mu.Unlock()
	rel := schema + "." + models.Quote(test.Name)
	// what is there now, when it is of the other kind, goes first
	kind, err := c.QueryRow(ctx, `SELECT coalesce((SELECT 'VIEW' FROM duckdb_views() WHERE schema_name = ? AND view_name = ?), (SELECT 'TABLE' FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?), '')`,
		r.plan.Project.Warehouse.Schema+"_dbt_test__audit", test.Name, r.plan.Project.Warehouse.Schema+"_dbt_test__audit", test.Name)
	if err != nil {
		return err
	}
	if k := str(kind[0]); k != "" && k != strings.ToUpper(test.StoreFailuresAs) {
		if _, err := c.Exec(ctx, "DROP "+k+" "+rel); err != nil {
			return err
		}
	}
	_, err = c.Exec(ctx, "CREATE OR REPLACE "+strings.ToUpper(test.StoreFailuresAs)+" "+rel+" AS\n"+q)
	return err
}
