package lineage_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// writeSelProject writes files (path → content) under a new temporary folder and returns
// it. A strata.yml for project "shop" is added when files has none.
func writeSelProject(t testing.TB, files map[string]string) string {
	t.Helper()
	return testproj.WriteProject(t, "shop", files)
}

func selNoEnv(string) (string, bool) { return "", false }

// loadSelProject writes and loads a project, failing the test on error.
func loadSelProject(t testing.TB, files map[string]string) *models.Project {
	t.Helper()
	p, err := models.Load(writeSelProject(t, files), models.Options{Env: selNoEnv})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return p
}

// selShopFiles is a small project with every kind of node: seeds, a source, staging and mart
// models in folders, generic tests on a model and on a source, a singular test, and an
// exposure.
//
//	raw_orders    → stg_orders    → orders
//	raw_customers → stg_customers → orders, customers
//	orders → customers, revenue (marts/finance) → report → exposure:dashboard
//	source:app.events → stg_events
func selShopFiles() map[string]string {
	return map[string]string{
		"strata.yml":                       "name: shop\nmodels:\n  shop:\n    marts:\n      +materialized: table\n      finance:\n        +tags: ['daily']\n",
		"seeds/raw_orders.csv":             "id,customer_id,amount\n1,1,10\n",
		"seeds/raw_customers.csv":          "id,name\n1,Ann\n",
		"models/staging/sources.yml":       "version: 2\nsources:\n  - name: app\n    tables:\n      - name: events\n        columns:\n          - name: id\n            tests: [not_null]\n",
		"models/staging/stg_orders.sql":    "{{ config(tags=['staging']) }}select id as order_id, customer_id, amount from {{ ref('raw_orders') }}",
		"models/staging/stg_customers.sql": "{{ config(tags=['staging', 'pii']) }}select id as customer_id, name from {{ ref('raw_customers') }}",
		"models/staging/stg_events.sql":    "select * from {{ source('app', 'events') }}",
		"models/marts/orders.sql":          "{{ config(tags=['finance']) }}select * from {{ ref('stg_orders') }} join {{ ref('stg_customers') }} using (customer_id)",
		"models/marts/customers.sql":       "select * from {{ ref('stg_customers') }} left join {{ ref('orders') }} using (customer_id)",
		"models/marts/finance/revenue.sql": "{{ config(materialized='incremental', tags=['finance']) }}select sum(amount) as revenue from {{ ref('orders') }}",
		"models/reports/report.sql":        "select * from {{ ref('revenue') }}",
		"models/marts/schema.yml": "version: 2\nmodels:\n  - name: orders\n    columns:\n      - name: order_id\n        tests: [not_null]\n" +
			"      - name: customer_id\n        tests:\n          - relationships:\n              to: ref('customers')\n              field: customer_id\n",
		"models/exposures.yml":              "version: 2\nexposures:\n  - name: dashboard\n    type: dashboard\n    depends_on: [\"ref('report')\"]\n",
		"tests/assert_revenue_positive.sql": "select * from {{ ref('revenue') }} where revenue < 0",
	}
}

// Test node IDs of selShopFiles.
const (
	selNotNull  = "test:not_null_orders_order_id"
	selRel      = "test:relationships_orders_customer_id__customer_id__ref_customers_"
	selRevenue  = "test:assert_revenue_positive"
	selEvents   = "source:app.events"
	selExposure = "exposure:dashboard"
)

// selSourceTestID returns the ID of the test on the app.events source, whatever it is named.
func selSourceTestID(t testing.TB, g *lineage.Graph) string {
	t.Helper()
	for _, id := range g.Order() {
		if n := g.Node(id); n.Type == lineage.TypeTest && n.Test.Model == "app.events" {
			return id
		}
	}
	t.Fatal("no test on source app.events")
	return ""
}

func buildSelShop(t testing.TB) *lineage.Graph {
	t.Helper()
	g, err := lineage.Build(loadSelProject(t, selShopFiles()))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return g
}

func TestBuildNodesAndEdges(t *testing.T) {
	t.Parallel()
	g := buildSelShop(t)
	srcTest := selSourceTestID(t, g)
	wantIDs := []string{
		"customers", selExposure, "orders", "raw_customers", "raw_orders", "report", "revenue",
		selEvents, "stg_customers", "stg_events", "stg_orders",
		selRevenue, srcTest, selNotNull, selRel,
	}
	slices.Sort(wantIDs)
	gotIDs := slices.Clone(g.Order())
	slices.Sort(gotIDs)
	if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
		t.Fatalf("node IDs (-want +got):\n%s", diff)
	}

	parents := map[string][]string{
		"stg_orders": {"raw_orders"},
		"stg_events": {selEvents},
		"orders":     {"stg_customers", "stg_orders"},
		"customers":  {"orders", "stg_customers"},
		"revenue":    {"orders"},
		"report":     {"revenue"},
		selExposure:  {"report"},
		selNotNull:   {"orders"},
		selRel:       {"customers", "orders"},
		selRevenue:   {"revenue"},
		srcTest:      {selEvents},
		"raw_orders": nil,
		selEvents:    nil,
	}
	for id, want := range parents {
		got := slices.Clone(g.Parents(id))
		slices.Sort(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Parents(%s) (-want +got):\n%s", id, diff)
		}
	}

	types := map[string]lineage.NodeType{
		"raw_orders": lineage.TypeSeed, "orders": lineage.TypeModel, selEvents: lineage.TypeSource,
		selNotNull: lineage.TypeTest, selExposure: lineage.TypeExposure,
	}
	for id, want := range types {
		if got := g.Node(id).Type; got != want {
			t.Errorf("Node(%s).Type = %s, want %s", id, got, want)
		}
	}
	fqns := map[string][]string{
		"revenue":    {"shop", "marts", "finance", "revenue"},
		"stg_orders": {"shop", "staging", "stg_orders"},
		"raw_orders": {"shop", "raw_orders"},
		selEvents:    {"shop", "app", "events"},
	}
	for id, want := range fqns {
		if diff := cmp.Diff(want, g.Node(id).FQN); diff != "" {
			t.Errorf("Node(%s).FQN (-want +got):\n%s", id, diff)
		}
	}
	if diff := cmp.Diff([]string{"daily", "finance"}, g.Node("revenue").Tags); diff != "" {
		t.Errorf("revenue tags (-want +got):\n%s", diff)
	}
	if g.Node("nope") != nil {
		t.Error("Node(nope) is not nil")
	}
}

// TestTopologicalOrder checks that every node comes after what it reads, and that the
// order is the same on every load and build.
func TestTopologicalOrder(t *testing.T) {
	t.Parallel()
	files := selShopFiles()
	dir := writeSelProject(t, files)
	var first []string
	for i := range 10 {
		p, err := models.Load(dir, models.Options{Env: selNoEnv})
		if err != nil {
			t.Fatal(err)
		}
		g, err := lineage.Build(p)
		if err != nil {
			t.Fatal(err)
		}
		order := g.Order()
		if i == 0 {
			first = slices.Clone(order)
			pos := map[string]int{}
			for j, id := range order {
				pos[id] = j
				if g.Rank(id) != j {
					t.Errorf("Rank(%s) = %d, want %d", id, g.Rank(id), j)
				}
			}
			for _, id := range order {
				for _, parent := range g.Parents(id) {
					if pos[parent] >= pos[id] {
						t.Errorf("%s (at %d) comes before its parent %s (at %d)", id, pos[id], parent, pos[parent])
					}
				}
			}
			nodes := g.Nodes()
			if len(nodes) != len(order) || nodes[0].ID != order[0] {
				t.Errorf("Nodes() does not follow Order()")
			}
			continue
		}
		if diff := cmp.Diff(first, order); diff != "" {
			t.Fatalf("order of build %d differs from the first (-first +this):\n%s", i, diff)
		}
	}
	g := buildSelShop(t)
	sorted := g.Sorted(map[string]bool{"report": true, "raw_orders": true, "orders": true, "nope": true})
	if diff := cmp.Diff([]string{"raw_orders", "orders", "report"}, sorted); diff != "" {
		t.Errorf("Sorted (-want +got):\n%s", diff)
	}
}

func TestCycle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string // the cycle, first node repeated last
	}{
		{
			// Edges run from a model to what reads it: a → b → c → a.
			name: "three models",
			files: map[string]string{
				"models/a.sql": "select * from {{ ref('c') }}",
				"models/b.sql": "select * from {{ ref('a') }}",
				"models/c.sql": "select * from {{ ref('b') }}",
			},
			want: []string{"a", "b", "c", "a"},
		},
		{
			name: "cycle among other nodes",
			files: map[string]string{
				"seeds/s.csv":       "id\n1\n",
				"models/up.sql":     "select * from {{ ref('s') }}",
				"models/a.sql":      "select * from {{ ref('up') }}, {{ ref('c') }}",
				"models/b.sql":      "select * from {{ ref('a') }}",
				"models/c.sql":      "select * from {{ ref('b') }}",
				"models/_down.sql":  "select * from {{ ref('c') }}",
				"models/z_down.sql": "select * from {{ ref('a') }}",
				"models/x.sql":      "select 1",
				"models/schema.yml": "version: 2\nmodels:\n  - name: b\n    columns:\n      - name: id\n        tests: [unique]\n",
			},
			want: []string{"a", "b", "c", "a"},
		},
		{
			name: "two models",
			files: map[string]string{
				"models/sub/p.sql": "select * from {{ ref('q') }}",
				"models/sub/q.sql": "select * from {{ ref('p') }}",
			},
			want: []string{"p", "q", "p"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := loadSelProject(t, tc.files)
			_, err := lineage.Build(p)
			var ce *lineage.CycleError
			if !errors.As(err, &ce) {
				t.Fatalf("Build = %v, want a *CycleError", err)
			}
			if diff := cmp.Diff(tc.want, ce.Nodes); diff != "" {
				t.Errorf("cycle (-want +got):\n%s", diff)
			}
			var wantPaths []string
			for _, id := range tc.want {
				wantPaths = append(wantPaths, p.Models[id].Path)
			}
			if diff := cmp.Diff(wantPaths, ce.Paths); diff != "" {
				t.Errorf("cycle paths (-want +got):\n%s", diff)
			}
			msg := ce.Error()
			if !strings.HasPrefix(msg, wantPaths[0]+":") {
				t.Errorf("Error() = %q, want it to start with the first node's file %s", msg, wantPaths[0])
			}
			if !strings.Contains(msg, strings.Join(tc.want, " → ")) {
				t.Errorf("Error() = %q, want it to list the cycle %v in order", msg, tc.want)
			}
		})
	}
}

// TestCycleRotation checks the cycle's shape whatever node it starts at: every node on
// the loop once, in ref order, the first repeated last.
func TestCycleRotation(t *testing.T) {
	t.Parallel()
	p := loadSelProject(t, map[string]string{
		"models/m1.sql": "select * from {{ ref('m4') }}",
		"models/m2.sql": "select * from {{ ref('m1') }}",
		"models/m3.sql": "select * from {{ ref('m2') }}",
		"models/m4.sql": "select * from {{ ref('m3') }}",
	})
	_, err := lineage.Build(p)
	var ce *lineage.CycleError
	if !errors.As(err, &ce) {
		t.Fatalf("Build = %v, want a *CycleError", err)
	}
	n := ce.Nodes
	if len(n) != 5 || n[0] != n[4] {
		t.Fatalf("cycle = %v, want 4 nodes and the first repeated last", n)
	}
	next := map[string]string{"m1": "m2", "m2": "m3", "m3": "m4", "m4": "m1"}
	for i := 0; i+1 < len(n); i++ {
		if next[n[i]] != n[i+1] {
			t.Errorf("cycle = %v: %s is not read by %s", n, n[i], n[i+1])
		}
	}
}

// TestCycleAll: every loop in the project is named in one error, not only the first.
func TestCycleAll(t *testing.T) {
	t.Parallel()
	p := loadSelProject(t, map[string]string{
		"models/a.sql":  "select * from {{ ref('b') }}",
		"models/b.sql":  "select * from {{ ref('a') }}",
		"models/x.sql":  "select * from {{ ref('z') }}",
		"models/y.sql":  "select * from {{ ref('x') }}",
		"models/z.sql":  "select * from {{ ref('y') }}",
		"models/ok.sql": "select * from {{ ref('a') }}",
	})
	_, err := lineage.Build(p)
	var ce *lineage.CycleError
	if !errors.As(err, &ce) {
		t.Fatalf("Build = %v, want a *CycleError", err)
	}
	if diff := cmp.Diff([][]string{{"a", "b"}, {"x", "y", "z"}}, ce.Cycles); diff != "" {
		t.Errorf("Cycles (-want +got):\n%s", diff)
	}
	if msg := ce.Error(); !strings.Contains(msg, "(and 1 more: x, y, z)") {
		t.Errorf("Error() = %q, want it to name the second loop", msg)
	}
}

// TestDepthShortcut: a node two ways from the root, one edge and three, is one
// generation away: depth 1 reaches it, and not what lies between.
func TestDepthShortcut(t *testing.T) {
	t.Parallel()
	p := loadSelProject(t, map[string]string{
		"models/a.sql": "select 1 as id",
		"models/b.sql": "select * from {{ ref('a') }}",
		"models/c.sql": "select * from {{ ref('b') }}",
		"models/d.sql": "select * from {{ ref('c') }}, {{ ref('a') }}",
		"models/e.sql": "select * from {{ ref('d') }}",
	})
	g, err := lineage.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		down := g.Downstream("a", 1, 0)
		if diff := cmp.Diff([]lineage.NodeRef{
			{ID: "a", Name: "a", Type: "model", Path: "models/a.sql"},
			{ID: "b", Name: "b", Type: "model", Path: "models/b.sql", Depth: 1},
			{ID: "d", Name: "d", Type: "model", Path: "models/d.sql", Depth: 1},
		}, down.Nodes); diff != "" {
			t.Fatalf("Downstream(a, 1) (-want +got):\n%s", diff)
		}
		up := g.Upstream("e", 2, 0)
		var got []string
		for _, n := range up.Nodes {
			got = append(got, fmt.Sprintf("%s%d", n.ID, n.Depth))
		}
		if diff := cmp.Diff([]string{"a-2", "c-2", "d-1", "e0"}, got); diff != "" {
			t.Fatalf("Upstream(e, 2) (-want +got):\n%s", diff)
		}
	}
}
