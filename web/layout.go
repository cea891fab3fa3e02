package web

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	graphviz "github.com/goccy/go-graphviz"

	"github.com/stratadata/strata/lineage"
)

// The lineage diagram is laid out here, on the server: graphviz's dot (run in-process
// from WebAssembly by go-graphviz, no cgo) places the nodes in layers left to right and
// routes the model edges; the browser only draws the SVG. Column edges are drawn from a
// column's row to the reading column's row, over dot's placement.

const (
	rowHeight    = 18.0 // one column's row in an expanded node
	headHeight   = 34.0 // a node's title
	maxRows      = 40   // columns an expanded node lists; the rest are counted
	charWidth    = 7.0  // of the 12px label font, roughly
	minNodeWidth = 120.0
	pad          = 12.0 // around the drawing
)

// diagram is a laid-out lineage drawing, in pixels, origin top left.
type diagram struct {
	Width, Height float64
	Nodes         []dnode
	Edges         []dedge
	ColumnEdges   []dcolEdge
}

type dnode struct {
	ID, Name, Type string
	Focus          bool
	X, Y, W, H     float64 // top-left corner and size
	Columns        []dcolumn
	MoreColumns    int
	Expanded       bool
}

type dcolumn struct {
	Name, Type string
	Y          float64 // the row's middle
}

type dedge struct {
	From, To string
	Path     string // SVG path data
}

type dcolEdge struct {
	From, To string // MODEL.COLUMN, as data-column
	Kind     lineage.EdgeKind
	Path     string
}

// layoutInput is what a diagram is drawn from: nodes and edges, and for each expanded
// node its columns.
type layoutInput struct {
	Focus   string
	Nodes   []lineage.NodeRef
	Edges   [][2]string
	Columns map[string][]lineage.Column // by node ID, the expanded nodes only
}

// layouter keeps a server's recent diagrams by key.
type layouter struct {
	mu    sync.Mutex
	cache map[string]*diagram
	order []string // keys, oldest first
}

// dot is the process's one graphviz: go-graphviz runs a single WebAssembly module per
// process, so two layouts at once, even of two servers, would corrupt each other.
var dot struct {
	sync.Mutex
	gv *graphviz.Graphviz
}

const diagramCacheSize = 256

func (l *layouter) layout(ctx context.Context, key string, in layoutInput) (*diagram, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d, ok := l.cache[key]; ok {
		return d, nil
	}
	if l.cache == nil {
		l.cache = map[string]*diagram{}
	}
	d, err := run(ctx, in)
	if err != nil {
		return nil, err
	}
	if len(l.order) >= diagramCacheSize {
		delete(l.cache, l.order[0])
		l.order = l.order[1:]
	}
	l.cache[key] = d
	l.order = append(l.order, key)
	return d, nil
}

func run(ctx context.Context, in layoutInput) (*diagram, error) {
	d := &diagram{}
	index := map[string]int{}
	var src bytes.Buffer
	src.WriteString("digraph G {\nrankdir=LR; nodesep=0.22; ranksep=0.9; node [shape=box, fixedsize=true, label=\"\"];\n")
	for i, n := range in.Nodes {
		dn := dnode{ID: n.ID, Name: n.Name, Type: string(n.Type), Focus: n.ID == in.Focus}
		dn.W = max(minNodeWidth, float64(len(n.Name)+len(n.Type)+4)*charWidth+24)
		dn.H = headHeight
		if cols, ok := in.Columns[n.ID]; ok {
			dn.Expanded = true
			shown := cols[:min(len(cols), maxRows)]
			dn.MoreColumns = len(cols) - len(shown)
			for _, c := range shown {
				dn.W = max(dn.W, float64(len(c.Name)+len(c.Type)+3)*charWidth+24)
				dn.Columns = append(dn.Columns, dcolumn{Name: c.Name, Type: c.Type})
			}
			dn.H += float64(len(dn.Columns))*rowHeight + 6
			if dn.MoreColumns > 0 {
				dn.H += rowHeight
			}
		}
		index[n.ID] = i
		d.Nodes = append(d.Nodes, dn)
		fmt.Fprintf(&src, "n%d [width=%.3f, height=%.3f];\n", i, dn.W/72, dn.H/72)
	}
	for _, e := range in.Edges {
		f, okf := index[e[0]]
		t, okt := index[e[1]]
		if okf && okt {
			fmt.Fprintf(&src, "n%d -> n%d;\n", f, t)
		}
	}
	src.WriteString("}\n")
	dot.Lock()
	defer dot.Unlock()
	if dot.gv == nil {
		gv, err := graphviz.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("graphviz: %w", err)
		}
		dot.gv = gv
	}
	g, err := graphviz.ParseBytes(src.Bytes())
	if err != nil {
		return nil, fmt.Errorf("graphviz: %w", err)
	}
	defer g.Close()
	var out bytes.Buffer
	if err := dot.gv.Render(ctx, g, graphviz.Format("plain"), &out); err != nil {
		return nil, fmt.Errorf("graphviz: %w", err)
	}
	if err := d.readPlain(out.String(), in.Edges); err != nil {
		return nil, err
	}
	d.columnEdges(in)
	return d, nil
}

// readPlain reads dot's plain output: positions in inches, y growing upwards.
func (d *diagram) readPlain(plain string, edges [][2]string) error {
	var height float64
	num := func(s string) float64 { f, _ := strconv.ParseFloat(s, 64); return f * 72 }
	for _, line := range strings.Split(plain, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "graph":
			if len(f) < 4 {
				return fmt.Errorf("graphviz: bad plain output %q", line)
			}
			d.Width, height = num(f[2])+2*pad, num(f[3])
			d.Height = height + 2*pad
		case "node":
			i, err := strconv.Atoi(strings.TrimPrefix(f[1], "n"))
			if err != nil || i >= len(d.Nodes) || len(f) < 6 {
				return fmt.Errorf("graphviz: bad plain output %q", line)
			}
			n := &d.Nodes[i]
			n.X = num(f[2]) - n.W/2 + pad
			n.Y = height - num(f[3]) - n.H/2 + pad
			for j := range n.Columns {
				n.Columns[j].Y = n.Y + headHeight + float64(j)*rowHeight + rowHeight/2
			}
		case "edge":
			if len(f) < 4 {
				return fmt.Errorf("graphviz: bad plain output %q", line)
			}
			from, _ := strconv.Atoi(strings.TrimPrefix(f[1], "n"))
			to, _ := strconv.Atoi(strings.TrimPrefix(f[2], "n"))
			k, _ := strconv.Atoi(f[3])
			if len(f) < 4+2*k || from >= len(d.Nodes) || to >= len(d.Nodes) {
				return fmt.Errorf("graphviz: bad plain output %q", line)
			}
			var p strings.Builder
			for j := 0; j < k; j++ {
				x, y := num(f[4+2*j])+pad, height-num(f[5+2*j])+pad
				switch {
				case j == 0:
					fmt.Fprintf(&p, "M%.1f %.1f", x, y)
				case j%3 == 1:
					fmt.Fprintf(&p, " C%.1f %.1f", x, y)
				default:
					fmt.Fprintf(&p, " %.1f %.1f", x, y)
				}
			}
			d.Edges = append(d.Edges, dedge{From: d.Nodes[from].ID, To: d.Nodes[to].ID, Path: p.String()})
		}
	}
	slices.SortFunc(d.Edges, func(a, b dedge) int {
		return strings.Compare(a.From+"\x00"+a.To, b.From+"\x00"+b.To)
	})
	return nil
}

// columnEdges draws each expanded column's inputs from other expanded nodes: from the
// right side of the input's row to the left side of the reader's.
func (d *diagram) columnEdges(in layoutInput) {
	byID := map[string]*dnode{}
	for i := range d.Nodes {
		byID[d.Nodes[i].ID] = &d.Nodes[i]
	}
	rowOf := func(n *dnode, col string) (float64, bool) {
		for _, c := range n.Columns {
			if strings.EqualFold(c.Name, col) {
				return c.Y, true
			}
		}
		return 0, false
	}
	for _, to := range d.Nodes {
		if !to.Expanded {
			continue
		}
		for _, col := range in.Columns[to.ID] {
			ty, ok := rowOf(&to, col.Name)
			if !ok {
				continue
			}
			for _, inp := range col.Inputs {
				from := byID[inp.From.Node]
				if from == nil || !from.Expanded || from.ID == to.ID {
					continue
				}
				fy, ok := rowOf(from, inp.From.Column)
				if !ok {
					continue
				}
				x1, x2 := from.X+from.W, to.X
				mid := (x1 + x2) / 2
				d.ColumnEdges = append(d.ColumnEdges, dcolEdge{
					From: from.Name + "." + inp.From.Column, To: to.Name + "." + col.Name, Kind: inp.Kind,
					Path: fmt.Sprintf("M%.1f %.1f C%.1f %.1f %.1f %.1f %.1f %.1f", x1, fy, mid, fy, mid, ty, x2, ty),
				})
			}
		}
	}
}
