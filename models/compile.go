package models

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// CompileOptions change what Compile renders.
type CompileOptions struct {
	// Incremental renders is_incremental() as true: the model's table exists and this is
	// not a full refresh.
	Incremental bool
	// Window renders a partitioned model for one partition: partition_start, ds, … take
	// its values, and refs to models that declare event_time are filtered to the span read.
	Window *Window
	// Live is the warehouse a model that reads it while rendering (run_query,
	// adapter.get_columns_in_relation, dbt_utils.star, …) renders against: at run
	// time, after its upstream models are built. Without it such a model renders as at
	// load, with execute false.
	Live Introspector
	// Flags are dbt's flags of the run (FULL_REFRESH, WHICH) for a model that renders
	// again when it runs; at load they are false and "run".
	Flags map[string]any
}

// Quote quotes a SQL identifier for DuckDB.
func Quote(ident string) string {
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}

// Schema returns the schema a model or seed is built in: the warehouse schema, or, with a
// custom schema config, dbt's default "<target schema>_<custom>" (or what the project's
// generate_schema_name macro says).
func (p *Project) Schema(m *Model) string {
	if m.absSchema != "" {
		return m.absSchema
	}
	custom := m.Config.Schema
	if p.macros != nil && p.macros.names["generate_schema_name"] != "" {
		key := custom + "\x00" + m.Name // the macro may look at the node
		if s, ok := p.schemaCache.Load(key); ok {
			return s.(string)
		}
		if s, err := p.callMacro("generate_schema_name", nilIfEmpty(custom), p.nodeObject(m.Name, m.Path)); err == nil {
			s = strings.TrimSpace(s)
			p.schemaCache.Store(key, s)
			return s
		}
	}
	if custom == "" {
		return p.Warehouse.Schema
	}
	return p.Warehouse.Schema + "_" + custom
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Identifier returns the relation name of a model: its alias, or its name.
func (m *Model) Identifier() string {
	if m.Config.Alias != "" {
		return m.Config.Alias
	}
	return m.Name
}

// Relation returns the quoted relation a model or seed builds, e.g. "main"."orders".
func (p *Project) Relation(m *Model) string {
	return Quote(p.Schema(m)) + "." + Quote(m.Identifier())
}

// SourceRelation returns what SQL reads for a source table: its relation, or a DuckDB
// reader over its files (read_parquet, read_csv_auto, read_json_auto).
func (p *Project) SourceRelation(t *SourceTable) string {
	if t.Location != "" {
		loc := strings.ReplaceAll(t.Location, "'", "''")
		switch ext := strings.ToLower(path.Ext(strings.TrimSuffix(t.Location, ".gz"))); ext {
		case ".csv", ".tsv":
			return "read_csv_auto('" + loc + "')"
		case ".json", ".ndjson", ".jsonl":
			return "read_json_auto('" + loc + "')"
		default:
			return "read_parquet('" + loc + "')"
		}
	}
	s := p.Sources[t.Source]
	return Quote(s.Schema) + "." + Quote(t.Identifier)
}

// Compile returns the SQL a model runs: its rendered select with every ref(), source() and
// this resolved; refs to ephemeral models are inlined as subqueries.
func (p *Project) Compile(m *Model, opts CompileOptions) (string, error) {
	if m.Kind == KindPython {
		return "", &PythonModelError{Model: m.Name, Pos: Pos{File: m.Path, Line: 1, Col: 1}}
	}
	sql := m.rendered
	var live Introspector
	if opts.Live != nil && p.Introspects(m) {
		live = opts.Live
	}
	if opts.Window != nil && m.tmpl != nil {
		st := &renderState{file: m.Path, raw: m.raw, window: opts.Window, spec: m.partition, live: live, flags: opts.Flags}
		out, err := p.renderEnv().render(m.tmpl, m.Name, st)
		if err != nil {
			return "", err
		}
		if len(st.errs) > 0 {
			return "", st.errs
		}
		read := *opts.Window
		if m.partition != nil {
			read = m.partition.ReadWindow(read)
		}
		return p.resolve(out, m.Name, 0, &read)
	}
	// a model that reads the warehouse or its relations' attributes renders again, with
	// the warehouse when given, and its relations' real attributes
	if (opts.Incremental && m.Kind == KindIncremental || live != nil || p.Introspects(m)) && m.tmpl != nil {
		st := &renderState{file: m.Path, raw: m.raw, incremental: opts.Incremental && m.Kind == KindIncremental, live: live, flags: opts.Flags}
		out, err := p.renderEnv().render(m.tmpl, m.Name, st)
		if err != nil {
			return "", err
		}
		if len(st.errs) > 0 {
			return "", st.errs
		}
		sql = out
	}
	return p.resolvePlaceholders(sql, m.Name, 0)
}

func (p *Project) resolvePlaceholders(sql, self string, depth int) (string, error) {
	return p.resolve(sql, self, depth, nil)
}

// resolve swaps placeholders for relations; with read set, refs to models that declare
// event_time become that model filtered to read, as dbt's microbatch does.
func (p *Project) resolve(sql, self string, depth int, read *Window) (string, error) {
	return p.resolveWith(sql, self, depth, read, nil)
}

// resolveWith is resolve with some relations replaced: subst maps a ref's model name, a
// source's "source.table" (and "this" for the model itself) to the SQL read instead.
func (p *Project) resolveWith(sql, self string, depth int, read *Window, subst map[string]string) (string, error) {
	if depth > 50 {
		return "", fmt.Errorf("ephemeral models nest deeper than 50 levels; is there a cycle?")
	}
	if !strings.Contains(sql, placeholderMark) {
		return sql, nil
	}
	var b strings.Builder
	b.Grow(len(sql) + 64)
	for {
		i := strings.Index(sql, placeholderMark)
		if i < 0 {
			b.WriteString(sql)
			break
		}
		b.WriteString(sql[:i])
		rest := sql[i+1:]
		j := strings.Index(rest, placeholderMark)
		if j < 0 {
			return "", fmt.Errorf("corrupt placeholder in compiled SQL")
		}
		token := rest[:j]
		sql = rest[j+1:]
		switch {
		case strings.HasPrefix(token, "ref:") && subst != nil && subst[token[4:]] != "":
			b.WriteString(subst[token[4:]])
		case strings.HasPrefix(token, "src:") && subst != nil && subst[token[4:]] != "":
			b.WriteString(subst[token[4:]])
		case strings.HasPrefix(token, "ref:"):
			name := token[4:]
			m, ok := p.Models[name]
			if !ok {
				return "", fmt.Errorf("unknown ref %q%s", name, didYouMean(name, p.ModelNames()))
			}
			if m.Kind == KindEphemeral && name != self {
				inner, err := p.resolveWith(m.rendered, name, depth+1, read, subst)
				if err != nil {
					return "", err
				}
				b.WriteString("(\n" + strings.TrimSpace(inner) + "\n)")
				continue
			}
			if col := str(m.Config.Raw["event_time"]); read != nil && col != "" && name != self {
				fmt.Fprintf(&b, "(select * from %s where %s >= %s and %s < %s)", p.Relation(m), Quote(col), SQLTimestamp(read.Start), Quote(col), SQLTimestamp(read.End))
				continue
			}
			b.WriteString(p.Relation(m))
		case strings.HasPrefix(token, "attr:"):
			v, err := p.relationAttr(token[5:])
			if err != nil {
				return "", err
			}
			b.WriteString(v)
		case strings.HasPrefix(token, "src:"):
			t := p.SourceTable(token[4:])
			if t == nil {
				return "", fmt.Errorf("unknown source %q", token[4:])
			}
			b.WriteString(p.SourceRelation(t))
		default:
			return "", fmt.Errorf("corrupt placeholder %q in compiled SQL", token)
		}
	}
	return b.String(), nil
}

// renderEnv is built once per project, lazily, for renders after Load.
func (p *Project) renderEnv() *renderEnv {
	p.reOnce.Do(func() {
		if p.re == nil {
			p.re = newRenderEnv(p, osEnv)
		}
	})
	return p.re
}

// callMacro calls a project macro with positional arguments and returns its output.
func (p *Project) callMacro(name string, args ...any) (string, error) {
	st := &renderState{file: p.macros.names[name]}
	ctx := p.renderEnv().context("", st)
	fn, ok := ctx.Get(name)
	if !ok {
		return "", fmt.Errorf("unknown macro %q", name)
	}
	macro, ok := fn.(exec.Macro)
	if !ok {
		return "", fmt.Errorf("%q is not a macro", name)
	}
	va := exec.NewVarArgs()
	for _, a := range args {
		va.Args = append(va.Args, exec.AsValue(a))
	}
	if len(st.errs) > 0 {
		return "", st.errs
	}
	v, err := safeCall(macro, va)
	if err != nil {
		return "", fmt.Errorf("macro %s: %w", name, err)
	}
	if v.IsError() {
		return "", fmt.Errorf("macro %s: %s", name, v.String())
	}
	return v.String(), nil
}

// CompileTest returns the SQL of a test: a query selecting the rows that fail it.
func (p *Project) CompileTest(t *Test) (string, error) {
	if t.Generic == "" {
		return p.resolvePlaceholders(t.rendered, "", 0)
	}
	var target string
	if strings.Contains(t.Model, ".") {
		target = srcPlaceholder(strings.SplitN(t.Model, ".", 2)[0], strings.SplitN(t.Model, ".", 2)[1])
	} else {
		target = refPlaceholder(t.Model)
	}
	if t.Where != "" {
		target = "(select * from " + target + " where " + t.Where + ") dbt_subquery"
	}
	col := t.ColumnSQL()
	var sql string
	switch t.Generic {
	case CDCVerifyTest:
		// the engine runs strata verify for this test; its SQL reads the model, for lineage
		sql = fmt.Sprintf("select *\nfrom %s\nwhere false", target)
	case "not_null":
		sql = fmt.Sprintf("select *\nfrom %s\nwhere %s is null", target, col)
	case "unique":
		sql = fmt.Sprintf("select %s as unique_field, count(*) as n_records\nfrom %s\nwhere %s is not null\ngroup by %s\nhaving count(*) > 1", col, target, col, col)
	case "accepted_values":
		var vals []string
		quote := true
		if q, ok := t.args["quote"].(bool); ok {
			quote = q
		}
		for _, v := range t.args["values"].([]any) {
			s := fmt.Sprint(v)
			if quote {
				s = "'" + strings.ReplaceAll(s, "'", "''") + "'"
			}
			vals = append(vals, s)
		}
		sql = fmt.Sprintf("with all_values as (\n  select %s as value_field, count(*) as n_records\n  from %s\n  group by %s\n)\nselect *\nfrom all_values\nwhere value_field not in (%s)", col, target, col, strings.Join(vals, ", "))
	case "relationships":
		var parent string
		if len(t.refs) > 0 {
			parent = refPlaceholder(t.refs[0].Name)
		} else {
			parent = srcPlaceholder(t.sources[0].Source, t.sources[0].Table)
		}
		field := Quote(str(t.args["field"])) // a column name from YAML: never more SQL
		sql = fmt.Sprintf("with child as (\n  select %s as from_field\n  from %s\n  where %s is not null\n),\nparent as (\n  select %s as to_field\n  from %s\n)\nselect from_field\nfrom child\nleft join parent on child.from_field = parent.to_field\nwhere parent.to_field is null", col, target, col, field, parent)
	default:
		out, err := p.renderCustomTest(t, target)
		if err != nil {
			return "", err
		}
		sql = out
	}
	return p.resolvePlaceholders(sql, "", 0)
}

// renderCustomTest calls a {% test %} macro with model, column_name and the test's arguments.
func (p *Project) renderCustomTest(t *Test, target string) (string, error) {
	st := &renderState{file: t.Path}
	ctx := p.renderEnv().context("", st)
	fn, _ := ctx.Get("test_" + t.Generic)
	if pkg, name, ok := strings.Cut(t.Generic, "."); ok { // a package's: dbt_utils.expression_is_true
		space, _ := ctx.Get(pkg)
		m, _ := space.(map[string]any)
		fn = m["test_"+name]
	}
	macro, ok := fn.(exec.Macro)
	if !ok {
		return "", fmt.Errorf("%s: unknown generic test %q", t.Path, t.Generic)
	}
	va := exec.NewVarArgs()
	va.KwArgs["model"] = exec.AsValue(target)
	if t.Column != "" {
		// as dbt passes it: the name as written, quoted only with quote: true (a macro may
		// use it in a string literal); text after a `;` still cannot run, since every
		// statement is exactly one statement
		va.KwArgs["column_name"] = exec.AsValue(t.macroColumn())
	}
	for k, v := range t.args {
		va.KwArgs[k] = exec.AsValue(v)
	}
	v, err := safeCall(macro, va)
	if err != nil {
		return "", fmt.Errorf("%s: test %s: %w", t.Path, t.Name, err)
	}
	if v.IsError() {
		return "", fmt.Errorf("%s: test %s: %s", t.Path, t.Name, jinjaError(t.Path, v, "").Msg[2:])
	}
	return v.String(), nil
}

// RenderHook renders a pre- or post-hook's Jinja (this, ref, var, …) for a model and
// resolves its relations.
func (p *Project) RenderHook(m *Model, hook string) (string, error) {
	return p.RenderText(m, hook, nil)
}

// RenderText renders a snippet of Jinja (a hook, a partition check's SQL or file glob) in
// a model's context, for one partition when w is set, and resolves its relations.
func (p *Project) RenderText(m *Model, text string, w *Window) (string, error) {
	if !strings.Contains(text, "{") {
		return text, nil
	}
	t, perr := parseTemplate(m.Path, text)
	if perr != nil {
		return "", perr
	}
	st := &renderState{file: m.Path, raw: text, window: w, spec: m.partition}
	out, err := p.renderEnv().render(t, m.Name, st)
	if err != nil {
		return "", err
	}
	if len(st.errs) > 0 {
		return "", st.errs
	}
	return p.resolvePlaceholders(out, m.Name, 0)
}

// CompileInline renders a query written on the command line: ref(), source() and var()
// work as in a model.
func (p *Project) CompileInline(sql string) (string, error) {
	return p.CompileHook("--inline", sql, nil)
}

// CompileHook renders a project hook (on-run-start, on-run-end) with dbt's hook context
// in extra (schemas, invocation_id, run_started_at, …).
func (p *Project) CompileHook(file, sql string, extra map[string]any) (string, error) {
	t, perr := parseTemplate(file, sql)
	if perr != nil {
		return "", perr
	}
	st := &renderState{file: file, raw: sql, extra: extra}
	out, err := p.renderEnv().render(t, "", st)
	if err != nil {
		return "", err
	}
	if len(st.errs) > 0 {
		return "", st.errs
	}
	return p.resolvePlaceholders(out, "", 0)
}

// DidYouMean returns ` (did you mean "x"?)` for the candidate closest to name, or "".
func DidYouMean(name string, candidates []string) string { return didYouMean(name, candidates) }

// SeedSQL is the query that reads a seed's CSV with DuckDB's typed CSV reader, honouring
// its column_types and delimiter configs.
func (p *Project) SeedSQL(m *Model) string {
	path := strings.ReplaceAll(filepath.Join(p.Dir, m.Path), "'", "''")
	opts := []string{"header = true", "auto_detect = true"}
	d := m.Config.Delimiter
	if d == "" {
		d = "," // dbt's default; letting DuckDB sniff can read a malformed file as one column
	}
	opts = append(opts, "delim = '"+strings.ReplaceAll(d, "'", "''")+"'")
	if len(m.Config.ColumnTypes) > 0 {
		keys := make([]string, 0, len(m.Config.ColumnTypes))
		for k := range m.Config.ColumnTypes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var types []string
		for _, k := range keys {
			types = append(types, fmt.Sprintf("'%s': '%s'", strings.ReplaceAll(k, "'", "''"), strings.ReplaceAll(m.Config.ColumnTypes[k], "'", "''")))
		}
		opts = append(opts, "types = {"+strings.Join(types, ", ")+"}")
	}
	return fmt.Sprintf("SELECT * FROM read_csv('%s', %s)", path, strings.Join(opts, ", "))
}

// safeCall calls a macro, turning a panic in the template engine into an error.
func safeCall(macro exec.Macro, va *exec.VarArgs) (v *exec.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return macro(va), nil
}
