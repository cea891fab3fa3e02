// Package testproj writes small projects for tests.
package testproj

import (
	"os"
	"path/filepath"
	"testing"
)

// Write creates files (path → content) under a new temporary folder and returns it.
// A strata.yml is added when files has none and no dbt_project.yml.
func Write(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if _, ok := files["strata.yml"]; !ok {
		if _, ok := files["dbt_project.yml"]; !ok {
			files["strata.yml"] = "name: test\nwarehouse:\n  path: test.duckdb\n"
		}
	}
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
