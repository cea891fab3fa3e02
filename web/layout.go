package web

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/stratadata/strata/lineage"
)

// The lineage diagram is laid out here, on the server: layered (layered.go) places the
// nodes in layers left to right and routes the model edges; the browser only draws the
// SVG. Column edges are drawn from a column's row to the reading column's row, over that
// placement.

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

const diagramCacheSize = 256

// layout returns the diagram of in, laid out once per key. Layouts run outside the lock,
// so that a server's (or an export's) diagrams lay out on every core; two requests for a
// new key at once may both lay it out, to the same drawing.
func (l *layouter) layout(ctx context.Context, key string, in layoutInput) (*diagram, error) {
	l.mu.Lock()
	d, ok := l.cache[key]
	l.mu.Unlock()
	if ok {
		return d, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d = draw(in)
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.cache[key]; ok {
		return old, nil
	}
	if l.cache == nil {
		l.cache = map[string]*diagram{}
	}
	if len(l.order) >= diagramCacheSize {
		delete(l.cache, l.order[0])
		l.order = l.order[1:]
	}
	l.cache[key] = d
	l.order = append(l.order, key)
	return d, nil
}

// draw sizes each node's box from its name and columns, lays the boxes and model edges
// out (layered), and draws the column edges over that placement.
func draw(in layoutInput) *diagram {
	d := &diagram{}
	index := map[string]int{}
	w, h := make([]float64, len(in.Nodes)), make([]float64, len(in.Nodes))
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
		w[i], h[i] = dn.W, dn.H
	}
	var edges [][2]int
	for _, e := range in.Edges {
		f, okf := index[e[0]]
		t, okt := index[e[1]]
		if okf && okt {
			edges = append(edges, [2]int{f, t})
		}
	}
	p := layered(w, h, edges)
	d.Width, d.Height = p.Width+2*pad, p.Height+2*pad
	for i := range d.Nodes {
		n := &d.Nodes[i]
		n.X, n.Y = p.X[i]-n.W/2+pad, p.Y[i]-n.H/2+pad
		for j := range n.Columns {
			n.Columns[j].Y = n.Y + headHeight + float64(j)*rowHeight + rowHeight/2
		}
	}
	for k, pts := range p.Paths {
		if pts == nil {
			continue
		}
		d.Edges = append(d.Edges, dedge{From: d.Nodes[edges[k][0]].ID, To: d.Nodes[edges[k][1]].ID, Path: curve(pts)})
	}
	slices.SortFunc(d.Edges, func(a, b dedge) int {
		return strings.Compare(a.From+"\x00"+a.To, b.From+"\x00"+b.To)
	})
	d.columnEdges(in)
	return d
}

// curve is the SVG path through an edge's points, shifted by the drawing's margin: a
// cubic from each point to the next, leaving and reaching each one level, so that the
// line runs smoothly through the points of a long edge.
func curve(pts []point) string {
	var b strings.Builder
	fmt.Fprintf(&b, "M%.1f %.1f", pts[0].X+pad, pts[0].Y+pad)
	for k := 1; k < len(pts); k++ {
		a, z := pts[k-1], pts[k]
		mid := (a.X+z.X)/2 + pad
		fmt.Fprintf(&b, " C%.1f %.1f %.1f %.1f %.1f %.1f", mid, a.Y+pad, mid, z.Y+pad, z.X+pad, z.Y+pad)
	}
	return b.String()
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
