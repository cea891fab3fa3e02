package lineage_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stratadata/strata/lineage"
)

func TestQueryImpact(t *testing.T) {
	t.Parallel()
	g, cg := loadShop(t)
	ref := func(n, c string) lineage.ColumnRef { return lineage.ColumnRef{Node: n, Column: c} }

	rep := lineage.Impact(g, cg, ref("stg_orders", "amount"))
	wantCols := []lineage.ImpactColumn{
		{ColumnRef: ref("orders", "amount"), Type: "DOUBLE", Depth: 1, Direct: true, Kinds: []lineage.EdgeKind{lineage.Identity}},
		{ColumnRef: ref("customers", "lifetime_value"), Type: "DOUBLE", Depth: 2, Via: []lineage.ColumnRef{ref("orders", "amount")},
			Kinds: []lineage.EdgeKind{lineage.Identity, lineage.Aggregation}},
	}
	if diff := cmp.Diff(wantCols, rep.Columns); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"orders", "customers"}, ids(rep.Models)); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
	type why struct{ Name, Reason string }
	reasons := func(ts []lineage.ImpactTest) []why {
		out := []why{}
		for _, t := range ts {
			out = append(out, why{t.Name, t.Reason})
		}
		return out
	}
	wantTests := []why{{"assert_paid_not_negative", "reads"}, {"not_null_orders_amount", "column"},
		{"relationships_orders_customer_id__customer_id__ref_customers_", "reads"}}
	if diff := cmp.Diff(wantTests, reasons(rep.Tests)); diff != "" {
		t.Errorf("tests (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"exposure:revenue_dashboard"}, ids(rep.Exposures)); diff != "" {
		t.Errorf("exposures (-want +got):\n%s", diff)
	}
	if rep.Exposures[0].Depth != 3 {
		t.Errorf("exposure depth = %d, want 3", rep.Exposures[0].Depth)
	}

	// A filter column reaches every column of the model that filters on it: each is
	// direct, and the chain to the mart shows the filter first.
	rep = lineage.Impact(g, cg, ref("raw_orders", "status"))
	direct := map[string]bool{}
	chains := map[string][]lineage.EdgeKind{}
	for _, c := range rep.Columns {
		direct[c.String()] = c.Direct
		chains[c.String()] = c.Kinds
	}
	for _, c := range []string{"stg_orders.order_id", "stg_orders.customer_id", "stg_orders.amount"} {
		if !direct[c] {
			t.Errorf("%s should read raw_orders.status directly", c)
		}
	}
	if direct["orders.amount"] {
		t.Errorf("orders.amount reads raw_orders.status only through stg_orders")
	}
	if diff := cmp.Diff([]lineage.EdgeKind{lineage.Identity}, chains["stg_orders.status"]); diff != "" {
		t.Errorf("stg_orders.status chain prefers the value edge (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]lineage.EdgeKind{lineage.Filter, lineage.Identity, lineage.Aggregation}, chains["customers.lifetime_value"]); diff != "" {
		t.Errorf("lifetime_value chain (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"stg_orders", "orders", "customers"}, ids(rep.Models)); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}

	// A source column: its own test, the singular test on the mart it reaches, nothing
	// on customers (which does not read orders.paid).
	rep = lineage.Impact(g, cg, ref("source:shop.payments", "amount"))
	wantTests = []why{{"assert_paid_not_negative", "reads"}, {"source_not_null_shop_payments_amount", "column"}}
	if diff := cmp.Diff(wantTests, reasons(rep.Tests)); diff != "" {
		t.Errorf("source tests (-want +got):\n%s", diff)
	}
	if rep.Tests[1].Model != "source:shop.payments" {
		t.Errorf("source test model = %q, want the source's node ID", rep.Tests[1].Model)
	}
	if len(rep.Exposures) != 0 {
		t.Errorf("exposures = %v, want none", ids(rep.Exposures))
	}

	// A leaf column affects nothing downstream but its own node's tests.
	rep = lineage.Impact(g, cg, ref("customers", "customer_id"))
	if len(rep.Columns) != 0 || len(rep.Models) != 0 {
		t.Errorf("leaf column impact = %v %v", rep.Columns, rep.Models)
	}
	if diff := cmp.Diff([]why{{"relationships_orders_customer_id__customer_id__ref_customers_", "reads"}, {"unique_customers_customer_id", "column"}},
		reasons(rep.Tests)); diff != "" {
		t.Errorf("leaf tests (-want +got):\n%s", diff)
	}
}
