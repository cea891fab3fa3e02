package lineage

import (
	"slices"
	"strings"
)

// ImpactReport is what changing or dropping one column affects.
type ImpactReport struct {
	Column    ColumnRef      `json:"column"`
	Columns   []ImpactColumn `json:"columns"`   // every downstream column, by depth then name
	Models    []NodeRef      `json:"models"`    // the models holding them, by depth then ID
	Tests     []ImpactTest   `json:"tests"`     // by name
	Exposures []NodeRef      `json:"exposures"` // by name
	// ColumnsTotal counts every downstream column, listed or not (ImpactN lists the
	// nearest n).
	ColumnsTotal int `json:"columns_total"`
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
func Impact(gr *Graph, cg *ColumnGraph, c ColumnRef) ImpactReport { return ImpactN(gr, cg, c, -1) }

// ImpactN is Impact listing only the n nearest columns (all when n < 0), each with the
// path it is reached by; the models, tests and exposures are always complete. On a deep
// graph a far column's path is as long as the graph is deep: listing every one costs
// their depth each.
func ImpactN(gr *Graph, cg *ColumnGraph, c ColumnRef, n int) ImpactReport {
	rep := ImpactReport{Column: c, Columns: []ImpactColumn{}, Models: []NodeRef{}, Tests: []ImpactTest{}, Exposures: []NodeRef{}}
	// one visit per column reached, by the columns' integer ids: a wide column reaches
	// tens of thousands
	type visit struct {
		col    int32
		prev   int // the visit it was reached from; -1 for c
		kind   EdgeKind
		depth  int
		direct bool
	}
	seen := make([]int32, len(cg.refs)) // a column's visit + 1; 0 when not reached
	root, ok := cg.ids[c]
	visits := []visit{{col: root, prev: -1}}
	if ok {
		seen[root] = 1
	}
	frontier := []int{0}
	var readers []reader
	for d := 1; ok && len(frontier) > 0; d++ {
		start := len(visits)
		for _, cur := range frontier {
			// each reader once, by its strongest kind of edge
			readers = readers[:0]
		inputs:
			for _, r := range cg.readers[visits[cur].col] {
				for k := range readers {
					if readers[k].col == r.col {
						if kindRank(r.kind) < kindRank(readers[k].kind) {
							readers[k].kind = r.kind
						}
						continue inputs
					}
				}
				readers = append(readers, r)
			}
			for _, r := range readers {
				if seen[r.col] == 0 {
					seen[r.col] = int32(len(visits)) + 1
					visits = append(visits, visit{col: r.col, prev: cur, kind: r.kind, depth: d, direct: cur == 0})
				} else if cur == 0 {
					visits[seen[r.col]-1].direct = true
				}
			}
		}
		level := visits[start:]
		slices.SortFunc(level, func(a, b visit) int { return int(cg.rank[a.col] - cg.rank[b.col]) })
		frontier = frontier[:0]
		for k := start; k < len(visits); k++ {
			seen[visits[k].col] = int32(k) + 1 // sorting moved them
			frontier = append(frontier, k)
		}
	}
	reached := func(col ColumnRef) bool {
		i, ok := cg.ids[col]
		return col == c || ok && seen[i] > 0
	}
	affected := map[string]int{c.Node: 0} // node → its nearest depth
	rep.ColumnsTotal = len(visits) - 1
	last := ""
	for i, v := range visits[1:] {
		ref := cg.refs[v.col]
		if ref.Node != last { // a level's columns come node by node: one lookup per node
			if d, ok := affected[ref.Node]; !ok || v.depth < d {
				affected[ref.Node] = v.depth
			}
			last = ref.Node
		}
		if n >= 0 && i >= n {
			continue
		}
		ic := ImpactColumn{ColumnRef: ref, Type: cg.typeOf(ref), Depth: v.depth, Direct: v.direct}
		for cur := i + 1; cur != 0; cur = visits[cur].prev {
			ic.Kinds = append(ic.Kinds, visits[cur].kind)
			if p := visits[cur].prev; p != 0 {
				ic.Via = append(ic.Via, cg.refs[visits[p].col])
			}
		}
		slices.Reverse(ic.Kinds)
		slices.Reverse(ic.Via)
		rep.Columns = append(rep.Columns, ic)
	}
	for id, d := range affected {
		if id != c.Node {
			rep.Models = append(rep.Models, gr.Ref(id, d))
		}
	}
	sortNodeRefs(rep.Models)

	// what a change can break reads an affected node: the tests and exposures among
	// their children
	looked := map[string]bool{}
	for a := range affected {
		for id := range gr.kids[a] {
			n := gr.Node(id)
			if n == nil || looked[id] || n.Test == nil && n.Exposure == nil {
				continue
			}
			looked[id] = true
			gr.impactOn(&rep, n, affected, reached)
		}
	}
	slices.SortFunc(rep.Tests, func(a, b ImpactTest) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(rep.Exposures, func(a, b NodeRef) int { return strings.Compare(a.Name, b.Name) })
	return rep
}

// impactOn adds a test or an exposure that reads an affected node, when the change may
// break it.
func (gr *Graph) impactOn(rep *ImpactReport, n *Node, affected map[string]int, reached func(ColumnRef) bool) {
	if n.Test != nil {
		if t, ok := gr.impactTest(n, affected, reached); ok {
			rep.Tests = append(rep.Tests, t)
		}
		return
	}
	best := -1
	for p := range gr.parents[n.ID] {
		if d, ok := affected[p]; ok && (best < 0 || d+1 < best) {
			best = d + 1
		}
	}
	if best >= 0 {
		rep.Exposures = append(rep.Exposures, gr.Ref(n.ID, best))
	}
}

// impactTest says whether a test may break, and why.
func (gr *Graph) impactTest(n *Node, affected map[string]int, reached func(ColumnRef) bool) (ImpactTest, bool) {
	t := n.Test
	it := ImpactTest{ID: n.ID, Name: n.Name, Path: n.Path, Column: t.Column}
	if t.Model != "" {
		it.Model = t.Model
		if gr.Node(t.Model) == nil {
			it.Model = SourceID(t.Model) // tests on source tables name them "s.t"
		}
	}
	_, modelHit := affected[it.Model]
	switch {
	case it.Model != "" && t.Column != "" && reached(ColumnRef{Node: it.Model, Column: t.Column}):
		it.Reason = "column"
	case it.Model != "" && t.Column == "" && modelHit:
		it.Reason = "model"
	default:
		for p := range gr.parents[n.ID] {
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
