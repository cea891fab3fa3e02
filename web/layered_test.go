package web

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/stratadata/strata/lineage"
)

// checkPlacement checks what every layered drawing must be: boxes of one layer apart,
// every edge from its source's right side to its target's left side (a cycle's edge
// drawn backwards), everything inside the drawing.
func checkPlacement(t *testing.T, w, h []float64, edges [][2]int, p placement) {
	t.Helper()
	const eps = 1e-6
	for i := range w {
		if p.X[i]-w[i]/2 < -eps || p.X[i]+w[i]/2 > p.Width+eps || p.Y[i]-h[i]/2 < -eps || p.Y[i]+h[i]/2 > p.Height+eps {
			t.Errorf("node %d at (%.1f, %.1f) is outside the %.1f × %.1f drawing", i, p.X[i], p.Y[i], p.Width, p.Height)
		}
		for j := i + 1; j < len(w); j++ {
			if p.X[i] == p.X[j] && math.Abs(p.Y[i]-p.Y[j]) < (h[i]+h[j])/2+nodeSep-eps {
				t.Errorf("nodes %d and %d of one layer overlap: y %.1f and %.1f", i, j, p.Y[i], p.Y[j])
			}
		}
	}
	seen := map[[2]int]bool{}
	for k, e := range edges {
		pts := p.Paths[k]
		if e[0] == e[1] || seen[e] {
			if pts != nil {
				t.Errorf("a loop or a repeated edge %v is drawn", e)
			}
			continue
		}
		seen[e] = true
		if len(pts) < 2 {
			t.Errorf("edge %v has %d points", e, len(pts))
			continue
		}
		first, last := pts[0], pts[len(pts)-1]
		if p.X[e[0]] < p.X[e[1]] {
			if first.X != p.X[e[0]]+w[e[0]]/2 || first.Y != p.Y[e[0]] || last.X != p.X[e[1]]-w[e[1]]/2 || last.Y != p.Y[e[1]] {
				t.Errorf("edge %v runs from %v to %v, not from its source's right side to its target's left", e, first, last)
			}
		}
		for k := 1; k < len(pts); k++ {
			if (p.X[e[0]] < p.X[e[1]]) != (pts[k].X > pts[k-1].X) {
				t.Errorf("edge %v turns back between %v and %v", e, pts[k-1], pts[k])
			}
		}
	}
}

func boxes(n int) (w, h []float64) {
	for i := range n {
		w = append(w, 120+float64(i%3)*30)
		h = append(h, 34+float64(i%4)*18)
	}
	return w, h
}

func TestLayeredChainIsStraight(t *testing.T) {
	w, h := boxes(5)
	edges := [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}}
	p := layered(w, h, edges)
	checkPlacement(t, w, h, edges, p)
	for i := 1; i < 5; i++ {
		if p.Y[i] != p.Y[0] {
			t.Errorf("a chain bends: node %d at y %.1f, node 0 at %.1f", i, p.Y[i], p.Y[0])
		}
		if p.X[i] <= p.X[i-1] {
			t.Errorf("node %d is not right of node %d", i, i-1)
		}
	}
}

// TestLayeredUncrosses: two fans whose first order crosses every edge are drawn with
// none, and a source sits just before what reads it, not at the far left.
func TestLayeredUncrosses(t *testing.T) {
	w, h := boxes(9)
	// 0 → 1 → 2 → 3 is a chain; 4 and 5 read from 3's layer order inverted
	edges := [][2]int{{0, 1}, {1, 2}, {2, 3}, {0, 6}, {0, 7}, {6, 5}, {7, 4}, {6, 8}, {7, 8}}
	p := layered(w, h, edges)
	checkPlacement(t, w, h, edges, p)
	if c := drawnCrossings(p, edges); c != 0 {
		t.Errorf("%d crossings, want 0", c)
	}
	// a lone source reading into the third layer sits in the second
	edges = [][2]int{{0, 1}, {1, 2}, {3, 2}}
	p = layered(w[:4], h[:4], edges)
	checkPlacement(t, w[:4], h[:4], edges, p)
	if p.X[3] != p.X[1] {
		t.Errorf("a source reading into layer 3 is at x %.1f, want its reader's layer before (%.1f)", p.X[3], p.X[1])
	}
}

// TestLayeredLongEdge: an edge past two layers bends around them and runs straight.
func TestLayeredLongEdge(t *testing.T) {
	w, h := boxes(4)
	edges := [][2]int{{0, 1}, {1, 2}, {2, 3}, {0, 3}}
	p := layered(w, h, edges)
	checkPlacement(t, w, h, edges, p)
	long := p.Paths[3]
	if len(long) != 4 {
		t.Fatalf("the long edge has %d points, want 4 (one in each layer it passes)", len(long))
	}
	if long[1].Y != long[2].Y {
		t.Errorf("the long edge bends between its own points: %v", long)
	}
	for k := 1; k <= 2; k++ {
		n := k
		if math.Abs(long[k].Y-p.Y[n]) < h[n]/2 {
			t.Errorf("the long edge passes through node %d's box: %v, box at y %.1f ± %.1f", n, long[k], p.Y[n], h[n]/2)
		}
	}
}

// TestLayeredRandom: random graphs, cycles and repeated edges included, are always drawn
// whole, and the same input is the same drawing.
func TestLayeredRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		n := 1 + r.IntN(60)
		w, h := boxes(n)
		var edges [][2]int
		for range r.IntN(3 * n) {
			u, v := r.IntN(n), r.IntN(n)
			if round%3 != 0 && u > v { // two in three are acyclic, as lineage is
				u, v = v, u
			}
			edges = append(edges, [2]int{u, v})
		}
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			p := layered(w, h, edges)
			checkPlacement(t, w, h, edges, p)
			if again := layered(w, h, edges); !reflect.DeepEqual(p, again) {
				t.Error("the same graph laid out twice is two drawings")
			}
		})
	}
}

// drawnCrossings counts the edges that cross between neighbouring layers in a drawing
// of one-layer edges.
func drawnCrossings(p placement, edges [][2]int) int {
	c := 0
	for i, a := range edges {
		for _, b := range edges[i+1:] {
			if p.X[a[0]] != p.X[b[0]] || p.X[a[1]] != p.X[b[1]] {
				continue
			}
			if (p.Y[a[0]]-p.Y[b[0]])*(p.Y[a[1]]-p.Y[b[1]]) < 0 {
				c++
			}
		}
	}
	return c
}

// TestDrawConnects: the diagram a page draws puts every box inside the drawing and every
// model edge's path from its source box's right side to its target box's left side, and
// every column edge from the source column's row to the reading column's row.
func TestDrawConnects(t *testing.T) {
	in := layoutInput{
		Focus: "b",
		Nodes: []lineage.NodeRef{{ID: "a", Name: "a", Type: lineage.TypeSeed}, {ID: "b", Name: "b", Type: lineage.TypeModel},
			{ID: "c", Name: "c", Type: lineage.TypeModel}, {ID: "d", Name: "d_with_a_long_name", Type: lineage.TypeModel}},
		Edges: [][2]string{{"a", "b"}, {"b", "c"}, {"a", "d"}, {"c", "d"}, {"x", "d"}}, // x is not drawn
		Columns: map[string][]lineage.Column{
			"a": {{Name: "id", Type: "INTEGER"}},
			"b": {{Name: "id", Type: "INTEGER", Inputs: []lineage.ColumnInput{{From: lineage.ColumnRef{Node: "a", Column: "id"}, Kind: lineage.Identity}}}},
		},
	}
	d := draw(in)
	box := map[string]dnode{}
	for _, n := range d.Nodes {
		box[n.ID] = n
		if n.X < 0 || n.Y < 0 || n.X+n.W > d.Width || n.Y+n.H > d.Height {
			t.Errorf("node %s at (%.1f, %.1f) %.1f × %.1f is outside the %.1f × %.1f drawing", n.ID, n.X, n.Y, n.W, n.H, d.Width, d.Height)
		}
	}
	ends := func(path string) (x0, y0, x1, y1 float64) {
		f := strings.Fields(strings.NewReplacer("M", "", "C", "").Replace(path))
		num := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
		return num(f[0]), num(f[1]), num(f[len(f)-2]), num(f[len(f)-1])
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 0.06 } // paths are printed to 0.1
	if len(d.Edges) != 4 {
		t.Fatalf("%d model edges drawn, want 4 (one has an end not drawn): %+v", len(d.Edges), d.Edges)
	}
	for _, e := range d.Edges {
		from, to := box[e.From], box[e.To]
		x0, y0, x1, y1 := ends(e.Path)
		if !near(x0, from.X+from.W) || !near(y0, from.Y+from.H/2) || !near(x1, to.X) || !near(y1, to.Y+to.H/2) {
			t.Errorf("edge %s->%s runs (%.1f, %.1f) to (%.1f, %.1f): want from %s's right middle (%.1f, %.1f) to %s's left middle (%.1f, %.1f)",
				e.From, e.To, x0, y0, x1, y1, e.From, from.X+from.W, from.Y+from.H/2, e.To, to.X, to.Y+to.H/2)
		}
	}
	if len(d.ColumnEdges) != 1 {
		t.Fatalf("column edges %+v, want a.id -> b.id", d.ColumnEdges)
	}
	ce := d.ColumnEdges[0]
	x0, y0, x1, y1 := ends(ce.Path)
	a, b := box["a"], box["b"]
	if ce.From != "a.id" || ce.To != "b.id" || !near(x0, a.X+a.W) || !near(y0, a.Columns[0].Y) || !near(x1, b.X) || !near(y1, b.Columns[0].Y) {
		t.Errorf("column edge %+v: want from a.id's row (%.1f, %.1f) to b.id's (%.1f, %.1f)", ce, a.X+a.W, a.Columns[0].Y, b.X, b.Columns[0].Y)
	}
}
