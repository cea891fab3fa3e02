package lineage_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/lineage"
)

func TestDescribeShop(t *testing.T) {
	t.Parallel()
	p, g := testgraph.Load(t, "../examples/shop")
	cat, err := lineage.Analyze(context.Background(), p, g, lineage.AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	docs := lineage.Describe(p, g, cat)
	var orders *lineage.NodeDoc
	for i := range docs {
		if docs[i].Type == "test" {
			t.Errorf("tests are not described: %s", docs[i].Name)
		}
		if docs[i].Name == "orders" {
			orders = &docs[i]
		}
	}
	if orders == nil {
		t.Fatal("orders is not described")
	}
	if diff := cmp.Diff([]string{"stg_orders", "stg_payments"}, orders.Upstream); diff != "" {
		t.Errorf("orders upstream (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"customers", "monthly_revenue"}, orders.Downstream); diff != "" {
		t.Errorf("orders downstream, tests left out (-want +got):\n%s", diff)
	}
	if orders.Materialized != "table" || orders.Relation != `"main"."orders"` || orders.Description == "" {
		t.Errorf("orders = %s %s %q", orders.Materialized, orders.Relation, orders.Description)
	}
	if len(orders.Columns) != 9 || orders.Columns[0].Name != "order_id" || len(orders.Columns[0].Inputs) == 0 {
		t.Errorf("orders columns = %+v", orders.Columns)
	}
}
