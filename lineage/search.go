package lineage

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dominikbraun/graph"

	"github.com/stratadata/strata/models"
)

// Path returns a shortest dependency path between two nodes, from first and to last:
// along edges when to reads from (directly or not), against them when from reads to.
// It reports false when neither depends on the other.
func (gr *Graph) Path(from, to string) ([]string, bool) {
	if gr.Node(from) == nil || gr.Node(to) == nil {
		return nil, false
	}
	if p := gr.shortest(gr.down(), from, to); p != nil {
		return p, true
	}
	if p := gr.shortest(gr.up(), from, to); p != nil {
		return p, true
	}
	return nil, false
}

// shortest is the library's ShortestPath on the focused subgraph: the nodes on a
// shortest walk from one node to the other along next (their distance from from and
// to to adds up to the shortest), each keeping only its first parent by ID among them,
// so of equally short paths the same one is found every time, and the search never
// touches the rest of a large graph.
func (gr *Graph) shortest(next view, from, to string) []string {
	if from == to {
		return []string{from}
	}
	back := gr.up()
	if next.up {
		back = gr.down()
	}
	_, fromDist := gr.distances(from, -1, next)
	d, ok := fromDist[to]
	if !ok {
		return nil
	}
	_, toDist := gr.distances(to, d, back)
	on := func(id string) bool {
		f, ok1 := fromDist[id]
		t, ok2 := toDist[id]
		return ok1 && ok2 && f+t == d
	}
	adj := map[string]map[string]graph.Edge[string]{}
	for id := range toDist {
		if on(id) {
			adj[id] = map[string]graph.Edge[string]{}
		}
	}
	for id := range adj {
		if id == from {
			continue
		}
		var first string
		for p := range back.adj[id] {
			if on(p) && fromDist[p] == fromDist[id]-1 && (first == "" || p < first) {
				first = p
			}
		}
		adj[first][id] = graph.Edge[string]{Source: first, Target: id}
	}
	path, err := graph.ShortestPath[string, *Node](view{gr.g, adj, next.up}, from, to)
	if err != nil {
		return nil
	}
	return path
}

// Roots returns the nodes that read nothing (sources, seeds, models without refs), in
// topological order. Tests are left out.
func (gr *Graph) Roots() []NodeRef {
	out := []NodeRef{}
	for _, id := range gr.order {
		if gr.Node(id).Type != TypeTest && len(gr.parents[id]) == 0 {
			out = append(out, gr.Ref(id, 0))
		}
	}
	return out
}

// Leaves returns the nodes nothing reads but tests (final models, exposures), in
// topological order. Tests are left out.
func (gr *Graph) Leaves() []NodeRef {
	out := []NodeRef{}
	for _, id := range gr.order {
		if gr.Node(id).Type == TypeTest {
			continue
		}
		leaf := true
		for k := range gr.kids[id] {
			if gr.Node(k).Type != TypeTest {
				leaf = false
				break
			}
		}
		if leaf {
			out = append(out, gr.Ref(id, 0))
		}
	}
	return out
}

// Search returns the nodes whose name, tags, column names or description contain q,
// ignoring case: name matches first (exact, prefix, anywhere), then tags, columns and
// descriptions, ties by ID. Columns are the documented ones, and those the analysis found
// when cg is not nil.
func (gr *Graph) Search(q string, cg *ColumnGraph) []NodeRef {
	q = strings.ToLower(strings.TrimSpace(q))
	out := []NodeRef{}
	if q == "" {
		return out
	}
	type hit struct {
		ref  NodeRef
		rank int
	}
	var hits []hit
	for _, id := range gr.order {
		n := gr.Node(id)
		rank, match := searchNode(n, q, cg)
		if rank < 0 {
			continue
		}
		ref := gr.Ref(id, 0)
		ref.Match = match
		hits = append(hits, hit{ref, rank})
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].rank != hits[j].rank {
			return hits[i].rank < hits[j].rank
		}
		return hits[i].ref.ID < hits[j].ref.ID
	})
	for _, h := range hits {
		out = append(out, h.ref)
	}
	return out
}

// searchNode ranks how a node matches a lowercase query; -1 when it does not.
func searchNode(n *Node, q string, cg *ColumnGraph) (int, string) {
	name := strings.ToLower(n.Name)
	switch {
	case name == q:
		return 0, "name"
	case strings.HasPrefix(name, q):
		return 1, "name"
	case strings.Contains(name, q):
		return 2, "name"
	}
	for _, t := range n.Tags {
		if strings.Contains(strings.ToLower(t), q) {
			return 3, "tag:" + t
		}
	}
	var cols []string
	var desc string
	switch {
	case n.Model != nil:
		desc = n.Model.Description
		for _, c := range n.Model.Columns {
			cols = append(cols, c.Name)
		}
	case n.Source != nil:
		desc = n.Source.Description
		for _, c := range n.Source.Columns {
			cols = append(cols, c.Name)
		}
	case n.Exposure != nil:
		desc = n.Exposure.Description
	}
	if cg != nil {
		if nc := cg.Nodes[n.ID]; nc != nil {
			for _, c := range nc.Columns {
				cols = append(cols, c.Name)
			}
		}
	}
	for _, c := range cols {
		if strings.Contains(strings.ToLower(c), q) {
			return 4, "column:" + c
		}
	}
	if desc != "" && strings.Contains(strings.ToLower(desc), q) {
		return 5, "description"
	}
	return -1, ""
}

// RefError says a typed node or column name matches nothing; Msg names the closest
// match when there is one.
type RefError struct {
	Ref string
	Msg string
}

func (e *RefError) Error() string { return e.Msg }

// ParseRef resolves what a user typed to a node and, optionally, one of its columns:
// "orders", "orders.amount", "shop.payments" (a source table), "shop.payments.amount", or
// a node ID ("source:shop.payments", "exposure:weekly", "test:…"). Column is "" when s
// names a node. The column itself is not checked here: ColumnGraph.Column does that.
func ParseRef(gr *Graph, s string) (ColumnRef, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return ColumnRef{}, &RefError{Ref: s, Msg: "empty name: give a model, source table or column, e.g. orders or orders.amount"}
	}
	if id := gr.resolveNode(s); id != "" {
		return ColumnRef{Node: id}, nil
	}
	if i := strings.LastIndexByte(s, '.'); i > 0 && i < len(s)-1 {
		if id := gr.resolveNode(s[:i]); id != "" {
			return ColumnRef{Node: id, Column: s[i+1:]}, nil
		}
	}
	return ColumnRef{}, gr.unknown(s)
}

// ParseColumnRef is ParseRef for a column ("orders.amount", "shop.payments.amount"): it
// fails when s names a node without a column, or a test or exposure (they have none).
func ParseColumnRef(gr *Graph, s string) (ColumnRef, error) {
	c, err := ParseRef(gr, s)
	if err != nil {
		return c, err
	}
	n := gr.Node(c.Node)
	switch {
	case n.Type == TypeTest || n.Type == TypeExposure:
		return c, &RefError{Ref: s, Msg: fmt.Sprintf("%s %q has no columns: name a model, seed or source column", n.Type, n.Name)}
	case c.Column == "":
		return c, &RefError{Ref: s, Msg: fmt.Sprintf("%q is a %s, not a column: write %s.<column>", s, n.Type, n.Name)}
	}
	return c, nil
}

// resolveNode finds the node a name stands for, or "".
func (gr *Graph) resolveNode(s string) string {
	for _, id := range []string{s, SourceID(s), "exposure:" + s, string(TypeMetric) + ":" + s, string(TypeSemanticModel) + ":" + s, string(TypeSavedQuery) + ":" + s} {
		if gr.Node(id) != nil {
			return id
		}
	}
	return ""
}

// unknown builds the error for a name that resolves to nothing, suggesting the closest
// model (or source table, when the name looks like one).
func (gr *Graph) unknown(s string) error {
	var names, sources []string
	for _, id := range gr.order {
		n := gr.Node(id)
		switch n.Type {
		case TypeModel, TypeSeed, TypeSnapshot:
			names = append(names, n.Name)
		case TypeSource:
			sources = append(sources, n.Name)
		}
	}
	parts := strings.Split(s, ".")
	sourceNames := map[string]bool{}
	for _, src := range sources {
		sourceNames[strings.SplitN(src, ".", 2)[0]] = true
	}
	if len(parts) >= 3 || (len(parts) == 2 && sourceNames[parts[0]]) {
		table := parts[0] + "." + parts[1]
		return &RefError{Ref: s, Msg: fmt.Sprintf("unknown source table %q%s", table, models.DidYouMean(table, sources))}
	}
	name := parts[0]
	return &RefError{Ref: s, Msg: fmt.Sprintf("unknown model %q%s", name, models.DidYouMean(name, names))}
}

// displayID is a node ID as people read it: sources without their "source:" prefix.
func displayID(id string) string { return strings.TrimPrefix(id, "source:") }
