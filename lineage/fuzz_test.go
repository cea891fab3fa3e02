package lineage_test

import (
	"errors"
	"testing"

	"github.com/stratadata/strata/lineage"
)

// FuzzParseSelection fuzzes the selector grammar: ParseSelection never panics, fails only
// with a *SelectorError, and what it parses selects (and excludes) on a small graph
// without panicking and only nodes of that graph.
func FuzzParseSelection(f *testing.F) {
	for _, seed := range []string{
		"orders", "+orders", "orders+", "+orders+", "2+customers+1", "1+revenue", "revenue+1", "@stg_orders",
		"tag:finance", "tag:fin*", "path:models/marts", "path:models/staging/", "models/reports",
		"file:revenue.sql", "config.materialized:incremental", "config.tags:daily", "config.meta:x",
		"stg_*", "marts", "shop.marts.finance.*", "fqn:staging.stg_orders", "orders report",
		"tag:finance,config.materialized:table", "+report,tag:staging", "source:app.events+", "source:app.*",
		"resource_type:test", "test_type:singular", "test_name:relationships", "exposure:dashboard",
		"package:shop", "*", "?", "[a-z]*", "@+x", "a,,b", "tga:x", "+", "@", "2+", "tag:", "@x+", "a+b",
		"path:[", "config.:x", "99999999999999999999+orders", "orders+99999999999999999999", ",", " , ",
		"+source:app.events", "@exposure:dashboard", "9+9", "0+orders+0",
	} {
		f.Add(seed)
	}
	g := buildSelShop(f)
	f.Fuzz(func(t *testing.T, sel string) {
		s, err := lineage.ParseSelection([]string{sel})
		if err != nil {
			var se *lineage.SelectorError
			if !errors.As(err, &se) {
				t.Fatalf("ParseSelection(%q) = %v (%T), want a *SelectorError", sel, err, err)
			}
			if se.Error() == "" {
				t.Fatalf("ParseSelection(%q): empty error message", sel)
			}
			return
		}
		_ = s.Empty()
		for _, args := range [][2][]string{
			{{sel}, nil},
			{nil, {sel}},
			{{sel, "orders"}, {sel}},
		} {
			got, err := g.Select(args[0], args[1])
			if err != nil {
				t.Fatalf("Select(%q, %q) failed after ParseSelection accepted it: %v", args[0], args[1], err)
			}
			for id := range got {
				if g.Node(id) == nil {
					t.Fatalf("Select(%q, %q) returned %q, which is not a node", args[0], args[1], id)
				}
			}
		}
	})
}
