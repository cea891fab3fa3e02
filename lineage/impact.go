package lineage

import (
	"slices"
	"sort"
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
	rep.ColumnsTotal = len(order)
	for i, col := range order {
		affectedCols[col] = true
		if d, ok := affected[col.Node]; !ok || depth[col] < d {
			affected[col.Node] = depth[col]
		}
		if n >= 0 && i >= n {
			continue
		}
		ic := ImpactColumn{ColumnRef: col, Type: cg.typeOf(col), Depth: depth[col], Direct: direct[col]}
		for cur := col; cur != c; cur = prev[cur].prev {
			ic.Kinds = append(ic.Kinds, prev[cur].kind)
			if p := prev[cur].prev; p != c {
				ic.Via = append(ic.Via, p)
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
