package models

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// UnitTest is a dbt (≥ 1.8) unit test: a model's SQL run on given input rows, compared
// with the rows expected, on a scratch database.
type UnitTest struct {
	Name        string
	Model       string
	Description string
	Given       []*UnitRows
	Expect      *UnitRows
	Overrides   UnitOverrides
	Tags        []string
	Pos         Pos
}

// UnitRows are the rows of an input (Input is a model name, "source.table" or "this") or
// of the expectation, in dbt's formats: dict (Dicts), csv or sql (Text).
type UnitRows struct {
	Input  string
	Format string // dict, csv or sql
	Dicts  []map[string]any
	Text   string
	Pos    Pos
}

// UnitOverrides replace what the model's Jinja sees: vars, env vars, macros (is_incremental).
type UnitOverrides struct {
	Vars        map[string]any
	EnvVars     map[string]string
	Incremental bool
}

// ID is the unit test's graph id.
func (u *UnitTest) ID() string { return "unit_test:" + u.Name }

// readUnitTest reads one unit_tests: entry.
func (l *loader) readUnitTest(file string, n *yaml.Node) {
	u := &UnitTest{Name: scalar(get(n, "name")), Model: scalar(get(n, "model")), Description: scalar(get(n, "description")), Pos: posOf(file, n)}
	bad := func(at *yaml.Node, format string, args ...any) {
		if at == nil {
			at = n
		}
		l.add(errorf(file, at.Line, at.Column, "unit test %s: %s", u.Name, fmt.Sprintf(format, args...)))
	}
	if u.Name == "" {
		l.add(errorf(file, n.Line, n.Column, "unit test entry without a name"))
		return
	}
	if u.Model == "" {
		bad(n, "needs model: the model it tests")
		return
	}
	u.Tags = toStrings(decode(get(get(n, "config"), "tags")))
	for _, g := range seq(get(n, "given")) {
		r := l.unitRows(file, g, bad)
		if r == nil {
			continue
		}
		in := scalar(get(g, "input"))
		switch {
		case refArgRe.MatchString(in):
			r.Input = refArgRe.FindStringSubmatch(in)[1]
		case sourceArgRe.MatchString(in):
			m := sourceArgRe.FindStringSubmatch(in)
			r.Input = m[1] + "." + m[2]
		case strings.TrimSpace(in) == "this":
			r.Input = "this"
		default:
			bad(get(g, "input"), "input %q must be ref('model'), source('source', 'table') or this", in)
			continue
		}
		u.Given = append(u.Given, r)
	}
	if e := get(n, "expect"); e != nil {
		u.Expect = l.unitRows(file, e, bad)
	}
	if u.Expect == nil {
		bad(n, "needs expect: the rows the model should return")
		return
	}
	ov := get(n, "overrides")
	if vars, ok := decode(get(ov, "vars")).(map[string]any); ok {
		u.Overrides.Vars = vars
	}
	if envs, ok := decode(get(ov, "env_vars")).(map[string]any); ok {
		u.Overrides.EnvVars = map[string]string{}
		for k, v := range envs {
			u.Overrides.EnvVars[k] = str(v)
		}
	}
	if macros, ok := decode(get(ov, "macros")).(map[string]any); ok {
		for k, v := range macros {
			if k != "is_incremental" {
				bad(get(ov, "macros"), "overriding macro %q is not supported: strata overrides is_incremental", k)
				continue
			}
			u.Overrides.Incremental, _ = v.(bool)
		}
	}
	if l.p.UnitTests == nil {
		l.p.UnitTests = map[string]*UnitTest{}
	}
	if prev, ok := l.p.UnitTests[u.Name]; ok {
		bad(n, "also defined in %s:%d; rename one", prev.Pos.File, prev.Pos.Line)
		return
	}
	l.p.UnitTests[u.Name] = u
}

// unitRows reads rows: (dict list, csv or sql text) or fixture: (tests/fixtures/NAME.csv or .sql).
func (l *loader) unitRows(file string, n *yaml.Node, bad func(*yaml.Node, string, ...any)) *UnitRows {
	r := &UnitRows{Format: scalar(get(n, "format")), Pos: posOf(file, n)}
	if r.Format == "" {
		r.Format = "dict"
	}
	if r.Format != "dict" && r.Format != "csv" && r.Format != "sql" {
		bad(get(n, "format"), "format %q: use dict, csv or sql", r.Format)
		return nil
	}
	rows := get(n, "rows")
	if fx := scalar(get(n, "fixture")); fx != "" {
		ext := map[string]string{"csv": ".csv", "sql": ".sql", "dict": ".csv"}[r.Format]
		if r.Format == "dict" {
			r.Format = "csv"
		}
		var data []byte
		var err error
		for _, tp := range l.layout.testPaths {
			if data, err = l.in.readFile(filepath.Join(l.p.Dir, tp, "fixtures", fx+ext)); err == nil {
				break
			}
		}
		if err != nil {
			bad(get(n, "fixture"), "fixture %q: no file tests/fixtures/%s%s", fx, fx, ext)
			return nil
		}
		r.Text = string(data)
		return r
	}
	switch r.Format {
	case "dict":
		for _, row := range seq(rows) {
			m, ok := decode(row).(map[string]any)
			if !ok {
				bad(row, "a dict row is a mapping of column: value")
				return nil
			}
			r.Dicts = append(r.Dicts, m)
		}
	default:
		r.Text = scalar(rows)
		if strings.TrimSpace(r.Text) == "" {
			bad(n, "%s rows are text: give rows: | and the %s", r.Format, map[string]string{"csv": "CSV with its header", "sql": "select"}[r.Format])
			return nil
		}
	}
	return r
}

// resolveUnitTests checks that each unit test's model and inputs exist.
func (l *loader) resolveUnitTests() {
	for _, name := range slices.Sorted(maps.Keys(l.p.UnitTests)) {
		u := l.p.UnitTests[name]
		m, ok := l.p.Models[u.Model]
		if !ok {
			l.add(errorf(u.Pos.File, u.Pos.Line, u.Pos.Col, "unit test %s: unknown model %q%s", u.Name, u.Model, didYouMean(u.Model, l.p.ModelNames())))
			delete(l.p.UnitTests, name)
			continue
		}
		for _, g := range u.Given {
			if g.Input == "this" || strings.Contains(g.Input, ".") {
				continue
			}
			if !slices.Contains(m.DependsOn, g.Input) {
				l.add(errorf(g.Pos.File, g.Pos.Line, g.Pos.Col, "unit test %s: %s does not read %q (it reads %s)", u.Name, u.Model, g.Input, strings.Join(m.DependsOn, ", ")))
			}
		}
	}
}

// CompileUnit renders a model for a unit test: with its overrides, and each relation it
// reads replaced by the SQL in subst (keyed by model name, "source.table" or "this").
func (p *Project) CompileUnit(m *Model, o UnitOverrides, subst map[string]string) (string, error) {
	t, perr := parseTemplate(m.Path, m.raw)
	if perr != nil {
		return "", perr
	}
	st := &renderState{file: m.Path, raw: m.raw, incremental: o.Incremental, varOverrides: o.Vars, envOverrides: o.EnvVars, spec: m.partition}
	if m.partition != nil {
		w := m.partition.Granularity.Window(m.partition.Start)
		st.window = &w
	}
	out, err := p.renderEnv().render(t, m.Name, st)
	if err != nil {
		return "", err
	}
	if len(st.errs) > 0 {
		return "", st.errs
	}
	if this, ok := subst["this"]; ok {
		subst[m.Name] = this
	}
	return p.resolveWith(out, m.Name, 0, nil, subst)
}
