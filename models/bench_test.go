package models_test

import (
	"testing"
	"time"

	"github.com/stratadata/strata/internal/gen"
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

func BenchmarkLoad1k(b *testing.B)  { benchLoad(b, 1000, false) }
func BenchmarkLoad10k(b *testing.B) { benchLoad(b, 10000, false) }

func BenchmarkLoadCompile1k(b *testing.B)  { benchLoad(b, 1000, true) }
func BenchmarkLoadCompile10k(b *testing.B) { benchLoad(b, 10000, true) }

// benchLoad loads a generated project of n models and, with compile, compiles every
// model; it reports the time of each step per load and the models loaded per second.
func benchLoad(b *testing.B, n int, compile bool) {
	dir := benchProject(b, n)
	b.ReportAllocs()
	var loadNs, compileNs time.Duration
	for b.Loop() {
		start := time.Now()
		p, err := models.Load(dir, models.Options{})
		if err != nil {
			b.Fatal(err)
		}
		loadNs += time.Since(start)
		if !compile {
			continue
		}
		start = time.Now()
		for _, m := range p.Models {
			if m.Kind == models.KindSeed {
				continue
			}
			if _, err := p.Compile(m, models.CompileOptions{}); err != nil {
				b.Fatalf("compile %s: %v", m.Name, err)
			}
		}
		compileNs += time.Since(start)
	}
	b.ReportMetric(float64(loadNs)/1e6/float64(b.N), "load-ms/op")
	if compile {
		b.ReportMetric(float64(compileNs)/1e6/float64(b.N), "compile-ms/op")
	}
	b.ReportMetric(float64(n)*float64(b.N)/(loadNs+compileNs).Seconds(), "models/s")
}
