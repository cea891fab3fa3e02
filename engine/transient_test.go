package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"

	duck "github.com/duckdb/duckdb-go/v2"

	"github.com/stratadata/strata/internal/duckdb"
)

// TestTransientErrorsRetryAndSQLErrorsDoNot decides on DuckDB's error type: a real write
// conflict between two transactions retries, a real binder or conversion error does not,
// wrapped or not, and text that merely looks like a conflict does not either.
func TestTransientErrorsRetryAndSQLErrorsDoNot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := duckdb.Open(ctx, t.TempDir()+"/t.duckdb", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, _ := duckdb.Connect(ctx, db)
	b, _ := duckdb.Connect(ctx, db)
	defer a.Close()
	defer b.Close()
	for _, q := range []string{"CREATE TABLE t (id INT, v INT)", "INSERT INTO t VALUES (1, 1)"} {
		if _, err := a.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	a.Exec(ctx, "BEGIN")
	b.Exec(ctx, "BEGIN")
	if _, err := a.Exec(ctx, "UPDATE t SET v = 2 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	_, conflict := b.Exec(ctx, "UPDATE t SET v = 3 WHERE id = 1")
	a.Exec(ctx, "ROLLBACK")
	b.Exec(ctx, "ROLLBACK")
	_, binder := a.Exec(ctx, "SELECT nope FROM t")
	_, conversion := a.Exec(ctx, "SELECT 'a'::INT")
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"write conflict", conflict, true},
		{"write conflict in a placed error", &SQLError{Path: "models/x.sql", Err: fmt.Errorf("commit: %w", conflict)}, true},
		{"I/O", &duck.Error{Type: duck.ErrorTypeIO, Msg: `IO Error: Could not write file "x.wal": No space left on device`}, true},
		{"binder", binder, false},
		{"conversion", conversion, false},
		{"outside its partition", &duck.Error{Type: duck.ErrorTypeInvalidInput, Msg: "Invalid Input Error: d returned a row outside its partition"}, false},
		{"text that looks like a conflict", errors.New("TransactionContext Error: Conflict on tuple deletion!"), false},
		{"nil", nil, false},
	} {
		if tc.err == nil && tc.name != "nil" {
			t.Fatalf("%s: DuckDB gave no error", tc.name)
		}
		if got := transient(tc.err); got != tc.want {
			t.Errorf("transient(%s: %v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
