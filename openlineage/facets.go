package openlineage

import (
	"net/url"
	"path/filepath"
	"sort"
	"strings"

	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// inputsOf returns the datasets a node reads, reading through ephemeral models (they
// are inlined, so their own inputs are what the query reads).
func (o *Sender) inputsOf(n *lineage.Node) []Dataset {
	o.cacheMu.Lock()
	defer o.cacheMu.Unlock()
	if ds, ok := o.inputs[n.ID]; ok {
		return ds
	}
	ds := []Dataset{}
	if n.Type == lineage.TypeSeed {
		ds = append(ds, Dataset{Namespace: "file", Name: o.absPath(n.Model.Path)})
	}
	seen := map[string]bool{}
	for _, id := range o.g.Inputs(n.ID) {
		d, ok := o.dataset(id)
		if !ok || seen[d.Namespace+" "+d.Name] {
			continue
		}
		seen[d.Namespace+" "+d.Name] = true
		if f := o.schemaFacet(id); f != nil {
			d.Facets = map[string]any{"schema": f}
		}
		ds = append(ds, d)
	}
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].Namespace != ds[j].Namespace {
			return ds[i].Namespace < ds[j].Namespace
		}
		return ds[i].Name < ds[j].Name
	})
	o.inputs[n.ID] = ds
	return ds
}

// outputsOf returns what a model or seed writes: its relation, with its schema and
// column lineage. Tests write nothing.
func (o *Sender) outputsOf(n *lineage.Node) []Dataset {
	o.cacheMu.Lock()
	defer o.cacheMu.Unlock()
	if ds, ok := o.outputs[n.ID]; ok {
		return ds
	}
	ds := []Dataset{}
	if n.Model != nil {
		if d, ok := o.dataset(n.ID); ok {
			facets := map[string]any{}
			if f := o.schemaFacet(n.ID); f != nil {
				facets["schema"] = f
			}
			if f := o.columnLineage(n.ID); f != nil {
				facets["columnLineage"] = f
			}
			if len(facets) > 0 {
				d.Facets = facets
			}
			ds = append(ds, d)
		}
	}
	o.outputs[n.ID] = ds
	return ds
}

// dataset names a node's relation or files as OpenLineage does.
func (o *Sender) dataset(id string) (Dataset, bool) {
	if m := o.p.Models[id]; m != nil {
		return Dataset{Namespace: o.namespace, Name: o.p.Schema(m) + "." + m.Identifier()}, true
	}
	table, ok := strings.CutPrefix(id, "source:")
	if !ok {
		return Dataset{}, false
	}
	src, name, _ := strings.Cut(table, ".")
	s := o.p.Sources[src]
	if s == nil || s.Tables[name] == nil {
		return Dataset{}, false
	}
	t := s.Tables[name]
	if t.Location == "" {
		return Dataset{Namespace: o.namespace, Name: s.Schema + "." + t.Identifier}, true
	}
	if u, err := url.Parse(t.Location); err == nil && u.Scheme != "" && u.Host != "" {
		return Dataset{Namespace: u.Scheme + "://" + u.Host, Name: strings.TrimPrefix(u.Path, "/")}, true
	}
	return Dataset{Namespace: "file", Name: o.absPath(t.Location)}, true
}

func (o *Sender) absPath(p string) string {
	if filepath.IsAbs(p) {
		return filepath.ToSlash(p)
	}
	return filepath.ToSlash(filepath.Join(o.p.Dir, p))
}

// schemaFacet lists a node's columns and types, with documented descriptions.
func (o *Sender) schemaFacet(id string) *olSchemaFacet {
	nc := o.cols[id]
	if nc == nil || len(nc.Columns) == 0 {
		return nil
	}
	docs := map[string]string{}
	var documented []*models.Column
	if m := o.p.Models[id]; m != nil {
		documented = m.Columns
	} else if table, ok := strings.CutPrefix(id, "source:"); ok {
		src, name, _ := strings.Cut(table, ".")
		if s := o.p.Sources[src]; s != nil && s.Tables[name] != nil {
			documented = s.Tables[name].Columns
		}
	}
	for _, c := range documented {
		docs[strings.ToLower(c.Name)] = c.Description
	}
	f := &olSchemaFacet{olFacet: facet(schemaURL), Fields: make([]olSchemaField, 0, len(nc.Columns))}
	for _, c := range nc.Columns {
		f.Fields = append(f.Fields, olSchemaField{Name: c.Name, Type: c.Type, Description: docs[strings.ToLower(c.Name)]})
	}
	return f
}

// olKind maps an edge kind to its OpenLineage transformation.
func olKind(k lineage.EdgeKind) olTransformation {
	switch k {
	case lineage.Identity:
		return olTransformation{Type: "DIRECT", Subtype: "IDENTITY"}
	case lineage.Transformation:
		return olTransformation{Type: "DIRECT", Subtype: "TRANSFORMATION"}
	case lineage.Aggregation:
		return olTransformation{Type: "DIRECT", Subtype: "AGGREGATION"}
	case lineage.Filter:
		return olTransformation{Type: "INDIRECT", Subtype: "FILTER"}
	case lineage.Join:
		return olTransformation{Type: "INDIRECT", Subtype: "JOIN"}
	case lineage.GroupBy:
		return olTransformation{Type: "INDIRECT", Subtype: "GROUP_BY"}
	case lineage.Window:
		return olTransformation{Type: "INDIRECT", Subtype: "WINDOW"}
	}
	return olTransformation{Type: "DIRECT", Subtype: "TRANSFORMATION",
		Description: "strata could not trace this column exactly: it may depend on any column of this input"}
}

// columnLineage builds a node's columnLineage facet: each output column's input fields
// with their transformations, and, in dataset, the row-deciding inputs every output
// column shares (a WHERE, a join key, a GROUP BY key).
func (o *Sender) columnLineage(id string) *olColumnLineageFacet {
	nc := o.cols[id]
	if nc == nil || len(nc.Columns) == 0 {
		return nil
	}
	type key struct{ ns, name, field string }
	f := &olColumnLineageFacet{olFacet: facet(columnLineageURL), Fields: map[string]olColumnFields{}}
	shared := map[key]map[olTransformation]int{} // indirect inputs: in how many columns
	found := false
	for _, c := range nc.Columns {
		byField := map[key][]olTransformation{}
		var keys []key
		for _, in := range o.g.PhysicalInputs(o.cols, c.Inputs) {
			d, ok := o.dataset(in.From.Node)
			if !ok {
				continue
			}
			k := key{d.Namespace, d.Name, in.From.Column}
			tr := olKind(in.Kind)
			if _, seen := byField[k]; !seen {
				keys = append(keys, k)
			}
			dup := false
			for _, x := range byField[k] {
				dup = dup || x == tr
			}
			if !dup {
				byField[k] = append(byField[k], tr)
			}
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].ns != keys[j].ns {
				return keys[i].ns < keys[j].ns
			}
			if keys[i].name != keys[j].name {
				return keys[i].name < keys[j].name
			}
			return keys[i].field < keys[j].field
		})
		fields := olColumnFields{InputFields: make([]olInputField, 0, len(keys))}
		for _, k := range keys {
			trs := byField[k]
			sortTransformations(trs)
			fields.InputFields = append(fields.InputFields, olInputField{Namespace: k.ns, Name: k.name, Field: k.field, Transformations: trs})
			for _, tr := range trs {
				if tr.Type == "INDIRECT" {
					if shared[k] == nil {
						shared[k] = map[olTransformation]int{}
					}
					shared[k][tr]++
				}
			}
		}
		found = found || len(keys) > 0
		f.Fields[c.Name] = fields
	}
	if !found {
		return nil
	}
	var dataset []olInputField
	for k, trs := range shared {
		var all []olTransformation
		for tr, count := range trs {
			if count == len(nc.Columns) {
				all = append(all, tr)
			}
		}
		if len(all) > 0 {
			sortTransformations(all)
			dataset = append(dataset, olInputField{Namespace: k.ns, Name: k.name, Field: k.field, Transformations: all})
		}
	}
	sort.Slice(dataset, func(i, j int) bool {
		a, b := dataset[i], dataset[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Field < b.Field
	})
	f.Dataset = dataset
	return f
}

func sortTransformations(trs []olTransformation) {
	sort.Slice(trs, func(i, j int) bool {
		if trs[i].Type != trs[j].Type {
			return trs[i].Type < trs[j].Type
		}
		return trs[i].Subtype < trs[j].Subtype
	})
}
