package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testgraph"
)

// Helpers shared by the engine's tests: load a project, run a command on it, read results.

// build loads dir and runs command on it, returning the result and the open warehouse.
func build(t *testing.T, dir string, command engine.Command, threads int, sel ...string) (*engine.Result, *engine.Warehouse) {
	t.Helper()
	ctx := context.Background()
	p, g := testgraph.Load(t, dir)
	plan, err := engine.NewPlan(g, engine.PlanOptions{Command: command, Select: sel})
	if err != nil {
		t.Fatal(err)
	}
	w, err := engine.Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	res, err := engine.Run(ctx, w, plan, engine.RunOptions{Threads: threads})
	if err != nil {
		t.Fatal(err)
	}
	return res, w
}

func statuses(res *engine.Result) map[string]engine.Status {
	out := map[string]engine.Status{}
	for _, t := range res.Tasks {
		out[t.Name] = t.Status
	}
	return out
}

func queryInt(t *testing.T, w *engine.Warehouse, q string) int64 {
	t.Helper()
	rows := queryRows(t, w, q)
	if len(rows) != 1 || len(rows[0]) != 1 {
		t.Fatalf("%s: want one value, got %v", q, rows)
	}
	switch v := rows[0][0].(type) {
	case int64:
		return v
	case int32:
		return int64(v)
	}
	t.Fatalf("%s: %T is not an integer", q, rows[0][0])
	return 0
}

// queryRows reads a query's rows through the warehouse's read-only path.
// wantRows checks a query's rows, printed as fmt prints them, are want.
func wantRows(t testing.TB, w *engine.Warehouse, q, want string) {
	t.Helper()
	if got := fmt.Sprint(queryRows(t, w, q)); got != want {
		t.Errorf("%s:\n got %s\nwant %s", q, got, want)
	}
}

func queryRows(t testing.TB, w *engine.Warehouse, q string) [][]any {
	t.Helper()
	res, err := w.ReadQuery(context.Background(), q, engine.QueryOptions{Limit: 1 << 20})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out := make([][]any, len(res.Rows))
	for i, r := range res.Rows {
		out[i] = r.Values
	}
	return out
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if strings.HasSuffix(path, ".duckdb") || strings.HasSuffix(path, ".wal") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
