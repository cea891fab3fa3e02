package lineage

import (
	"sort"

	"github.com/stratadata/strata/models"
)

// NodeDoc is everything the docs say of one node: what it is, where it sits in the graph,
// its columns with their lineage and descriptions: what `strata docs` writes.
type NodeDoc struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Type         string            `json:"type"`
	Path         string            `json:"path"`
	Materialized string            `json:"materialized,omitempty"`
	Relation     string            `json:"relation,omitempty"`
	Description  string            `json:"description,omitempty"`
	Tags         []string          `json:"tags"`
	Upstream     []string          `json:"upstream"`
	Downstream   []string          `json:"downstream"`
	Columns      []Column          `json:"columns"`
	Notes        []string          `json:"notes,omitempty"`
	Docs         map[string]string `json:"column_descriptions,omitempty"`
}

// Describe returns every node but tests in topological order, with what the shadow
// catalog learned of its columns.
func Describe(p *models.Project, g *Graph, cat *Catalog) []NodeDoc {
	var out []NodeDoc
	for _, n := range g.Nodes() {
		if n.Type == TypeTest {
			continue
		}
		d := NodeDoc{ID: n.ID, Name: n.Name, Type: string(n.Type), Path: n.Path, Tags: n.Tags, Upstream: []string{}, Downstream: []string{}, Columns: []Column{}}
		if d.Tags == nil {
			d.Tags = []string{}
		}
		for _, pid := range g.Parents(n.ID) {
			d.Upstream = append(d.Upstream, pid)
		}
		for _, k := range g.Children(n.ID) {
			if g.Node(k).Type != TypeTest {
				d.Downstream = append(d.Downstream, k)
			}
		}
		sort.Strings(d.Upstream)
		sort.Strings(d.Downstream)
		var cols []*models.Column
		switch {
		case n.Model != nil:
			d.Materialized, d.Relation, d.Description, cols = string(n.Model.Kind), p.Relation(n.Model), n.Model.Description, n.Model.Columns
		case n.Source != nil:
			d.Relation, d.Description, cols = p.SourceRelation(n.Source), n.Source.Description, n.Source.Columns
		case n.Exposure != nil:
			d.Description = n.Exposure.Description
		}
		for _, c := range cols {
			if c.Description != "" {
				if d.Docs == nil {
					d.Docs = map[string]string{}
				}
				d.Docs[c.Name] = c.Description
			}
		}
		if nc := cat.Nodes[n.ID]; nc != nil {
			d.Columns, d.Notes = nc.Columns, nc.Notes
		}
		out = append(out, d)
	}
	return out
}
