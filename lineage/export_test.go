package lineage_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadata/strata/lineage"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./lineage -run Export -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

func TestExportGolden(t *testing.T) {
	t.Parallel()
	g, cg := loadShop(t)
	ref := func(n, c string) lineage.ColumnRef { return lineage.ColumnRef{Node: n, Column: c} }
	models := map[string]lineage.Result{
		"upstream_customers": g.Upstream("customers", -1, 0),
		"both_orders":        g.Upstream("orders", -1, 0).Merge(g.Downstream("orders", 1, 0)),
		"truncated":          g.Downstream("raw_orders", -1, 4),
	}
	columns := map[string]lineage.ColumnResult{
		"column_upstream_lifetime_value": cg.Upstream(ref("customers", "lifetime_value"), -1, 0),
		"column_both_stg_orders_amount":  cg.Upstream(ref("stg_orders", "amount"), -1, 0).Merge(cg.Downstream(ref("stg_orders", "amount"), -1, 0)),
		"column_truncated":               cg.Downstream(ref("raw_orders", "status"), -1, 3),
	}
	ext := map[lineage.Format]string{lineage.FormatText: "txt", lineage.FormatDOT: "dot", lineage.FormatMermaid: "mmd", lineage.FormatJSON: "json"}
	for _, f := range lineage.Formats {
		for name, r := range models {
			var a, b bytes.Buffer
			if err := lineage.Export(&a, f, r, cg); err != nil {
				t.Fatal(err)
			}
			if err := lineage.Export(&b, f, r, cg); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Errorf("%s %s: two exports differ", name, f)
			}
			golden(t, name+"."+ext[f], a.Bytes())
		}
		for name, r := range columns {
			var a bytes.Buffer
			if err := lineage.ExportColumns(&a, f, r, g); err != nil {
				t.Fatal(err)
			}
			golden(t, name+"."+ext[f], a.Bytes())
		}
	}
}

// TestExportJSONSchema checks the JSON export against what docs/lineage-json.md promises.
func TestExportJSONSchema(t *testing.T) {
	t.Parallel()
	g, cg := loadShop(t)
	type node struct {
		ID, Name, Type, Path string
		Depth                int
	}
	type edge struct {
		From, To, FromColumn, ToColumn, Kind string
	}
	type column struct {
		Name, Type string
		Depth      *int
	}
	type doc struct {
		Version   int
		Level     string
		Root      struct{ Node, Column string }
		Truncated bool
		Total     int
		Nodes     []node
		Edges     []struct {
			From       string `json:"from"`
			To         string `json:"to"`
			FromColumn string `json:"from_column"`
			ToColumn   string `json:"to_column"`
			Kind       string `json:"kind"`
		}
		Columns map[string][]column
	}
	var buf bytes.Buffer
	if err := lineage.Export(&buf, lineage.FormatJSON, g.Upstream("orders", 1, 0), cg); err != nil {
		t.Fatal(err)
	}
	var d doc
	dec := json.NewDecoder(&buf)
	if err := dec.Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Version != 1 || d.Level != "model" || d.Root.Node != "orders" || d.Root.Column != "" || d.Total != 3 {
		t.Errorf("header = %+v", d)
	}
	if len(d.Nodes) != 3 || d.Nodes[2].ID != "orders" || d.Nodes[0].Depth != -1 {
		t.Errorf("nodes = %+v", d.Nodes)
	}
	if len(d.Edges) != 2 || d.Edges[0].From != "stg_orders" || d.Edges[0].To != "orders" || d.Edges[0].Kind != "" {
		t.Errorf("edges = %+v", d.Edges)
	}
	if c := d.Columns["orders"]; len(c) != 4 || c[3].Name != "paid" || c[3].Type != "DOUBLE" || c[3].Depth != nil {
		t.Errorf("columns = %+v", d.Columns)
	}

	buf.Reset()
	if err := lineage.ExportColumns(&buf, lineage.FormatJSON, cg.Upstream(lineage.ColumnRef{Node: "orders", Column: "paid"}, 1, 0), g); err != nil {
		t.Fatal(err)
	}
	d = doc{}
	if err := json.NewDecoder(&buf).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Level != "column" || d.Root.Node != "orders" || d.Root.Column != "paid" {
		t.Errorf("column header = %+v", d)
	}
	if e := d.Edges[0]; e.From != "stg_orders" || e.FromColumn != "order_id" || e.To != "orders" || e.ToColumn != "paid" || e.Kind != "group_by" {
		t.Errorf("column edge = %+v", e)
	}
	if c := d.Columns["stg_payments"]; len(c) != 1 || c[0].Name != "amount" || c[0].Depth == nil || *c[0].Depth != -1 {
		t.Errorf("column columns = %+v", d.Columns)
	}
}

func TestExportEscapes(t *testing.T) {
	t.Parallel()
	r := lineage.Result{
		Root: "end",
		Nodes: []lineage.NodeRef{
			{ID: "a.b", Name: `say "hi"`, Type: lineage.TypeModel, Depth: -1},
			{ID: "a_b", Name: "a_b", Type: lineage.TypeSource, Depth: -1},
			{ID: "end", Name: "end", Type: lineage.TypeModel},
		},
		Edges: [][2]string{{"a.b", "end"}, {"a_b", "end"}},
		Total: 3,
	}
	var mm, dot bytes.Buffer
	if err := lineage.Export(&mm, lineage.FormatMermaid, r, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`n_a_b["say #quot;hi#quot;"]`, `n_a_b_2[("a_b")]`, `n_end["end"]`, "n_a_b --> n_end", "n_a_b_2 --> n_end", "class n_end root"} {
		if !strings.Contains(mm.String(), want) {
			t.Errorf("mermaid lacks %q:\n%s", want, mm.String())
		}
	}
	if err := lineage.Export(&dot, lineage.FormatDOT, r, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dot.String(), `"a.b" [label="say \"hi\"", shape=box, style="rounded"];`) {
		t.Errorf("dot does not escape quotes:\n%s", dot.String())
	}
	if _, err := lineage.ParseFormat("svg"); err == nil || err.Error() != `unknown format "svg": use text, dot, mermaid, json` {
		t.Errorf("ParseFormat error = %v", err)
	}
	if f, err := lineage.ParseFormat("DOT"); err != nil || f != lineage.FormatDOT {
		t.Errorf("ParseFormat(DOT) = %v, %v", f, err)
	}
}
