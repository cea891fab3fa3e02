package lineage

import (
	"fmt"

	"github.com/dominikbraun/graph"
)

// Simplify drops the edges of a result that another path in it already implies (a
// reads b directly and through c: the direct edge goes), leaving the fewest edges that
// say the same dependencies: the library's TransitiveReduction on the result's own
// nodes, never the whole graph (it is O(V·(V+E))). A dense diagram reads better so; the
// nodes and depths are unchanged.
func (r Result) Simplify() (Result, error) {
	g := graph.New(graph.StringHash, graph.Directed())
	for _, n := range r.Nodes {
		_ = g.AddVertex(n.ID)
	}
	for _, e := range r.Edges {
		_ = g.AddEdge(e[0], e[1])
	}
	red, err := graph.TransitiveReduction(g)
	if err != nil {
		return r, fmt.Errorf("simplify the lineage of %s: %w", r.Root, err)
	}
	out := r
	out.Edges = [][2]string{}
	for _, e := range r.Edges {
		if _, err := red.Edge(e[0], e[1]); err == nil {
			out.Edges = append(out.Edges, e)
		}
	}
	return out, nil
}
