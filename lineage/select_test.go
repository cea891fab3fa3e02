package lineage_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadata/strata/lineage"
)

func idsOf(set map[string]bool) []string {
	var out []string
	for id := range set {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func idList(list ...string) []string {
	out := slices.Clone(list)
	slices.Sort(out)
	return slices.Compact(out)
}

// TestSelect runs dbt's selector grammar over selShopFiles' graph (see the drawing there).
func TestSelect(t *testing.T) {
	t.Parallel()
	g := buildSelShop(t)
	srcTest := selSourceTestID(t, g)
	all := g.Order()
	allTests := idList(selNotNull, selRel, selRevenue, srcTest)
	var nonTests []string
	for _, id := range all {
		if !strings.HasPrefix(id, "test:") {
			nonTests = append(nonTests, id)
		}
	}
	for _, tc := range []struct {
		name             string
		selects, exclude []string
		want             []string
	}{
		{name: "everything", want: idList(all...)},
		{name: "name", selects: []string{"orders"}, want: idList("orders", selNotNull, selRel)},
		{name: "name without tests", selects: []string{"stg_orders"}, want: idList("stg_orders")},
		{name: "seed by name", selects: []string{"raw_orders"}, want: idList("raw_orders")},
		{name: "+name", selects: []string{"+orders"},
			want: idList("orders", "stg_orders", "stg_customers", "raw_orders", "raw_customers", selNotNull, selRel)},
		{name: "name+", selects: []string{"orders+"},
			want: idList("orders", "customers", "revenue", "report", selExposure, selNotNull, selRel, selRevenue)},
		{name: "+name+", selects: []string{"+revenue+"},
			want: idList("revenue", "report", selExposure, "orders", "stg_orders", "stg_customers", "raw_orders", "raw_customers", selNotNull, selRel, selRevenue)},
		{name: "2+name+1", selects: []string{"2+customers+1"},
			want: idList("customers", "orders", "stg_customers", "stg_orders", "raw_customers", selNotNull, selRel)},
		{name: "1+name", selects: []string{"1+revenue"},
			want: idList("revenue", "orders", selNotNull, selRel, selRevenue)},
		{name: "name+1", selects: []string{"revenue+1"},
			want: idList("revenue", "report", selRevenue)},
		{name: "@name", selects: []string{"@stg_orders"},
			want: idList("stg_orders", "orders", "customers", "revenue", "report", selExposure, "raw_orders", "stg_customers", "raw_customers",
				selNotNull, selRel, selRevenue)},
		{name: "tag", selects: []string{"tag:finance"},
			want: idList("orders", "revenue", selNotNull, selRel, selRevenue)},
		{name: "folder tag", selects: []string{"tag:daily"}, want: idList("revenue", selRevenue)},
		{name: "tag wildcard", selects: []string{"tag:fin*"},
			want: idList("orders", "revenue", selNotNull, selRel, selRevenue)},
		{name: "path folder", selects: []string{"path:models/marts"},
			want: idList("orders", "customers", "revenue", selNotNull, selRel, selRevenue)},
		{name: "path folder with slash", selects: []string{"path:models/staging/"},
			want: idList("stg_orders", "stg_customers", "stg_events", selEvents, srcTest)},
		{name: "path file", selects: []string{"path:models/marts/finance/revenue.sql"},
			want: idList("revenue", selRevenue)},
		{name: "bare path", selects: []string{"models/reports"}, want: idList("report")},
		{name: "file", selects: []string{"file:revenue.sql"}, want: idList("revenue", selRevenue)},
		{name: "file without extension", selects: []string{"file:revenue"}, want: idList("revenue", selRevenue)},
		{name: "seed file", selects: []string{"file:raw_orders.csv"}, want: idList("raw_orders")},
		{name: "config.materialized", selects: []string{"config.materialized:incremental"}, want: idList("revenue", selRevenue)},
		{name: "config.materialized from the folder", selects: []string{"config.materialized:table"},
			want: idList("orders", "customers", selNotNull, selRel)},
		{name: "config.tags", selects: []string{"config.tags:daily"}, want: idList("revenue", selRevenue)},
		{name: "config.tags of a list", selects: []string{"config.tags:pii"}, want: idList("stg_customers")},
		{name: "name wildcard", selects: []string{"stg_*"}, want: idList("stg_orders", "stg_customers", "stg_events")},
		{name: "fqn folder", selects: []string{"marts"},
			want: idList("orders", "customers", "revenue", selNotNull, selRel, selRevenue)},
		{name: "fqn with project", selects: []string{"shop.marts.finance"}, want: idList("revenue", selRevenue)},
		{name: "fqn wildcard", selects: []string{"shop.marts.finance.*"}, want: idList("revenue", selRevenue)},
		{name: "fqn method", selects: []string{"fqn:staging.stg_orders"}, want: idList("stg_orders")},
		{name: "union in one argument", selects: []string{"orders report"},
			want: idList("orders", "report", selNotNull, selRel)},
		{name: "union in two arguments", selects: []string{"orders", "report"},
			want: idList("orders", "report", selNotNull, selRel)},
		{name: "intersection", selects: []string{"tag:finance,config.materialized:table"},
			want: idList("orders", selNotNull, selRel)},
		{name: "intersection with graph operators", selects: []string{"+report,tag:staging"},
			want: idList("stg_orders", "stg_customers")},
		{name: "empty intersection", selects: []string{"tag:pii,tag:finance"}, want: idList()},
		{name: "source", selects: []string{"source:app.events"}, want: idList(selEvents, srcTest)},
		{name: "source by source name", selects: []string{"source:app"}, want: idList(selEvents, srcTest)},
		{name: "source+", selects: []string{"source:app.events+"}, want: idList(selEvents, srcTest, "stg_events")},
		{name: "source wildcard", selects: []string{"source:app.*"}, want: idList(selEvents, srcTest)},
		{name: "resource_type seed", selects: []string{"resource_type:seed"}, want: idList("raw_orders", "raw_customers")},
		{name: "resource_type test", selects: []string{"resource_type:test"}, want: allTests},
		{name: "resource_type source", selects: []string{"resource_type:source"}, want: idList(selEvents, srcTest)},
		{name: "resource_type exposure", selects: []string{"resource_type:exposure"}, want: idList(selExposure)},
		{name: "test_type singular", selects: []string{"test_type:singular"}, want: idList(selRevenue)},
		{name: "test_type generic", selects: []string{"test_type:generic"}, want: idList(selNotNull, selRel, srcTest)},
		{name: "test_name", selects: []string{"test_name:relationships"}, want: idList(selRel)},
		{name: "test by name", selects: []string{"assert_revenue_positive"}, want: idList(selRevenue)},
		{name: "exposure", selects: []string{"+exposure:dashboard"},
			want: idList(selExposure, "report", "revenue", "orders", "stg_orders", "stg_customers", "raw_orders", "raw_customers",
				selNotNull, selRel, selRevenue)},
		{name: "unknown name selects nothing", selects: []string{"nope"}, want: idList()},
		{name: "exclude from everything", exclude: []string{"resource_type:test"}, want: idList(nonTests...)},
		{name: "exclude a graph", selects: []string{"tag:finance"}, exclude: []string{"orders+"}, want: idList()},
		{name: "exclude with union", selects: []string{"stg_*"}, exclude: []string{"stg_orders stg_events"}, want: idList("stg_customers")},
		{
			// dbt: excluding a model also excludes the tests on it (dbt test --exclude orders
			// runs every test except those of orders).
			name: "exclude drops the excluded model's tests", selects: []string{"path:models/marts"}, exclude: []string{"revenue"},
			want: idList("orders", "customers", selNotNull, selRel),
		},
		{
			name: "exclude drops tests that read an excluded model", selects: []string{"orders+"}, exclude: []string{"customers"},
			want: idList("orders", "revenue", "report", selExposure, selNotNull, selRevenue),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := g.Select(tc.selects, tc.exclude)
			if err != nil {
				t.Fatalf("Select(%q, %q): %v", tc.selects, tc.exclude, err)
			}
			if diff := cmp.Diff(tc.want, idsOf(got)); diff != "" {
				t.Errorf("Select(%q, %q) (-want +got):\n%s", tc.selects, tc.exclude, diff)
			}
		})
	}
}

func TestParseSelection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sel   string
		empty bool
	}{
		{"orders", false}, {"+orders", false}, {"orders+", false}, {"2+orders+3", false}, {"@orders", false},
		{"tag:x", false}, {"config.materialized:table", false}, {"a b,c", false}, {"  ", true}, {"", true},
		{"path:models/a/*.sql", false}, {"source:s.*", false}, {"3", false}, {"resource_type:model", false},
	} {
		s, err := lineage.ParseSelection([]string{tc.sel})
		if err != nil {
			t.Errorf("ParseSelection(%q): %v", tc.sel, err)
			continue
		}
		if s.Empty() != tc.empty {
			t.Errorf("ParseSelection(%q).Empty() = %v, want %v", tc.sel, s.Empty(), tc.empty)
		}
	}
}

func TestSelectorErrors(t *testing.T) {
	t.Parallel()
	g := buildSelShop(t)
	for _, tc := range []struct {
		sel  string
		want []string // words the message must hold
	}{
		{"@+x", []string{"@"}},
		{"a,,b", []string{"empty"}},
		{",a", []string{"empty"}},
		{"a,", []string{"empty"}},
		{"tga:x", []string{`unknown method "tga"`, `did you mean "tag"?`}},
		{"pth:models", []string{`unknown method "pth"`, `did you mean "path"?`}},
		{"confg.materialized:table", []string{"unknown method"}},
		{"config.:table", []string{"unknown method"}},
		{"+", []string{"missing"}},
		{"@", []string{"missing"}},
		{"2+", []string{"missing"}},
		{"tag:", []string{"missing a value"}},
		{"@x+", []string{"@"}},
		{"a+b", []string{"+"}},
		{"a@b", []string{"@"}},
		{"path:[", []string{"wildcard"}},
	} {
		t.Run(tc.sel, func(t *testing.T) {
			t.Parallel()
			check := func(what string, err error) {
				var se *lineage.SelectorError
				if !errors.As(err, &se) {
					t.Fatalf("%s(%q) = %v (%T), want a *lineage.SelectorError", what, tc.sel, err, err)
				}
				for _, w := range tc.want {
					if !strings.Contains(se.Error(), w) {
						t.Errorf("%s(%q) = %q, want it to contain %q", what, tc.sel, se.Error(), w)
					}
				}
			}
			_, err := lineage.ParseSelection([]string{tc.sel})
			check("ParseSelection", err)
			_, err = g.Select([]string{tc.sel}, nil)
			check("Select", err)
			_, err = g.Select(nil, []string{tc.sel})
			check("Select exclude", err)
		})
	}
}
