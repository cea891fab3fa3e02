// Package testgraph loads test projects into graphs (testproj writes them; it cannot
// import models, whose own tests use it).
package testgraph

import (
	"testing"

	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// Load loads the project in dir and builds its graph, failing the test on error.
func Load(t testing.TB, dir string) (*models.Project, *lineage.Graph) {
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
