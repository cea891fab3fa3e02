package lineage

// DOT and Mermaid diagrams of a lineage result.

import (
	"fmt"
	"io"
	"strings"
)

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
