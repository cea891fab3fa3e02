// Command strata-bench measures strata as whole processes against the same SQL run
// straight on DuckDB, alternating the two in one run, and writes the figures into
// docs/benchmarks.md between its markers. scripts/bench runs it:
//
//	go run ./internal/bench/cmd/strata-bench -rounds 3 -out docs/benchmarks.md
//
// "strata-bench raw DB FILE" is the raw side: it runs FILE's statements (separated by
// lines of ";;") one autocommit each on the DuckDB file DB, with the driver strata uses.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/gen"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

func main() {
	if len(os.Args) == 4 && os.Args[1] == "raw" {
		if err := raw(os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "strata-bench raw:", err)
			os.Exit(1)
		}
		return
	}
	rounds := flag.Int("rounds", 3, "alternating rounds of each comparison (the median is kept)")
	out := flag.String("out", "", "the Markdown file whose bench markers get the table (else stdout)")
	big := flag.Int("big", 50000, "the largest project of the load-scaling row")
	flag.Parse()
	b, err := newBench(*rounds)
	if err != nil {
		fmt.Fprintln(os.Stderr, "strata-bench:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(b.tmp)
	table, err := b.all(*big)
	if err != nil {
		fmt.Fprintln(os.Stderr, "strata-bench:", err)
		os.Exit(1)
	}
	if *out == "" {
		fmt.Print(table)
		return
	}
	if err := writeBetweenMarkers(*out, table); err != nil {
		fmt.Fprintln(os.Stderr, "strata-bench:", err)
		os.Exit(1)
	}
}

type bench struct {
	tmp, strata, self string
	rounds            int
	log               *os.File
}

func newBench(rounds int) (*bench, error) {
	tmp, err := os.MkdirTemp("", "strata-bench")
	if err != nil {
		return nil, err
	}
	b := &bench{tmp: tmp, rounds: rounds, log: os.Stderr, strata: filepath.Join(tmp, "strata")}
	if b.self, err = os.Executable(); err != nil {
		return nil, err
	}
	build := exec.Command("go", "build", "-o", b.strata, "./cmd/strata")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	return b, build.Run()
}

func (b *bench) logf(format string, args ...any) { fmt.Fprintf(b.log, format+"\n", args...) }

// proc is one process's wall time and peak memory.
type proc struct {
	wall time.Duration
	rss  int64 // KB
}

// run times one process to its end; a failure is an error with its output.
func (b *bench) run(dir string, name string, args ...string) (proc, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	p := proc{wall: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		p.rss = ru.Maxrss
	}
	if err != nil {
		return p, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, tail(out.String()))
	}
	return p, nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

func median(ds []float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

type row struct{ what, figure, target string }

func (b *bench) all(big int) (string, error) {
	var rows []row
	for _, f := range []func() ([]row, error){
		func() ([]row, error) { return b.chain("table", "1.2×") },
		func() ([]row, error) { return b.chain("view", "1.1×") },
		b.backfill,
		b.ls10k,
		func() ([]row, error) { return b.scaling(big) },
	} {
		r, err := f()
		if err != nil {
			return "", err
		}
		rows = append(rows, r...)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "Measured %s by `scripts/bench` (%d alternating rounds, medians; whole processes).\n\n",
		time.Now().UTC().Format("2006-01-02"), b.rounds)
	sb.WriteString("| figure | measured | target |\n| --- | --- | --- |\n")
	for _, r := range rows {
		fmt.Fprintf(&sb, "| %s | %s | %s |\n", r.what, r.figure, r.target)
	}
	return sb.String(), nil
}

// compare times strata and raw alternately, each after its own reset, and returns the
// median wall times and the median ratio.
func (b *bench) compare(reset func() error, strata, raw func() (proc, error)) (s, r, ratio float64, err error) {
	var ss, rs, ratios []float64
	for i := range b.rounds {
		var ps, pr proc
		order := []*proc{&ps, &pr}
		fns := []func() (proc, error){strata, raw}
		if i%2 == 1 {
			order, fns = []*proc{&pr, &ps}, []func() (proc, error){raw, strata}
		}
		for j := range fns {
			if err = reset(); err != nil {
				return
			}
			if *order[j], err = fns[j](); err != nil {
				return
			}
		}
		ss, rs = append(ss, ps.wall.Seconds()), append(rs, pr.wall.Seconds())
		ratios = append(ratios, ps.wall.Seconds()/pr.wall.Seconds())
	}
	return median(ss), median(rs), median(ratios), nil
}

// versusRaw times strata's command (args) on the project in dir, whose warehouse is wh,
// against stmts run by the raw side on a fresh file, both from empty databases.
func (b *bench) versusRaw(dir, wh string, stmts []string, args ...string) (s, r, ratio float64, err error) {
	sqlFile, err := b.writeSQL(filepath.Base(dir)+".sql", stmts)
	if err != nil {
		return
	}
	rawDB := filepath.Join(b.tmp, "raw.duckdb")
	reset := func() error {
		for _, f := range []string{wh, wh + ".wal", rawDB, rawDB + ".wal"} {
			os.Remove(f)
		}
		return nil
	}
	return b.compare(reset,
		func() (proc, error) { return b.run(dir, b.strata, args...) },
		func() (proc, error) { return b.run(dir, b.self, "raw", rawDB, sqlFile) })
}

// load loads a generated project and builds its graph, for the raw sides' statements.
func load(dir string) (*models.Project, *lineage.Graph, error) {
	p, err := models.Load(dir, models.Options{})
	if err != nil {
		return nil, nil, err
	}
	g, err := lineage.Build(p)
	return p, g, err
}

// writeSQL writes statements for the raw side ("strata-bench raw") to a file of b.tmp.
func (b *bench) writeSQL(name string, stmts []string) (string, error) {
	path := filepath.Join(b.tmp, name)
	return path, os.WriteFile(path, []byte(strings.Join(stmts, "\n;;\n")), 0o644)
}

// chain is the 500-model chain: strata run, against its compiled statements.
func (b *bench) chain(materialized, target string) ([]row, error) {
	dir := filepath.Join(b.tmp, "chain-"+materialized)
	if err := gen.Write(dir, gen.Options{Models: 500, Shape: gen.ShapeChain, Materialized: materialized}); err != nil {
		return nil, err
	}
	p, g, err := load(dir)
	if err != nil {
		return nil, err
	}
	verb := strings.ToUpper(materialized)
	var stmts []string
	for _, n := range g.Nodes() {
		if n.Type != lineage.TypeModel {
			continue
		}
		q, err := p.Compile(n.Model, models.CompileOptions{})
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, fmt.Sprintf("CREATE OR REPLACE %s %s AS\n%s", verb, p.Relation(n.Model), q))
	}
	wh := p.Warehouse.Path
	if !filepath.IsAbs(wh) {
		wh = filepath.Join(dir, wh)
	}
	s, r, ratio, err := b.versusRaw(dir, wh, stmts, "run")
	if err != nil {
		return nil, err
	}
	b.logf("chain of %ss: strata %.2fs, raw %.2fs, %.2f×", materialized, s, r, ratio)
	return []row{{fmt.Sprintf("500-%s chain, `strata run` ÷ the same SQL on raw DuckDB", materialized),
		fmt.Sprintf("%.2f× (%.2f s vs %.2f s)", ratio, s, r), "≤ " + target}}, nil
}

// backfill is 10 chained daily models over 365 days: strata backfill --parallel 1,
// against one DELETE and one INSERT per partition, autocommitted.
func (b *bench) backfill() ([]row, error) {
	const n = 10
	dir := filepath.Join(b.tmp, "backfill")
	files := map[string]string{
		"strata.yml":      "name: backfill\nwarehouse:\n  path: backfill.duckdb\n",
		"models/d000.sql": "{{ config(materialized='partitioned', partition_by={'column': 'd', 'granularity': 'day'}, start='2023-01-01') }}\nselect {{ partition_start }} as d, 1 as v",
	}
	for i := 1; i < n; i++ {
		files[fmt.Sprintf("models/d%03d.sql", i)] = fmt.Sprintf("{{ config(materialized='partitioned', partition_by={'column': 'd', 'granularity': 'day'}, start='2023-01-01') }}\nselect d, v + 1 as v from {{ ref('d%03d') }} where d >= {{ partition_start }} and d < {{ partition_end }}", i-1)
	}
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	ctx := context.Background()
	p, g, err := load(dir)
	if err != nil {
		return nil, err
	}
	planDB := filepath.Join(b.tmp, "plan.duckdb")
	w, err := engine.OpenPath(ctx, planDB, dir)
	if err != nil {
		return nil, err
	}
	from, to, end, err := engine.ParseRange("2023-01-01", "2023-12-31")
	if err != nil {
		return nil, err
	}
	plan, err := engine.PlanBackfill(ctx, w, g, engine.BackfillOptions{Select: []string{"d000+"}, From: from, To: to, ToEnd: end}, "")
	if err != nil {
		return nil, err
	}
	var stmts []string
	for i := range n {
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE main.d%03d (d TIMESTAMP, v INTEGER)", i))
	}
	for _, t := range plan.Tasks {
		m := g.Node(t.Name).Model
		q, err := p.Compile(m, models.CompileOptions{Window: t.Window})
		if err != nil {
			return nil, err
		}
		rel := p.Relation(m)
		stmts = append(stmts,
			fmt.Sprintf("DELETE FROM %s WHERE d >= %s AND d < %s", rel, models.SQLTimestamp(t.Window.Start), models.SQLTimestamp(t.Window.End)),
			fmt.Sprintf("INSERT INTO %s SELECT * FROM (%s)", rel, q))
	}
	w.Close()
	s, r, ratio, err := b.versusRaw(dir, filepath.Join(dir, "backfill.duckdb"), stmts,
		"backfill", "d000+", "--from", "2023-01-01", "--to", "2023-12-31", "--parallel", "1")
	if err != nil {
		return nil, err
	}
	b.logf("backfill: strata %.2fs, raw %.2fs, %.2f×", s, r, ratio)
	return []row{{"3,650-task backfill (10 chained daily models × 365 days) ÷ raw delete+insert, `--parallel 1`",
		fmt.Sprintf("%.2f× (%.2f s vs %.2f s)", ratio, s, r), "≤ 1.25×"}}, nil
}

// ls10k times strata ls on the 10,000-model project with no cache (the first load,
// which writes it), with the cache of an unchanged project, then check and build.
func (b *bench) ls10k() ([]row, error) {
	dir := filepath.Join(b.tmp, "p10k")
	if err := gen.Write(dir, gen.Options{Models: 10000, Seed: 1}); err != nil {
		return nil, err
	}
	// files changed in the last 2 s are always hashed again (the cache's racy-clean
	// rule): a project is measured as a user's is, not in the seconds after it was written
	time.Sleep(3 * time.Second)
	cache := filepath.Join(dir, ".strata")
	var first, unchanged []float64
	for range b.rounds {
		os.RemoveAll(cache)
		pf, err := b.run(dir, b.strata, "ls")
		if err != nil {
			return nil, err
		}
		pu, err := b.run(dir, b.strata, "ls")
		if err != nil {
			return nil, err
		}
		first, unchanged = append(first, pf.wall.Seconds()), append(unchanged, pu.wall.Seconds())
	}
	p, g, err := load(dir)
	if err != nil {
		return nil, err
	}
	checkSQL, buildSQL, err := shadowAndBuild(p, g)
	if err != nil {
		return nil, err
	}
	nothing := func() error { return nil }
	checkFile, err := b.writeSQL("check.sql", checkSQL)
	if err != nil {
		return nil, err
	}
	check, checkRaw, checkRatio, err := b.compare(nothing,
		func() (proc, error) { return b.run(dir, b.strata, "check") },
		func() (proc, error) { return b.run(dir, b.self, "raw", ":memory:", checkFile) })
	if err != nil {
		return nil, err
	}
	pb, err := b.run(dir, b.strata, "build")
	if err != nil {
		return nil, err
	}
	buildFile, err := b.writeSQL("build.sql", buildSQL)
	if err != nil {
		return nil, err
	}
	rawDB := filepath.Join(b.tmp, "build.duckdb")
	pr, err := b.run(dir, b.self, "raw", rawDB, buildFile)
	if err != nil {
		return nil, err
	}
	os.Remove(rawDB)
	b.logf("ls first %.2fs, unchanged %.2fs, check %.2fs (raw %.2fs), build %.1fs %d MB (raw %d MB)", median(first), median(unchanged),
		check, checkRaw, pb.wall.Seconds(), pb.rss/1024, pr.rss/1024)
	return []row{
		{"`strata ls` on the 10,000-model generated project, first load (writes the parse cache)", fmt.Sprintf("%.2f s", median(first)), "≤ 0.4 s"},
		{"the same with nothing changed since the last load", fmt.Sprintf("%.2f s", median(unchanged)), "≤ 0.12 s"},
		{"`strata check` (shadow catalog + column lineage), 10,000 models; ÷ an empty table per model (`CREATE TABLE … LIMIT 0`) on raw DuckDB",
			fmt.Sprintf("%.1f s; %.2f× (raw %.1f s)", check, checkRatio, checkRaw), "≤ 3 s"},
		{"`strata build` of 10,000 models, peak RSS; ÷ raw DuckDB's peak for its seeds' and models' statements",
			fmt.Sprintf("%d MB (%.0f s); %.2f× (raw %d MB)", pb.rss/1024, pb.wall.Seconds(), float64(pb.rss)/float64(pr.rss), pr.rss/1024), "≤ 600 MB"},
	}, nil
}

// shadowAndBuild gives a project's statements for the raw sides of check and build: the
// shadow catalog's empty tables, with check's own settings, and every seed and model
// made as build makes it, in the graph's order (the tests are left out of both).
func shadowAndBuild(p *models.Project, g *lineage.Graph) (check, build []string, err error) {
	check = []string{"PRAGMA disable_optimizer", "SET threads = 1"}
	schemas := map[string]bool{}
	for _, n := range g.Nodes() {
		m := n.Model
		if m == nil || (n.Type != lineage.TypeSeed && n.Type != lineage.TypeModel) {
			continue
		}
		if schema := p.Schema(m); !schemas[schema] {
			schemas[schema] = true
			q := "CREATE SCHEMA IF NOT EXISTS " + models.Quote(schema)
			check, build = append(check, q), append(build, q)
		}
		rel := p.Relation(m)
		if n.Type == lineage.TypeSeed {
			check = append(check, "CREATE TABLE "+rel+" AS "+p.SeedSQL(m)+" LIMIT 0")
			build = append(build, "CREATE OR REPLACE TABLE "+rel+" AS "+p.SeedSQL(m))
			continue
		}
		q, err := p.Compile(m, models.CompileOptions{})
		if err != nil {
			return nil, nil, err
		}
		check = append(check, "CREATE TABLE "+rel+" AS SELECT * FROM ("+q+"\n) LIMIT 0")
		verb := "TABLE"
		if m.Kind == models.KindView {
			verb = "VIEW"
		}
		build = append(build, "CREATE OR REPLACE "+verb+" "+rel+" AS "+q)
	}
	return check, build, nil
}

// scaling times a load (strata ls without the cache) at 1k, 10k and big models.
func (b *bench) scaling(big int) ([]row, error) {
	sizes := []int{1000, 10000, big}
	times := map[int]float64{}
	for _, n := range sizes {
		dir := filepath.Join(b.tmp, fmt.Sprintf("scale-%d", n))
		if err := gen.Write(dir, gen.Options{Models: n, Seed: 1}); err != nil {
			return nil, err
		}
		var ts []float64
		for range b.rounds {
			p, err := b.run(dir, b.strata, "--no-partial-parse", "ls")
			if err != nil {
				return nil, err
			}
			ts = append(ts, p.wall.Seconds())
		}
		times[n] = median(ts)
		os.RemoveAll(dir)
	}
	b.logf("load: 1k %.2fs, 10k %.2fs, %d %.2fs", times[1000], times[10000], big, times[big])
	return []row{{fmt.Sprintf("load time as the project grows, 1k → 10k → %dk models (`strata --no-partial-parse ls`)", big/1000),
		fmt.Sprintf("%.2f s → %.2f s → %.2f s (10k/1k %.1f×, %dk/10k %.1f×)", times[1000], times[10000], times[big],
			times[10000]/times[1000], big/1000, times[big]/times[10000]), "linear (10k/1k ≤ 11×)"}}, nil
}

// raw runs a file's statements on a DuckDB file, one autocommit each.
func raw(dbPath, file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	db, err := sql.Open("duckdb", dbPath)
	if err != nil {
		return err
	}
	for _, s := range strings.Split(string(data), "\n;;\n") {
		if _, err := db.Exec(s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return db.Close()
}

const beginMarker, endMarker = "<!-- bench:begin -->", "<!-- bench:end -->"

// writeBetweenMarkers puts table between the file's markers.
func writeBetweenMarkers(path, table string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(data)
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %s … %s markers", path, beginMarker, endMarker)
	}
	s = s[:i+len(beginMarker)] + "\n" + table + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}
