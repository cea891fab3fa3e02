package lineage

import (
	"slices"
	"sort"

	"github.com/stratadata/strata/models"
)

// EdgeKind says how an input column reaches an output column.
type EdgeKind string

// Direct kinds carry the value; indirect kinds decide which rows or groups exist.
const (
	Identity       EdgeKind = "identity"       // the value is passed through unchanged
	Transformation EdgeKind = "transformation" // the value is computed from it (cast, arithmetic, function)
	Aggregation    EdgeKind = "aggregation"    // the value aggregates it (sum, count, window aggregate)
	Filter         EdgeKind = "filter"         // indirect: WHERE, HAVING, QUALIFY
	Join           EdgeKind = "join"           // indirect: a join condition or USING column
	GroupBy        EdgeKind = "group_by"       // indirect: a GROUP BY key
	Window         EdgeKind = "window"         // indirect: a window's PARTITION BY / ORDER BY
	AllColumns     EdgeKind = "all_columns"    // degraded: the column may depend on any column of the input
)

// Indirect reports whether a kind decides rows rather than carrying values.
func (k EdgeKind) Indirect() bool {
	return k == Filter || k == Join || k == GroupBy || k == Window
}

// ColumnRef names one column of a graph node (a model, seed or "source:s.t").
type ColumnRef struct {
	Node   string `json:"node"`
	Column string `json:"column"`
}

// String is "node.column".
func (c ColumnRef) String() string { return c.Node + "." + c.Column }

// ColumnInput is one input of an output column.
type ColumnInput struct {
	From ColumnRef `json:"from"`
	Kind EdgeKind  `json:"kind"`
}

// Column is one output column of a node, with its type and inputs.
type Column struct {
	Name   string        `json:"name"`
	Type   string        `json:"type"`
	Inputs []ColumnInput `json:"inputs,omitempty"`
}

// NodeColumns is what the shadow catalog learned of one node: its output columns and
// their lineage, the tables its SQL reads without ref() or source(), and where the
// analysis had to degrade.
type NodeColumns struct {
	Node       string   `json:"node"`
	Columns    []Column `json:"columns"`
	Undeclared []string `json:"undeclared,omitempty"` // relations read without ref()/source()
	Notes      []string `json:"notes,omitempty"`      // why some lineage is coarser than exact
}

// Column returns a column by name, or nil.
func (n *NodeColumns) Column(name string) *Column {
	if n == nil {
		return nil
	}
	for i := range n.Columns {
		if n.Columns[i].Name == name {
			return &n.Columns[i]
		}
	}
	return nil
}

// ColumnGraph indexes column edges both ways for queries.
type ColumnGraph struct {
	Nodes map[string]*NodeColumns // by node ID
	up    map[ColumnRef][]ColumnInput
	down  map[ColumnRef][]ColumnInput // From is the reader here

	// the same downstream edges by integer id, for walks over tens of thousands of
	// columns (impact): ids[c] indexes refs and readers
	ids     map[ColumnRef]int32
	refs    []ColumnRef
	rank    []int32 // each id's place in (node, column) order
	readers [][]reader
}

// reader is a downstream edge by id: the column that reads, and how.
type reader struct {
	col  int32
	kind EdgeKind
}

func (cg *ColumnGraph) id(c ColumnRef) int32 {
	if i, ok := cg.ids[c]; ok {
		return i
	}
	i := int32(len(cg.refs))
	cg.ids[c] = i
	cg.refs = append(cg.refs, c)
	cg.readers = append(cg.readers, nil)
	return i
}

// NewColumnGraph indexes the columns of every node.
func NewColumnGraph(nodes map[string]*NodeColumns) *ColumnGraph {
	cg := &ColumnGraph{Nodes: nodes, up: map[ColumnRef][]ColumnInput{}, down: map[ColumnRef][]ColumnInput{}}
	for id, n := range nodes {
		for _, c := range n.Columns {
			to := ColumnRef{Node: id, Column: c.Name}
			for _, in := range c.Inputs {
				cg.up[to] = append(cg.up[to], in)
				cg.down[in.From] = append(cg.down[in.From], ColumnInput{From: to, Kind: in.Kind})
			}
		}
	}
	for _, m := range []map[ColumnRef][]ColumnInput{cg.up, cg.down} {
		for k := range m {
			list := m[k]
			sort.Slice(list, func(i, j int) bool {
				if list[i].From != list[j].From {
					return list[i].From.String() < list[j].From.String()
				}
				return list[i].Kind < list[j].Kind
			})
		}
	}
	cg.ids = make(map[ColumnRef]int32, len(cg.down)+len(cg.up))
	for from, list := range cg.down {
		f := cg.id(from)
		for _, in := range list {
			cg.readers[f] = append(cg.readers[f], reader{col: cg.id(in.From), kind: in.Kind})
		}
	}
	order := make([]int32, len(cg.refs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return compareRefs(cg.refs[a], cg.refs[b]) })
	cg.rank = make([]int32, len(cg.refs))
	for r, id := range order {
		cg.rank[id] = int32(r)
	}
	return cg
}

// Inputs returns the columns a column reads, with how.
func (cg *ColumnGraph) Inputs(c ColumnRef) []ColumnInput { return cg.up[c] }

// Readers returns the columns that read a column, with how (From is the reader).
func (cg *ColumnGraph) Readers(c ColumnRef) []ColumnInput { return cg.down[c] }

// Compose is the kind of a two-hop edge (outer reads inner's column through a model in
// between): a row-deciding hop decides rows, else the stronger value hop wins.
func Compose(outer, inner EdgeKind) EdgeKind {
	switch {
	case outer.Indirect():
		return outer
	case inner.Indirect():
		return inner
	case outer == AllColumns || inner == AllColumns:
		return AllColumns
	case outer == Aggregation || inner == Aggregation:
		return Aggregation
	case outer == Transformation || inner == Transformation:
		return Transformation
	}
	return Identity
}

// PhysicalInputs replaces inputs read from ephemeral models with what those models read,
// recursively, composing the kinds of the hops: what a built relation really reads.
func (gr *Graph) PhysicalInputs(cols map[string]*NodeColumns, ins []ColumnInput) []ColumnInput {
	return gr.physicalInputs(cols, ins, 0)
}

func (gr *Graph) physicalInputs(cols map[string]*NodeColumns, ins []ColumnInput, depth int) []ColumnInput {
	var out []ColumnInput
	for _, in := range ins {
		n := gr.Node(in.From.Node)
		if n == nil || n.Model == nil || n.Model.Kind != models.KindEphemeral || depth > 32 {
			out = append(out, in)
			continue
		}
		col := cols[in.From.Node].Column(in.From.Column)
		if col == nil {
			continue
		}
		for _, inner := range gr.physicalInputs(cols, col.Inputs, depth+1) {
			out = append(out, ColumnInput{From: inner.From, Kind: Compose(in.Kind, inner.Kind)})
		}
	}
	return out
}
