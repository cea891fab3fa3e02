package lineage

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/dominikbraun/graph"

	"github.com/stratadata/strata/models"
)

// Queries over the graph, shared by the CLI, the web UI and the MCP server. Every result
// is deterministic: nodes by depth then ID, edges by (from, to), so outputs can be diffed
// and golden-tested.

// NodeRef is a node as a query returns it: enough to list, link and draw it.
type NodeRef struct {
	ID   string   `json:"id"`
	Name string   `json:"name"`
	Type NodeType `json:"type"`
	Path string   `json:"path,omitempty"`
	// Depth is the number of edges from the query's root: negative upstream, positive
	// downstream, 0 for the root (and for Roots, Leaves and Search results).
	Depth int `json:"depth"`
	// Match says what a Search matched: "name", "tag:x", "column:x" or "description".
	Match string `json:"match,omitempty"`
}

// Result is a model-level lineage query: the nodes reached from Root within a depth and
// the dependency edges among them.
type Result struct {
	Root      string      `json:"root"`
	Nodes     []NodeRef   `json:"nodes"` // by depth (upstream first), then ID
	Edges     [][2]string `json:"edges"` // [from, to]: to reads from; sorted
	Truncated bool        `json:"truncated"`
	Total     int         `json:"total"` // nodes reached before the limit, the root included
}

// ColumnNode is a column reached by a column-level query.
type ColumnNode struct {
	Node   string `json:"node"`
	Column string `json:"column"`
	Type   string `json:"type,omitempty"` // the column's data type, when known
	Depth  int    `json:"depth"`          // as NodeRef.Depth
}

// Ref returns the column's reference.
func (c ColumnNode) Ref() ColumnRef { return ColumnRef{Node: c.Node, Column: c.Column} }

// ColumnEdge says To reads From, and how.
type ColumnEdge struct {
	From ColumnRef `json:"from"`
	To   ColumnRef `json:"to"`
	Kind EdgeKind  `json:"kind"`
}

// ColumnResult is a column-level lineage query: the columns reached from Root within a
// depth and the edges among them, one per kind when a column reads another in two ways.
type ColumnResult struct {
	Root      ColumnRef    `json:"root"`
	Columns   []ColumnNode `json:"columns"` // by depth (upstream first), then node and column
	Edges     []ColumnEdge `json:"edges"`   // sorted by from, to, kind
	Truncated bool         `json:"truncated"`
	Total     int          `json:"total"`
}

// Ref returns the query's reference for a node.
func (gr *Graph) Ref(id string, depth int) NodeRef {
	n := gr.Node(id)
	if n == nil {
		return NodeRef{ID: id, Name: id, Depth: depth}
	}
	return NodeRef{ID: n.ID, Name: n.Name, Type: n.Type, Path: n.Path, Depth: depth}
}

// Upstream returns what id reads, directly or not, within depth generations (depth < 0:
// all), at most limit nodes (limit <= 0: no cap), the nearest kept first.
func (gr *Graph) Upstream(id string, depth, limit int) Result {
	return gr.reach(id, depth, limit, gr.up(), -1)
}

// Downstream returns what reads id, directly or not, within depth generations (depth < 0:
// all), at most limit nodes (limit <= 0: no cap), the nearest kept first. Tests and
// exposures are included: they are what a change breaks first.
func (gr *Graph) Downstream(id string, depth, limit int) Result {
	return gr.reach(id, depth, limit, gr.down(), 1)
}

// Around returns what id reads (when up, within upDepth generations) and what reads it
// (when down, within downDepth), in one result; at most limit nodes each way.
func (gr *Graph) Around(id string, up, down bool, upDepth, downDepth, limit int) Result {
	switch {
	case up && down:
		return gr.Upstream(id, upDepth, limit).Merge(gr.Downstream(id, downDepth, limit))
	case up:
		return gr.Upstream(id, upDepth, limit)
	}
	return gr.Downstream(id, downDepth, limit)
}

// Around is Graph.Around for a column.
func (cg *ColumnGraph) Around(c ColumnRef, up, down bool, upDepth, downDepth, limit int) ColumnResult {
	switch {
	case up && down:
		return cg.Upstream(c, upDepth, limit).Merge(cg.Downstream(c, downDepth, limit))
	case up:
		return cg.Upstream(c, upDepth, limit)
	}
	return cg.Downstream(c, downDepth, limit)
}

// Descendants returns every node that reads id, directly or not, nearest first (by
// generation, then ID), with its generation: Downstream without building the answer,
// for callers that only count and classify.
func (gr *Graph) Descendants(id string) ([]string, map[string]int) {
	if gr.Node(id) == nil {
		return nil, nil
	}
	order, dist := gr.distances(id, -1, gr.down())
	return order[1:], dist
}

func (gr *Graph) reach(root string, depth, limit int, next view, sign int) Result {
	res := Result{Root: root, Nodes: []NodeRef{}, Edges: [][2]string{}}
	if gr.Node(root) == nil {
		return res
	}
	order, dist := gr.distances(root, depth, next)
	res.Total = len(order)
	if limit > 0 && len(order) > limit {
		order = order[:limit]
		res.Truncated = true
	}
	keep := make(map[string]bool, len(order))
	for _, id := range order {
		keep[id] = true
		res.Nodes = append(res.Nodes, gr.Ref(id, sign*dist[id]))
	}
	for _, id := range order {
		for p := range gr.parents[id] {
			if keep[p] {
				res.Edges = append(res.Edges, [2]string{p, id})
			}
		}
	}
	sortNodeRefs(res.Nodes)
	sortEdges(res.Edges)
	return res
}

// distances is the library's breadth-first walk from root along next, within depth
// generations (all when depth < 0): the nodes by generation then ID, root first, and
// their generations. (BFSWithDepth's depth counts visits, not generations, so a node's
// generation is taken here: one more than the least of its already visited
// predecessors on the walk, which a breadth-first order has always visited first.)
func (gr *Graph) distances(root string, depth int, next view) ([]string, map[string]int) {
	back := gr.parents
	if next.up {
		back = gr.kids
	}
	dist := map[string]int{}
	var order []string
	_ = graph.BFS[string, *Node](next, root, func(id string) bool {
		d := 0
		if id != root {
			d = -1
			for p := range back[id] {
				if pd, ok := dist[p]; ok && (d < 0 || pd+1 < d) {
					d = pd + 1
				}
			}
		}
		if depth >= 0 && d > depth {
			return true // every node after this one is as far or farther
		}
		dist[id] = d
		order = append(order, id)
		return false
	})
	slices.SortStableFunc(order, func(a, b string) int {
		if c := cmp.Compare(dist[a], dist[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return order, dist
}

// Merge joins an upstream and a downstream result of the same root into one.
func (r Result) Merge(o Result) Result {
	out := Result{Root: r.Root, Truncated: r.Truncated || o.Truncated, Nodes: []NodeRef{}, Edges: [][2]string{}}
	seen := map[string]bool{}
	for _, n := range append(append([]NodeRef{}, r.Nodes...), o.Nodes...) {
		if !seen[n.ID] {
			seen[n.ID] = true
			out.Nodes = append(out.Nodes, n)
		}
	}
	edges := map[[2]string]bool{}
	for _, e := range append(append([][2]string{}, r.Edges...), o.Edges...) {
		if !edges[e] {
			edges[e] = true
			out.Edges = append(out.Edges, e)
		}
	}
	out.Total = r.Total + o.Total
	if r.Total > 0 && o.Total > 0 {
		out.Total-- // the root, counted by both
	}
	sortNodeRefs(out.Nodes)
	sortEdges(out.Edges)
	return out
}

// The sorts use slices.SortFunc: sort.Slice swaps through reflection, which was most of
// a lineage query's time on a large graph.
func sortNodeRefs(ns []NodeRef) {
	slices.SortStableFunc(ns, func(a, b NodeRef) int {
		if a.Depth != b.Depth {
			return cmp.Compare(a.Depth, b.Depth)
		}
		return strings.Compare(a.ID, b.ID)
	})
}

func sortEdges(es [][2]string) {
	slices.SortFunc(es, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
}

// Upstream returns the columns c reads, directly or not, within depth hops (depth < 0:
// all), at most limit columns (limit <= 0: no cap). Indirect inputs (filters, join keys,
// group keys, windows) are followed too: they decide which rows c holds.
func (cg *ColumnGraph) Upstream(c ColumnRef, depth, limit int) ColumnResult {
	return cg.reach(c, depth, limit, cg.up, -1)
}

// Downstream returns the columns that read c, directly or not, within depth hops (depth
// < 0: all), at most limit columns (limit <= 0: no cap).
func (cg *ColumnGraph) Downstream(c ColumnRef, depth, limit int) ColumnResult {
	return cg.reach(c, depth, limit, cg.down, 1)
}

func (cg *ColumnGraph) reach(root ColumnRef, depth, limit int, next map[ColumnRef][]ColumnInput, sign int) ColumnResult {
	res := ColumnResult{Root: root, Columns: []ColumnNode{}, Edges: []ColumnEdge{}}
	dist := map[ColumnRef]int{root: 0}
	order := []ColumnRef{root}
	frontier := []ColumnRef{root}
	for d := 1; len(frontier) > 0 && (depth < 0 || d <= depth); d++ {
		var nf []ColumnRef
		for _, c := range frontier {
			for _, in := range next[c] {
				if _, seen := dist[in.From]; !seen {
					dist[in.From] = d
					nf = append(nf, in.From)
				}
			}
		}
		sortRefs(nf)
		order = append(order, nf...)
		frontier = nf
	}
	res.Total = len(order)
	if limit > 0 && len(order) > limit {
		order = order[:limit]
		res.Truncated = true
	}
	keep := make(map[ColumnRef]bool, len(order))
	for _, c := range order {
		keep[c] = true
		res.Columns = append(res.Columns, ColumnNode{Node: c.Node, Column: c.Column, Type: cg.typeOf(c), Depth: sign * dist[c]})
	}
	for _, c := range order {
		for _, in := range cg.up[c] {
			if keep[in.From] {
				res.Edges = append(res.Edges, ColumnEdge{From: in.From, To: c, Kind: in.Kind})
			}
		}
	}
	sortColumnNodes(res.Columns)
	sortColumnEdges(res.Edges)
	return res
}

// Merge joins an upstream and a downstream result of the same root column into one.
func (r ColumnResult) Merge(o ColumnResult) ColumnResult {
	out := ColumnResult{Root: r.Root, Truncated: r.Truncated || o.Truncated, Columns: []ColumnNode{}, Edges: []ColumnEdge{}}
	seen := map[ColumnRef]bool{}
	for _, c := range append(append([]ColumnNode{}, r.Columns...), o.Columns...) {
		if !seen[c.Ref()] {
			seen[c.Ref()] = true
			out.Columns = append(out.Columns, c)
		}
	}
	edges := map[ColumnEdge]bool{}
	for _, e := range append(append([]ColumnEdge{}, r.Edges...), o.Edges...) {
		if !edges[e] {
			edges[e] = true
			out.Edges = append(out.Edges, e)
		}
	}
	out.Total = r.Total + o.Total
	if r.Total > 0 && o.Total > 0 {
		out.Total--
	}
	sortColumnNodes(out.Columns)
	sortColumnEdges(out.Edges)
	return out
}

func (cg *ColumnGraph) typeOf(c ColumnRef) string {
	if n := cg.Nodes[c.Node]; n != nil {
		if col := n.Column(c.Column); col != nil {
			return col.Type
		}
	}
	return ""
}

// Column returns a column's lineage, or an error naming the closest column when the node
// has no such column.
func (cg *ColumnGraph) Column(c ColumnRef) (*Column, error) {
	n := cg.Nodes[c.Node]
	if n == nil {
		return nil, &RefError{Ref: c.String(), Msg: fmt.Sprintf("no column lineage for %s: it failed to analyze, or it has no columns", displayID(c.Node))}
	}
	if col := n.Column(c.Column); col != nil {
		return col, nil
	}
	for i := range n.Columns { // DuckDB identifiers are case-insensitive
		if strings.EqualFold(n.Columns[i].Name, c.Column) {
			return &n.Columns[i], nil
		}
	}
	names := make([]string, len(n.Columns))
	for i, col := range n.Columns {
		names[i] = col.Name
	}
	return nil, &RefError{Ref: c.String(), Msg: fmt.Sprintf("unknown column %q in %s%s", c.Column, displayID(c.Node), models.DidYouMean(c.Column, names))}
}

func sortRefs(rs []ColumnRef) { slices.SortFunc(rs, compareRefs) }

func refLess(a, b ColumnRef) bool {
	if a.Node != b.Node {
		return a.Node < b.Node
	}
	return a.Column < b.Column
}

func compareRefs(a, b ColumnRef) int {
	if c := strings.Compare(a.Node, b.Node); c != 0 {
		return c
	}
	return strings.Compare(a.Column, b.Column)
}

func sortColumnNodes(cs []ColumnNode) {
	slices.SortStableFunc(cs, func(a, b ColumnNode) int {
		if a.Depth != b.Depth {
			return cmp.Compare(a.Depth, b.Depth)
		}
		return compareRefs(a.Ref(), b.Ref())
	})
}

func sortColumnEdges(es []ColumnEdge) {
	slices.SortFunc(es, func(a, b ColumnEdge) int {
		if c := compareRefs(a.From, b.From); c != 0 {
			return c
		}
		if c := compareRefs(a.To, b.To); c != 0 {
			return c
		}
		return strings.Compare(string(a.Kind), string(b.Kind))
	})
}
