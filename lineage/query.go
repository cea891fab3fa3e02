package lineage

import (
	"fmt"
	"sort"
	"strings"
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
	n := gr.nodes[id]
	if n == nil {
		return NodeRef{ID: id, Name: id, Depth: depth}
	}
	return NodeRef{ID: n.ID, Name: n.Name, Type: n.Type, Path: n.Path, Depth: depth}
}

// Upstream returns what id reads, directly or not, within depth generations (depth < 0:
// all), at most limit nodes (limit <= 0: no cap), the nearest kept first.
func (gr *Graph) Upstream(id string, depth, limit int) Result {
	return gr.reach(id, depth, limit, gr.parents, -1)
}

// Downstream returns what reads id, directly or not, within depth generations (depth < 0:
// all), at most limit nodes (limit <= 0: no cap), the nearest kept first. Tests and
// exposures are included: they are what a change breaks first.
func (gr *Graph) Downstream(id string, depth, limit int) Result {
	return gr.reach(id, depth, limit, gr.kids, 1)
}

func (gr *Graph) reach(root string, depth, limit int, next map[string][]string, sign int) Result {
	res := Result{Root: root, Nodes: []NodeRef{}, Edges: [][2]string{}}
	if gr.nodes[root] == nil {
		return res
	}
	dist := map[string]int{root: 0}
	order := []string{root}
	frontier := []string{root}
	for d := 1; len(frontier) > 0 && (depth < 0 || d <= depth); d++ {
		var nf []string
		for _, id := range frontier {
			for _, n := range next[id] {
				if _, seen := dist[n]; !seen {
					dist[n] = d
					nf = append(nf, n)
				}
			}
		}
		sort.Strings(nf)
		order = append(order, nf...)
		frontier = nf
	}
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
		for _, p := range gr.parents[id] {
			if keep[p] {
				res.Edges = append(res.Edges, [2]string{p, id})
			}
		}
	}
	sortNodeRefs(res.Nodes)
	sortEdges(res.Edges)
	return res
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

func sortNodeRefs(ns []NodeRef) {
	sort.SliceStable(ns, func(i, j int) bool {
		if ns[i].Depth != ns[j].Depth {
			return ns[i].Depth < ns[j].Depth
		}
		return ns[i].ID < ns[j].ID
	})
}

func sortEdges(es [][2]string) {
	sort.Slice(es, func(i, j int) bool {
		if es[i][0] != es[j][0] {
			return es[i][0] < es[j][0]
		}
		return es[i][1] < es[j][1]
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
	return nil, &RefError{Ref: c.String(), Msg: fmt.Sprintf("unknown column %q in %s%s", c.Column, displayID(c.Node), suggestText(c.Column, names))}
}

func sortRefs(rs []ColumnRef) {
	sort.Slice(rs, func(i, j int) bool { return refLess(rs[i], rs[j]) })
}

func refLess(a, b ColumnRef) bool {
	if a.Node != b.Node {
		return a.Node < b.Node
	}
	return a.Column < b.Column
}

func sortColumnNodes(cs []ColumnNode) {
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].Depth != cs[j].Depth {
			return cs[i].Depth < cs[j].Depth
		}
		return refLess(cs[i].Ref(), cs[j].Ref())
	})
}

func sortColumnEdges(es []ColumnEdge) {
	sort.Slice(es, func(i, j int) bool {
		if es[i].From != es[j].From {
			return refLess(es[i].From, es[j].From)
		}
		if es[i].To != es[j].To {
			return refLess(es[i].To, es[j].To)
		}
		return es[i].Kind < es[j].Kind
	})
}

// Path returns a shortest dependency path between two nodes, from first and to last:
// along edges when to reads from (directly or not), against them when from reads to.
// It reports false when neither depends on the other.
func (gr *Graph) Path(from, to string) ([]string, bool) {
	if gr.nodes[from] == nil || gr.nodes[to] == nil {
		return nil, false
	}
	if p := gr.bfsPath(from, to, gr.kids); p != nil {
		return p, true
	}
	if p := gr.bfsPath(from, to, gr.parents); p != nil {
		return p, true
	}
	return nil, false
}

// bfsPath is a breadth-first search: the graph's adjacency lists are built in ID order,
// so the path found among equally short ones is always the same. (The dominikbraun
// ShortestPath runs Dijkstra over a copied adjacency map, O(V log V) per call, and breaks
// ties in map order.)
func (gr *Graph) bfsPath(from, to string, next map[string][]string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if id == to {
			var path []string
			for cur := to; cur != from; cur = prev[cur] {
				path = append(path, cur)
			}
			path = append(path, from)
			for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
				path[i], path[j] = path[j], path[i]
			}
			return path
		}
		for _, n := range next[id] {
			if _, seen := prev[n]; !seen {
				prev[n] = id
				queue = append(queue, n)
			}
		}
	}
	return nil
}

// Roots returns the nodes that read nothing (sources, seeds, models without refs), in
// topological order. Tests are left out.
func (gr *Graph) Roots() []NodeRef {
	out := []NodeRef{}
	for _, id := range gr.order {
		if gr.nodes[id].Type != TypeTest && len(gr.parents[id]) == 0 {
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
		if gr.nodes[id].Type == TypeTest {
			continue
		}
		leaf := true
		for _, k := range gr.kids[id] {
			if gr.nodes[k].Type != TypeTest {
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
		n := gr.nodes[id]
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
	n := gr.nodes[c.Node]
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
	for _, id := range []string{s, SourceID(s), "exposure:" + s} {
		if gr.nodes[id] != nil {
			return id
		}
	}
	return ""
}

// unknown builds the error for a name that resolves to nothing, suggesting the closest
// model (or source table, when the name looks like one).
func (gr *Graph) unknown(s string) error {
	var models, sources []string
	for _, id := range gr.order {
		n := gr.nodes[id]
		switch n.Type {
		case TypeModel, TypeSeed:
			models = append(models, n.Name)
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
		return &RefError{Ref: s, Msg: fmt.Sprintf("unknown source table %q%s", table, suggestText(table, sources))}
	}
	name := parts[0]
	return &RefError{Ref: s, Msg: fmt.Sprintf("unknown model %q%s", name, suggestText(name, models))}
}

// displayID is a node ID as people read it: sources without their "source:" prefix.
func displayID(id string) string { return strings.TrimPrefix(id, "source:") }

// ImpactReport is what changing or dropping one column affects.
type ImpactReport struct {
	Column    ColumnRef      `json:"column"`
	Columns   []ImpactColumn `json:"columns"`   // every downstream column, by depth then name
	Models    []NodeRef      `json:"models"`    // the models holding them, by depth then ID
	Tests     []ImpactTest   `json:"tests"`     // by name
	Exposures []NodeRef      `json:"exposures"` // by name
}

// ImpactColumn is a column downstream of the changed one, with how it is reached.
type ImpactColumn struct {
	ColumnRef
	Type   string `json:"type,omitempty"`
	Depth  int    `json:"depth"`  // hops from the changed column
	Direct bool   `json:"direct"` // it reads the changed column itself, not only through others
	// Via lists the columns between the changed one and this one on a shortest path, and
	// Kinds the kind of each hop along it (len(Via)+1 of them).
	Via   []ColumnRef `json:"via,omitempty"`
	Kinds []EdgeKind  `json:"kinds"`
}

// ImpactTest is a test a change may break, with why.
type ImpactTest struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Path   string `json:"path,omitempty"`
	Model  string `json:"model,omitempty"`  // the node ID the test is attached to
	Column string `json:"column,omitempty"` // the column it tests
	// Reason is "column" (it tests an affected column), "model" (a test of a whole
	// affected model, which may use any column) or "reads" (a singular test, or a test
	// such as relationships, that reads an affected model).
	Reason string `json:"reason"`
}

// Impact returns what changing or dropping column c affects: every column downstream of
// it, the models holding them, the tests on c, on those columns and on those models, and
// the exposures that depend on c's node or on an affected model.
func Impact(gr *Graph, cg *ColumnGraph, c ColumnRef) ImpactReport {
	rep := ImpactReport{Column: c, Columns: []ImpactColumn{}, Models: []NodeRef{}, Tests: []ImpactTest{}, Exposures: []NodeRef{}}
	type step struct {
		prev ColumnRef
		kind EdgeKind
	}
	prev := map[ColumnRef]step{c: {}}
	depth := map[ColumnRef]int{c: 0}
	direct := map[ColumnRef]bool{}
	frontier := []ColumnRef{c}
	var order []ColumnRef
	for d := 1; len(frontier) > 0; d++ {
		var nf []ColumnRef
		for _, cur := range frontier {
			best := map[ColumnRef]EdgeKind{}
			var readers []ColumnRef
			for _, r := range cg.Readers(cur) {
				if k, ok := best[r.From]; !ok {
					best[r.From] = r.Kind
					readers = append(readers, r.From)
				} else if kindRank(r.Kind) < kindRank(k) {
					best[r.From] = r.Kind
				}
			}
			for _, r := range readers {
				if cur == c {
					direct[r] = true
				}
				if _, seen := depth[r]; !seen {
					depth[r] = d
					prev[r] = step{cur, best[r]}
					nf = append(nf, r)
				}
			}
		}
		sortRefs(nf)
		order = append(order, nf...)
		frontier = nf
	}
	affected := map[string]int{c.Node: 0} // node → its nearest depth
	affectedCols := map[ColumnRef]bool{c: true}
	for _, col := range order {
		ic := ImpactColumn{ColumnRef: col, Type: cg.typeOf(col), Depth: depth[col], Direct: direct[col]}
		for cur := col; cur != c; cur = prev[cur].prev {
			ic.Kinds = append([]EdgeKind{prev[cur].kind}, ic.Kinds...)
			if p := prev[cur].prev; p != c {
				ic.Via = append([]ColumnRef{p}, ic.Via...)
			}
		}
		rep.Columns = append(rep.Columns, ic)
		affectedCols[col] = true
		if d, ok := affected[col.Node]; !ok || depth[col] < d {
			affected[col.Node] = depth[col]
		}
	}
	for id, d := range affected {
		if id != c.Node {
			rep.Models = append(rep.Models, gr.Ref(id, d))
		}
	}
	sortNodeRefs(rep.Models)

	for _, id := range gr.order {
		n := gr.nodes[id]
		switch {
		case n.Test != nil:
			if t, ok := gr.impactTest(n, affected, affectedCols); ok {
				rep.Tests = append(rep.Tests, t)
			}
		case n.Exposure != nil:
			best := -1
			for _, p := range gr.parents[id] {
				if d, ok := affected[p]; ok && (best < 0 || d+1 < best) {
					best = d + 1
				}
			}
			if best >= 0 {
				rep.Exposures = append(rep.Exposures, gr.Ref(id, best))
			}
		}
	}
	sort.Slice(rep.Tests, func(i, j int) bool { return rep.Tests[i].Name < rep.Tests[j].Name })
	sort.Slice(rep.Exposures, func(i, j int) bool { return rep.Exposures[i].Name < rep.Exposures[j].Name })
	return rep
}

// impactTest says whether a test may break, and why.
func (gr *Graph) impactTest(n *Node, affected map[string]int, cols map[ColumnRef]bool) (ImpactTest, bool) {
	t := n.Test
	it := ImpactTest{ID: n.ID, Name: n.Name, Path: n.Path, Column: t.Column}
	if t.Model != "" {
		it.Model = t.Model
		if gr.nodes[t.Model] == nil {
			it.Model = SourceID(t.Model) // tests on source tables name them "s.t"
		}
	}
	_, modelHit := affected[it.Model]
	switch {
	case it.Model != "" && t.Column != "" && cols[ColumnRef{Node: it.Model, Column: t.Column}]:
		it.Reason = "column"
	case it.Model != "" && t.Column == "" && modelHit:
		it.Reason = "model"
	default:
		for _, p := range gr.parents[n.ID] {
			if _, ok := affected[p]; ok && (t.Generic == "" || p != it.Model) {
				it.Reason = "reads"
				break
			}
		}
	}
	return it, it.Reason != ""
}

// kindRank orders edge kinds for reporting one kind per hop: values before rows.
func kindRank(k EdgeKind) int {
	switch k {
	case Identity:
		return 0
	case Transformation:
		return 1
	case Aggregation:
		return 2
	case AllColumns:
		return 3
	case Join:
		return 4
	case Filter:
		return 5
	case GroupBy:
		return 6
	case Window:
		return 7
	}
	return 8
}
