// Package testproj writes small projects for tests.
package testproj

import (
	"os"
	"path/filepath"
	"testing"
)

// Write creates files (path → content) under a new temporary folder and returns it. A
// strata.yml for project "test" (warehouse test.duckdb) is added when files has neither
// strata.yml nor dbt_project.yml.
func Write(t testing.TB, files map[string]string) string {
	t.Helper()
	return write(t, files, "name: test\nwarehouse:\n  path: test.duckdb\n")
}

// WriteProject is Write with a strata.yml naming the project name when none is given.
func WriteProject(t testing.TB, name string, files map[string]string) string {
	t.Helper()
	return write(t, files, "name: "+name+"\n")
}

func write(t testing.TB, files map[string]string, strataYML string) string {
	t.Helper()
	dir := t.TempDir()
	_, strata := files["strata.yml"]
	_, dbt := files["dbt_project.yml"]
	if !strata && !dbt {
		files["strata.yml"] = strataYML
	}
	WriteFiles(t, dir, files)
	return dir
}

// WriteFiles writes files (path → content) under dir, creating folders as needed.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
