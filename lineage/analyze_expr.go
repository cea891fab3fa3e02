package lineage

import (
	"fmt"
	"sort"
	"strings"
)

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
