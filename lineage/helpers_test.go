package lineage_test

import (
	"testing"

	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// loadGraph loads the project in dir and builds its graph, failing the test on error.
func loadGraph(t testing.TB, dir string) (*models.Project, *lineage.Graph) {
	t.Helper()
	p, err := models.Load(dir, models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := lineage.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, g
}
