package lineage

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// The analysis walks DuckDB's parse tree (json_serialize_sql) of each model. Names are
// resolved against a scope of relations whose columns carry their lineage back to graph
// nodes; a column's inputs are composed through CTEs and subqueries. Whatever cannot be
// resolved exactly degrades to "all columns of X" with a note, never to a wrong edge.

type jmap = map[string]any

// relCol is a column of a relation in scope, with its lineage to graph columns.
type relCol struct {
	name   string
	inputs []ColumnInput
}

// relation is a FROM item: a model, source, CTE, subquery or table function.
type relation struct {
	alias  string
	cols   []relCol
	opaque []string // nodes whose columns are unknown here: any ref may be any of their columns
}

type scope struct {
	rels   []*relation
	using  map[string]bool // USING columns, merged across the join
	parent *scope
}

type analyzer struct {
	s      *shadow
	node   string
	ctes   []map[string]*relation // innermost last
	notes  map[string]bool
	undecl map[string]bool
}

// analyzeAll parses every model with DuckDB (json_serialize_sql, 200 statements per
// query) and analyzes the trees on all cores.
func (s *shadow) analyzeAll(ctx context.Context) {
	var ids []string
	for _, n := range s.g.Nodes() {
		if _, ok := s.sqls[n.ID]; ok && !s.failed[n.ID] {
			ids = append(ids, n.ID)
			s.nodeColumns(n.ID)
		}
	}
	jobs := make(chan [2]string, 256) // node ID, serialized tree
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				var tree jmap
				nc := s.cat.Nodes[j[0]]
				if err := json.Unmarshal([]byte(j[1]), &tree); err != nil {
					nc.Notes = append(nc.Notes, "not analyzed: "+err.Error())
					continue
				}
				s.analyzeTree(j[0], tree)
			}
		}()
	}
	const batch = 200
	for i := 0; i < len(ids); i += batch {
		part := ids[i:min(i+batch, len(ids))]
		var b strings.Builder
		args := make([]any, len(part))
		b.WriteString("SELECT i, json_serialize_sql(q)::VARCHAR FROM (VALUES ")
		for k, id := range part {
			if k > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "(%d, ?::VARCHAR)", k)
			args[k] = s.sqls[id]
		}
		b.WriteString(") AS t(i, q)")
		rows, err := s.db.QueryContext(ctx, b.String(), args...)
		if err != nil {
			for _, id := range part {
				s.cat.Nodes[id].Notes = append(s.cat.Nodes[id].Notes, "not analyzed: "+firstLine(err.Error()))
			}
			continue
		}
		for rows.Next() {
			var k int
			var tree string
			if err := rows.Scan(&k, &tree); err == nil {
				jobs <- [2]string{part[k], tree}
			}
		}
		rows.Close()
	}
	close(jobs)
	wg.Wait()
}

// analyzeTree computes one model's column lineage from its parse tree. It writes only
// that model's NodeColumns, so models are analyzed in parallel.
func (s *shadow) analyzeTree(id string, root jmap) {
	nc := s.cat.Nodes[id]
	stmts, _ := root["statements"].([]any)
	if b, _ := root["error"].(bool); b || len(stmts) != 1 {
		nc.Notes = append(nc.Notes, "not analyzed: DuckDB could not serialize the query")
		s.degradeAll(id, nc)
		return
	}
	a := &analyzer{s: s, node: id, notes: map[string]bool{}, undecl: map[string]bool{}}
	node, _ := stmts[0].(jmap)["node"].(jmap)
	outs, indirect := a.query(node, nil)
	if len(outs) != len(nc.Columns) {
		a.note(fmt.Sprintf("the select list gives %d columns where DuckDB sees %d; lineage is per input relation", len(outs), len(nc.Columns)))
		s.degradeAll(id, nc)
	} else {
		for i := range nc.Columns {
			nc.Columns[i].Inputs = dedupe(append(append([]ColumnInput{}, outs[i].inputs...), indirect...))
		}
	}
	for msg := range a.notes {
		nc.Notes = append(nc.Notes, msg)
	}
	sort.Strings(nc.Notes)
	for u := range a.undecl {
		nc.Undeclared = append(nc.Undeclared, u)
	}
	sort.Strings(nc.Undeclared)
}

// degradeAll makes every column of a node depend on every column of its parents.
func (s *shadow) degradeAll(id string, nc *NodeColumns) {
	var ins []ColumnInput
	for _, pid := range s.g.Parents(id) {
		for _, c := range s.cols[pid] {
			ins = append(ins, ColumnInput{From: ColumnRef{Node: pid, Column: c.Name}, Kind: AllColumns})
		}
	}
	for i := range nc.Columns {
		nc.Columns[i].Inputs = ins
	}
}

func (a *analyzer) note(msg string) { a.notes[msg] = true }

// query analyzes a query node: its output columns and the indirect inputs that decide
// its rows (filters, joins, group keys).
func (a *analyzer) query(node jmap, outer *scope) ([]relCol, []ColumnInput) {
	if node == nil {
		return nil, nil
	}
	pushed := a.pushCTEs(node, outer)
	if pushed {
		defer func() { a.ctes = a.ctes[:len(a.ctes)-1] }()
	}
	switch node["type"] {
	case "SELECT_NODE":
		return a.selectNode(node, outer)
	case "SET_OPERATION_NODE":
		l, li := a.query(asMap(node["left"]), outer)
		r, ri := a.query(asMap(node["right"]), outer)
		byName := strings.Contains(fmt.Sprint(node["setop_type"]), "BY_NAME")
		outs := make([]relCol, len(l))
		copy(outs, l)
		for i, rc := range r {
			j := i
			if byName {
				j = -1
				for k := range outs {
					if strings.EqualFold(outs[k].name, rc.name) {
						j = k
						break
					}
				}
				if j < 0 {
					outs = append(outs, rc)
					continue
				}
			}
			if j < len(outs) {
				outs[j].inputs = append(append([]ColumnInput{}, outs[j].inputs...), rc.inputs...)
			}
		}
		return outs, append(li, ri...)
	case "RECURSIVE_CTE_NODE":
		a.note("recursive CTE: lineage is per input relation")
		l, li := a.query(asMap(node["left"]), outer)
		return l, li
	}
	a.note(fmt.Sprintf("query node %v: lineage is per input relation", node["type"]))
	return nil, nil
}

// pushCTEs analyzes a node's WITH clause, in order (a CTE may read the ones before it).
func (a *analyzer) pushCTEs(node jmap, outer *scope) bool {
	cm := asMap(node["cte_map"])
	entries, _ := cm["map"].([]any)
	if len(entries) == 0 {
		return false
	}
	level := map[string]*relation{}
	a.ctes = append(a.ctes, level)
	for _, e := range entries {
		em := asMap(e)
		name := fmt.Sprint(em["key"])
		val := asMap(em["value"])
		q := asMap(asMap(val["query"])["node"])
		outs, ind := a.query(q, outer)
		for i := range outs {
			outs[i].inputs = append(append([]ColumnInput{}, outs[i].inputs...), ind...)
		}
		if aliases, _ := val["aliases"].([]any); len(aliases) > 0 {
			for i, al := range aliases {
				if i < len(outs) {
					outs[i].name = fmt.Sprint(al)
				}
			}
		}
		level[strings.ToLower(name)] = &relation{alias: name, cols: outs}
	}
	return true
}

func (a *analyzer) cte(name string) *relation {
	for i := len(a.ctes) - 1; i >= 0; i-- {
		if r, ok := a.ctes[i][strings.ToLower(name)]; ok {
			return r
		}
	}
	return nil
}

func (a *analyzer) selectNode(node jmap, outer *scope) ([]relCol, []ColumnInput) {
	sc := &scope{parent: outer, using: map[string]bool{}}
	var indirect []ColumnInput
	indirect = append(indirect, a.from(asMap(node["from_table"]), sc)...)
	list, _ := node["select_list"].([]any)
	var outs []relCol
	var exprs []jmap // the expression behind each output, nil for star columns
	aliases := map[string][]ColumnInput{}
	for _, it := range list {
		e := asMap(it)
		if e["type"] == "STAR" {
			for _, rc := range a.star(e, sc) {
				outs = append(outs, rc)
				exprs = append(exprs, nil)
			}
			continue
		}
		ins := a.expr(e, sc)
		name := exprName(e)
		outs = append(outs, relCol{name: name, inputs: ins})
		exprs = append(exprs, e)
		if al, _ := e["alias"].(string); al != "" {
			aliases[strings.ToLower(al)] = ins
		}
	}
	kinded := func(e any, kind EdgeKind) []ColumnInput {
		var out []ColumnInput
		for _, in := range a.refsIn(e, sc, aliases) {
			out = append(out, as(in, kind))
		}
		return out
	}
	indirect = append(indirect, kinded(node["where_clause"], Filter)...)
	indirect = append(indirect, kinded(node["having"], Filter)...)
	indirect = append(indirect, kinded(node["qualify"], Filter)...)
	groups, _ := node["group_expressions"].([]any)
	for _, g := range groups {
		gm := asMap(g)
		if gm["type"] == "VALUE_CONSTANT" { // GROUP BY 1: a select position
			if v, ok := asMap(gm["value"])["value"].(float64); ok && int(v) >= 1 && int(v) <= len(outs) {
				for _, in := range outs[int(v)-1].inputs {
					indirect = append(indirect, as(in, GroupBy))
				}
			}
			continue
		}
		indirect = append(indirect, kinded(g, GroupBy)...)
	}
	if node["aggregate_handling"] == "FORCE_AGGREGATES" { // GROUP BY ALL: the non-aggregates are the keys
		for i, e := range exprs {
			if e != nil && !a.hasAggregate(e) {
				for _, in := range outs[i].inputs {
					indirect = append(indirect, as(in, GroupBy))
				}
			}
		}
	}
	return outs, dedupe(indirect)
}

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

// expr returns the inputs of a select expression with their kinds.
func (a *analyzer) expr(e jmap, sc *scope) []ColumnInput {
	if e["type"] == "COLUMN_REF" {
		return a.resolve(e, sc, nil) // identity: keep the inputs' own kinds
	}
	agg := a.hasAggregate(e)
	var out []ColumnInput
	a.walk(e, sc, nil, func(in ColumnInput, ctx EdgeKind) {
		switch {
		case ctx == Window:
			out = append(out, ColumnInput{From: in.From, Kind: Window})
		case in.Kind.Indirect() || in.Kind == AllColumns:
			out = append(out, in)
		case agg || ctx == Aggregation || in.Kind == Aggregation:
			out = append(out, ColumnInput{From: in.From, Kind: Aggregation})
		default:
			out = append(out, ColumnInput{From: in.From, Kind: Transformation})
		}
	})
	return dedupe(out)
}

// refsIn returns every input an expression reads (for filters, joins and group keys).
func (a *analyzer) refsIn(e any, sc *scope, aliases map[string][]ColumnInput) []ColumnInput {
	var out []ColumnInput
	a.walk(e, sc, aliases, func(in ColumnInput, _ EdgeKind) { out = append(out, in) })
	return out
}

// walk visits the column references under e, resolved, with the context they appear in.
func (a *analyzer) walk(e any, sc *scope, aliases map[string][]ColumnInput, visit func(ColumnInput, EdgeKind)) {
	var rec func(v any, ctx EdgeKind, lambda map[string]bool)
	rec = func(v any, ctx EdgeKind, lambda map[string]bool) {
		switch x := v.(type) {
		case []any:
			for _, it := range x {
				rec(it, ctx, lambda)
			}
		case jmap:
			typ := str(x["type"])
			switch {
			case typ == "COLUMN_REF":
				names := asSlice(x["column_names"])
				if len(names) == 1 && lambda[strings.ToLower(fmt.Sprint(names[0]))] {
					return
				}
				for _, in := range a.resolve(x, sc, aliases) {
					visit(in, ctx)
				}
				return
			case typ == "SUBQUERY" && x["subquery"] != nil:
				outs, ind := a.query(asMap(asMap(x["subquery"])["node"]), sc)
				for _, o := range outs {
					for _, in := range o.inputs {
						visit(in, ctx)
					}
				}
				for _, in := range ind {
					visit(in, ctx)
				}
				rec(x["child"], ctx, lambda)
				return
			case typ == "LAMBDA":
				params := map[string]bool{}
				for k, v := range lambda {
					params[k] = v
				}
				var collect func(any)
				collect = func(v any) {
					switch y := v.(type) {
					case []any:
						for _, it := range y {
							collect(it)
						}
					case jmap:
						if y["type"] == "COLUMN_REF" {
							for _, n := range asSlice(y["column_names"]) {
								params[strings.ToLower(fmt.Sprint(n))] = true
							}
							return
						}
						for _, it := range y {
							collect(it)
						}
					}
				}
				collect(x["lhs"])
				rec(x["expr"], ctx, params)
				return
			case strings.HasPrefix(typ, "WINDOW_"):
				inner := ctx
				if typ == "WINDOW_AGGREGATE" || a.s.aggs[strings.ToLower(str(x["function_name"]))] {
					inner = Aggregation
				}
				rec(x["children"], inner, lambda)
				rec(x["partitions"], Window, lambda)
				rec(x["orders"], Window, lambda)
				rec(x["filter_expr"], Filter, lambda)
				return
			}
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				rec(x[k], ctx, lambda)
			}
		}
	}
	rec(e, Transformation, nil)
}

// hasAggregate reports whether an expression aggregates outside any window or subquery.
func (a *analyzer) hasAggregate(e any) bool {
	switch x := e.(type) {
	case []any:
		for _, it := range x {
			if a.hasAggregate(it) {
				return true
			}
		}
	case jmap:
		typ := str(x["type"])
		if typ == "SUBQUERY" || strings.HasPrefix(typ, "WINDOW_") {
			return false
		}
		if typ == "FUNCTION" && a.s.aggs[strings.ToLower(str(x["function_name"]))] {
			return true
		}
		for _, v := range x {
			if a.hasAggregate(v) {
				return true
			}
		}
	}
	return false
}

// resolve finds what a column reference reads: a column of a relation in scope (or an
// outer scope, for correlated subqueries), or a select alias.
func (a *analyzer) resolve(ref jmap, sc *scope, aliases map[string][]ColumnInput) []ColumnInput {
	names := asSlice(ref["column_names"])
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprint(n)
	}
	for s := sc; s != nil; s = s.parent {
		if ins, ok := s.lookup(parts); ok {
			return ins
		}
	}
	if len(parts) == 1 && aliases != nil {
		if ins, ok := aliases[strings.ToLower(parts[0])]; ok {
			return ins
		}
	}
	// an unknown column of a relation whose columns are unknown: it may be any of them
	var out []ColumnInput
	for s := sc; s != nil; s = s.parent {
		for _, r := range s.rels {
			if len(parts) > 1 && !strings.EqualFold(r.alias, parts[0]) {
				continue
			}
			for _, node := range r.opaque {
				for _, c := range a.s.cols[node] {
					out = append(out, ColumnInput{From: ColumnRef{Node: node, Column: c.Name}, Kind: AllColumns})
				}
			}
		}
	}
	if len(out) == 0 {
		a.note("could not resolve " + strings.Join(parts, "."))
	}
	return out
}

// lookup resolves [col], [rel, col], [schema, rel, col] or [col, field…] in one scope.
func (s *scope) lookup(parts []string) ([]ColumnInput, bool) {
	find := func(r *relation, col string) ([]ColumnInput, bool) {
		for _, c := range r.cols {
			if strings.EqualFold(c.name, col) {
				return c.inputs, true
			}
		}
		return nil, false
	}
	if len(parts) >= 2 {
		relName := parts[len(parts)-2]
		if len(parts) > 2 {
			relName = parts[1]
		}
		for _, r := range s.rels {
			if strings.EqualFold(r.alias, relName) || strings.EqualFold(r.alias, parts[0]) {
				col := parts[len(parts)-1]
				if strings.EqualFold(r.alias, parts[0]) {
					col = parts[1]
				}
				if ins, ok := find(r, col); ok {
					return ins, true
				}
			}
		}
	}
	// [col] or [col, struct field…]: the first part is a column
	var out []ColumnInput
	found := false
	for _, r := range s.rels {
		if ins, ok := find(r, parts[0]); ok {
			found = true
			out = append(out, ins...)
			if !s.using[strings.ToLower(parts[0])] {
				break
			}
		}
	}
	return out, found
}

// exprName is the name a select expression gets in a subquery or CTE.
func exprName(e jmap) string {
	if al := str(e["alias"]); al != "" {
		return al
	}
	if e["type"] == "COLUMN_REF" {
		names := asSlice(e["column_names"])
		if len(names) > 0 {
			return fmt.Sprint(names[len(names)-1])
		}
	}
	if fn := str(e["function_name"]); fn != "" {
		return fn
	}
	return "?"
}

// as gives an input the kind of the place it is used in, except that an input which is
// already indirect (a filter inside a CTE, say) keeps its own kind.
func as(in ColumnInput, kind EdgeKind) ColumnInput {
	if in.Kind.Indirect() {
		return in
	}
	return ColumnInput{From: in.From, Kind: kind}
}

// dedupe drops repeated inputs, keeping the order.
func dedupe(in []ColumnInput) []ColumnInput {
	seen := map[ColumnInput]bool{}
	out := in[:0:0]
	for _, x := range in {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func asMap(v any) jmap {
	m, _ := v.(jmap)
	return m
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
