package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	duck "github.com/duckdb/duckdb-go/v2"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/internal/testproj"
)

// TestGuardedQuery: what an agent may run. DuckDB's prepared statement says what is a
// read; its parse tree says which files a read touches. Everything else is refused and
// the data stays as it was.
func TestGuardedQuery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := testproj.Write(t, map[string]string{
		"strata.yml":    "name: p\nwarehouse:\n  path: p.duckdb\n",
		"models/t.sql":  "{{ config(materialized='table') }}\nselect 1 as x",
		"data/rows.csv": "id\n1\n2\n",
	})
	outside := filepath.Join(t.TempDir(), "secret.csv")
	os.WriteFile(outside, []byte("s\nsecret\n"), 0o644)
	res, w := build(t, dir, engine.CommandRun, 1)
	if res.Failed() {
		t.Fatal("build failed")
	}
	_, _ = testgraph.Load(t, dir)
	opts := engine.QueryOptions{Root: dir, Limit: 10}
	for _, q := range []string{
		"DROP TABLE t",
		"DELETE FROM t",
		"COPY t TO 'out.csv'",
		"ATTACH 'other.duckdb'",
		"INSTALL httpfs",
		"LOAD httpfs",
		"SET threads = 1",
		"PRAGMA version",
		"select 1; drop table t",
		"with gone as (delete from t returning *) select * from gone",
		"select * from read_text('/etc/passwd')",
		"select * from read_csv('" + outside + "')",
		"select * from read_csv('../../etc/passwd')",
		"select * from '" + outside + "'",
		"select * from read_parquet('https://example.com/x.parquet')",
		"select * from query('select * from t')",
		"select * from read_csv(concat('data/', 'rows.csv'))",
		"select * from read_csv(['data/rows.csv', '" + outside + "'])",
	} {
		_, err := w.ReadQuery(ctx, q, opts)
		var qe *engine.QueryError
		var de *duck.Error
		switch {
		case err == nil:
			t.Errorf("%q ran", q)
		case errors.As(err, &qe):
		case errors.As(err, &de) && (de.Type == duck.ErrorTypeParser || de.Type == duck.ErrorTypeNotImplemented):
			// DuckDB itself refuses to parse it (a DELETE inside a CTE)
		default:
			t.Errorf("%q: refused with %T %v, want a QueryError (or DuckDB refusing to parse it)", q, err, err)
		}
	}
	if n := queryInt(t, w, "select count(*) from t"); n != 1 {
		t.Fatalf("t has %d rows after the attempts, want 1", n)
	}
	for _, q := range []string{"select * from t", "select count(*) from read_csv('data/rows.csv')", "from 'data/rows.csv'",
		"with a as (select 1 as x) select * from a join t using (x)", "select * from information_schema.tables"} {
		if _, err := w.ReadQuery(ctx, q, opts); err != nil {
			t.Errorf("%q refused: %v", q, err)
		}
	}
}
