package models

import (
	"slices"
	"testing"
)

// TestModelNamesKept: the kept list of names follows the models: one swapped for
// another (the same count), one added, one removed, and a caller's changes to its copy.
func TestModelNamesKept(t *testing.T) {
	p := &Project{Models: map[string]*Model{"b": {}, "a": {}, "c": {}}}
	check := func(want ...string) {
		t.Helper()
		if got := p.ModelNames(); !slices.Equal(got, want) {
			t.Errorf("ModelNames() = %v, want %v", got, want)
		}
	}
	check("a", "b", "c")
	names := p.ModelNames()
	names[0] = "zzz"
	check("a", "b", "c")
	delete(p.Models, "b")
	p.Models["d"] = &Model{}
	check("a", "c", "d")
	p.Models["0"] = &Model{}
	check("0", "a", "c", "d")
	delete(p.Models, "a")
	check("0", "c", "d")
}
