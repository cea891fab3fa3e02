package duckdb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stratadata/strata/internal/duckdb"
)

func TestWhole(t *testing.T) {
	for q, want := range map[string]bool{
		"select 1":                           true,
		"select 'a;b', \"c;d\" from t":       true,
		"select 'it''s' -- note; here\n":     true,
		"select 1; select 2":                 false,
		"select 1;":                          false,
		"select 'open":                       false,
		"select \"open":                      false,
		"select 1 -- to the end":             false,
		"select 1 /* c */":                   false,
		"select $$a;b$$":                     false,
		"select E'\\''":                      false,
		"select 'a' || 'b'; drop table t":    false,
		"select 1 from t where a = 'x' --\n": true,
	} {
		if got := duckdb.Whole(q); got != want {
			t.Errorf("Whole(%q) = %v, want %v", q, got, want)
		}
	}
}

// TestExecBatch: a batch runs its statements in one transaction; one that fails leaves
// nothing of the batch behind; one that is not whole is refused before anything runs.
func TestExecBatch(t *testing.T) {
	ctx := context.Background()
	db, err := duckdb.Open(ctx, duckdb.Memory, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := duckdb.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.ExecBatch(ctx, []string{"CREATE TABLE a AS SELECT 1 AS x", "CREATE TABLE b AS SELECT x + 1 AS y FROM a"}); err != nil {
		t.Fatal(err)
	}
	if n, err := c.QueryInt(ctx, "SELECT y FROM b"); err != nil || n != 2 {
		t.Fatalf("b.y = %d, %v", n, err)
	}
	err = c.ExecBatch(ctx, []string{"CREATE TABLE c AS SELECT 1 AS x", "CREATE TABLE d AS SELECT nope FROM a"})
	if err == nil {
		t.Fatal("a batch with a bad statement ran")
	}
	if n, err := c.QueryInt(ctx, "SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('c', 'd')"); err != nil || n != 0 {
		t.Fatalf("after a failed batch: %d of its tables, %v", n, err)
	}
	// the connection is usable again: the failed transaction was rolled back
	if err := c.ExecBatch(ctx, []string{"CREATE TABLE c AS SELECT 1 AS x"}); err != nil {
		t.Fatal(err)
	}
	err = c.ExecBatch(ctx, []string{"CREATE TABLE e AS SELECT 'x", "' AS y"})
	if !errors.Is(err, duckdb.ErrNotOneStatement) {
		t.Fatalf("a statement left open: %v, want ErrNotOneStatement", err)
	}
	if n, err := c.QueryInt(ctx, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'e'"); err != nil || n != 0 {
		t.Fatalf("a refused batch ran: %d, %v", n, err)
	}
}
