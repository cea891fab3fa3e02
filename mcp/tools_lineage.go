package mcp

import (
	"context"
	"fmt"
	"slices"
	"sort"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/stratadata/strata/lineage"
)

const (
	defaultNodes = 100 // nodes (or columns) a lineage answer lists by default
	maxNodes     = 500
)

type lineageIn struct {
	Node      string `json:"node" jsonschema:"a model (orders), source table (shop.payments) or column (orders.amount)"`
	Direction string `json:"direction,omitempty" jsonschema:"up (what it reads), down (what reads it) or both (the default)"`
	Depth     int    `json:"depth,omitempty" jsonschema:"generations each way; 2 by default, -1 for all"`
	Limit     int    `json:"limit,omitempty" jsonschema:"nodes each way at most, 100 by default, 500 at most"`
}

type lineageOut struct {
	Model  *lineage.Result       `json:"model,omitempty"`  // when node is a model
	Column *lineage.ColumnResult `json:"column,omitempty"` // when node is a column
}

type columnLineageIn struct {
	Column    string `json:"column" jsonschema:"the column: model.column or source.table.column"`
	Direction string `json:"direction,omitempty" jsonschema:"up (the default: where it comes from), down or both"`
	Depth     int    `json:"depth,omitempty" jsonschema:"hops; -1 (the default) for all"`
}

// Hop is one edge of a column's lineage: to reads from, and how.
type Hop struct {
	From  string           `json:"from"`
	To    string           `json:"to"`
	Kind  lineage.EdgeKind `json:"kind"`
	Depth int              `json:"depth"`
}

type columnLineageOut struct {
	Column     string   `json:"column"`
	Type       string   `json:"type,omitempty"`
	Hops       []Hop    `json:"hops"`
	Unresolved []string `json:"unresolved"` // what strata could not trace exactly, by model
	Truncated  bool     `json:"truncated"`
	Total      int      `json:"total"`
}

type impactIn struct {
	Target string `json:"target" jsonschema:"a column (stg_payments.amount) or a model (stg_payments)"`
	Limit  int    `json:"limit,omitempty" jsonschema:"items per list at most, 100 by default"`
}

// Affected is a model a change affects, with its distance.
type Affected struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Path     string `json:"path,omitempty"`
	Distance int    `json:"distance"`
}

type impactOut struct {
	Target    string                 `json:"target"`
	Models    []Affected             `json:"models"`
	Columns   []lineage.ImpactColumn `json:"columns"`
	Tests     []lineage.ImpactTest   `json:"tests"`
	Exposures []Affected             `json:"exposures"`
	Totals    map[string]int         `json:"totals"`
	Truncated bool                   `json:"truncated"`
}

type pathIn struct {
	From string `json:"from" jsonschema:"the upstream node"`
	To   string `json:"to" jsonschema:"the downstream node"`
}

type pathOut struct {
	Found bool `json:"found"`
	// Direction is down when the path follows the data (to reads from, directly or
	// not), up when from reads to.
	Direction string            `json:"direction,omitempty"`
	Path      []lineage.NodeRef `json:"path"`
}

func (s *Server) addLineageTools() {
	tool(s, &sdk.Tool{Name: "get_lineage", Annotations: readOnly("Lineage of a model or column"),
		Description: "What a model or column reads and what reads it, up to a depth each way. Capped: truncated and total say when it cut."},
		s.getLineage)
	tool(s, &sdk.Tool{Name: "get_column_lineage", Annotations: readOnly("Column lineage, hop by hop"),
		Description: "Each hop of a column's lineage with its edge kind (identity, transformation, aggregation; filter, join, group_by, window are indirect) and what could not be traced exactly."},
		s.getColumnLineage)
	tool(s, &sdk.Tool{Name: "impact_analysis", Annotations: readOnly("What a change breaks"),
		Description: "Everything downstream of a column or model that a change or a drop would affect — models, columns, tests, exposures — nearest first."},
		s.impact)
	tool(s, &sdk.Tool{Name: "lineage_path", Annotations: readOnly("Path between two nodes"),
		Description: "The shortest dependency path between two nodes, when one depends on the other: direction down when the data flows from the first to the second, up when the first reads the second."},
		s.path)
}

func direction(d string, def string) (bool, bool, error) {
	if d == "" {
		d = def
	}
	switch d {
	case "up":
		return true, false, nil
	case "down":
		return false, true, nil
	case "both":
		return true, true, nil
	}
	return false, false, fmt.Errorf("direction %q: use up, down or both", d)
}

func nodeLimit(n int) int {
	switch {
	case n <= 0:
		return defaultNodes
	case n > maxNodes:
		return maxNodes
	}
	return n
}

func (s *Server) getLineage(ctx context.Context, in lineageIn) (lineageOut, error) {
	up, down, err := direction(in.Direction, "both")
	if err != nil {
		return lineageOut{}, err
	}
	depth := in.Depth
	if depth == 0 {
		depth = 2
	}
	g := s.opts.Graph
	ref, err := lineage.ParseRef(g, in.Node)
	if err != nil {
		return lineageOut{}, err
	}
	if ref.Column == "" {
		out, _, err := shrink(nodeLimit(in.Limit), func(limit int) (lineageOut, error) {
			r := g.Around(ref.Node, up, down, depth, depth, limit)
			return lineageOut{Model: &r}, nil
		})
		return out, err
	}
	cg, _, err := s.columns(ctx)
	if err != nil {
		return lineageOut{}, fmt.Errorf("column lineage: %w", err)
	}
	col, err := cg.Column(ref)
	if err != nil {
		return lineageOut{}, err
	}
	ref.Column = col.Name
	out, _, err := shrink(nodeLimit(in.Limit), func(limit int) (lineageOut, error) {
		r := cg.Around(ref, up, down, depth, depth, limit)
		return lineageOut{Column: &r}, nil
	})
	return out, err
}

func (s *Server) getColumnLineage(ctx context.Context, in columnLineageIn) (columnLineageOut, error) {
	up, down, err := direction(in.Direction, "up")
	if err != nil {
		return columnLineageOut{}, err
	}
	depth := in.Depth
	if depth == 0 {
		depth = -1
	}
	g := s.opts.Graph
	ref, err := lineage.ParseColumnRef(g, in.Column)
	if err != nil {
		return columnLineageOut{}, err
	}
	cg, cat, err := s.columns(ctx)
	if err != nil {
		return columnLineageOut{}, fmt.Errorf("column lineage: %w", err)
	}
	col, err := cg.Column(ref)
	if err != nil {
		return columnLineageOut{}, err
	}
	ref.Column = col.Name
	out, cut, err := shrink(maxNodes, func(limit int) (columnLineageOut, error) {
		return columnHops(cg, cat, ref, col, up, down, depth, limit), nil
	})
	out.Truncated = out.Truncated || cut
	return out, err
}

// columnHops is a column's lineage as hops, with at most limit columns each way.
func columnHops(cg *lineage.ColumnGraph, cat *lineage.Catalog, ref lineage.ColumnRef, col *lineage.Column, up, down bool, depth, limit int) columnLineageOut {
	r := cg.Around(ref, up, down, depth, depth, limit)
	depthOf := map[lineage.ColumnRef]int{}
	for _, c := range r.Columns {
		depthOf[c.Ref()] = c.Depth
	}
	out := columnLineageOut{Column: ref.String(), Type: col.Type, Hops: []Hop{}, Unresolved: []string{}, Truncated: r.Truncated, Total: r.Total}
	nodes := map[string]bool{}
	for _, e := range r.Edges {
		d := depthOf[e.From]
		if d == 0 {
			d = depthOf[e.To]
		}
		out.Hops = append(out.Hops, Hop{From: e.From.String(), To: e.To.String(), Kind: e.Kind, Depth: d})
		nodes[e.From.Node], nodes[e.To.Node] = true, true
		if e.Kind == lineage.AllColumns {
			out.Unresolved = append(out.Unresolved, fmt.Sprintf("%s may depend on any column of %s", e.To, e.From.Node))
		}
	}
	if len(out.Hops) > limit {
		out.Hops, out.Truncated = out.Hops[:limit], true
	}
	for id := range nodes {
		if nc := cat.Nodes[id]; nc != nil {
			for _, n := range nc.Notes {
				out.Unresolved = append(out.Unresolved, id+": "+n)
			}
		}
	}
	sort.Strings(out.Unresolved)
	if n := min(50, limit); len(out.Unresolved) > n {
		out.Unresolved = append(out.Unresolved[:n], fmt.Sprintf("… %d more", len(out.Unresolved)-n))
	}
	return out
}

func (s *Server) impact(ctx context.Context, in impactIn) (impactOut, error) {
	g := s.opts.Graph
	ref, err := lineage.ParseRef(g, in.Target)
	if err != nil {
		return impactOut{}, err
	}
	limit := nodeLimit(in.Limit)
	out := impactOut{Target: in.Target, Models: []Affected{}, Columns: []lineage.ImpactColumn{}, Tests: []lineage.ImpactTest{}, Exposures: []Affected{}, Totals: map[string]int{}}
	columnsTotal := 0
	if ref.Column != "" {
		cg, _, err := s.columns(ctx)
		if err != nil {
			return impactOut{}, fmt.Errorf("column lineage: %w", err)
		}
		col, err := cg.Column(ref)
		if err != nil {
			return impactOut{}, err
		}
		ref.Column = col.Name
		rep := lineage.ImpactN(g, cg, ref, limit)
		out.Target = ref.String()
		for _, m := range rep.Models {
			out.Models = append(out.Models, Affected{Name: m.Name, Type: string(m.Type), Path: m.Path, Distance: m.Depth})
		}
		for _, e := range rep.Exposures {
			out.Exposures = append(out.Exposures, Affected{Name: e.Name, Type: string(e.Type), Path: e.Path, Distance: e.Depth})
		}
		out.Columns, out.Tests, columnsTotal = rep.Columns, rep.Tests, rep.ColumnsTotal
		out.Truncated = len(rep.Columns) < rep.ColumnsTotal
	} else {
		ids, dist := g.Descendants(ref.Node)
		for _, id := range ids {
			n := g.Node(id)
			a := Affected{Name: n.Name, Type: string(n.Type), Path: n.Path, Distance: dist[id]}
			switch n.Type {
			case lineage.TypeTest:
				out.Tests = append(out.Tests, lineage.ImpactTest{ID: n.ID, Name: n.Name, Path: n.Path, Reason: "reads"})
			case lineage.TypeExposure:
				out.Exposures = append(out.Exposures, a)
			default:
				out.Models = append(out.Models, a)
			}
		}
	}
	out.Totals = map[string]int{"models": len(out.Models), "columns": columnsTotal, "tests": len(out.Tests), "exposures": len(out.Exposures)}
	cut, _, err := shrink(limit, func(limit int) (impactOut, error) {
		c := out
		c.Models, c.Truncated = capList(out.Models, limit, c.Truncated)
		c.Columns, c.Truncated = capList(out.Columns, limit, c.Truncated)
		c.Tests, c.Truncated = capList(out.Tests, limit, c.Truncated)
		c.Exposures, c.Truncated = capList(out.Exposures, limit, c.Truncated)
		return c, nil
	})
	return cut, err
}

// capList keeps the first n items; truncated becomes true when it cut.
func capList[T any](items []T, n int, truncated bool) ([]T, bool) {
	if len(items) > n {
		return items[:n], true
	}
	return items, truncated
}

func (s *Server) path(_ context.Context, in pathIn) (pathOut, error) {
	g := s.opts.Graph
	from, err := s.node(in.From)
	if err != nil {
		return pathOut{}, err
	}
	to, err := s.node(in.To)
	if err != nil {
		return pathOut{}, err
	}
	ids, ok := g.Path(from.ID, to.ID)
	out := pathOut{Found: ok, Path: []lineage.NodeRef{}}
	for i, id := range ids {
		out.Path = append(out.Path, g.Ref(id, i))
	}
	if ok {
		out.Direction = "down"
		if len(ids) > 1 && slices.Contains(g.Parents(ids[0]), ids[1]) {
			out.Direction = "up"
		}
	}
	return out, nil
}
