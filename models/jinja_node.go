package models

import (
	"fmt"
	"strings"
)

// The node a template renders for (dbt's model and node) and dbt's graph.

// nodeObject is the node a template renders for, as dbt's model (and node) variable.
func (p *Project) nodeObject(name, file string) map[string]any {
	m := p.Models[name]
	pkg := p.Name
	for _, pk := range p.Packages {
		if strings.HasPrefix(file, pk.Path+"/") {
			pkg = pk.Name
		}
	}
	obj := map[string]any{"name": name, "path": file, "original_file_path": file, "package_name": pkg,
		"resource_type": "model", "unique_id": "model." + pkg + "." + name, "fqn": []any{pkg, name},
		"alias": name, "config": map[string]any{}, "tags": []any{}, "description": ""}
	if m == nil {
		return obj
	}
	switch m.Kind {
	case KindSeed:
		obj["resource_type"] = "seed"
	case KindSnapshot:
		obj["resource_type"] = "snapshot"
	}
	obj["unique_id"] = fmt.Sprint(obj["resource_type"]) + "." + pkg + "." + name
	fqn := []any{pkg}
	path := m.Path
	if pkg != p.Name { // dbt_packages/<folder>/models/x.sql
		if parts := strings.SplitN(path, "/", 3); len(parts) == 3 {
			path = parts[2]
		}
	}
	for _, part := range strings.Split(strings.TrimSuffix(path, ".sql"), "/")[1:] {
		fqn = append(fqn, part)
	}
	obj["fqn"] = fqn
	obj["alias"] = m.Identifier()
	obj["description"] = m.Description
	cfg := map[string]any{}
	for k, v := range m.Config.Raw {
		cfg[k] = v
	}
	cfg["materialized"] = string(m.Kind)
	obj["config"] = cfg
	tags := []any{}
	for _, t := range m.Config.Tags {
		tags = append(tags, t)
	}
	obj["tags"] = tags
	obj["raw_code"], obj["raw_sql"] = m.raw, m.raw
	return obj
}

// graphObject is dbt's graph: the project's nodes and sources by unique id. At load it
// holds what is read so far (as dbt's parse, where it is incomplete); a model that reads
// it renders again when it runs, with all of it.
func (p *Project) graphObject() map[string]any {
	nodes := map[string]any{}
	for name, m := range p.Models {
		n := p.nodeObject(name, m.Path)
		var deps []any
		for _, r := range m.Refs {
			if rm := p.Models[r.Name]; rm != nil {
				kind := "model"
				if rm.Kind == KindSeed {
					kind = "seed"
				}
				deps = append(deps, kind+"."+p.Name+"."+r.Name)
			}
		}
		for _, sr := range m.Sources {
			deps = append(deps, "source."+p.Name+"."+sr.Source+"."+sr.Table)
		}
		n["depends_on"] = map[string]any{"nodes": deps, "macros": []any{}}
		n["refs"] = deps
		nodes[fmt.Sprint(n["unique_id"])] = n
	}
	sources := map[string]any{}
	for sn, src := range p.Sources {
		for tn, t := range src.Tables {
			id := "source." + p.Name + "." + sn + "." + tn
			sources[id] = map[string]any{"unique_id": id, "name": tn, "source_name": sn, "schema": src.Schema,
				"identifier": t.Identifier, "database": p.Warehouse.database(), "resource_type": "source",
				"package_name": p.Name, "description": t.Description, "tags": t.Tags}
		}
	}
	return map[string]any{"nodes": nodes, "sources": sources, "exposures": map[string]any{}, "metrics": map[string]any{},
		"semantic_models": map[string]any{}, "saved_queries": map[string]any{}}
}
