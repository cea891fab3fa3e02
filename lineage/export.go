package lineage

import (
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

// ---- Mermaid ----

// ---- JSON (docs/lineage-json.md) ----
