package web

import (
	"cmp"
	"math"
	"slices"
)

// layered lays a directed graph out the way graphviz's dot does with rankdir=LR (a
// layered, Sugiyama-style layout), in plain Go:
//
//  1. edges closing a cycle are turned around (a lineage graph has none, but a layout
//     must not loop on one);
//  2. every node gets a layer, one more than its furthest parent, and a node that
//     reads nothing drawn sits just before the first node reading it;
//  3. an edge crossing several layers passes through a point in each, so that it can
//     bend around the boxes between;
//  4. each layer's order is swept by the barycenters of its neighbours' places, down
//     and up, keeping the order with the fewest crossings;
//  5. each layer's heights are placed as near as its order allows to the mean height of
//     what it is drawn to (the order kept, the boxes apart), the points of long edges
//     pulled hardest, so that they run straight.
//
// It is deterministic: the same graph in the same order is the same drawing.

type point struct{ X, Y float64 }

// placement is a layout: each node's center, and for each edge given, the points its
// line passes from its source to its target (nil for a loop or a repeated edge).
type placement struct {
	X, Y          []float64
	Paths         [][]point
	Width, Height float64
}

const (
	rankSep = 65.0 // between layers, as dot's ranksep=0.9 (inches)
	nodeSep = 16.0 // between two boxes of a layer, as nodesep=0.22
	laneSep = 8.0  // beside a long edge's point
	sweeps  = 24   // ordering passes
	rounds  = 10   // placing passes
)

// lnode is a box, or (w = h = 0) a point a long edge passes through.
type lnode struct {
	w, h       float64
	layer, pos int
	in, out    []int // neighbours in the layers before and after
	real       bool
}

// layered lays out n boxes of the given widths and heights, and edges between them by
// index.
func layered(w, h []float64, edges [][2]int) placement {
	n := len(w)
	nodes := make([]lnode, n, n*2)
	for i := range n {
		nodes[i] = lnode{w: w[i], h: h[i], real: true}
	}
	type ledge struct {
		u, v, orig int
		rev        bool
	}
	var es []ledge
	seen := map[[2]int]bool{}
	for i, e := range edges {
		if e[0] == e[1] || seen[e] {
			continue
		}
		seen[e] = true
		es = append(es, ledge{u: e[0], v: e[1], orig: i})
	}
	out := make([][]int, n) // edge indexes by source
	for i, e := range es {
		out[e.u] = append(out[e.u], i)
	}

	// 1. turn around the edges that close a cycle, found by a depth-first walk
	state := make([]byte, n) // 0 new, 1 on the walk, 2 done
	for root := range n {
		if state[root] != 0 {
			continue
		}
		type frame struct{ v, next int }
		stack := []frame{{v: root}}
		state[root] = 1
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.next == len(out[f.v]) {
				state[f.v] = 2
				stack = stack[:len(stack)-1]
				continue
			}
			e := &es[out[f.v][f.next]]
			f.next++
			switch state[e.v] {
			case 0:
				state[e.v] = 1
				stack = append(stack, frame{v: e.v})
			case 1:
				e.rev = true
			}
		}
	}
	for i := range es {
		if es[i].rev {
			es[i].u, es[i].v = es[i].v, es[i].u
		}
	}

	// 2. layers: Kahn's order, each node one after its furthest parent
	indeg := make([]int, n)
	succ := make([][]int, n)
	for _, e := range es {
		succ[e.u] = append(succ[e.u], e.v)
		indeg[e.v]++
	}
	order := make([]int, 0, n)
	for v := range n {
		if indeg[v] == 0 {
			order = append(order, v)
		}
	}
	for i := 0; i < len(order); i++ {
		for _, s := range succ[order[i]] {
			nodes[s].layer = max(nodes[s].layer, nodes[order[i]].layer+1)
			if indeg[s]--; indeg[s] == 0 {
				order = append(order, s)
			}
		}
	}
	hasIn := make([]bool, n)
	for _, e := range es {
		hasIn[e.v] = true
	}
	for i := len(order) - 1; i >= 0; i-- {
		v := order[i]
		if hasIn[v] || len(succ[v]) == 0 {
			continue
		}
		first := nodes[succ[v][0]].layer
		for _, s := range succ[v] {
			first = min(first, nodes[s].layer)
		}
		nodes[v].layer = first - 1
	}

	// 3. the points of long edges
	chains := make([][]int, len(es))
	for i, e := range es {
		chain := []int{e.u}
		for l := nodes[e.u].layer + 1; l < nodes[e.v].layer; l++ {
			nodes = append(nodes, lnode{layer: l})
			chain = append(chain, len(nodes)-1)
		}
		chain = append(chain, e.v)
		for k := 1; k < len(chain); k++ {
			nodes[chain[k-1]].out = append(nodes[chain[k-1]].out, chain[k])
			nodes[chain[k]].in = append(nodes[chain[k]].in, chain[k-1])
		}
		chains[i] = chain
	}

	// 4. the order in each layer
	layers := orderLayers(nodes)

	// 5. the places
	xs := make([]float64, len(layers))
	x := 0.0
	for l, layer := range layers {
		colW := 0.0
		for _, v := range layer {
			colW = max(colW, nodes[v].w)
		}
		if l > 0 {
			x += rankSep
		}
		xs[l] = x + colW/2
		x += colW
	}
	ys := placeHeights(nodes, layers)
	straighten(nodes, layers, chains, ys)

	p := placement{X: make([]float64, n), Y: make([]float64, n), Paths: make([][]point, len(edges)), Width: x}
	top, bottom := 0.0, 0.0
	for v := range nodes {
		top, bottom = min(top, ys[v]-nodes[v].h/2), max(bottom, ys[v]+nodes[v].h/2)
	}
	for v := range n {
		p.X[v], p.Y[v] = xs[nodes[v].layer], ys[v]-top
	}
	p.Height = bottom - top
	for i, e := range es {
		chain := chains[i]
		pts := make([]point, len(chain))
		for k, v := range chain {
			pts[k] = point{xs[nodes[v].layer], ys[v] - top}
		}
		pts[0].X += nodes[chain[0]].w / 2
		pts[len(pts)-1].X -= nodes[chain[len(chain)-1]].w / 2
		if e.rev {
			slices.Reverse(pts)
		}
		p.Paths[e.orig] = pts
	}
	return p
}

// orderLayers returns each layer's nodes in the order that crosses fewest edges among
// those the sweeps tried, and sets every node's pos.
func orderLayers(nodes []lnode) [][]int {
	depth := 0
	for _, nd := range nodes {
		depth = max(depth, nd.layer+1)
	}
	layers := make([][]int, depth)
	// a first order from a depth-first walk, so that what is drawn together starts near
	visited := make([]bool, len(nodes))
	var walk func(v int)
	walk = func(v int) {
		visited[v] = true
		layers[nodes[v].layer] = append(layers[nodes[v].layer], v)
		for _, s := range nodes[v].out {
			if !visited[s] {
				walk(s)
			}
		}
	}
	for v := range nodes {
		if !visited[v] && len(nodes[v].in) == 0 {
			walk(v)
		}
	}
	setPos := func(ls [][]int) {
		for _, layer := range ls {
			for i, v := range layer {
				nodes[v].pos = i
			}
		}
	}
	setPos(layers)
	best, bestCross := clone(layers), crossings(nodes, layers)
	bary := make([]float64, len(nodes))
	for sweep := 0; sweep < sweeps && bestCross > 0; sweep++ {
		down := sweep%2 == 0
		for k := 1; k < depth; k++ {
			l := k
			if !down {
				l = depth - 1 - k
			}
			layer := layers[l]
			for _, v := range layer {
				nb := nodes[v].in
				if !down {
					nb = nodes[v].out
				}
				bary[v] = float64(nodes[v].pos)
				if len(nb) > 0 {
					sum := 0.0
					for _, u := range nb {
						sum += float64(nodes[u].pos)
					}
					bary[v] = sum / float64(len(nb))
				}
			}
			slices.SortStableFunc(layer, func(a, b int) int { return cmp.Compare(bary[a], bary[b]) })
			for i, v := range layer {
				nodes[v].pos = i
			}
		}
		if c := crossings(nodes, layers); c < bestCross {
			best, bestCross = clone(layers), c
		}
	}
	setPos(best)
	return best
}

// crossings counts the pairs of edges that cross between each two neighbouring layers.
func crossings(nodes []lnode, layers [][]int) int {
	total := 0
	var pairs [][2]int
	for _, layer := range layers {
		pairs = pairs[:0]
		for _, u := range layer {
			for _, v := range nodes[u].out {
				pairs = append(pairs, [2]int{nodes[u].pos, nodes[v].pos})
			}
		}
		for i := range pairs {
			for j := i + 1; j < len(pairs); j++ {
				a, b := pairs[i], pairs[j]
				if (a[0] < b[0] && a[1] > b[1]) || (a[0] > b[0] && a[1] < b[1]) {
					total++
				}
			}
		}
	}
	return total
}

func clone(layers [][]int) [][]int {
	c := make([][]int, len(layers))
	for i, l := range layers {
		c[i] = slices.Clone(l)
	}
	return c
}

// placeHeights gives every node its height (y of its center): each layer, in turn down
// and up and then both ways, is placed as near as its order allows to where its
// neighbours pull it.
func placeHeights(nodes []lnode, layers [][]int) []float64 {
	ys := make([]float64, len(nodes))
	gap := func(a, b int) float64 { return (nodes[a].h+nodes[b].h)/2 + gapBeside(nodes, a, b) }
	for _, layer := range layers {
		y := 0.0
		for i, v := range layer {
			if i > 0 {
				y += gap(layer[i-1], v)
			}
			ys[v] = y
		}
	}
	// an edge between two points of long edges pulls hardest, as dot's weights 1, 2, 8
	weight := func(a, b int) float64 {
		switch {
		case !nodes[a].real && !nodes[b].real:
			return 8
		case !nodes[a].real || !nodes[b].real:
			return 2
		}
		return 1
	}
	want := make([]float64, 0, len(nodes))
	for round := range rounds {
		down, up := round%2 == 0, round%2 == 1
		if round >= rounds-2 {
			down, up = true, true
		}
		for k := range layers {
			l := k
			if !down {
				l = len(layers) - 1 - k
			}
			layer := layers[l]
			want = want[:0]
			for _, v := range layer {
				sum, wsum := 0.0, 0.0
				if down {
					for _, u := range nodes[v].in {
						sum, wsum = sum+weight(u, v)*ys[u], wsum+weight(u, v)
					}
				}
				if up {
					for _, u := range nodes[v].out {
						sum, wsum = sum+weight(u, v)*ys[u], wsum+weight(u, v)
					}
				}
				if wsum == 0 {
					want = append(want, ys[v])
				} else {
					want = append(want, sum/wsum)
				}
			}
			fitOrdered(layer, want, gap, ys)
		}
	}
	return ys
}

// straighten puts each long edge's points on one line where its layers leave room, as
// dot's long edges run straight between their bends.
func straighten(nodes []lnode, layers [][]int, chains [][]int, ys []float64) {
	for _, chain := range chains {
		inner := chain[1 : len(chain)-1]
		if len(inner) < 2 {
			continue
		}
		line := 0.0
		for _, v := range inner {
			line += ys[v]
		}
		line /= float64(len(inner))
		lo, hi := math.Inf(-1), math.Inf(1)
		for _, v := range inner {
			layer, i := layers[nodes[v].layer], nodes[v].pos
			if i > 0 {
				a := layer[i-1]
				lo = max(lo, ys[a]+nodes[a].h/2+gapBeside(nodes, a, v))
			}
			if i+1 < len(layer) {
				b := layer[i+1]
				hi = min(hi, ys[b]-nodes[b].h/2-gapBeside(nodes, v, b))
			}
		}
		if lo <= hi {
			line = min(max(line, lo), hi)
			for _, v := range inner {
				ys[v] = line
			}
		}
	}
}

// gapBeside is the least room between the edges of two neighbours in a layer.
func gapBeside(nodes []lnode, a, b int) float64 {
	if nodes[a].real && nodes[b].real {
		return nodeSep
	}
	return laneSep
}

// fitOrdered places a layer's nodes as near their wanted heights as the order and the
// gaps allow, in the least-squares sense: with each node's height less the gaps above
// it, the order is a non-decreasing sequence, fitted by pooling adjacent violators.
func fitOrdered(layer []int, want []float64, gap func(a, b int) float64, ys []float64) {
	offset := make([]float64, len(layer))
	for i := 1; i < len(layer); i++ {
		offset[i] = offset[i-1] + gap(layer[i-1], layer[i])
	}
	type block struct {
		sum   float64
		count int
	}
	var blocks []block
	for i := range layer {
		blocks = append(blocks, block{sum: want[i] - offset[i], count: 1})
		for len(blocks) > 1 {
			a, b := blocks[len(blocks)-2], blocks[len(blocks)-1]
			if a.sum/float64(a.count) <= b.sum/float64(b.count) {
				break
			}
			blocks = append(blocks[:len(blocks)-2], block{sum: a.sum + b.sum, count: a.count + b.count})
		}
	}
	i := 0
	for _, b := range blocks {
		mean := b.sum / float64(b.count)
		for range b.count {
			ys[layer[i]] = mean + offset[i]
			i++
		}
	}
}
