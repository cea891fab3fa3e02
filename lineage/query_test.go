package lineage_test

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// shop is a small project: two seeds and a source table, three staging models, two
// marts, generic tests, a singular test and an exposure.
var shop = map[string]string{
	"seeds/raw_orders.csv":    "id,customer_id,amount,status\n1,1,10,placed\n",
	"seeds/raw_customers.csv": "id,name\n1,ann\n",
	"models/staging/sources.yml": `version: 2
sources:
  - name: shop
    schema: raw
    tables:
      - name: payments
        description: Payments as the payment service records them.
        columns:
          - name: order_id
          - name: amount
            tests: [not_null]
`,
	"models/staging/stg_orders.sql":    "select id as order_id, customer_id, amount, status from {{ ref('raw_orders') }} where status <> 'cancelled'",
	"models/staging/stg_customers.sql": "select id as customer_id, name from {{ ref('raw_customers') }}",
	"models/staging/stg_payments.sql":  "select order_id, amount from {{ source('shop', 'payments') }}",
	"models/marts/orders.sql": `select o.order_id, o.customer_id, o.amount, sum(p.amount) as paid
from {{ ref('stg_orders') }} o left join {{ ref('stg_payments') }} p using (order_id) group by all`,
	"models/marts/customers.sql": `select c.customer_id, c.name, sum(o.amount) as lifetime_value
from {{ ref('stg_customers') }} c left join {{ ref('orders') }} o using (customer_id) group by all`,
	"models/marts/schema.yml": `version: 2
models:
  - name: orders
    description: One row per order, with what was paid.
    config:
      tags: [finance]
    columns:
      - name: order_id
        tests: [unique, not_null]
      - name: customer_id
        tests:
          - relationships:
              to: ref('customers')
              field: customer_id
      - name: amount
        tests: [not_null]
  - name: customers
    description: One row per customer with their lifetime value.
    columns:
      - name: customer_id
        tests: [unique]
exposures:
  - name: revenue_dashboard
    type: dashboard
    owner: {name: finance}
    depends_on: [ref('customers')]
`,
	"tests/assert_paid_not_negative.sql": "select * from {{ ref('orders') }} where paid < 0",
}

// shopColumns is the column lineage the analysis would find for shop, written by hand.
func shopColumns() map[string]*lineage.NodeColumns {
	ref := func(node, col string) lineage.ColumnRef { return lineage.ColumnRef{Node: node, Column: col} }
	in := func(node, col string, k lineage.EdgeKind) lineage.ColumnInput {
		return lineage.ColumnInput{From: ref(node, col), Kind: k}
	}
	col := func(name, typ string, ins ...lineage.ColumnInput) lineage.Column {
		return lineage.Column{Name: name, Type: typ, Inputs: ins}
	}
	return map[string]*lineage.NodeColumns{
		"raw_orders":           {Node: "raw_orders", Columns: []lineage.Column{col("id", "BIGINT"), col("customer_id", "BIGINT"), col("amount", "DOUBLE"), col("status", "VARCHAR")}},
		"raw_customers":        {Node: "raw_customers", Columns: []lineage.Column{col("id", "BIGINT"), col("name", "VARCHAR")}},
		"source:shop.payments": {Node: "source:shop.payments", Columns: []lineage.Column{col("order_id", "BIGINT"), col("amount", "DOUBLE")}},
		"stg_orders": {Node: "stg_orders", Columns: []lineage.Column{
			col("order_id", "BIGINT", in("raw_orders", "id", lineage.Identity), in("raw_orders", "status", lineage.Filter)),
			col("customer_id", "BIGINT", in("raw_orders", "customer_id", lineage.Identity), in("raw_orders", "status", lineage.Filter)),
			col("amount", "DOUBLE", in("raw_orders", "amount", lineage.Identity), in("raw_orders", "status", lineage.Filter)),
			col("status", "VARCHAR", in("raw_orders", "status", lineage.Identity), in("raw_orders", "status", lineage.Filter)),
		}},
		"stg_customers": {Node: "stg_customers", Columns: []lineage.Column{
			col("customer_id", "BIGINT", in("raw_customers", "id", lineage.Identity)),
			col("name", "VARCHAR", in("raw_customers", "name", lineage.Identity)),
		}},
		"stg_payments": {Node: "stg_payments", Columns: []lineage.Column{
			col("order_id", "BIGINT", in("source:shop.payments", "order_id", lineage.Identity)),
			col("amount", "DOUBLE", in("source:shop.payments", "amount", lineage.Identity)),
		}},
		"orders": {Node: "orders", Columns: []lineage.Column{
			col("order_id", "BIGINT", in("stg_orders", "order_id", lineage.Identity), in("stg_orders", "order_id", lineage.GroupBy), in("stg_payments", "order_id", lineage.Join)),
			col("customer_id", "BIGINT", in("stg_orders", "customer_id", lineage.Identity), in("stg_orders", "customer_id", lineage.GroupBy)),
			col("amount", "DOUBLE", in("stg_orders", "amount", lineage.Identity), in("stg_orders", "amount", lineage.GroupBy)),
			col("paid", "DOUBLE", in("stg_payments", "amount", lineage.Aggregation), in("stg_orders", "order_id", lineage.GroupBy)),
		}},
		"customers": {Node: "customers", Columns: []lineage.Column{
			col("customer_id", "BIGINT", in("stg_customers", "customer_id", lineage.Identity), in("orders", "customer_id", lineage.Join)),
			col("name", "VARCHAR", in("stg_customers", "name", lineage.Identity)),
			col("lifetime_value", "DOUBLE", in("orders", "amount", lineage.Aggregation), in("stg_customers", "customer_id", lineage.GroupBy)),
		}},
	}
}

func loadShop(t testing.TB) (*lineage.Graph, *lineage.ColumnGraph) {
	t.Helper()
	files := map[string]string{}
	for k, v := range shop {
		files[k] = v
	}
	p, err := models.Load(testproj.Write(t, files), models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := lineage.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	return g, lineage.NewColumnGraph(shopColumns())
}

func ids(ns []lineage.NodeRef) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, n.ID)
	}
	return out
}

func edges(es [][2]string) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e[0]+" -> "+e[1])
	}
	return out
}

func depths(ns []lineage.NodeRef) map[string]int {
	out := map[string]int{}
	for _, n := range ns {
		out[n.ID] = n.Depth
	}
	return out
}

func TestQueryUpstreamDownstream(t *testing.T) {
	t.Parallel()
	g, _ := loadShop(t)
	tests := []struct {
		name      string
		res       lineage.Result
		nodes     []string
		edges     []string
		total     int
		truncated bool
	}{
		{
			name:  "upstream all",
			res:   g.Upstream("customers", -1, 0),
			nodes: []string{"raw_orders", "source:shop.payments", "raw_customers", "stg_orders", "stg_payments", "orders", "stg_customers", "customers"},
			edges: []string{"orders -> customers", "raw_customers -> stg_customers", "raw_orders -> stg_orders", "source:shop.payments -> stg_payments",
				"stg_customers -> customers", "stg_orders -> orders", "stg_payments -> orders"},
			total: 8,
		},
		{
			name:  "upstream depth 1",
			res:   g.Upstream("customers", 1, 0),
			nodes: []string{"orders", "stg_customers", "customers"},
			edges: []string{"orders -> customers", "stg_customers -> customers"},
			total: 3,
		},
		{
			name:      "upstream limit keeps the nearest",
			res:       g.Upstream("customers", -1, 4),
			nodes:     []string{"raw_customers", "orders", "stg_customers", "customers"},
			edges:     []string{"orders -> customers", "raw_customers -> stg_customers", "stg_customers -> customers"},
			total:     8,
			truncated: true,
		},
		{
			name:  "downstream depth 1",
			res:   g.Downstream("stg_orders", 1, 0),
			nodes: []string{"stg_orders", "orders"},
			edges: []string{"stg_orders -> orders"},
			total: 2,
		},
		{
			name: "downstream all, with tests and exposures",
			res:  g.Downstream("orders", -1, 0),
			nodes: []string{"orders", "customers", "test:assert_paid_not_negative", "test:not_null_orders_amount", "test:not_null_orders_order_id",
				"test:relationships_orders_customer_id__customer_id__ref_customers_", "test:unique_orders_order_id",
				"exposure:revenue_dashboard", "test:unique_customers_customer_id"},
			edges: []string{"customers -> exposure:revenue_dashboard", "customers -> test:relationships_orders_customer_id__customer_id__ref_customers_",
				"customers -> test:unique_customers_customer_id", "orders -> customers", "orders -> test:assert_paid_not_negative",
				"orders -> test:not_null_orders_amount", "orders -> test:not_null_orders_order_id",
				"orders -> test:relationships_orders_customer_id__customer_id__ref_customers_", "orders -> test:unique_orders_order_id"},
			total: 9,
		},
		{
			name:  "merged",
			res:   g.Upstream("orders", 1, 0).Merge(g.Downstream("orders", 1, 2)),
			nodes: []string{"stg_orders", "stg_payments", "orders", "customers"},
			edges: []string{"orders -> customers", "stg_orders -> orders", "stg_payments -> orders"},
			total: 3 + 7 - 1, truncated: true,
		},
		{
			name:  "unknown root",
			res:   g.Upstream("nope", -1, 0),
			nodes: []string{},
			edges: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.nodes, ids(tt.res.Nodes)); diff != "" {
				t.Errorf("nodes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.edges, edges(tt.res.Edges)); diff != "" {
				t.Errorf("edges (-want +got):\n%s", diff)
			}
			if tt.res.Total != tt.total || tt.res.Truncated != tt.truncated {
				t.Errorf("total, truncated = %d, %v; want %d, %v", tt.res.Total, tt.res.Truncated, tt.total, tt.truncated)
			}
		})
	}
	want := map[string]int{"raw_orders": -3, "source:shop.payments": -3, "raw_customers": -2, "stg_orders": -2, "stg_payments": -2,
		"orders": -1, "stg_customers": -1, "customers": 0}
	if diff := cmp.Diff(want, depths(g.Upstream("customers", -1, 0).Nodes)); diff != "" {
		t.Errorf("upstream depths (-want +got):\n%s", diff)
	}
	if d := depths(g.Downstream("stg_orders", -1, 0).Nodes); d["exposure:revenue_dashboard"] != 3 {
		t.Errorf("exposure depth downstream of stg_orders = %d, want 3", d["exposure:revenue_dashboard"])
	}
}

func colStrings(cs []lineage.ColumnNode) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Ref().String()+"@"+strconv.Itoa(c.Depth))
	}
	return out
}

func colEdges(es []lineage.ColumnEdge) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.From.String()+" -"+string(e.Kind)+"-> "+e.To.String())
	}
	return out
}

func TestQueryColumnUpstreamDownstream(t *testing.T) {
	t.Parallel()
	_, cg := loadShop(t)
	ref := func(n, c string) lineage.ColumnRef { return lineage.ColumnRef{Node: n, Column: c} }
	tests := []struct {
		name      string
		res       lineage.ColumnResult
		cols      []string
		edges     []string
		total     int
		truncated bool
	}{
		{
			name: "upstream of an aggregate",
			res:  cg.Upstream(ref("customers", "lifetime_value"), 2, 0),
			cols: []string{"raw_customers.id@-2", "stg_orders.amount@-2", "orders.amount@-1", "stg_customers.customer_id@-1", "customers.lifetime_value@0"},
			edges: []string{"orders.amount -aggregation-> customers.lifetime_value", "raw_customers.id -identity-> stg_customers.customer_id",
				"stg_customers.customer_id -group_by-> customers.lifetime_value", "stg_orders.amount -group_by-> orders.amount",
				"stg_orders.amount -identity-> orders.amount"},
			total: 5,
		},
		{
			name: "downstream of a filter column",
			res:  cg.Downstream(ref("raw_orders", "status"), 1, 0),
			cols: []string{"raw_orders.status@0", "stg_orders.amount@1", "stg_orders.customer_id@1", "stg_orders.order_id@1", "stg_orders.status@1"},
			edges: []string{"raw_orders.status -filter-> stg_orders.amount", "raw_orders.status -filter-> stg_orders.customer_id",
				"raw_orders.status -filter-> stg_orders.order_id", "raw_orders.status -filter-> stg_orders.status", "raw_orders.status -identity-> stg_orders.status"},
			total: 5,
		},
		{
			name:      "downstream with a limit",
			res:       cg.Downstream(ref("source:shop.payments", "amount"), -1, 2),
			cols:      []string{"source:shop.payments.amount@0", "stg_payments.amount@1"},
			edges:     []string{"source:shop.payments.amount -identity-> stg_payments.amount"},
			total:     3,
			truncated: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.cols, colStrings(tt.res.Columns)); diff != "" {
				t.Errorf("columns (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.edges, colEdges(tt.res.Edges)); diff != "" {
				t.Errorf("edges (-want +got):\n%s", diff)
			}
			if tt.res.Total != tt.total || tt.res.Truncated != tt.truncated {
				t.Errorf("total, truncated = %d, %v; want %d, %v", tt.res.Total, tt.res.Truncated, tt.total, tt.truncated)
			}
		})
	}
	if got := cg.Upstream(ref("orders", "paid"), -1, 0).Columns[0].Type; got != "BIGINT" {
		t.Errorf("first upstream column type = %q, want BIGINT", got)
	}
}
