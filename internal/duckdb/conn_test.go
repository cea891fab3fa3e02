package duckdb_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratadata/strata/internal/duckdb"
)

func open(t *testing.T) (string, *duckdb.Conn, func() *duckdb.Conn) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := duckdb.Open(ctx, filepath.Join(dir, "w.duckdb"), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn := func() *duckdb.Conn {
		c, err := duckdb.Connect(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	return dir, conn(), conn
}

// TestOneStatement: text after a `;` is refused before anything of it runs.
func TestOneStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c, _ := open(t)
	if _, err := c.Exec(ctx, "CREATE TABLE keep AS SELECT 1 AS id"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"SELECT 1; DROP TABLE keep",
		"CREATE TABLE x AS SELECT 1; DROP TABLE keep",
		"DROP TABLE keep; SELECT 1",
		"",
		"-- nothing but a comment",
	} {
		if _, err := c.Exec(ctx, q); !errors.Is(err, duckdb.ErrNotOneStatement) {
			t.Errorf("Exec(%q) = %v, want ErrNotOneStatement", q, err)
		}
		if _, err := c.Query(ctx, q, -1); !errors.Is(err, duckdb.ErrNotOneStatement) {
			t.Errorf("Query(%q) = %v, want ErrNotOneStatement", q, err)
		}
	}
	if n, err := c.QueryInt(ctx, "SELECT count(*) FROM keep"); err != nil || n != 1 {
		t.Fatalf("keep after the attempts: %d, %v", n, err)
	}
	if _, err := c.QueryInt(ctx, "SELECT 1;"); err != nil {
		t.Errorf("a statement ending in ';' is one statement: %v", err)
	}
	if _, err := c.Exec(ctx, "SELEC 1"); err == nil || errors.Is(err, duckdb.ErrNotOneStatement) || !strings.Contains(err.Error(), "Parser Error") {
		t.Errorf("a syntax error is DuckDB's own: %v", err)
	}
}

// TestEveryConnectionGetsTheSettings: relative paths in SQL resolve against the project
// folder on each connection of the pool, not only the first.
func TestEveryConnectionGetsTheSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, first, connect := open(t)
	if err := os.WriteFile(filepath.Join(dir, "rows.csv"), []byte("id\n1\n2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, c := range []*duckdb.Conn{first, connect(), connect(), connect()} {
		if n, err := c.QueryInt(ctx, "SELECT count(*) FROM read_csv('rows.csv')"); err != nil || n != 2 {
			t.Errorf("connection %d: %d rows, %v", i, n, err)
		}
	}
}

func TestQueryKindAndReadOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c, _ := open(t)
	c.Exec(ctx, "CREATE TABLE t AS SELECT 1 AS id")
	sel := []duckdb.Kind{duckdb.KindSelect}
	for q, ok := range map[string]bool{"SELECT * FROM t": true, "FROM t": true, "DESCRIBE t": true,
		"INSERT INTO t VALUES (2)": false, "DROP TABLE t": false, "ATTACH 'x.duckdb'": false, "COPY t TO 'x.csv'": false} {
		_, err := c.QueryKind(ctx, q, 10, sel)
		var ke *duckdb.KindError
		if ok && err != nil || !ok && !errors.As(err, &ke) {
			t.Errorf("QueryKind(%q) = %v; allowed %v", q, err, ok)
		}
	}
	// a read-only transaction refuses writes, whatever statement tried
	err := c.ReadOnly(ctx, func() error {
		_, err := c.Exec(ctx, "INSERT INTO t VALUES (3)")
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("a write in a read-only transaction: %v", err)
	}
	if n, _ := c.QueryInt(ctx, "SELECT count(*) FROM t"); n != 1 {
		t.Errorf("t has %d rows, want 1", n)
	}
	res, err := c.Query(ctx, "SELECT * FROM range(10)", 3)
	if err != nil || len(res.Rows) != 3 || !res.More {
		t.Errorf("Query with a limit: %+v, %v", res, err)
	}
}

func TestInTxRollsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c, _ := open(t)
	c.Exec(ctx, "CREATE TABLE t (id INT)")
	err := c.InTx(ctx, func() error {
		c.Exec(ctx, "INSERT INTO t VALUES (1)")
		return errors.New("fails")
	})
	if err == nil {
		t.Fatal("InTx returned no error")
	}
	if n, _ := c.QueryInt(ctx, "SELECT count(*) FROM t"); n != 0 {
		t.Errorf("a failed transaction left %d rows", n)
	}
	if err := c.InTx(ctx, func() error { _, err := c.ExecCached(ctx, "INSERT INTO t VALUES (?)", 7); return err }); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.QueryInt(ctx, "SELECT sum(id) FROM t"); n != 7 {
		t.Errorf("committed sum %d, want 7", n)
	}
}

// TestMemoryIsShared: every connection of an in-memory pool sees one database, so a run
// may hold several at once.
func TestMemoryIsShared(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := duckdb.Open(ctx, duckdb.Memory, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, _ := duckdb.Connect(ctx, db)
	b, _ := duckdb.Connect(ctx, db)
	defer a.Close()
	defer b.Close()
	if _, err := a.Exec(ctx, "CREATE TABLE t AS SELECT 42 AS x"); err != nil {
		t.Fatal(err)
	}
	if n, err := b.QueryInt(ctx, "SELECT x FROM t"); err != nil || n != 42 {
		t.Fatalf("another connection sees %d, %v", n, err)
	}
}
