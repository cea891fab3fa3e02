package lineage

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadata/strata/internal/testcorpus"
	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/models"
)

// load loads a project and builds its graph; ok is false when either fails (a broken
// project of an error script, in the corpus).
func load(dir string) (p *models.Project, g *Graph, ok bool) {
	p, err := models.Load(dir, models.Options{Env: testcorpus.Env})
	if err != nil {
		return nil, nil, false
	}
	g, err = Build(p)
	return p, g, err == nil
}

// analyzeBoth analyzes a project with its leaves described and with every model a
// table; n is how many leaves were described.
func analyzeBoth(t *testing.T, p *models.Project, g *Graph) (described, tables *Catalog, n int) {
	t.Helper()
	d, err := analyze(context.Background(), p, g, AnalyzeOptions{}, false)
	if err != nil {
		t.Fatal(err)
	}
	all, err := analyze(context.Background(), p, g, AnalyzeOptions{}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.described) != 0 {
		t.Errorf("%d leaves described with every model a table", len(all.described))
	}
	return d.cat, all.cat, len(d.described)
}

// analyzeFiles writes a project and analyzes it both ways.
func analyzeFiles(t *testing.T, files map[string]string) (described, tables *Catalog, n int) {
	t.Helper()
	p, g, ok := load(testproj.Write(t, files))
	if !ok {
		t.Fatal("the test's project does not load")
	}
	return analyzeBoth(t, p, g)
}

// TestLeavesDescribed: describing the models nothing reads, instead of creating their
// tables, gives the catalog creating them gives — every column's name and type, its
// lineage, the notes and the errors — on the lineage corpus, the examples, a generated
// project and every CLI script's project.
func TestLeavesDescribed(t *testing.T) {
	t.Parallel()
	dirs := testcorpus.Dirs(t, "..")
	dirs["lineage corpus"] = "testdata/corpus"
	var mu sync.Mutex
	projects, leaves := 0, 0
	t.Run("all", func(t *testing.T) {
		for name, dir := range dirs {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				p, g, ok := load(dir)
				if !ok {
					return // an error script's project: nothing to analyze
				}
				described, tables, n := analyzeBoth(t, p, g)
				if diff := cmp.Diff(tables, described); diff != "" {
					t.Errorf("catalog (-every model a table +leaves described):\n%s", diff)
				}
				mu.Lock()
				projects, leaves = projects+1, leaves+n
				mu.Unlock()
			})
		}
	})
	if projects < 30 || leaves < 100 {
		t.Errorf("compared %d projects with %d leaves described, want the corpus's 30 and more, hundreds", projects, leaves)
	}
}

// TestLeafReadWithoutRef: a model that reads a leaf's table without ref() (so the graph
// does not know) still finds it, with the undeclared read reported; a leaf with an error
// is placed as ever, and the leaves of its query are made tables alone.
func TestLeafReadWithoutRef(t *testing.T) {
	t.Parallel()
	described, tables, n := analyzeFiles(t, map[string]string{
		"strata.yml":       "name: p\n",
		"models/a.sql":     "select 1 as x, 'y' as y",
		"models/b.sql":     "select x from main.a",
		"models/c_bad.sql": "select\n    x,\n    nope\nfrom {{ ref('b') }}",
		"models/d.sql":     "select x * 2 as y from {{ ref('b') }}",
	})
	if n != 0 {
		t.Errorf("%d leaves described, want none: a is read, and c_bad fails the query d shares", n)
	}
	if diff := cmp.Diff(tables, described); diff != "" {
		t.Errorf("catalog (-every model a table +leaves described):\n%s", diff)
	}
	if got := described.Nodes["b"].Undeclared; len(got) != 1 || !strings.Contains(got[0], "main.a is a") {
		t.Errorf("b's undeclared reads = %v, want main.a", got)
	}
	if len(described.Errors) != 1 || !strings.HasPrefix(described.Errors[0].Error(), `models/c_bad.sql:3:5: model c_bad: Binder Error: Referenced column "nope" not found`) {
		t.Errorf("errors = %v, want c_bad's alone", described.Errors)
	}
	if cols := described.Nodes["d"].Columns; len(cols) != 1 || cols[0].Name != "y" || cols[0].Type != "INTEGER" {
		t.Errorf("d's columns = %+v", cols)
	}
}

// TestLeafReadWithoutRefLater: the leaf a model reads without ref() was described in an
// earlier query (64 leaves before it), so it has no table yet: it gets one, and the
// model binds.
func TestLeafReadWithoutRefLater(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"strata.yml":      "name: p\n",
		"models/a.sql":    "select 1 as x",
		"models/base.sql": "select 2 as x",
		// after f63 in the graph's order, so after the first query of leaves
		"models/zz.sql": "select a.x from main.a join {{ ref('f63') }} f on f.x = a.x",
	}
	for i := range batchSize {
		files[fmt.Sprintf("models/f%02d.sql", i)] = fmt.Sprintf("select x + %d as x from {{ ref('base') }}", i)
	}
	described, tables, n := analyzeFiles(t, files)
	if diff := cmp.Diff(tables, described); diff != "" {
		t.Errorf("catalog (-every model a table +leaves described):\n%s", diff)
	}
	if len(described.Errors) != 0 {
		t.Errorf("errors = %v", described.Errors)
	}
	if got := described.Nodes["zz"].Undeclared; len(got) != 1 || !strings.Contains(got[0], "main.a is a") {
		t.Errorf("zz's undeclared reads = %v, want main.a", got)
	}
	if n != batchSize-1 { // a, and f00 to f62 (f63 is read)
		t.Errorf("%d leaves described, want the first query's but a, %d", n, batchSize-1)
	}
}

// TestLeafTestedWithoutRef: a singular test that reads a leaf's table without ref() (so
// the graph does not link them) still binds.
func TestLeafTestedWithoutRef(t *testing.T) {
	t.Parallel()
	described, tables, n := analyzeFiles(t, map[string]string{
		"strata.yml":         "name: p\n",
		"models/a.sql":       "select 1 as x",
		"tests/positive.sql": "select * from main.a where x <= 0",
	})
	if diff := cmp.Diff(tables, described); diff != "" {
		t.Errorf("catalog (-every model a table +leaves described):\n%s", diff)
	}
	if len(described.Errors) != 0 {
		t.Errorf("errors = %v", described.Errors)
	}
	if n != 1 {
		t.Errorf("%d leaves described, want a", n)
	}
}
