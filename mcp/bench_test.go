package mcp_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/stratadata/strata/internal/gen"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/mcp"
)

// bench10k is an MCP session on a generated 10,000-model project, its column lineage
// built, and the models with the most upstream and downstream nodes.
func bench10k(b *testing.B) (*sdk.ClientSession, []string, string, string) {
	b.Helper()
	dir := b.TempDir()
	if err := gen.Write(dir, gen.Options{Models: 10000, Shape: gen.ShapeMixed, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	p, g := testgraph.Load(b, dir)
	s := mcp.New(mcp.Options{Project: p, Graph: g, Backend: mcp.Local{Project: p, Graph: g}})
	ctx := context.Background()
	ct, st := sdk.NewInMemoryTransports()
	if _, err := s.MCP().Connect(ctx, st, nil); err != nil {
		b.Fatal(err)
	}
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "bench"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cs.Close() })
	var names []string
	for _, id := range g.Order() {
		if g.Node(id).Type == lineage.TypeModel {
			names = append(names, id)
		}
	}
	// the most read of the first models, and the deepest of the last ones
	widest, deepest, wide, deep := "", "", 0, 0
	for _, m := range names[:200] {
		if ids, _ := g.Descendants(m); len(ids) > wide {
			widest, wide = m, len(ids)
		}
	}
	for _, m := range names[len(names)-200:] {
		if u := g.Upstream(m, -1, 1).Total; u > deep {
			deepest, deep = m, u
		}
	}
	// the first column question builds the shadow catalog: not part of what is timed
	if res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "get_column_lineage", Arguments: map[string]any{"column": names[0] + ".amount"}}); err != nil || res.IsError {
		b.Fatalf("warm up: %v %v", err, res)
	}
	return cs, names, widest, deepest
}

// BenchmarkMCPLatency10k times get_lineage and impact_analysis through the whole MCP
// round trip (client, JSON-RPC, in-memory transport, server, JSON back) on 10,000
// models, and reports each one's p50 and p99 (target: p99 under 10 ms).
func BenchmarkMCPLatency10k(b *testing.B) {
	cs, names, _, _ := bench10k(b)
	ctx := context.Background()
	calls := []struct {
		name string
		args func(m string) map[string]any
	}{
		{"get_lineage", func(m string) map[string]any { return map[string]any{"node": m} }},
		{"get_lineage_column", func(m string) map[string]any { return map[string]any{"node": m + ".amount"} }},
		{"impact_analysis", func(m string) map[string]any { return map[string]any{"target": m} }},
		{"impact_analysis_column", func(m string) map[string]any { return map[string]any{"target": m + ".amount"} }},
	}
	b.ResetTimer()
	for _, c := range calls {
		tool := c.name
		if strings.HasPrefix(tool, "impact_analysis") {
			tool = "impact_analysis"
		} else if tool != "get_lineage" {
			tool = "get_lineage"
		}
		lat := make([]time.Duration, 0, b.N)
		for i := 0; i < max(b.N, 200); i++ {
			m := names[(i*7919)%len(names)]
			start := time.Now()
			res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: tool, Arguments: c.args(m)})
			lat = append(lat, time.Since(start))
			if err != nil || res.IsError {
				b.Fatalf("%s %s: %v %v", tool, m, err, text(res))
			}
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, c.name+"-p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, c.name+"-p99-ms")
	}
}

// BenchmarkMCPLargest10k reports, for each tool, the size of the largest answer it gives
// on 10,000 models with its widest arguments (the most connected models, every
// generation, the highest limits), in bytes and in tokens estimated as bytes/3 — JSON
// spends more tokens per byte than prose (target: under 8,000 tokens).
func BenchmarkMCPLargest10k(b *testing.B) {
	cs, names, widest, deepest := bench10k(b)
	ctx := context.Background()
	cands := map[string][]map[string]any{
		"list_models":     {{"limit": 1000}},
		"get_model":       {{"name": widest}, {"name": deepest}},
		"search":          {{"query": "m_", "limit": 1000}, {"query": "amount", "limit": 1000}},
		"get_lineage":     {},
		"impact_analysis": {{"target": widest, "limit": 1000}, {"target": widest + ".amount", "limit": 1000}, {"target": widest + ".id", "limit": 1000}},
		"get_column_lineage": {{"column": deepest + ".amount", "direction": "both"}, {"column": deepest + ".id", "direction": "both"},
			{"column": widest + ".amount", "direction": "both"}},
		"lineage_path":   {{"from": widest, "to": deepest}},
		"get_partitions": {{}},
		"list_runs":      {{"limit": 1000}},
		"plan_backfill":  {},
	}
	for _, m := range []string{widest, deepest} {
		for _, col := range []string{"", ".amount", ".id"} {
			cands["get_lineage"] = append(cands["get_lineage"], map[string]any{"node": m + col, "depth": -1, "limit": 1000})
		}
	}
	_ = names
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for tool, args := range cands {
			most := 0
			for _, a := range args {
				res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: tool, Arguments: a})
				if err != nil || res.IsError {
					b.Fatalf("%s(%v): %v %s", tool, a, err, text(res))
				}
				most = max(most, len(text(res)))
			}
			if len(args) > 0 {
				b.ReportMetric(float64(most/3), tool+"-tokens")
			}
		}
	}
	fmt.Fprintf(b.Output(), "widest %s, deepest %s\n", widest, deepest)
}
