package lineage

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Format is a way to write a lineage result.
type Format string

// The export formats. Every one is deterministic: the same result gives the same bytes.
const (
	FormatText    Format = "text"    // an indented tree, as `tree` prints folders
	FormatDOT     Format = "dot"     // Graphviz
	FormatMermaid Format = "mermaid" // a Mermaid flowchart, for Markdown pages
	FormatJSON    Format = "json"    // the schema in docs/lineage-json.md
)

// Formats lists the export formats.
var Formats = []Format{FormatText, FormatDOT, FormatMermaid, FormatJSON}

// JSONVersion is the version of the JSON export's schema; it changes only when a field
// changes meaning or goes away (new fields may appear without it changing).
const JSONVersion = 1

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == strings.ToLower(s) {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown format %q: use %s", s, strings.Join(names, ", "))
}

// Export writes a model-level result in a format. cg, when not nil, adds each node's
// columns to the JSON export.
func Export(w io.Writer, f Format, r Result, cg *ColumnGraph) error {
	switch f {
	case FormatText:
		return writeText(w, r)
	case FormatDOT:
		return writeDOT(w, r)
	case FormatMermaid:
		return writeMermaid(w, r)
	case FormatJSON:
		return writeJSON(w, r, cg)
	}
	return fmt.Errorf("unknown format %q", f)
}

// ExportColumns writes a column-level result in a format. gr, when not nil, gives the
// names and types of the nodes holding the columns.
func ExportColumns(w io.Writer, f Format, r ColumnResult, gr *Graph) error {
	switch f {
	case FormatText:
		return writeColumnText(w, r)
	case FormatDOT:
		return writeColumnDOT(w, r, gr)
	case FormatMermaid:
		return writeColumnMermaid(w, r, gr)
	case FormatJSON:
		return writeColumnJSON(w, r, gr)
	}
	return fmt.Errorf("unknown format %q", f)
}

// ---- text ----

// tree prints one direction of a result as an indented tree; a node reached twice is
// printed in full once and then marked "[see above]".
type tree struct {
	b     *strings.Builder
	kids  func(id string) []string
	label func(parent, id string) string
	shown map[string]bool
}

func (t *tree) print(id, prefix string) {
	kids := t.kids(id)
	for i, k := range kids {
		branch, indent := "├── ", "│   "
		if i == len(kids)-1 {
			branch, indent = "└── ", "    "
		}
		line := t.label(id, k)
		if t.shown[k] && len(t.kids(k)) > 0 {
			fmt.Fprintf(t.b, "%s%s%s [see above]\n", prefix, branch, line)
			continue
		}
		t.shown[k] = true
		fmt.Fprintf(t.b, "%s%s%s\n", prefix, branch, line)
		t.print(k, prefix+indent)
	}
}

func writeText(w io.Writer, r Result) error {
	var b strings.Builder
	refs := map[string]NodeRef{}
	for _, n := range r.Nodes {
		refs[n.ID] = n
	}
	label := func(id string) string {
		n, ok := refs[id]
		if !ok {
			return id
		}
		return fmt.Sprintf("%s (%s)", n.Name, n.Type)
	}
	root, ok := refs[r.Root]
	if !ok {
		fmt.Fprintf(&b, "%s: not found\n", r.Root)
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString(label(root.ID) + "\n")
	up, down := map[string][]string{}, map[string][]string{}
	for _, e := range r.Edges {
		if refs[e[0]].Depth < 0 {
			up[e[1]] = append(up[e[1]], e[0])
		}
		if refs[e[1]].Depth > 0 {
			down[e[0]] = append(down[e[0]], e[1])
		}
	}
	for _, dir := range []struct {
		name string
		kids map[string][]string
	}{{"upstream", up}, {"downstream", down}} {
		if !hasDepth(r.Nodes, dir.name == "upstream") {
			continue
		}
		b.WriteString(dir.name + ":\n")
		t := &tree{b: &b, shown: map[string]bool{}, kids: func(id string) []string { return dir.kids[id] },
			label: func(_, id string) string { return label(id) }}
		t.print(r.Root, "")
	}
	if r.Truncated {
		fmt.Fprintf(&b, "… showing %d of %d nodes\n", len(r.Nodes), r.Total)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func hasDepth(ns []NodeRef, upstream bool) bool {
	for _, n := range ns {
		if (upstream && n.Depth < 0) || (!upstream && n.Depth > 0) {
			return true
		}
	}
	return false
}

func writeColumnText(w io.Writer, r ColumnResult) error {
	var b strings.Builder
	cols := map[ColumnRef]ColumnNode{}
	for _, c := range r.Columns {
		cols[c.Ref()] = c
	}
	kinds := map[[2]ColumnRef][]string{}
	up, down := map[ColumnRef][]ColumnRef{}, map[ColumnRef][]ColumnRef{}
	for _, e := range r.Edges {
		key := [2]ColumnRef{e.From, e.To}
		if len(kinds[key]) == 0 {
			if cols[e.From].Depth < 0 {
				up[e.To] = append(up[e.To], e.From)
			}
			if cols[e.To].Depth > 0 {
				down[e.From] = append(down[e.From], e.To)
			}
		}
		kinds[key] = append(kinds[key], string(e.Kind))
	}
	name := func(c ColumnRef) string {
		s := displayID(c.Node) + "." + c.Column
		if t := cols[c].Type; t != "" {
			s += " (" + t + ")"
		}
		return s
	}
	b.WriteString(name(r.Root) + "\n")
	// The tree walks ColumnRefs as "node\x00column" strings so it can share tree.
	key := func(c ColumnRef) string { return c.Node + "\x00" + c.Column }
	unkey := func(s string) ColumnRef {
		node, col, _ := strings.Cut(s, "\x00")
		return ColumnRef{Node: node, Column: col}
	}
	for _, dir := range []struct {
		name string
		kids map[ColumnRef][]ColumnRef
		up   bool
	}{{"upstream", up, true}, {"downstream", down, false}} {
		found := false
		for _, c := range r.Columns {
			if (dir.up && c.Depth < 0) || (!dir.up && c.Depth > 0) {
				found = true
			}
		}
		if !found {
			continue
		}
		b.WriteString(dir.name + ":\n")
		t := &tree{b: &b, shown: map[string]bool{},
			kids: func(s string) []string {
				var out []string
				for _, k := range dir.kids[unkey(s)] {
					out = append(out, key(k))
				}
				return out
			},
			label: func(parent, s string) string {
				p, c := unkey(parent), unkey(s)
				pair := [2]ColumnRef{c, p}
				if !dir.up {
					pair = [2]ColumnRef{p, c}
				}
				ks := append([]string(nil), kinds[pair]...)
				sort.SliceStable(ks, func(i, j int) bool { return kindRank(EdgeKind(ks[i])) < kindRank(EdgeKind(ks[j])) })
				return name(c) + " [" + strings.Join(ks, ", ") + "]"
			}}
		t.print(key(r.Root), "")
	}
	if r.Truncated {
		fmt.Fprintf(&b, "… showing %d of %d columns\n", len(r.Columns), r.Total)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ---- DOT ----

// dotQuote quotes a DOT ID.
func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// dotShape is how a node of a type is drawn.
func dotShape(t NodeType) string {
	switch t {
	case TypeSeed, TypeSource:
		return "shape=cylinder"
	case TypeTest:
		return "shape=note"
	case TypeExposure:
		return "shape=house"
	}
	return `shape=box, style="rounded"`
}

func writeDOT(w io.Writer, r Result) error {
	var b strings.Builder
	b.WriteString("digraph lineage {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n")
	for _, n := range r.Nodes {
		attrs := "label=" + dotQuote(n.Name) + ", " + dotShape(n.Type)
		if n.ID == r.Root {
			attrs += ", penwidth=2.5"
		}
		fmt.Fprintf(&b, "  %s [%s];\n", dotQuote(n.ID), attrs)
	}
	for _, e := range r.Edges {
		fmt.Fprintf(&b, "  %s -> %s;\n", dotQuote(e[0]), dotQuote(e[1]))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// columnNodes returns the nodes holding a column result's columns, each at the depth of
// its nearest column, in the columns' order.
func columnNodes(r ColumnResult, gr *Graph) ([]NodeRef, map[string][]ColumnNode) {
	byNode := map[string][]ColumnNode{}
	var ids []string
	depth := map[string]int{}
	for _, c := range r.Columns {
		if _, ok := byNode[c.Node]; !ok {
			ids = append(ids, c.Node)
			depth[c.Node] = c.Depth
		} else if abs(c.Depth) < abs(depth[c.Node]) {
			depth[c.Node] = c.Depth
		}
		byNode[c.Node] = append(byNode[c.Node], c)
	}
	nodes := make([]NodeRef, 0, len(ids))
	for _, id := range ids {
		if gr != nil && gr.Node(id) != nil {
			nodes = append(nodes, gr.Ref(id, depth[id]))
			continue
		}
		t := TypeModel
		if strings.HasPrefix(id, "source:") {
			t = TypeSource
		}
		nodes = append(nodes, NodeRef{ID: id, Name: displayID(id), Type: t, Depth: depth[id]})
	}
	sortNodeRefs(nodes)
	return nodes, byNode
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func writeColumnDOT(w io.Writer, r ColumnResult, gr *Graph) error {
	var b strings.Builder
	b.WriteString("digraph lineage {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", shape=box, style=\"rounded\"];\n")
	nodes, byNode := columnNodes(r, gr)
	for i, n := range nodes {
		fmt.Fprintf(&b, "  subgraph cluster_%d {\n    label=%s;\n", i, dotQuote(n.Name+" ("+string(n.Type)+")"))
		for _, c := range byNode[n.ID] {
			label := c.Column
			if c.Type != "" {
				label += "\n" + c.Type
			}
			attrs := "label=" + dotQuote(label)
			if c.Ref() == r.Root {
				attrs += ", penwidth=2.5"
			}
			fmt.Fprintf(&b, "    %s [%s];\n", dotQuote(c.Ref().String()), attrs)
		}
		b.WriteString("  }\n")
	}
	for _, e := range r.Edges {
		attrs := "label=" + dotQuote(string(e.Kind))
		if e.Kind.Indirect() {
			attrs += ", style=dashed"
		} else if e.Kind == AllColumns {
			attrs += ", style=dotted"
		}
		fmt.Fprintf(&b, "  %s -> %s [%s];\n", dotQuote(e.From.String()), dotQuote(e.To.String()), attrs)
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// ---- Mermaid ----

// mermaidIDs gives every key a Mermaid-safe ID: letters, digits and underscores behind a
// prefix (which also keeps words such as "end" from breaking the chart), made unique with
// a counter when two keys clean up the same.
type mermaidIDs struct {
	prefix string
	ids    map[string]string
	used   map[string]bool
}

func newMermaidIDs(prefix string) *mermaidIDs {
	return &mermaidIDs{prefix: prefix, ids: map[string]string{}, used: map[string]bool{}}
}

func (m *mermaidIDs) id(key string) string {
	if id, ok := m.ids[key]; ok {
		return id
	}
	var b strings.Builder
	b.WriteString(m.prefix)
	for _, r := range key {
		if r < 128 && (r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	id := b.String()
	for i := 2; m.used[id]; i++ {
		id = fmt.Sprintf("%s_%d", b.String(), i)
	}
	m.used[id] = true
	m.ids[key] = id
	return id
}

// mermaidLabel quotes a label, escaping what Mermaid would read as syntax.
func mermaidLabel(s string) string {
	return `"` + strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "\n", "<br/>").Replace(s) + `"`
}

// mermaidNode draws a node in the shape of its type.
func mermaidNode(id string, t NodeType, label string) string {
	l := mermaidLabel(label)
	switch t {
	case TypeSeed, TypeSource:
		return id + "[(" + l + ")]"
	case TypeTest:
		return id + "{{" + l + "}}"
	case TypeExposure:
		return id + ">" + l + "]"
	}
	return id + "[" + l + "]"
}

func writeMermaid(w io.Writer, r Result) error {
	var b strings.Builder
	ids := newMermaidIDs("n_")
	b.WriteString("flowchart LR\n")
	for _, n := range r.Nodes {
		fmt.Fprintf(&b, "  %s\n", mermaidNode(ids.id(n.ID), n.Type, n.Name))
	}
	for _, e := range r.Edges {
		fmt.Fprintf(&b, "  %s --> %s\n", ids.id(e[0]), ids.id(e[1]))
	}
	if len(r.Nodes) > 0 {
		fmt.Fprintf(&b, "  classDef root stroke-width:3px\n  class %s root\n", ids.id(r.Root))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeColumnMermaid(w io.Writer, r ColumnResult, gr *Graph) error {
	var b strings.Builder
	groups, cols := newMermaidIDs("g_"), newMermaidIDs("c_")
	b.WriteString("flowchart LR\n")
	nodes, byNode := columnNodes(r, gr)
	for _, n := range nodes {
		fmt.Fprintf(&b, "  subgraph %s[%s]\n", groups.id(n.ID), mermaidLabel(n.Name+" ("+string(n.Type)+")"))
		for _, c := range byNode[n.ID] {
			label := c.Column
			if c.Type != "" {
				label += "\n" + c.Type
			}
			fmt.Fprintf(&b, "    %s[%s]\n", cols.id(c.Ref().String()), mermaidLabel(label))
		}
		b.WriteString("  end\n")
	}
	for _, e := range r.Edges {
		arrow := "-- " + string(e.Kind) + " -->"
		if e.Kind.Indirect() || e.Kind == AllColumns {
			arrow = "-. " + string(e.Kind) + " .->"
		}
		fmt.Fprintf(&b, "  %s %s %s\n", cols.id(e.From.String()), arrow, cols.id(e.To.String()))
	}
	if len(r.Columns) > 0 {
		fmt.Fprintf(&b, "  classDef root stroke-width:3px\n  class %s root\n", cols.id(r.Root.String()))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ---- JSON (docs/lineage-json.md) ----

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
