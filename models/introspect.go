package models

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// Introspection, as dbt's execute: a project is read with execute false (no warehouse
// yet, as in dbt's parse), so run_query gives none, adapter.get_columns_in_relation no
// columns, and dbt_utils.star a '*'. A model whose Jinja reads the warehouse renders
// again when it runs, against the live warehouse, after its upstream models are built:
// Compile with CompileOptions.Live.

// Introspector is the live warehouse a model renders against when it runs: one query at
// a time, on the run's own connection (its transaction sees the upstream models just
// built).
type Introspector interface {
	Query(sql string) (columns []string, rows [][]any, err error)
}

// introspectWords are what a template (or a macro it calls) says when it reads the
// warehouse while rendering.
var introspectWords = []string{"execute", "run_query", "statement(", "load_result", "get_columns_in_relation",
	"get_relation", "load_relation", "get_query_results_as_dict", "get_column_values", "star(", "union_relations", "date_spine", "graph.", "flags.",
	// a relation's attributes, known only once the project is read
	").name", ").identifier", ").schema", ").database", ").type", ").is_view", ").is_table", "this.", "relation."}

// Introspects reports whether a model's Jinja reads the warehouse while rendering, so it
// renders again at run time.
func (p *Project) Introspects(m *Model) bool {
	return m.tmpl != nil && p.readsWarehouse(m)
}

// readsWarehouse is Introspects by the model's text and the macros it calls.
func (p *Project) readsWarehouse(m *Model) bool {
	if m.static || !strings.Contains(m.raw, "{") {
		// a static render's Jinja is only ref, source, config, var and env_var calls
		return false
	}
	texts := []string{m.raw}
	if p.macros != nil {
		for _, file := range p.macrosUsed(m.raw) {
			texts = append(texts, p.macros.sources[file])
		}
	}
	for _, t := range texts {
		for _, w := range introspectWords {
			if strings.Contains(t, w) {
				return true
			}
		}
	}
	return false
}

// agateTable is a query's result as dbt's run_query gives it (an agate table): rows,
// columns by index or name with values(), column_names.
func agateTable(cols []string, rows [][]any) map[string]any {
	rowList := make([]any, len(rows))
	for i, r := range rows {
		rowList[i] = append([]any{}, r...)
	}
	var columns []any
	for j, name := range cols {
		values := make([]any, len(rows))
		for i, r := range rows {
			values[i] = r[j]
		}
		columns = append(columns, map[string]any{"name": name, "values": func() []any { return values }})
	}
	names := make([]any, len(cols))
	for i, c := range cols {
		names[i] = c
	}
	return map[string]any{"rows": rowList, "columns": columns, "column_names": names,
		"print_table": func(*exec.VarArgs) string { return "" }}
}

// introspection binds a render's warehouse functions: live ones with an Introspector,
// else the parse-time ones that return nothing.
func (re *renderEnv) introspection(ctx *exec.Context, st *renderState) {
	live := st.live
	ctx.Set("execute", live != nil)
	query := func(sql string) (map[string]any, error) {
		sql, err := re.project.resolve(sql, "", 0, nil) // the relations it names
		if err != nil {
			return nil, err
		}
		cols, rows, err := live.Query(sql)
		if err != nil {
			return nil, fmt.Errorf("a query the template ran failed: %w\n%s", err, strings.TrimSpace(sql))
		}
		return agateTable(cols, rows), nil
	}
	ctx.Set("run_query", func(sql string) (any, error) {
		if live == nil {
			return nil, nil
		}
		return query(sql)
	})
	ctx.Set("__statement", func(name, sql string) (string, error) {
		if live == nil {
			return "", nil
		}
		t, err := query(sql)
		if err != nil {
			return "", err
		}
		if st.results == nil {
			st.results = map[string]any{}
		}
		st.results[name] = map[string]any{"data": t["rows"], "table": t, "response": map[string]any{"rows_affected": len(t["rows"].([]any))}}
		return "", nil
	})
	ctx.Set("load_result", func(name string) any {
		if r, ok := st.results[name]; ok {
			return r
		}
		return nil
	})
}

// liveAdapter adds the warehouse-reading parts of the adapter object.
func (re *renderEnv) liveAdapter(a map[string]any, st *renderState) {
	p := re.project
	columns := func(v *exec.Value) ([]any, error) {
		if st.live == nil {
			return []any{}, nil
		}
		schema, ident, ok := relationName(p, v)
		if !ok {
			return nil, fmt.Errorf("adapter.get_columns_in_relation: %q is no relation", v.String())
		}
		_, rows, err := st.live.Query(fmt.Sprintf(`select column_name, data_type from information_schema.columns
			where table_schema = '%s' and table_name = '%s' order by ordinal_position`, sqlString(schema), sqlString(ident)))
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(rows))
		for _, r := range rows {
			out = append(out, column(fmt.Sprint(r[0]), fmt.Sprint(r[1])))
		}
		return out, nil
	}
	a["get_columns_in_relation"] = func(v *exec.Value) ([]any, error) { return columns(v) }
	getRelation := func(schema, ident string) (any, error) {
		if st.live == nil {
			return nil, nil
		}
		_, rows, err := st.live.Query(fmt.Sprintf(`select table_type from information_schema.tables
			where table_schema = '%s' and table_name = '%s'`, sqlString(schema), sqlString(ident)))
		if err != nil || len(rows) == 0 {
			return nil, err
		}
		kind := "table"
		if strings.Contains(strings.ToLower(fmt.Sprint(rows[0][0])), "view") {
			kind = "view"
		}
		return p.newRelation(schema, ident, kind), nil
	}
	a["get_relation"] = func(args *exec.VarArgs) (any, error) {
		schema, ident := "", ""
		if len(args.Args) == 3 {
			schema, ident = args.Args[1].String(), args.Args[2].String()
		}
		if v, ok := args.KwArgs["schema"]; ok {
			schema = v.String()
		}
		if v, ok := args.KwArgs["identifier"]; ok {
			ident = v.String()
		}
		return getRelation(schema, ident)
	}
	load := func(v *exec.Value) (any, error) {
		schema, ident, ok := relationName(p, v)
		if !ok {
			return nil, nil
		}
		return getRelation(schema, ident)
	}
	a["load_relation"] = load
	a["load_cached_relation"] = load
}

// column is a column as adapter.get_columns_in_relation gives it: dbt's Column, its
// kind from DuckDB's type name (a STRUCT or an INTERVAL is none of string or number).
func column(name, dataType string) map[string]any {
	base := strings.ToUpper(strings.TrimSpace(dataType))
	if i := strings.IndexAny(base, "( "); i > 0 {
		base = base[:i]
	}
	in := func(names ...string) bool {
		for _, n := range names {
			if base == n {
				return true
			}
		}
		return false
	}
	isString := in("VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR", "NVARCHAR")
	isInt := in("INTEGER", "INT", "INT4", "INT8", "INT2", "INT1", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UHUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "LONG", "SHORT")
	isFloat := in("DOUBLE", "FLOAT", "REAL", "FLOAT4", "FLOAT8")
	isNumeric := in("DECIMAL", "NUMERIC")
	size := 256 // dbt's string_size when the type gives none, as DuckDB's VARCHAR does
	if m := sizeRe.FindStringSubmatch(dataType); m != nil && isString {
		size, _ = strconv.Atoi(m[1])
	}
	yes := func(b bool) func() bool { return func() bool { return b } }
	return map[string]any{
		"name": name, "column": name, "data_type": dataType, "dtype": dataType, "quoted": Quote(name),
		"char_size":          size,
		"string_size":        func() int { return size },
		"can_expand_to":      func(*exec.VarArgs) bool { return false },
		"literal":            func(v string) string { return "cast('" + sqlString(v) + "' as " + dataType + ")" },
		"expanded_data_type": dataType,
		"is_string":          yes(isString),
		"is_integer":         yes(isInt),
		"is_float":           yes(isFloat),
		"is_numeric":         yes(isNumeric),
		"is_number":          yes(isInt || isFloat || isNumeric),
		"is_timestamp":       yes(strings.HasPrefix(base, "TIMESTAMP")),
	}
}

var sizeRe = regexp.MustCompile(`\((\d+)\)`)

func sqlString(s string) string { return strings.ReplaceAll(s, "'", "''") }
