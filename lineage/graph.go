package lineage

import (
	"maps"
	"slices"
	"strings"

	"github.com/dominikbraun/graph"

	"github.com/stratadata/strata/models"
)

// NodeType is what a node of the graph stands for.
type NodeType string

// The node types.
const (
	TypeModel    NodeType = "model"
	TypeSeed     NodeType = "seed"
	TypeSnapshot NodeType = "snapshot"
	TypeSource   NodeType = "source"
	TypeTest     NodeType = "test"
	TypeExposure NodeType = "exposure"
	// the semantic layer: listed and shown downstream of what they read, never built
	TypeSemanticModel NodeType = models.SemanticModel
	TypeMetric        NodeType = models.Metric
	TypeSavedQuery    NodeType = models.SavedQuery
	TypeUnitTest      NodeType = "unit_test" // run before its model, on given rows
)

// Node is one vertex of the graph.
type Node struct {
	ID   string // models and seeds: their name; others: "source:s.t", "test:name", "exposure:name"
	Name string // models, seeds, tests, exposures: their name; sources: "s.t"
	Type NodeType
	Path string
	Tags []string
	FQN  []string // project, folders…, name (dbt's fully qualified name)

	Model    *models.Model       // models and seeds
	Source   *models.SourceTable // sources
	Test     *models.Test        // tests
	Exposure *models.Exposure    // exposures
	Semantic *models.Semantic    // semantic models, metrics, saved queries ("metric:name")
	Unit     *models.UnitTest    // unit tests ("unit_test:name")
}

// Graph is a project's dependency graph. Edges point from a dependency to what reads it.
//
// The nodes and edges live in one github.com/dominikbraun/graph directed graph, added
// and walked through the library; its store (store.go) keeps them in the adjacency and
// predecessor maps every query and the library's algorithms read in place: the graph
// never changes after Build.
type Graph struct {
	Project *models.Project
	g       graph.Graph[string, *Node]
	kids    map[string]map[string]graph.Edge[string] // the store's: g.AdjacencyMap()
	parents map[string]map[string]graph.Edge[string] // the store's: g.PredecessorMap()
	order   []string                                 // topological, ties by ID
	sorted  []*Node                                  // the store's vertices, in order
	rank    map[string]int
}

// view is the graph as the library's algorithms see it: its AdjacencyMap is the store's
// (down) or the predecessor map (up, so a walk goes against the edges), never the copy
// the library's own AdjacencyMap makes on every call.
type view struct {
	graph.Graph[string, *Node]
	adj map[string]map[string]graph.Edge[string]
	up  bool
}

func (v view) AdjacencyMap() (map[string]map[string]graph.Edge[string], error) { return v.adj, nil }

func (gr *Graph) down() view { return view{gr.g, gr.kids, false} }
func (gr *Graph) up() view   { return view{gr.g, gr.parents, true} }

// SourceID returns the node ID of a source table "s.t".
func SourceID(table string) string { return "source:" + table }

// TestID returns the node ID of a test.
func TestID(name string) string { return "test:" + name }

// Build turns a loaded project into its graph, or a *CycleError.
func Build(p *models.Project) (*Graph, error) {
	st := newStore(len(p.Models) + len(p.Tests))
	gr := &Graph{Project: p, g: graph.NewWithStore(func(n *Node) string { return n.ID }, graph.Store[string, *Node](st), graph.Directed())}
	var nodes []*Node                    // as added: by kind, then ID
	arena := make([]Node, len(p.Models)) // one allocation for what is most of the nodes
	add := func(n *Node) {
		if gr.g.AddVertex(n) == nil {
			nodes = append(nodes, n)
		}
	}
	for i, name := range p.ModelNames() {
		m := p.Models[name]
		typ := TypeModel
		switch m.Kind {
		case models.KindSeed:
			typ = TypeSeed
		case models.KindSnapshot:
			typ = TypeSnapshot
		}
		arena[i] = Node{ID: name, Name: name, Type: typ, Path: m.Path, Tags: m.Config.Tags, FQN: fqn(p.Name, m.Path, name), Model: m}
		add(&arena[i])
	}
	for _, sn := range slices.Sorted(maps.Keys(p.Sources)) {
		s := p.Sources[sn]
		for _, tn := range slices.Sorted(maps.Keys(s.Tables)) {
			t := s.Tables[tn]
			add(&Node{ID: SourceID(t.ID()), Name: t.ID(), Type: TypeSource, Path: t.Pos.File, Tags: t.Tags,
				FQN: []string{p.Name, s.Name, t.Name}, Source: t})
		}
	}
	for _, tn := range p.TestNames() {
		t := p.Tests[tn]
		add(&Node{ID: TestID(tn), Name: tn, Type: TypeTest, Path: t.Path, Tags: t.Tags, FQN: []string{p.Name, tn}, Test: t})
	}
	for _, en := range slices.Sorted(maps.Keys(p.Exposures)) {
		e := p.Exposures[en]
		add(&Node{ID: "exposure:" + en, Name: en, Type: TypeExposure, Path: e.Pos.File, FQN: []string{p.Name, en}, Exposure: e})
	}
	for _, id := range p.SemanticNames() {
		s := p.Semantic[id]
		add(&Node{ID: id, Name: s.Name, Type: NodeType(s.Kind), Path: s.Pos.File, FQN: []string{p.Name, s.Name}, Semantic: s})
	}
	for _, name := range slices.Sorted(maps.Keys(p.UnitTests)) {
		u := p.UnitTests[name]
		add(&Node{ID: u.ID(), Name: name, Type: TypeUnitTest, Path: u.Pos.File, Tags: u.Tags, FQN: []string{p.Name, u.Model, name}, Unit: u})
	}
	// an edge from a node that is not in the graph (a ref the loader already reported)
	// is left out, as is a second edge between the same two nodes
	edge := func(from, to string) { _ = gr.g.AddEdge(from, to) }
	for _, n := range nodes {
		var deps, srcs []string
		switch {
		case n.Model != nil:
			deps, srcs = n.Model.DependsOn, n.Model.SourceDeps
		case n.Test != nil:
			deps, srcs = n.Test.DependsOn, n.Test.SourceDeps
		case n.Exposure != nil:
			deps, srcs = n.Exposure.DependsOn, n.Exposure.SourceDeps
		case n.Unit != nil:
			// a unit test reads what its model reads (it runs before the model, on given rows)
			if m := p.Models[n.Unit.Model]; m != nil {
				deps, srcs = m.DependsOn, m.SourceDeps
			}
		case n.Semantic != nil:
			deps = n.Semantic.Uses
			if n.Semantic.Model != "" {
				deps = append([]string{n.Semantic.Model}, deps...)
			}
		}
		for _, d := range deps {
			edge(d, n.ID)
		}
		for _, s := range srcs {
			edge(SourceID(s), n.ID)
		}
	}
	gr.kids, gr.parents = st.out, st.in
	if err := gr.sort(); err != nil {
		return nil, err
	}
	return gr, nil
}

// fqn is project, the folders under the model path's first one, then name: one
// allocation, as it is made for every model.
func fqn(project, path, name string) []string {
	n := strings.Count(path, "/")
	out := make([]string, 1, n+1)
	out[0] = project
	if n >= 2 {
		dirs := path[strings.IndexByte(path, '/')+1 : strings.LastIndexByte(path, '/')]
		for d := range strings.SplitSeq(dirs, "/") {
			out = append(out, d)
		}
	}
	return append(out, name)
}

// sort orders the nodes topologically with Kahn's algorithm over the library's
// adjacency map, once per build, ties broken by ID so the order is stable; on a cycle
// it returns a *CycleError. (The library's own TopologicalSort in v0.23.0 rescans the
// whole predecessor map for every vertex it emits: O(V²), seconds on 10,000 models.)
func (gr *Graph) sort() error {
	indeg := make(map[string]int, len(gr.parents))
	var ready []string
	for id, ps := range gr.parents {
		if len(ps) == 0 {
			ready = append(ready, id)
		} else {
			indeg[id] = len(ps)
		}
	}
	slices.Sort(ready)
	order := make([]string, 0, len(gr.kids))
	var next []string
	for i := 0; i < len(ready); i++ {
		id := ready[i]
		order = append(order, id)
		next = next[:0]
		for k := range gr.kids[id] {
			indeg[k]--
			if indeg[k] == 0 {
				next = append(next, k)
			}
		}
		slices.Sort(next)
		ready = append(ready, next...)
	}
	if len(order) < len(gr.kids) {
		return gr.cycleError()
	}
	gr.order = order
	gr.sorted = make([]*Node, len(order))
	for i, id := range order {
		gr.sorted[i] = gr.Node(id)
	}
	gr.rank = make(map[string]int, len(order))
	for i, id := range order {
		gr.rank[id] = i
	}
	return nil
}

// Node returns the node with an ID, or nil.
func (gr *Graph) Node(id string) *Node {
	n, err := gr.g.Vertex(id)
	if err != nil {
		return nil
	}
	return n
}

// Nodes returns every node in topological order.
func (gr *Graph) Nodes() []*Node {
	return slices.Clone(gr.sorted)
}

// Order returns node IDs in topological order.
func (gr *Graph) Order() []string { return gr.order }

// Rank returns a node's position in topological order.
func (gr *Graph) Rank(id string) int { return gr.rank[id] }

// Parents returns the IDs a node reads, by ID.
func (gr *Graph) Parents(id string) []string { return sortedKeys(gr.parents[id]) }

// Children returns the IDs that read a node, by ID.
func (gr *Graph) Children(id string) []string { return sortedKeys(gr.kids[id]) }

// HasEdge says whether to reads from directly.
func (gr *Graph) HasEdge(from, to string) bool {
	_, ok := gr.kids[from][to]
	return ok
}

func sortedKeys(m map[string]graph.Edge[string]) []string {
	if len(m) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
}

// Sorted returns ids in topological order.
func (gr *Graph) Sorted(ids map[string]bool) []string {
	out := make([]string, 0, len(ids))
	if len(ids) > len(gr.order)/8 { // most of the graph: one pass over the order
		for _, id := range gr.order {
			if ids[id] {
				out = append(out, id)
			}
		}
		return out
	}
	for id := range ids {
		if _, ok := gr.rank[id]; ok {
			out = append(out, id)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return gr.rank[a] - gr.rank[b] })
	return out
}

// Inputs are what a node really reads: its parents, with each ephemeral model (inlined
// where it is used, never built) replaced by its own inputs, recursively.
func (gr *Graph) Inputs(id string) []string {
	var out []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(id string) {
		for _, pid := range gr.Parents(id) {
			if seen[pid] {
				continue
			}
			seen[pid] = true
			if n := gr.Node(pid); n.Model != nil && n.Model.Kind == models.KindEphemeral {
				visit(pid)
				continue
			}
			out = append(out, pid)
		}
	}
	visit(id)
	return out
}
