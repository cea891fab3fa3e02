package testproj

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// DBTPackages is the folder of the shared dbt package fixtures (dbt_utils, dbt_date,
// audit_helper, unchanged from upstream): $STRATA_DBT_PACKAGES, else
// ../shared/fixtures/dbt-packages beside the repository. Tests read them from there and
// never copy them into the repository.
func DBTPackages() (string, bool) {
	if d := os.Getenv("STRATA_DBT_PACKAGES"); d != "" {
		_, err := os.Stat(d)
		return d, err == nil
	}
	_, file, _, _ := runtime.Caller(0)
	d := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "fixtures", "dbt-packages")
	if _, err := os.Stat(filepath.Join(d, "dbt_utils", "dbt_project.yml")); err != nil {
		return d, false
	}
	return d, true
}

// NeedDBTPackages is DBTPackages for a test: it skips, saying where it looked, when the
// fixtures are not on this machine.
func NeedDBTPackages(t testing.TB) string {
	t.Helper()
	d, ok := DBTPackages()
	if !ok {
		t.Skipf("the dbt package fixtures are not at %s: set STRATA_DBT_PACKAGES to their folder", d)
	}
	return d
}
