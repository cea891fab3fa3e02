package engine_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testgraph"
)

// TestNodeTasks: a node's tasks come newest run first, each with its run's ID, only its
// own, and at most the limit.
func TestNodeTasks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	copyDir(t, "../examples/shop", dir)
	first, w := build(t, dir, engine.CommandBuild, 2)
	if first.Failed() {
		t.Fatalf("build failed: %v", first)
	}
	_, g := testgraph.Load(t, dir)
	plan, err := engine.NewPlan(g, engine.PlanOptions{Command: engine.CommandRun, Select: []string{"orders"}})
	if err != nil {
		t.Fatal(err)
	}
	second, err := engine.Run(ctx, w, plan, engine.RunOptions{Threads: 1})
	if err != nil || second.Failed() || second.RunID == first.RunID {
		t.Fatalf("second run: %v %v", err, second)
	}

	type row struct{ RunID, Node, Resource, Status string }
	rowsOf := func(node string, limit int) []row {
		t.Helper()
		tasks, err := w.NodeTasks(ctx, node, limit)
		if err != nil {
			t.Fatalf("NodeTasks(%s, %d): %v", node, limit, err)
		}
		out := []row{}
		for _, tk := range tasks {
			if tk.Ended == nil || tk.Started == nil {
				t.Errorf("%s in %s: no start or end", tk.Node, tk.RunID)
			}
			out = append(out, row{tk.RunID, tk.Node, tk.Resource, tk.Status})
		}
		return out
	}
	for _, tc := range []struct {
		node  string
		limit int
		want  []row
	}{
		{"orders", 10, []row{{second.RunID, "orders", "model", "success"}, {first.RunID, "orders", "model", "success"}}},
		{"orders", 0, []row{{second.RunID, "orders", "model", "success"}, {first.RunID, "orders", "model", "success"}}},
		{"orders", 1, []row{{second.RunID, "orders", "model", "success"}}},
		{"stg_orders", 10, []row{{first.RunID, "stg_orders", "model", "success"}}},
		{"raw_orders", 10, []row{{first.RunID, "raw_orders", "seed", "success"}}},
		{"no_such_model", 10, []row{}},
	} {
		if diff := cmp.Diff(tc.want, rowsOf(tc.node, tc.limit)); diff != "" {
			t.Errorf("NodeTasks(%s, %d) (-want +got):\n%s", tc.node, tc.limit, diff)
		}
	}
	none, err := w.NodeTasks(ctx, "no_such_model", 5)
	if b, _ := json.Marshal(none); err != nil || string(b) != "[]" {
		t.Errorf("no tasks: %s (%v), want []", b, err)
	}
}
