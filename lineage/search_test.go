package lineage_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stratadata/strata/lineage"
)

func TestQueryPath(t *testing.T) {
	t.Parallel()
	g, _ := loadShop(t)
	tests := []struct {
		from, to string
		want     []string
		ok       bool
	}{
		{"raw_orders", "customers", []string{"raw_orders", "stg_orders", "orders", "customers"}, true},
		{"customers", "raw_orders", []string{"customers", "orders", "stg_orders", "raw_orders"}, true},
		{"source:shop.payments", "exposure:revenue_dashboard", []string{"source:shop.payments", "stg_payments", "orders", "customers", "exposure:revenue_dashboard"}, true},
		{"orders", "orders", []string{"orders"}, true},
		{"raw_orders", "raw_customers", nil, false},
		{"raw_orders", "nope", nil, false},
	}
	for _, tt := range tests {
		got, ok := g.Path(tt.from, tt.to)
		if ok != tt.ok {
			t.Errorf("Path(%s, %s) ok = %v, want %v", tt.from, tt.to, ok, tt.ok)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Path(%s, %s) (-want +got):\n%s", tt.from, tt.to, diff)
		}
	}
}

func TestQueryRootsLeaves(t *testing.T) {
	t.Parallel()
	g, _ := loadShop(t)
	if diff := cmp.Diff([]string{"raw_customers", "raw_orders", "source:shop.payments"}, ids(g.Roots())); diff != "" {
		t.Errorf("roots (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"exposure:revenue_dashboard"}, ids(g.Leaves())); diff != "" {
		t.Errorf("leaves (-want +got):\n%s", diff)
	}
}

func TestQuerySearch(t *testing.T) {
	t.Parallel()
	g, cg := loadShop(t)
	type hit struct{ ID, Match string }
	hits := func(ns []lineage.NodeRef) []hit {
		out := []hit{}
		for _, n := range ns {
			out = append(out, hit{n.ID, n.Match})
		}
		return out
	}
	tests := []struct {
		q    string
		cg   *lineage.ColumnGraph
		want []hit
	}{
		{"ORDERS", nil, []hit{{"orders", "name"}, {"raw_orders", "name"}, {"stg_orders", "name"}, {"test:not_null_orders_amount", "name"},
			{"test:not_null_orders_order_id", "name"}, {"test:relationships_orders_customer_id__customer_id__ref_customers_", "name"},
			{"test:unique_orders_order_id", "name"}}},
		{"stg_", nil, []hit{{"stg_customers", "name"}, {"stg_orders", "name"}, {"stg_payments", "name"}}},
		{"fin", nil, []hit{{"orders", "tag:finance"}}},
		{"lifetime", nil, []hit{{"customers", "description"}}},
		{"lifetime", cg, []hit{{"customers", "column:lifetime_value"}}},
		{"paid", cg, []hit{{"test:assert_paid_not_negative", "name"}, {"orders", "column:paid"}}},
		{"payment service", nil, []hit{{"source:shop.payments", "description"}}},
		{"  ", nil, []hit{}},
		{"zzz", cg, []hit{}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, hits(g.Search(tt.q, tt.cg))); diff != "" {
			t.Errorf("Search(%q) (-want +got):\n%s", tt.q, diff)
		}
	}
}

func TestQueryParseRef(t *testing.T) {
	t.Parallel()
	g, cg := loadShop(t)
	tests := []struct {
		in      string
		column  bool // ParseColumnRef rather than ParseRef
		want    lineage.ColumnRef
		wantErr string
	}{
		{in: "orders", want: lineage.ColumnRef{Node: "orders"}},
		{in: "orders.amount", want: lineage.ColumnRef{Node: "orders", Column: "amount"}},
		{in: "shop.payments", want: lineage.ColumnRef{Node: "source:shop.payments"}},
		{in: "shop.payments.amount", column: true, want: lineage.ColumnRef{Node: "source:shop.payments", Column: "amount"}},
		{in: "source:shop.payments.order_id", column: true, want: lineage.ColumnRef{Node: "source:shop.payments", Column: "order_id"}},
		{in: "revenue_dashboard", want: lineage.ColumnRef{Node: "exposure:revenue_dashboard"}},
		{in: " raw_orders.id ", column: true, want: lineage.ColumnRef{Node: "raw_orders", Column: "id"}},
		{in: "ordrs", wantErr: `unknown model "ordrs" (did you mean "orders"?)`},
		{in: "ordrs.amount", column: true, wantErr: `unknown model "ordrs" (did you mean "orders"?)`},
		{in: "shop.paymnts.amount", column: true, wantErr: `unknown source table "shop.paymnts" (did you mean "shop.payments"?)`},
		{in: "shop.paymnts", wantErr: `unknown source table "shop.paymnts" (did you mean "shop.payments"?)`},
		{in: "zzzzzzzz", wantErr: `unknown model "zzzzzzzz"`},
		{in: "orders", column: true, wantErr: `"orders" is a model, not a column: write orders.<column>`},
		{in: "revenue_dashboard.x", column: true, wantErr: `exposure "revenue_dashboard" has no columns: name a model, seed or source column`},
		{in: "", wantErr: "empty name: give a model, source table or column, e.g. orders or orders.amount"},
	}
	for _, tt := range tests {
		parse := lineage.ParseRef
		if tt.column {
			parse = lineage.ParseColumnRef
		}
		got, err := parse(g, tt.in)
		if tt.wantErr != "" {
			var re *lineage.RefError
			if err == nil || err.Error() != tt.wantErr || !errors.As(err, &re) {
				t.Errorf("parse %q: error %v, want *RefError %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parse %q = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}

	if _, err := cg.Column(lineage.ColumnRef{Node: "orders", Column: "amnt"}); err == nil || err.Error() != `unknown column "amnt" in orders (did you mean "amount"?)` {
		t.Errorf("unknown column error = %v", err)
	}
	if c, err := cg.Column(lineage.ColumnRef{Node: "orders", Column: "AMOUNT"}); err != nil || c.Name != "amount" {
		t.Errorf("case-insensitive column = %v, %v", c, err)
	}
	if _, err := cg.Column(lineage.ColumnRef{Node: "source:nope.x", Column: "a"}); err == nil || err.Error() != "no column lineage for nope.x: it failed to analyze, or it has no columns" {
		t.Errorf("missing node error = %v", err)
	}
}

// TestQueryPathTies: of two equally short paths the one through the first node by ID is
// found, every time, and a longer one never.
func TestQueryPathTies(t *testing.T) {
	t.Parallel()
	p := loadSelProject(t, map[string]string{
		"models/a.sql":    "select 1 as id",
		"models/c.sql":    "select * from {{ ref('a') }}",
		"models/b.sql":    "select * from {{ ref('a') }}",
		"models/long.sql": "select * from {{ ref('a') }}",
		"models/mid.sql":  "select * from {{ ref('long') }}",
		"models/z.sql":    "select * from {{ ref('c') }}, {{ ref('b') }}, {{ ref('mid') }}",
	})
	g, err := lineage.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		got, _ := g.Path("a", "z")
		if diff := cmp.Diff([]string{"a", "b", "z"}, got); diff != "" {
			t.Fatalf("Path(a, z) (-want +got):\n%s", diff)
		}
		got, _ = g.Path("z", "a")
		if diff := cmp.Diff([]string{"z", "b", "a"}, got); diff != "" {
			t.Fatalf("Path(z, a) (-want +got):\n%s", diff)
		}
	}
}

// TestSimplify: a direct edge another path implies is dropped, the rest kept, even in a
// diamond (which a careless depth-first reduction takes for a cycle).
func TestSimplify(t *testing.T) {
	t.Parallel()
	p := loadSelProject(t, map[string]string{
		"models/a.sql": "select 1 as id",
		"models/b.sql": "select * from {{ ref('a') }}",
		"models/c.sql": "select * from {{ ref('a') }}",
		"models/d.sql": "select * from {{ ref('b') }}, {{ ref('c') }}, {{ ref('a') }}",
		"models/e.sql": "select * from {{ ref('d') }}, {{ ref('b') }}",
	})
	g, err := lineage.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	res := g.Downstream("a", -1, 0)
	simple, err := res.Simplify()
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{"a", "b"}, {"a", "c"}, {"b", "d"}, {"c", "d"}, {"d", "e"}}
	if diff := cmp.Diff(want, simple.Edges); diff != "" {
		t.Errorf("Simplify edges (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(res.Nodes, simple.Nodes); diff != "" {
		t.Errorf("Simplify changed the nodes (-want +got):\n%s", diff)
	}
}
