package lineage_test

import (
	"testing"
	"time"

	"github.com/stratadata/strata/internal/gen"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// benchProject writes a mixed project of n models for one benchmark, outside its timer.
func benchProject(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	if err := gen.Write(dir, gen.Options{Models: n, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	return dir
}

func BenchmarkLoadCompileGraph1k(b *testing.B)  { benchLoadCompileGraph(b, 1000) }
func BenchmarkLoadCompileGraph10k(b *testing.B) { benchLoadCompileGraph(b, 10000) }

// benchLoadCompileGraph is what every command does before it runs anything: load the
// project, compile every model, build the graph. The target for 10,000 models is 0.5 s;
// the benchmark reports each step's share and the total against the target.
func benchLoadCompileGraph(b *testing.B, n int) {
	dir := benchProject(b, n)
	b.ReportAllocs()
	var load, compile, graph time.Duration
	for b.Loop() {
		t0 := time.Now()
		p, err := models.Load(dir, models.Options{})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		for _, m := range p.Models {
			if m.Kind == models.KindSeed {
				continue
			}
			if _, err := p.Compile(m, models.CompileOptions{}); err != nil {
				b.Fatalf("compile %s: %v", m.Name, err)
			}
		}
		t2 := time.Now()
		g, err := lineage.Build(p)
		if err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		if len(g.Order()) < n {
			b.Fatalf("graph has %d nodes, want at least %d", len(g.Order()), n)
		}
		load, compile, graph = load+t1.Sub(t0), compile+t2.Sub(t1), graph+t3.Sub(t2)
	}
	per := func(d time.Duration) float64 { return float64(d) / 1e6 / float64(b.N) }
	b.ReportMetric(per(load), "load-ms/op")
	b.ReportMetric(per(compile), "compile-ms/op")
	b.ReportMetric(per(graph), "graph-ms/op")
	if n == 10000 {
		b.ReportMetric(per(load+compile+graph)/500, "x-target")
	}
}

// BenchmarkSelect evaluates selectors on the graph of a 10,000-model project.
func BenchmarkSelect(b *testing.B) {
	dir := benchProject(b, 10000)
	_, g := testgraph.Load(b, dir)
	for _, sel := range []string{"+m_5000", "m_5000+", "@m_5000", "tag:nightly", "path:models/p012", "+m_5000,tag:nightly"} {
		b.Run(sel, func(b *testing.B) {
			b.ReportAllocs()
			var got int
			for b.Loop() {
				ids, err := g.Select([]string{sel}, nil)
				if err != nil {
					b.Fatal(err)
				}
				got = len(ids)
			}
			b.ReportMetric(float64(got), "nodes")
		})
	}
}

// BenchmarkBuild10k builds the graph of a loaded 10,000-model project: what every
// command pays after loading (target: 50 ms).
func BenchmarkBuild10k(b *testing.B) {
	dir := benchProject(b, 10000)
	p, err := models.Load(dir, models.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := lineage.Build(p); err != nil {
			b.Fatal(err)
		}
	}
}
