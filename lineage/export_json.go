package lineage

// The JSON export; its schema is documented in docs/lineage-json.md.

import (
	"encoding/json"
	"io"
	"sort"
)

type jsonExport struct {
	Version   int                     `json:"version"`
	Level     string                  `json:"level"` // "model" or "column"
	Root      jsonRoot                `json:"root"`
	Truncated bool                    `json:"truncated"`
	Total     int                     `json:"total"`
	Nodes     []NodeRef               `json:"nodes"`
	Edges     []jsonEdge              `json:"edges"`
	Columns   map[string][]jsonColumn `json:"columns"`
}

type jsonRoot struct {
	Node   string `json:"node"`
	Column string `json:"column,omitempty"` // only at column level
}

type jsonEdge struct {
	From       string   `json:"from"`
	To         string   `json:"to"`
	FromColumn string   `json:"from_column,omitempty"`
	ToColumn   string   `json:"to_column,omitempty"`
	Kind       EdgeKind `json:"kind,omitempty"`
}

type jsonColumn struct {
	Name  string `json:"name"`
	Type  string `json:"type,omitempty"`
	Depth *int   `json:"depth,omitempty"`
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeJSON(w io.Writer, r Result, cg *ColumnGraph) error {
	out := jsonExport{Version: JSONVersion, Level: "model", Root: jsonRoot{Node: r.Root}, Truncated: r.Truncated, Total: r.Total,
		Nodes: r.Nodes, Edges: make([]jsonEdge, 0, len(r.Edges)), Columns: map[string][]jsonColumn{}}
	if out.Nodes == nil {
		out.Nodes = []NodeRef{}
	}
	for _, e := range r.Edges {
		out.Edges = append(out.Edges, jsonEdge{From: e[0], To: e[1]})
	}
	if cg != nil {
		for _, n := range r.Nodes {
			nc := cg.Nodes[n.ID]
			if nc == nil {
				continue
			}
			cols := make([]jsonColumn, 0, len(nc.Columns))
			for _, c := range nc.Columns {
				cols = append(cols, jsonColumn{Name: c.Name, Type: c.Type})
			}
			out.Columns[n.ID] = cols
		}
	}
	return encodeJSON(w, out)
}

func writeColumnJSON(w io.Writer, r ColumnResult, gr *Graph) error {
	nodes, byNode := columnNodes(r, gr)
	out := jsonExport{Version: JSONVersion, Level: "column", Root: jsonRoot(r.Root), Truncated: r.Truncated, Total: r.Total,
		Nodes: nodes, Edges: make([]jsonEdge, 0, len(r.Edges)), Columns: map[string][]jsonColumn{}}
	for _, e := range r.Edges {
		out.Edges = append(out.Edges, jsonEdge{From: e.From.Node, FromColumn: e.From.Column, To: e.To.Node, ToColumn: e.To.Column, Kind: e.Kind})
	}
	ids := make([]string, 0, len(byNode))
	for id := range byNode {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		for _, c := range byNode[id] {
			d := c.Depth
			out.Columns[id] = append(out.Columns[id], jsonColumn{Name: c.Column, Type: c.Type, Depth: &d})
		}
	}
	return encodeJSON(w, out)
}
