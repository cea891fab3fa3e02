package models_test

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/nikolalohinski/gonja/v2/exec"

	"github.com/stratadata/strata/internal/gen"
	"github.com/stratadata/strata/internal/testcorpus"
	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// cacheEnv is the environment the cache tests load with.
func cacheEnv(vals map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vals[name]
		return v, ok
	}
}

// projectDiff compares two loads field by field, unexported fields included, parsed
// templates by presence only (they are parsed again, never stored).
func projectDiff(a, b *models.Project) string {
	return cmp.Diff(a, b,
		cmp.Exporter(func(t reflect.Type) bool { return t.PkgPath() == "github.com/stratadata/strata/models" }),
		cmp.Comparer(func(x, y *exec.Template) bool { return (x == nil) == (y == nil) }),
		cmp.Comparer(func(x, y *time.Location) bool { return x.String() == y.String() }),
		cmpopts.IgnoreFields(models.Project{}, "re", "reOnce", "schemaCache", "cached", "modelNames"),
	)
}

// TestCacheRoundTrip: a project taken from the parse cache is the project a fresh load
// gives, every field of it, and compiles to the same SQL.
func TestCacheRoundTrip(t *testing.T) {
	t.Parallel()
	env := testcorpus.Env
	n := 0
	for name, dir := range testcorpus.Dirs(t, "..") {
		fresh, err := models.Load(dir, models.Options{Env: env})
		if err != nil {
			continue // a broken project of an error script: TestCacheNotForErrors
		}
		cache := t.TempDir()
		first, err := models.Load(dir, models.Options{Env: env, Cache: cache})
		if err != nil || first.Cached() {
			t.Fatalf("%s: first load with a cache: %v, cached %v", name, err, first.Cached())
		}
		got, err := models.Load(dir, models.Options{Env: env, Cache: cache})
		if err != nil {
			t.Fatalf("%s: second load: %v", name, err)
		}
		if !got.Cached() {
			t.Errorf("%s: the second load rendered again: want it from the cache", name)
			continue
		}
		n++
		if diff := projectDiff(fresh, got); diff != "" {
			t.Errorf("%s: cached project (-fresh +cached):\n%s", name, diff)
			continue
		}
		for _, mn := range fresh.ModelNames() {
			m := fresh.Models[mn]
			if m.Kind == models.KindSeed || m.Kind == models.KindPython {
				continue
			}
			for _, o := range []models.CompileOptions{{}, {Incremental: true}} {
				want, werr := fresh.Compile(m, o)
				sql, gerr := got.Compile(got.Models[mn], o)
				if want != sql || (werr == nil) != (gerr == nil) {
					t.Errorf("%s: %s compiles to\n%s (%v)\nfrom the cache, want\n%s (%v)", name, mn, sql, gerr, want, werr)
				}
			}
		}
	}
	if n < 30 {
		t.Errorf("only %d projects went through the cache: the corpus is too small", n)
	}
}

// TestCacheInvalidation: any change to what the load read is a load from the files
// again, and its result is the changed project.
func TestCacheInvalidation(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"models/a.sql":      "select {{ var('n') }} as n, '{{ env_var('WHO', 'nobody') }}' as who",
		"models/b.sql":      "select {{ double('n') }} as n2 from {{ ref('a') }}",
		"macros/double.sql": "{% macro double(c) %}{{ c }} * 2{% endmacro %}",
		"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    description: first\n",
	}
	type step struct {
		name   string
		change func(t *testing.T, dir string, o *models.Options)
		check  func(p *models.Project) string // "" when the change shows
	}
	write := func(rel, body string) func(*testing.T, string, *models.Options) {
		return func(t *testing.T, dir string, _ *models.Options) {
			testproj.WriteFiles(t, dir, map[string]string{rel: body})
		}
	}
	sqlOf := func(name string) func(*models.Project) string {
		return func(p *models.Project) string {
			m := p.Models[name]
			if m == nil {
				return name + " is missing"
			}
			sql, err := p.Compile(m, models.CompileOptions{})
			if err != nil {
				return err.Error()
			}
			return sql
		}
	}
	has := func(name, want string) func(*models.Project) string {
		return func(p *models.Project) string {
			if got := sqlOf(name)(p); !strings.Contains(got, want) {
				return "compiled " + name + ": " + got + ", want " + want
			}
			return ""
		}
	}
	dir := testproj.WriteProject(t, "p", files)
	testproj.WriteFiles(t, dir, map[string]string{"strata.yml": "name: p\nwarehouse:\n  path: w.duckdb\nvars:\n  n: 1\n"})
	opts := models.Options{Env: cacheEnv(nil), Cache: t.TempDir()}
	load := func(t *testing.T) *models.Project {
		t.Helper()
		p, err := models.Load(dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	load(t)
	if p := load(t); !p.Cached() {
		t.Fatal("an unchanged project was loaded again: want it from the cache")
	}
	for _, st := range []step{
		{"a model's text, same size", write("models/a.sql", "select {{ var('n') }} as m, '{{ env_var('WHO', 'nobody') }}' as who"), has("a", "as m")},
		{"a macro", write("macros/double.sql", "{% macro double(c) %}{{ c }} * 3{% endmacro %}"), has("b", "* 3")},
		{"a new model", write("models/c.sql", "select 1 as one"), has("c", "1 as one")},
		{"a removed model", func(t *testing.T, dir string, _ *models.Options) {
			if err := os.Remove(filepath.Join(dir, "models", "c.sql")); err != nil {
				t.Fatal(err)
			}
		}, func(p *models.Project) string {
			if p.Models["c"] != nil {
				return "c is still there"
			}
			return ""
		}},
		{"a YAML file", write("models/schema.yml", "version: 2\nmodels:\n  - name: a\n    description: second\n"), func(p *models.Project) string {
			if d := p.Models["a"].Description; d != "second" {
				return "description " + d
			}
			return ""
		}},
		{"an environment variable a model reads", func(_ *testing.T, _ string, o *models.Options) {
			o.Env = cacheEnv(map[string]string{"WHO": "ada"})
		}, has("a", "'ada'")},
		{"the project file's vars", write("strata.yml", "name: p\nwarehouse:\n  path: w.duckdb\nvars:\n  n: 7\n"), has("a", "select 7 as")},
		{"--vars", func(_ *testing.T, _ string, o *models.Options) { o.Vars = map[string]any{"n": 42} }, has("a", "select 42 as")},
	} {
		st.change(t, dir, &opts)
		p := load(t)
		if p.Cached() {
			t.Errorf("after a change to %s the project came from the cache", st.name)
			continue
		}
		if msg := st.check(p); msg != "" {
			t.Errorf("after a change to %s: %s", st.name, msg)
		}
		if p := load(t); !p.Cached() {
			t.Errorf("after a change to %s, the next load did not use the new cache", st.name)
		}
	}
}

func flipBit(b []byte, i int) []byte {
	c := append([]byte{}, b...)
	c[i] ^= 1
	return c
}

// checksummed is a cache file of rest with a good checksum.
func checksummed(rest []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, crc32.Checksum(rest, crc32.MakeTable(crc32.Castagnoli))), rest...)
}

// TestCacheCorrupt: a cache file that is cut short, overwritten or from another format
// is never trusted: the load reads the files and writes a good one.
func TestCacheCorrupt(t *testing.T) {
	t.Parallel()
	dir := testproj.Write(t, map[string]string{"models/a.sql": "select 1 as one"})
	cache := t.TempDir()
	opts := models.Options{Env: cacheEnv(nil), Cache: cache}
	if _, err := models.Load(dir, opts); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(cache, "parse-cache")
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("no cache written: %v", err)
	}
	for name, bad := range map[string][]byte{
		"cut short": good[:len(good)*2/3],
		"garbage":   []byte("not a cache at all\n"),
		"empty":     {},
		"flipped":   append(append([]byte{}, good[:len(good)-20]...), make([]byte, 20)...),
		"one bit":   flipBit(good, 9),
		// a checksum that holds over records that do not: a header longer than the
		// file, a header cut in its middle
		"long header": checksummed(append(binary.AppendUvarint(nil, 1<<40), good[5:]...)),
		"cut header":  checksummed(append(binary.AppendUvarint(nil, 3), "abc"...)),
	} {
		if err := os.WriteFile(file, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := models.Load(dir, opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.Cached() {
			t.Errorf("%s: the load trusted a corrupt cache", name)
		}
		if sql, err := p.Compile(p.Models["a"], models.CompileOptions{}); err != nil || !strings.Contains(sql, "1 as one") {
			t.Errorf("%s: compiled a to %q, %v", name, sql, err)
		}
		if p, _ := models.Load(dir, opts); p == nil || !p.Cached() {
			t.Errorf("%s: the load after it did not write a good cache", name)
		}
	}
}

// TestCacheNotForErrors: a load that fails writes no cache, so its errors are reported
// on every load until they are fixed.
func TestCacheNotForErrors(t *testing.T) {
	t.Parallel()
	dir := testproj.Write(t, map[string]string{"models/a.sql": "select * from {{ ref('nope') }}"})
	opts := models.Options{Env: cacheEnv(nil), Cache: t.TempDir()}
	for range 2 {
		if _, err := models.Load(dir, opts); err == nil || !strings.Contains(err.Error(), "nope") {
			t.Fatalf("Load = %v, want the unknown ref reported", err)
		}
	}
	testproj.WriteFiles(t, dir, map[string]string{"models/nope.sql": "select 1 as x"})
	if _, err := models.Load(dir, opts); err != nil {
		t.Fatal(err)
	}
}

// TestCachePartialReuse: after one model file changes, a load renders that file again
// and takes every other model's render from the cache; the project is, every field of
// it, the project a fresh load gives.
func TestCachePartialReuse(t *testing.T) {
	t.Parallel()
	env := testcorpus.Env
	n := 0
	for name, dir := range testcorpus.Dirs(t, "..") {
		if strings.HasPrefix(name, "examples/") {
			continue // those are the repository's own files: not edited here
		}
		if _, err := models.Load(dir, models.Options{Env: env}); err != nil {
			continue
		}
		cache := t.TempDir()
		first, err := models.Load(dir, models.Options{Env: env, Cache: cache})
		if err != nil {
			t.Fatal(err)
		}
		var edit *models.Model
		for _, mn := range first.ModelNames() {
			if m := first.Models[mn]; m.Kind != models.KindSeed && strings.HasSuffix(m.Path, ".sql") && strings.HasPrefix(m.Path, "models/") {
				edit = m
				break
			}
		}
		if edit == nil || len(first.Models) < 3 {
			continue
		}
		path := filepath.Join(dir, edit.Path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(data, []byte("\n-- edited\n")...), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := models.Load(dir, models.Options{Env: env, Cache: cache})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fresh, err := models.Load(dir, models.Options{Env: env})
		if err != nil {
			t.Fatal(err)
		}
		if got.Cached() || got.Reused() == 0 {
			t.Errorf("%s: cached %v, %d renders reused: want the edited file rendered and the rest reused", name, got.Cached(), got.Reused())
			continue
		}
		n++
		if diff := cmp.Diff(fresh, got,
			cmp.Exporter(func(t reflect.Type) bool { return t.PkgPath() == "github.com/stratadata/strata/models" }),
			cmp.Comparer(func(x, y *exec.Template) bool { return (x == nil) == (y == nil) }),
			cmp.Comparer(func(x, y *time.Location) bool { return x.String() == y.String() }),
			cmpopts.IgnoreFields(models.Project{}, "re", "reOnce", "schemaCache", "cached", "modelNames"),
			cmpopts.IgnoreFields(models.Model{}, "reused"),
		); diff != "" {
			t.Errorf("%s: after editing %s (-fresh +partial):\n%s", name, edit.Path, diff)
		}
	}
	if n < 10 {
		t.Errorf("only %d projects reused renders: the corpus is too small", n)
	}
}

// TestCacheDeferred: a load with DeferCache writes no cache until SaveCache, which may
// run beside lineage.Build (scripts/test runs this under the race detector), and the
// cache it writes gives the next load the same project. The project is large enough
// for its models to be encoded in parallel chunks, and has a folder config, which the
// load's parallel config merge marks used from every worker (a plain bool there is a
// race this test reports).
func TestCacheDeferred(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := gen.Write(dir, gen.Options{Models: 1200, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	env := cacheEnv(nil)
	fresh, err := models.Load(dir, models.Options{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	p, err := models.Load(dir, models.Options{Env: env, Cache: cache, DeferCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if files, _ := os.ReadDir(cache); len(files) > 0 {
		t.Fatalf("a deferred load wrote %s before SaveCache", files[0].Name())
	}
	// the graph is built, and the project read, again and again while SaveCache runs:
	// a write to the project shows as a race, or as models gone
	done := make(chan struct{})
	go func() { defer close(done); p.SaveCache() }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		if len(p.Models) < 1200 || len(p.Tests) == 0 {
			t.Fatalf("SaveCache changed the project: %d models, %d tests", len(p.Models), len(p.Tests))
		}
		g, err := lineage.Build(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Nodes()) < 1200 {
			t.Fatalf("the graph built beside SaveCache has %d nodes, want every model's", len(g.Nodes()))
		}
	}
	p.SaveCache() // a second call writes nothing again
	got, err := models.Load(dir, models.Options{Env: env, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Cached() {
		t.Fatal("the load after SaveCache rendered again: want it from the cache")
	}
	if diff := projectDiff(fresh, got); diff != "" {
		t.Errorf("cached project (-fresh +cached):\n%s", diff)
	}
}
