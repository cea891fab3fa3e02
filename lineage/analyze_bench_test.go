package lineage_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stratadata/strata/internal/gen"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/lineage"
)

// project10k writes a generated 10,000-model project into the benchmark's temp folder.
func project10k(b *testing.B) string {
	dir := b.TempDir()
	if err := gen.Write(dir, gen.Options{Models: 10000, Shape: gen.ShapeMixed, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkAnalyze10k builds the shadow catalog and column lineage of a generated
// 10,000-model project (target: under 5 s on a 2-core machine).
func BenchmarkAnalyze10k(b *testing.B) {
	dir := project10k(b)
	p, g := testgraph.Load(b, dir)
	b.ResetTimer()
	var cols int
	for i := 0; i < b.N; i++ {
		cat, err := lineage.Analyze(context.Background(), p, g, lineage.AnalyzeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if len(cat.Errors) > 0 {
			b.Fatalf("generated project has errors: %v", cat.Errors[0])
		}
		cols = 0
		for _, n := range cat.Nodes {
			cols += len(n.Columns)
		}
	}
	b.ReportMetric(float64(cols), "columns")
}

// BenchmarkColumnUpstream measures upstream/downstream column queries on the 10k graph
// and reports the p99 latency of one query.
func BenchmarkColumnUpstream(b *testing.B) {
	dir := project10k(b)
	p, g := testgraph.Load(b, dir)
	cat, err := lineage.Analyze(context.Background(), p, g, lineage.AnalyzeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	cg := lineage.NewColumnGraph(cat.Nodes)
	var refs []lineage.ColumnRef
	for _, n := range g.Nodes() {
		if nc := cat.Nodes[n.ID]; nc != nil && n.Type == lineage.TypeModel && len(nc.Columns) > 0 {
			refs = append(refs, lineage.ColumnRef{Node: n.ID, Column: nc.Columns[0].Name})
		}
	}
	b.ResetTimer()
	lat := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		r := refs[i%len(refs)]
		start := time.Now()
		up := cg.Upstream(r, 3, 500)
		down := cg.Downstream(r, 3, 500)
		lat = append(lat, time.Since(start))
		if up.Total+down.Total < 1 {
			b.Fatal("a query found not even its root")
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

var _ = fmt.Sprint
