package lineage

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dominikbraun/graph"

	"github.com/stratadata/strata/models"
)

// CycleError says the refs loop. Nodes is one cycle in ref order, first node repeated
// last; Cycles lists every group of nodes that loop among themselves (the graph's
// strongly connected components with more than one node, or a node reading itself), so
// one run names every model to fix, not only the first loop found.
type CycleError struct {
	Nodes  []string
	Paths  []string   // the file of each node on the cycle
	Pos    models.Pos // the ref in the first node that closes the cycle, when known
	Cycles [][]string // every node on a cycle, by component; components and nodes by ID
}

func (e *CycleError) Error() string {
	where := e.Paths[0]
	if e.Pos.Line > 0 {
		where = fmt.Sprintf("%s:%d:%d", e.Pos.File, e.Pos.Line, e.Pos.Col)
	}
	msg := fmt.Sprintf("%s: dependency cycle: %s; remove one of these refs to break it",
		where, strings.Join(e.Nodes, " → "))
	if len(e.Cycles) > 1 {
		var others []string
		for _, c := range e.Cycles {
			if !slices.Contains(c, e.Nodes[0]) {
				others = append(others, strings.Join(c, ", "))
			}
		}
		msg += fmt.Sprintf(" (and %d more: %s)", len(others), strings.Join(others, "; "))
	}
	return msg
}

// cycleError reports the loops Kahn's sort could not order: the strongly connected
// components (Tarjan's, from the library, linear), and within the first of them, a
// cycle in ref order.
func (gr *Graph) cycleError() error {
	sccs, err := graph.StronglyConnectedComponents[string, *Node](gr.down())
	if err != nil {
		return err
	}
	e := &CycleError{}
	for _, c := range sccs {
		if len(c) > 1 || gr.HasEdge(c[0], c[0]) {
			slices.Sort(c)
			e.Cycles = append(e.Cycles, c)
		}
	}
	slices.SortFunc(e.Cycles, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	e.Nodes = gr.cycleIn(e.Cycles[0])
	for _, id := range e.Nodes {
		e.Paths = append(e.Paths, gr.Node(id).Path)
	}
	// Nodes is a → b → … → a along edges (b reads a): the first node's ref to the one
	// before it on the cycle closes the loop
	if len(e.Nodes) >= 3 {
		if m := gr.Node(e.Nodes[0]).Model; m != nil {
			for _, r := range m.Refs {
				if r.Name == e.Nodes[len(e.Nodes)-2] {
					e.Pos = r.Pos
					break
				}
			}
		}
	}
	return e
}

// cycleIn walks one component from its first node, always to the first-named next node
// inside it, until it comes back to a node it has seen: a cycle, the same every run.
func (gr *Graph) cycleIn(comp []string) []string {
	if len(comp) == 1 {
		return []string{comp[0], comp[0]}
	}
	in := make(map[string]bool, len(comp))
	for _, id := range comp {
		in[id] = true
	}
	at := map[string]int{}
	var walk []string
	for id := comp[0]; ; {
		if i, seen := at[id]; seen {
			return append(walk[i:], id)
		}
		at[id] = len(walk)
		walk = append(walk, id)
		for _, k := range gr.Children(id) {
			if in[k] {
				id = k
				break
			}
		}
	}
}
