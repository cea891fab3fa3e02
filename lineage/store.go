package lineage

import (
	"github.com/dominikbraun/graph"
)

// store is where the library keeps the graph's nodes and edges: its Store interface, in
// the two maps its own in-memory store keeps (edges out of and into every vertex), so
// lineage's queries read them in place. The library's memory store guards them with a
// lock and rebuilds both maps from a list of every edge on each AdjacencyMap or
// PredecessorMap call; a lineage graph is built once and then only read, so neither is
// needed, and the copies were most of a 10,000-model build.
//
// Lineage sets no vertex properties; any that are set are kept.
type store struct {
	vertices map[string]*Node
	props    map[string]graph.VertexProperties
	out      map[string]map[string]graph.Edge[string] // source → target → edge
	in       map[string]map[string]graph.Edge[string] // target → source → edge
	edges    int
}

func newStore(size int) *store {
	return &store{
		vertices: make(map[string]*Node, size),
		props:    map[string]graph.VertexProperties{},
		out:      make(map[string]map[string]graph.Edge[string], size),
		in:       make(map[string]map[string]graph.Edge[string], size),
	}
}

func (s *store) AddVertex(hash string, value *Node, p graph.VertexProperties) error {
	if _, ok := s.vertices[hash]; ok {
		return graph.ErrVertexAlreadyExists
	}
	s.vertices[hash] = value
	if p.Weight != 0 || len(p.Attributes) > 0 {
		s.props[hash] = p
	}
	// every vertex has an entry in both maps, as in the library's adjacency maps; the
	// inner map is made with the vertex's first edge (most have none one way or the other)
	s.out[hash] = nil
	s.in[hash] = nil
	return nil
}

func (s *store) Vertex(hash string) (*Node, graph.VertexProperties, error) {
	v, ok := s.vertices[hash]
	if !ok {
		return nil, graph.VertexProperties{}, graph.ErrVertexNotFound
	}
	return v, s.props[hash], nil
}

func (s *store) RemoveVertex(hash string) error {
	if _, ok := s.vertices[hash]; !ok {
		return graph.ErrVertexNotFound
	}
	if len(s.out[hash]) > 0 || len(s.in[hash]) > 0 {
		return graph.ErrVertexHasEdges
	}
	delete(s.vertices, hash)
	delete(s.props, hash)
	delete(s.out, hash)
	delete(s.in, hash)
	return nil
}

func (s *store) ListVertices() ([]string, error) {
	out := make([]string, 0, len(s.vertices))
	for h := range s.vertices {
		out = append(out, h)
	}
	return out, nil
}

func (s *store) VertexCount() (int, error) { return len(s.vertices), nil }

func (s *store) AddEdge(from, to string, e graph.Edge[string]) error {
	if s.out[from] == nil {
		s.out[from] = map[string]graph.Edge[string]{}
	}
	if s.in[to] == nil {
		s.in[to] = map[string]graph.Edge[string]{}
	}
	s.out[from][to] = e
	s.in[to][from] = e
	s.edges++
	return nil
}

func (s *store) UpdateEdge(from, to string, e graph.Edge[string]) error {
	if _, err := s.Edge(from, to); err != nil {
		return err
	}
	s.out[from][to] = e
	s.in[to][from] = e
	return nil
}

func (s *store) RemoveEdge(from, to string) error {
	if _, ok := s.out[from][to]; ok {
		delete(s.out[from], to)
		delete(s.in[to], from)
		s.edges--
	}
	return nil
}

func (s *store) Edge(from, to string) (graph.Edge[string], error) {
	e, ok := s.out[from][to]
	if !ok {
		return graph.Edge[string]{}, graph.ErrEdgeNotFound
	}
	return e, nil
}

func (s *store) ListEdges() ([]graph.Edge[string], error) {
	out := make([]graph.Edge[string], 0, s.edges)
	for _, es := range s.out {
		for _, e := range es {
			out = append(out, e)
		}
	}
	return out, nil
}
