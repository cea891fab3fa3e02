package lineage_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/lineage"
)

var updateLineage = flag.Bool("update-lineage", false, "rewrite lineage/testdata/corpus/golden")

// describe renders a node's column lineage one input per line, stable.
func describe(nc *lineage.NodeColumns) string {
	var b strings.Builder
	for _, c := range nc.Columns {
		fmt.Fprintf(&b, "%s %s\n", c.Name, c.Type)
		var lines []string
		for _, in := range c.Inputs {
			lines = append(lines, fmt.Sprintf("  <- %s (%s)", in.From, in.Kind))
		}
		sort.Strings(lines)
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	for _, u := range nc.Undeclared {
		fmt.Fprintf(&b, "undeclared: %s\n", u)
	}
	for _, n := range nc.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.String()
}

func analyzeDir(t *testing.T, dir string) (*lineage.Graph, *lineage.Catalog) {
	t.Helper()
	p, g := testgraph.Load(t, dir)
	cat, err := lineage.Analyze(context.Background(), p, g, lineage.AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return g, cat
}

// TestColumnLineageCorpus checks the column lineage of tricky SQL against golden files;
// run with -update-lineage to rewrite them after checking the diff by eye.
func TestColumnLineageCorpus(t *testing.T) {
	g, cat := analyzeDir(t, "testdata/corpus")
	if len(cat.Errors) > 0 {
		t.Fatalf("corpus has errors: %v", cat.Errors)
	}
	for _, n := range g.Nodes() {
		if n.Type != lineage.TypeModel {
			continue
		}
		t.Run(n.Name, func(t *testing.T) {
			got := describe(cat.Nodes[n.ID])
			path := filepath.Join("testdata/corpus/golden", n.Name+".txt")
			if *updateLineage {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./lineage -run Corpus -update-lineage)", err)
			}
			if got != string(want) {
				t.Errorf("%s lineage changed:\n--- want\n%s--- got\n%s", n.Name, want, got)
			}
		})
	}
}

func TestShadowCatalogErrorsArePlaced(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"unknown column", map[string]string{
			"models/a.sql": "select 1 as amount",
			"models/b.sql": "select\n    id,\n    amout\nfrom {{ ref('a') }}",
		}, `models/b.sql:2:5: model b: Binder Error: Referenced column "id" not found`},
		{"unknown column after jinja", map[string]string{
			"models/a.sql": "select 1 as amount",
			"models/b.sql": "{% set x = 1 %}\nselect amount,\n       {{ x }} + amout as y\nfrom {{ ref('a') }}",
		}, `models/b.sql:3:18: model b: Binder Error: Referenced column "amout" not found`},
		{"table without ref", map[string]string{
			"models/a.sql": "select 1 as amount",
			"models/b.sql": "select amount from {{ ref('a') }}",
			"models/c.sql": "select *\nfrom main.zzz",
		}, `models/c.sql:2:6: model c: Catalog Error: Table with name zzz does not exist!`},
		{"type mismatch", map[string]string{
			"models/a.sql": "select 'x' as s",
			"models/b.sql": "select s + 1 as n\nfrom {{ ref('a') }}",
		}, `models/b.sql:1:10: model b: Binder Error: No function matches`},
		{"syntax", map[string]string{
			"models/a.sql": "select 1 as x,\nfrom from",
		}, `models/a.sql:2:6: model a: Parser Error: syntax error at or near "from"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tc.files["strata.yml"] = "name: p\n"
			for p, c := range tc.files {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, cat := analyzeDir(t, dir)
			if len(cat.Errors) == 0 || !strings.HasPrefix(cat.Errors[0].Error(), tc.want) {
				t.Errorf("errors = %v\nwant the first to start with %s", cat.Errors, tc.want)
			}
		})
	}
}

func TestUndeclaredDependency(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for p, c := range map[string]string{
		"strata.yml":   "name: p\n",
		"models/a.sql": "select 1 as x",
		"models/b.sql": "select x from {{ ref('a') }}",
		"models/c.sql": "select b.x from {{ ref('b') }} b join main.a on a.x = b.x",
	} {
		_ = os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		_ = os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644)
	}
	_, cat := analyzeDir(t, dir)
	if len(cat.Errors) > 0 {
		t.Fatal(cat.Errors)
	}
	got := cat.Nodes["c"].Undeclared
	if len(got) != 1 || !strings.Contains(got[0], "main.a is a: use {{ ref('a') }}") {
		t.Errorf("undeclared = %v, want main.a linked to model a", got)
	}
	// the undeclared table is still linked in column lineage
	if !strings.Contains(describe(cat.Nodes["c"]), "<- a.x (join)") {
		t.Errorf("c's lineage should include a.x through the join:\n%s", describe(cat.Nodes["c"]))
	}
}

func TestShopLineage(t *testing.T) {
	t.Parallel()
	_, cat := analyzeDir(t, "../examples/shop")
	if len(cat.Errors) > 0 {
		t.Fatal(cat.Errors)
	}
	got := describe(cat.Nodes["orders"])
	for _, want := range []string{
		"amount DOUBLE\n", "<- stg_payments.amount (aggregation)", "<- stg_payments.payment_method (aggregation)",
		"order_id BIGINT\n  <- stg_orders.order_id (identity)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("orders lineage lacks %q:\n%s", want, got)
		}
	}
	if c := cat.Nodes["stg_payments"].Column("amount"); c == nil || len(c.Inputs) != 1 || c.Inputs[0].From.String() != "raw_payments.amount_cents" || c.Inputs[0].Kind != lineage.Transformation {
		t.Errorf("stg_payments.amount inputs = %+v", c)
	}
}
