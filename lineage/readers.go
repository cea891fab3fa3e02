package lineage

import "strings"

// Readers is what reads a node, split as a model's page and get_model list it: its tests
// (generic and unit tests, by name), the generic tests of each of its own columns (by the
// column's lower-case name), and the other nodes that read it.
type Readers struct {
	Tests      []string
	ColumnTest map[string][]string
	Downstream []string
}

// ReadersOf is what reads a node. A relationships test is a child of the node it refers
// to as well; its column is the tested model's, so it is not listed under this node's
// columns.
func (gr *Graph) ReadersOf(id string) Readers {
	r := Readers{Tests: []string{}, ColumnTest: map[string][]string{}, Downstream: []string{}}
	for _, kid := range gr.Children(id) {
		kn := gr.Node(kid)
		switch kn.Type {
		case TypeUnitTest:
			r.Tests = append(r.Tests, kn.Name) // runs before its model: no page of its own
		case TypeTest:
			r.Tests = append(r.Tests, kn.Name)
			if c := strings.ToLower(kn.Test.Column); c != "" && (kn.Test.Model == id || SourceID(kn.Test.Model) == id) {
				r.ColumnTest[c] = append(r.ColumnTest[c], kn.Test.Generic)
			}
		default:
			r.Downstream = append(r.Downstream, kn.Name)
		}
	}
	return r
}
