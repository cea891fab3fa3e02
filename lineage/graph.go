package lineage

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

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
type Graph struct {
	Project *models.Project
	nodes   map[string]*Node
	parents map[string][]string
	kids    map[string][]string
	order   []string
	rank    map[string]int
}

// CycleError says the refs loop; Nodes lists the cycle in order, first node repeated last.
type CycleError struct {
	Nodes []string
	Paths []string   // the file of each node on the cycle
	Pos   models.Pos // the ref in the first node that closes the cycle, when known
}

func (e *CycleError) Error() string {
	where := e.Paths[0]
	if e.Pos.Line > 0 {
		where = fmt.Sprintf("%s:%d:%d", e.Pos.File, e.Pos.Line, e.Pos.Col)
	}
	return fmt.Sprintf("%s: dependency cycle: %s; remove one of these refs to break it",
		where, strings.Join(e.Nodes, " → "))
}

// SourceID returns the node ID of a source table "s.t".
func SourceID(table string) string { return "source:" + table }

// TestID returns the node ID of a test.
func TestID(name string) string { return "test:" + name }

// Build turns a loaded project into its graph, or a *CycleError.
func Build(p *models.Project) (*Graph, error) {
	gr := &Graph{
		Project: p,
		nodes:   map[string]*Node{},
		parents: map[string][]string{},
		kids:    map[string][]string{},
	}
	add := func(n *Node) {
		gr.nodes[n.ID] = n
	}
	for _, name := range p.ModelNames() {
		m := p.Models[name]
		typ := TypeModel
		switch m.Kind {
		case models.KindSeed:
			typ = TypeSeed
		case models.KindSnapshot:
			typ = TypeSnapshot
		}
		add(&Node{ID: name, Name: name, Type: typ, Path: m.Path, Tags: m.Config.Tags, FQN: fqn(p.Name, m.Path, name), Model: m})
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
	seen := map[[2]string]bool{}
	edge := func(from, to string) {
		if _, ok := gr.nodes[from]; !ok {
			return
		}
		if seen[[2]string{from, to}] {
			return
		}
		seen[[2]string{from, to}] = true
		gr.parents[to] = append(gr.parents[to], from)
		gr.kids[from] = append(gr.kids[from], to)
	}
	for _, n := range gr.sortedNodes() {
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
	if err := gr.sort(); err != nil {
		return nil, err
	}
	return gr, nil
}

func fqn(project, path, name string) []string {
	parts := strings.Split(path, "/")
	out := []string{project}
	if len(parts) > 2 {
		out = append(out, parts[1:len(parts)-1]...)
	}
	return append(out, name)
}

func (gr *Graph) sortedNodes() []*Node {
	ids := make([]string, 0, len(gr.nodes))
	for id := range gr.nodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]*Node, len(ids))
	for i, id := range ids {
		out[i] = gr.nodes[id]
	}
	return out
}

// sort orders the nodes topologically with Kahn's algorithm, ties broken by ID so the
// order is stable; on a cycle it returns a *CycleError naming one cycle.
func (gr *Graph) sort() error {
	indeg := make(map[string]int, len(gr.nodes))
	for id := range gr.nodes {
		indeg[id] = len(gr.parents[id])
	}
	var ready []string
	for id, d := range indeg {
		if d == 0 {
			ready = append(ready, id)
		}
	}
	sort.Strings(ready)
	order := make([]string, 0, len(gr.nodes))
	for len(ready) > 0 {
		id := ready[0]
		ready = ready[1:]
		order = append(order, id)
		var next []string
		for _, k := range gr.kids[id] {
			indeg[k]--
			if indeg[k] == 0 {
				next = append(next, k)
			}
		}
		sort.Strings(next)
		ready = append(ready, next...)
	}
	if len(order) < len(gr.nodes) {
		return gr.cycle(indeg)
	}
	gr.order = order
	gr.rank = make(map[string]int, len(order))
	for i, id := range order {
		gr.rank[id] = i
	}
	return nil
}

// cycle finds one cycle among the nodes Kahn's algorithm could not order.
func (gr *Graph) cycle(indeg map[string]int) error {
	var stuck []string
	for id, d := range indeg {
		if d > 0 {
			stuck = append(stuck, id)
		}
	}
	sort.Strings(stuck)
	state := map[string]int{} // 1 on stack, 2 done
	var stack []string
	var found []string
	var visit func(id string) bool
	visit = func(id string) bool {
		state[id] = 1
		stack = append(stack, id)
		kids := append([]string(nil), gr.kids[id]...)
		sort.Strings(kids)
		for _, k := range kids {
			if state[k] == 1 {
				for i, s := range stack {
					if s == k {
						found = append(append([]string{}, stack[i:]...), k)
						return true
					}
				}
			}
			if state[k] == 0 && visit(k) {
				return true
			}
		}
		stack = stack[:len(stack)-1]
		state[id] = 2
		return false
	}
	for _, id := range stuck {
		if state[id] == 0 && visit(id) {
			break
		}
	}
	e := &CycleError{Nodes: found}
	for _, id := range found {
		e.Paths = append(e.Paths, gr.nodes[id].Path)
	}
	// found is a → b → … → a along edges (b reads a): the first node's ref to the one
	// before it on the cycle closes the loop
	if len(found) >= 3 {
		if m := gr.nodes[found[0]].Model; m != nil {
			for _, r := range m.Refs {
				if r.Name == found[len(found)-2] {
					e.Pos = r.Pos
					break
				}
			}
		}
	}
	return e
}

// Node returns the node with an ID, or nil.
func (gr *Graph) Node(id string) *Node { return gr.nodes[id] }

// Nodes returns every node in topological order.
func (gr *Graph) Nodes() []*Node {
	out := make([]*Node, len(gr.order))
	for i, id := range gr.order {
		out[i] = gr.nodes[id]
	}
	return out
}

// Order returns node IDs in topological order.
func (gr *Graph) Order() []string { return gr.order }

// Rank returns a node's position in topological order.
func (gr *Graph) Rank(id string) int { return gr.rank[id] }

// Parents returns the IDs a node reads.
func (gr *Graph) Parents(id string) []string { return gr.parents[id] }

// Children returns the IDs that read a node.
func (gr *Graph) Children(id string) []string { return gr.kids[id] }

// Sorted returns ids in topological order.
func (gr *Graph) Sorted(ids map[string]bool) []string {
	out := make([]string, 0, len(ids))
	for id := range ids {
		if _, ok := gr.nodes[id]; ok {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return gr.rank[out[i]] < gr.rank[out[j]] })
	return out
}

// Inputs are what a node really reads: its parents, with each ephemeral model (inlined
// where it is used, never built) replaced by its own inputs, recursively.
func (gr *Graph) Inputs(id string) []string {
	var out []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(id string) {
		for _, pid := range gr.parents[id] {
			if seen[pid] {
				continue
			}
			seen[pid] = true
			if n := gr.nodes[pid]; n.Model != nil && n.Model.Kind == models.KindEphemeral {
				visit(pid)
				continue
			}
			out = append(out, pid)
		}
	}
	visit(id)
	return out
}
