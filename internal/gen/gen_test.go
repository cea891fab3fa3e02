package gen_test

import (
	"context"
	"testing"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/gen"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// TestWrite generates projects, loads them, builds their graphs and runs them on DuckDB:
// everything the generator writes must be a valid project with valid SQL.
func TestWrite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		opts      gen.Options
		wantNodes int // models and seeds
	}{
		{"mixed", gen.Options{Models: 200, Seed: 1}, 203},
		{"chain-view", gen.Options{Models: 50, Shape: gen.ShapeChain}, 50},
		{"chain-table", gen.Options{Models: 50, Shape: gen.ShapeChain, Materialized: "table"}, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := t.TempDir()
			if err := gen.Write(dir, tc.opts); err != nil {
				t.Fatal(err)
			}
			p, err := models.Load(dir, models.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(p.Models); got != tc.wantNodes {
				t.Errorf("loaded %d models and seeds, want %d", got, tc.wantNodes)
			}
			if len(p.Tests) == 0 {
				t.Error("no tests loaded from the generated schema.yml files")
			}
			g, err := lineage.Build(p)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := engine.NewPlan(g, engine.PlanOptions{Command: engine.CommandBuild})
			if err != nil {
				t.Fatal(err)
			}
			w, err := engine.Open(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			res, err := engine.Run(ctx, w, plan, engine.RunOptions{Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			for _, task := range res.Tasks {
				if task.Status != engine.StatusSuccess && task.Status != engine.StatusPass {
					t.Errorf("%s %s: %s: %s", task.Resource, task.Name, task.Status, task.Message)
				}
			}
		})
	}
}

// TestWriteDeterministic checks the same options write the same project.
func TestWriteDeterministic(t *testing.T) {
	t.Parallel()
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if err := gen.Write(dir, gen.Options{Models: 100, Seed: 7}); err != nil {
			t.Fatal(err)
		}
	}
	pa, err := models.Load(a, models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pb, err := models.Load(b, models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, ma := range pa.Models {
		mb := pb.Models[name]
		if mb == nil || ma.Raw() != mb.Raw() {
			t.Errorf("model %s differs between two writes with the same seed", name)
		}
	}
}

// TestWriteBadOptions checks options that cannot make a project are refused.
func TestWriteBadOptions(t *testing.T) {
	t.Parallel()
	for _, opts := range []gen.Options{
		{Models: 0},
		{Models: 10, Shape: "star"},
		{Models: 10, Shape: gen.ShapeChain, Materialized: "incremental"},
		{Models: 10, Materialized: "table"},
	} {
		if err := gen.Write(t.TempDir(), opts); err == nil {
			t.Errorf("Write(%+v) = nil, want an error", opts)
		}
	}
}
