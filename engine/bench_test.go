package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/gen"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// chain500 is a loaded 500-model chain and the statements that build it without strata.
type chain500 struct {
	p     *models.Project
	g     *lineage.Graph
	stmts []string // CREATE OR REPLACE VIEW|TABLE "main"."m_0001" AS <compiled SQL>, in order
	tmp   string
	n     int // databases made so far, each a new file
}

const chainLen = 500

// newChain500 writes, loads and compiles a chain of trivial models, outside any timer.
func newChain500(b *testing.B, materialized string) *chain500 {
	b.Helper()
	dir := b.TempDir()
	if err := gen.Write(dir, gen.Options{Models: chainLen, Shape: gen.ShapeChain, Materialized: materialized}); err != nil {
		b.Fatal(err)
	}
	p, g := testgraph.Load(b, dir)
	c := &chain500{p: p, g: g, tmp: b.TempDir()}
	verb := map[string]string{"view": "VIEW", "table": "TABLE"}[materialized]
	for _, n := range g.Nodes() {
		if n.Type != lineage.TypeModel {
			continue
		}
		q, err := p.Compile(n.Model, models.CompileOptions{})
		if err != nil {
			b.Fatal(err)
		}
		c.stmts = append(c.stmts, fmt.Sprintf("CREATE OR REPLACE %s %s AS\n%s", verb, p.Relation(n.Model), q))
	}
	if len(c.stmts) != chainLen {
		b.Fatalf("%d statements, want %d", len(c.stmts), chainLen)
	}
	return c
}

func (c *chain500) freshPath(who string) string {
	c.n++
	return filepath.Join(c.tmp, fmt.Sprintf("%s-%d.duckdb", who, c.n))
}

// drop removes a database file and its WAL once it has been timed.
func drop(path string) {
	os.Remove(path)
	os.Remove(path + ".wal")
}

// steps are the times of strata's steps on one database.
type steps struct{ open, plan, run, close time.Duration }

func (s steps) total() time.Duration { return s.open + s.plan + s.run + s.close }

func (s *steps) add(o steps) {
	s.open, s.plan, s.run, s.close = s.open+o.open, s.plan+o.plan, s.run+o.run, s.close+o.close
}

// report adds each step's milliseconds per op.
func (s steps) report(b *testing.B) {
	per := func(d time.Duration) float64 { return float64(d) / 1e6 / float64(b.N) }
	b.ReportMetric(per(s.open), "open-ms/op")
	b.ReportMetric(per(s.plan), "plan-ms/op")
	b.ReportMetric(per(s.run), "run-ms/op")
	b.ReportMetric(per(s.close), "close-ms/op")
}

// strata opens a fresh DuckDB file, plans and runs the chain with one thread, and closes
// the file, timing each step.
func (c *chain500) strata(b *testing.B) steps {
	ctx := context.Background()
	var s steps
	path := c.freshPath("strata")
	defer drop(path)
	t0 := time.Now()
	w, err := engine.OpenPath(ctx, path, c.p.Dir)
	if err != nil {
		b.Fatal(err)
	}
	t1 := time.Now()
	plan, err := engine.NewPlan(c.g, engine.PlanOptions{Command: engine.CommandRun})
	if err != nil {
		b.Fatal(err)
	}
	t2 := time.Now()
	res, err := engine.Run(ctx, w, plan, engine.RunOptions{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	t3 := time.Now()
	s.open, s.plan, s.run = t1.Sub(t0), t2.Sub(t1), t3.Sub(t2)
	if res.Failed() || res.Count(engine.StatusSuccess) != chainLen {
		for _, t := range res.Tasks {
			if t.Status != engine.StatusSuccess {
				b.Fatalf("%s: %s: %s", t.Name, t.Status, t.Message)
			}
		}
		b.Fatalf("run failed: %v", res.Err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	s.close = time.Since(t3)
	return s
}

// direct runs the same compiled statements on a fresh DuckDB file with database/sql,
// one autocommitted statement each, and closes the file.
func (c *chain500) direct(b *testing.B) time.Duration {
	path := c.freshPath("direct")
	defer drop(path)
	start := time.Now()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range c.stmts {
		if _, err := db.Exec(s); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

var chainKinds = []string{"view", "table"}

// BenchmarkRunChain500 runs a chain of 500 trivial models through strata (open, plan,
// run with one thread, close) on a new DuckDB file each iteration.
func BenchmarkRunChain500(b *testing.B) {
	for _, mat := range chainKinds {
		b.Run(mat, func(b *testing.B) {
			c := newChain500(b, mat)
			var s steps
			for b.Loop() {
				s.add(c.strata(b))
			}
			s.report(b)
			b.ReportMetric(float64(s.run)/1e3/float64(b.N*chainLen), "run-µs/task")
		})
	}
}

// BenchmarkDirectChain500 runs the same statements as BenchmarkRunChain500 straight on
// DuckDB: what the work costs with no orchestration at all.
func BenchmarkDirectChain500(b *testing.B) {
	for _, mat := range chainKinds {
		b.Run(mat, func(b *testing.B) {
			c := newChain500(b, mat)
			var d time.Duration
			for b.Loop() {
				d += c.direct(b)
			}
			b.ReportMetric(float64(d)/1e6/float64(b.N), "direct-ms/op")
			b.ReportMetric(float64(d)/1e3/float64(b.N*chainLen), "µs/stmt")
		})
	}
}

// BenchmarkChain500Ratio times strata and direct DuckDB on the same chain in the same
// iteration, alternating which goes first, and reports strata's time over direct's
// (target: at most 1.5) and strata's overhead per task.
func BenchmarkChain500Ratio(b *testing.B) {
	for _, mat := range chainKinds {
		b.Run(mat, func(b *testing.B) {
			c := newChain500(b, mat)
			var strata, direct time.Duration
			var ratios []float64
			for b.Loop() {
				var s, d time.Duration
				if len(ratios)%2 == 0 {
					s = c.strata(b).total()
					d = c.direct(b)
				} else {
					d = c.direct(b)
					s = c.strata(b).total()
				}
				strata, direct = strata+s, direct+d
				ratios = append(ratios, float64(s)/float64(d))
			}
			// the median of each iteration's ratio resists a burst of load on a shared machine
			slices.Sort(ratios)
			b.ReportMetric(float64(strata)/1e6/float64(b.N), "strata-ms/op")
			b.ReportMetric(float64(direct)/1e6/float64(b.N), "direct-ms/op")
			b.ReportMetric(float64(strata)/float64(direct), "ratio")
			b.ReportMetric(ratios[len(ratios)/2], "ratio-p50")
			b.ReportMetric(float64(strata-direct)/1e3/float64(b.N*chainLen), "overhead-µs/task")
		})
	}
}
