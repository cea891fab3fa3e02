package lineage_test

import (
	"slices"
	"testing"

	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/internal/testproj"
)

// TestReadersOf: a model's tests and its columns' tests; a relationships test that
// points at the model is its test, but not a test of its column.
func TestReadersOf(t *testing.T) {
	dir := testproj.Write(t, map[string]string{
		"models/customers.sql": "select 1 as customer_id",
		"models/orders.sql":    "select 1 as id, 1 as customer_id from {{ ref('customers') }}",
		"models/schema.yml": "version: 2\nmodels:\n  - name: orders\n    columns:\n      - name: customer_id\n        data_tests:\n          - relationships: {to: ref('customers'), field: customer_id}\n" +
			"  - name: customers\n    columns:\n      - name: customer_id\n        data_tests: [unique]\n",
	})
	_, g := testgraph.Load(t, dir)
	r := g.ReadersOf("customers")
	if got := r.ColumnTest["customer_id"]; !slices.Equal(got, []string{"unique"}) {
		t.Errorf("customers.customer_id's tests: %v, want only unique (the relationships test is orders')", got)
	}
	if len(r.Tests) != 2 || !slices.Equal(r.Downstream, []string{"orders"}) {
		t.Errorf("readers of customers: %+v", r)
	}
	if got := g.ReadersOf("orders").ColumnTest["customer_id"]; !slices.Equal(got, []string{"relationships"}) {
		t.Errorf("orders.customer_id's tests: %v", got)
	}
}
