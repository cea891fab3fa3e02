package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/gen"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/web"
)

// The pages' server time on a 10,000-model project: go test -run '^$' -bench Page ./web/

var big struct {
	once sync.Once
	h    http.Handler
	err  error
}

func bigServer(b *testing.B) http.Handler {
	b.Helper()
	big.once.Do(func() {
		dir, err := os.MkdirTemp("", "strata-web-bench")
		if err != nil {
			big.err = err
			return
		}
		if err := gen.Write(dir, gen.Options{Models: 10000, Seed: 1}); err != nil {
			big.err = err
			return
		}
		p, err := models.Load(dir, models.Options{})
		if err != nil {
			big.err = err
			return
		}
		g, err := lineage.Build(p)
		if err != nil {
			big.err = err
			return
		}
		w, err := engine.OpenPath(context.Background(), ":memory:", dir)
		if err != nil {
			big.err = err
			return
		}
		srv := &web.Server{Project: p, Graph: g, Warehouse: w}
		big.h = srv.Handler()
		// the shadow catalog is built once per server, before the first column is shown
		rec := httptest.NewRecorder()
		big.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/models/"+gen.Name(5000), nil))
	})
	if big.err != nil {
		b.Fatal(big.err)
	}
	return big.h
}

// timed serves paths in turn and reports the 95th percentile.
func timed(b *testing.B, h http.Handler, path func(i int) string) {
	b.Helper()
	durs := make([]time.Duration, 0, b.N)
	size := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodGet, path(i), nil)
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		durs = append(durs, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", path(i), rec.Code, rec.Body.String())
		}
		size = rec.Body.Len()
	}
	b.StopTimer()
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(size)/1024, "KB-gzip")
}

func BenchmarkLineagePageWarm(b *testing.B) {
	h := bigServer(b)
	timed(b, h, func(int) string { return "/lineage?focus=" + gen.Name(5000) })
}

// BenchmarkLineagePageFirst lays out a new neighbourhood every time.
func BenchmarkLineagePageFirst(b *testing.B) {
	h := bigServer(b)
	timed(b, h, func(i int) string { return "/lineage?focus=" + gen.Name(100+(i*37)%9800) + "&up=2&down=2" })
}

func BenchmarkLineagePageColumns(b *testing.B) {
	h := bigServer(b)
	timed(b, h, func(int) string { return "/lineage?focus=" + gen.Name(5000) + "&mode=column" })
}

func BenchmarkModelPage(b *testing.B) {
	h := bigServer(b)
	timed(b, h, func(int) string { return "/models/" + gen.Name(5000) })
}

// BenchmarkPageWeight is the lineage page with its style and script, gzipped.
func BenchmarkPageWeight(b *testing.B) {
	h := bigServer(b)
	total := 0
	for i := 0; i < b.N; i++ {
		total = 0
		for _, p := range []string{"/lineage?focus=" + gen.Name(5000), "/static/app.css", "/static/app.js"} {
			req := httptest.NewRequest(http.MethodGet, p, nil)
			req.Header.Set("Accept-Encoding", "gzip")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
			if err != nil {
				b.Fatalf("%s is not gzipped: %v", p, err)
			}
			zr.Close()
			total += rec.Body.Len()
		}
	}
	b.ReportMetric(float64(total)/1024, "KB-gzip")
}

// BenchmarkLineagePageDeep lays out six generations each way (capped at 150 nodes).
func BenchmarkLineagePageDeep(b *testing.B) {
	h := bigServer(b)
	timed(b, h, func(i int) string { return "/lineage?focus=" + gen.Name(100+(i*37)%9800) + "&up=6&down=6" })
}
