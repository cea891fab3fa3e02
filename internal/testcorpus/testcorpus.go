// Package testcorpus gives the projects that tests check one thing on two ways (a load
// fresh and from the parse cache, a shadow catalog with and without its leaves made
// tables): the examples, a generated project and every CLI script's p/ project.
package testcorpus

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/stratadata/strata/internal/gen"
	"github.com/stratadata/strata/internal/testproj"
)

// Dirs returns the corpus by name → folder; root is the repository's root, relative to
// the test's package. The scripts' projects are written to temporary folders, some of
// them broken on purpose (the error scripts'): a test skips what does not load.
func Dirs(t testing.TB, root string) map[string]string {
	t.Helper()
	dirs := map[string]string{}
	for _, ex := range []string{"shop", "jaffle_dbt", "cdc", "events"} {
		dirs["examples/"+ex] = filepath.Join(root, "examples", ex)
	}
	gdir := t.TempDir()
	if err := gen.Write(gdir, gen.Options{Models: 300, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	dirs["generated"] = gdir
	scripts, _ := filepath.Glob(filepath.Join(root, "cmd", "strata", "testdata", "script", "*.txtar"))
	for _, s := range scripts {
		ar, err := txtar.ParseFile(s)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string]string{}
		for _, f := range ar.Files {
			if rest, ok := strings.CutPrefix(f.Name, "p/"); ok {
				files[rest] = string(f.Data)
			}
		}
		if files["strata.yml"] == "" && files["dbt_project.yml"] == "" {
			continue
		}
		dir := t.TempDir()
		testproj.WriteFiles(t, dir, files)
		dirs[filepath.Base(s)] = dir
	}
	return dirs
}

// Env is the environment the corpus loads with: the variables its scripts set.
func Env(name string) (string, bool) {
	v, ok := map[string]string{"STRATA_TEST_SCHEMA": "main", "MIN_AMOUNT": "5"}[name]
	return v, ok
}
