package models_test

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadata/strata/models"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with the golden file dir/name, or rewrites it under -update.
func golden(t *testing.T, dir, name, got string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./models -run %s -update to create it)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s\n(if the change is right, rerun with -update)", path, diff)
	}
}

// checkNoStale fails on golden files in dir that no model or test wrote (or, under
// -update, removes them), so renamed models do not leave old files behind.
func checkNoStale(t *testing.T, dir string, written map[string]bool) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) && *update {
			return
		}
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || written[e.Name()] {
			continue
		}
		if *update {
			_ = os.Remove(filepath.Join(dir, e.Name()))
			continue
		}
		t.Errorf("stale golden file %s: no model or test writes it (rerun with -update to remove it)", filepath.Join(dir, e.Name()))
	}
}

// goldenProjects are the example projects whose compiled SQL is pinned by golden files.
var goldenProjects = []string{"shop", "jaffle_dbt"}

// TestGoldenCompile compiles every model of each example project and compares it with
// testdata/golden/<project>/<model>.sql; incremental models are also compiled as on a
// later run, into <model>.incremental.sql.
func TestGoldenCompile(t *testing.T) {
	t.Parallel()
	for _, name := range goldenProjects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := models.Load(filepath.Join("..", "examples", name), models.Options{Env: noEnv})
			if err != nil {
				t.Fatalf("load examples/%s: %v", name, err)
			}
			dir := filepath.Join("testdata", "golden", name)
			written := map[string]bool{}
			compiled := 0
			for _, mn := range p.ModelNames() {
				m := p.Models[mn]
				if m.Kind == models.KindSeed {
					continue
				}
				sql, err := p.Compile(m, models.CompileOptions{})
				if err != nil {
					t.Errorf("compile %s: %v", mn, err)
					continue
				}
				checkCompiled(t, mn, sql)
				golden(t, dir, mn+".sql", sql+"\n")
				written[mn+".sql"] = true
				compiled++
				if m.Kind == models.KindIncremental {
					sql, err := p.Compile(m, models.CompileOptions{Incremental: true})
					if err != nil {
						t.Errorf("compile %s incrementally: %v", mn, err)
						continue
					}
					checkCompiled(t, mn, sql)
					golden(t, dir, mn+".incremental.sql", sql+"\n")
					written[mn+".incremental.sql"] = true
				}
			}
			if compiled == 0 {
				t.Fatalf("examples/%s has no models", name)
			}
			checkNoStale(t, dir, written)
		})
	}
}

// TestGoldenTests compiles every test of examples/shop and compares it with
// testdata/golden/shop/tests/<test>.sql.
func TestGoldenTests(t *testing.T) {
	t.Parallel()
	p, err := models.Load(filepath.Join("..", "examples", "shop"), models.Options{Env: noEnv})
	if err != nil {
		t.Fatalf("load examples/shop: %v", err)
	}
	dir := filepath.Join("testdata", "golden", "shop", "tests")
	written := map[string]bool{}
	names := p.TestNames()
	if len(names) == 0 {
		t.Fatal("examples/shop has no tests")
	}
	for _, tn := range names {
		sql, err := p.CompileTest(p.Tests[tn])
		if err != nil {
			t.Errorf("compile test %s: %v", tn, err)
			continue
		}
		checkCompiled(t, tn, sql)
		golden(t, dir, tn+".sql", sql+"\n")
		written[tn+".sql"] = true
	}
	checkNoStale(t, dir, written)
}

// TestGoldenShopTestNames pins the names of examples/shop's tests: they are what users
// select with and what dbt calls the same tests.
func TestGoldenShopTestNames(t *testing.T) {
	t.Parallel()
	p, err := models.Load(filepath.Join("..", "examples", "shop"), models.Options{Env: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range p.TestNames() {
		tt := p.Tests[n]
		got = append(got, n+" "+tt.Severity+" "+strings.Join(tt.DependsOn, ","))
	}
	sort.Strings(got)
	golden(t, filepath.Join("testdata", "golden"), "shop_test_names.txt", strings.Join(got, "\n")+"\n")
}

// checkCompiled catches what no compiled SQL may hold, whatever the golden file says:
// Jinja left unrendered and relation placeholders left unresolved.
func checkCompiled(t *testing.T, name, sql string) {
	t.Helper()
	for _, bad := range []string{"{{", "}}", "{%", "%}", "\x1f"} {
		if strings.Contains(sql, bad) {
			t.Errorf("%s: compiled SQL contains %q:\n%s", name, bad, sql)
		}
	}
}
