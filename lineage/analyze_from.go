package lineage

import (
	"fmt"
	"strings"
)

// from adds a FROM item's relations to the scope and returns its join conditions' inputs.
func (a *analyzer) from(t jmap, sc *scope) []ColumnInput {
	if t == nil {
		return nil
	}
	switch t["type"] {
	case "EMPTY":
		return nil
	case "BASE_TABLE":
		sc.rels = append(sc.rels, a.baseTable(t))
	case "SUBQUERY":
		outs, ind := a.query(asMap(asMap(t["subquery"])["node"]), sc.parent)
		for i := range outs {
			outs[i].inputs = append(append([]ColumnInput{}, outs[i].inputs...), ind...)
		}
		r := &relation{alias: str(t["alias"]), cols: outs}
		renameCols(r, t["column_name_alias"])
		sc.rels = append(sc.rels, r)
	case "JOIN":
		ind := a.from(asMap(t["left"]), sc)
		ind = append(ind, a.from(asMap(t["right"]), sc)...)
		if t["condition"] != nil {
			for _, in := range a.refsIn(t["condition"], sc, nil) {
				ind = append(ind, as(in, Join))
			}
		}
		using, _ := t["using_columns"].([]any)
		for _, u := range using {
			name := strings.ToLower(fmt.Sprint(u))
			sc.using[name] = true
			for _, r := range sc.rels {
				for _, c := range r.cols {
					if strings.EqualFold(c.name, name) {
						for _, in := range c.inputs {
							if !in.Kind.Indirect() {
								ind = append(ind, ColumnInput{From: in.From, Kind: Join})
							}
						}
					}
				}
			}
		}
		return ind
	case "TABLE_FUNCTION":
		sc.rels = append(sc.rels, a.tableFunction(t, sc))
	default:
		a.note(fmt.Sprintf("FROM %v: lineage is per input relation", t["type"]))
		r := &relation{alias: str(t["alias"])}
		for _, pid := range a.s.g.Parents(a.node) {
			r.opaque = append(r.opaque, pid)
		}
		sc.rels = append(sc.rels, r)
	}
	return nil
}

// baseTable resolves a table name: a CTE, a model or source of the project, or unknown.
func (a *analyzer) baseTable(t jmap) *relation {
	schema, name := str(t["schema_name"]), str(t["table_name"])
	alias := str(t["alias"])
	if alias == "" {
		alias = name
	}
	if schema == "" {
		if c := a.cte(name); c != nil {
			r := &relation{alias: alias, cols: c.cols, opaque: c.opaque}
			renameCols(r, t["column_name_alias"])
			return r
		}
	}
	id := ""
	if schema != "" {
		id = a.s.rels[relKey(schema, name)]
	} else {
		id = a.s.rels[relKey(a.s.p.Warehouse.Schema, name)]
		if id == "" {
			for key, v := range a.s.rels {
				if strings.HasSuffix(key, "."+strings.ToLower(name)) {
					id = v
					break
				}
			}
		}
	}
	r := &relation{alias: alias}
	if id == "" {
		a.note("reads " + qualified(schema, name) + ", which is neither a model nor a source: its columns are unknown")
		a.undecl[qualified(schema, name)] = true
		return r
	}
	if id != a.node && !a.s.deps[a.node][id] {
		how := "{{ ref('" + a.s.g.Node(id).Name + "') }}"
		if src := a.s.g.Node(id).Source; src != nil {
			how = "{{ source('" + src.Source + "', '" + src.Name + "') }}"
		}
		a.undecl[qualified(schema, name)+" is "+id+": use "+how] = true
	}
	for _, c := range a.s.cols[id] {
		r.cols = append(r.cols, relCol{name: c.Name, inputs: []ColumnInput{{From: ColumnRef{Node: id, Column: c.Name}, Kind: Identity}}})
	}
	renameCols(r, t["column_name_alias"])
	return r
}

func qualified(schema, name string) string {
	if schema == "" {
		return name
	}
	return schema + "." + name
}

// tableFunction handles file readers of sources, unnest and generators.
func (a *analyzer) tableFunction(t jmap, sc *scope) *relation {
	fn := asMap(t["function"])
	name := strings.ToLower(str(fn["function_name"]))
	r := &relation{alias: str(t["alias"])}
	children, _ := fn["children"].([]any)
	switch {
	case strings.HasPrefix(name, "read_") && len(children) > 0:
		loc := str(asMap(asMap(children[0])["value"])["value"])
		if id, ok := a.s.locs[loc]; ok {
			for _, c := range a.s.cols[id] {
				r.cols = append(r.cols, relCol{name: c.Name, inputs: []ColumnInput{{From: ColumnRef{Node: id, Column: c.Name}, Kind: Identity}}})
			}
			if r.alias == "" {
				r.alias = name
			}
			renameCols(r, t["column_name_alias"])
			return r
		}
		a.note(name + "('" + loc + "') is not a declared source: its columns are unknown")
		a.undecl[name+"('"+loc+"')"] = true
	case name == "unnest" || name == "generate_series" || name == "range" || name == "generate_subscripts":
		var ins []ColumnInput
		for _, in := range a.refsIn(fn, sc, nil) {
			ins = append(ins, ColumnInput{From: in.From, Kind: Transformation})
		}
		names, _ := t["column_name_alias"].([]any)
		if len(names) == 0 {
			names = []any{name}
		}
		for _, n := range names {
			r.cols = append(r.cols, relCol{name: fmt.Sprint(n), inputs: ins})
		}
		if r.alias == "" {
			r.alias = name
		}
	default:
		a.note("table function " + name + ": its columns are unknown")
	}
	return r
}

func renameCols(r *relation, aliases any) {
	list, _ := aliases.([]any)
	for i, al := range list {
		if i < len(r.cols) {
			r.cols[i].name = fmt.Sprint(al)
		}
	}
}

// star expands *, t.*, * EXCLUDE (…) and * REPLACE (…).
func (a *analyzer) star(e jmap, sc *scope) []relCol {
	if b, _ := e["columns"].(bool); b || e["expr"] != nil {
		a.note("COLUMNS(...) expression: lineage is per input relation")
		var out []relCol
		for _, r := range sc.rels {
			out = append(out, r.cols...)
		}
		return out
	}
	exclude := map[string]bool{}
	for _, x := range asSlice(e["exclude_list"]) {
		exclude[strings.ToLower(fmt.Sprint(x))] = true
	}
	for _, x := range asSlice(e["qualified_exclude_list"]) {
		parts := asSlice(asMap(x)["column_names"])
		if len(parts) > 0 {
			exclude[strings.ToLower(fmt.Sprint(parts[len(parts)-1]))] = true
		}
	}
	replace := map[string]jmap{}
	for _, x := range asSlice(e["replace_list"]) {
		xm := asMap(x)
		replace[strings.ToLower(str(xm["key"]))] = asMap(xm["value"])
	}
	relName := str(e["relation_name"])
	var out []relCol
	seen := map[string]bool{}
	for _, r := range sc.rels {
		if relName != "" && !strings.EqualFold(r.alias, relName) {
			continue
		}
		if len(r.opaque) > 0 && len(r.cols) == 0 {
			a.note("* over a relation with unknown columns")
		}
		for _, c := range r.cols {
			key := strings.ToLower(c.name)
			if exclude[key] {
				continue
			}
			if relName == "" && sc.using[key] {
				if seen[key] {
					continue
				}
				seen[key] = true
			}
			if rep, ok := replace[key]; ok {
				out = append(out, relCol{name: c.name, inputs: a.expr(rep, sc)})
				continue
			}
			out = append(out, c)
		}
	}
	return out
}
