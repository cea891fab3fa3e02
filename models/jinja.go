package models

import (
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
)

// Relations are written into rendered SQL as placeholders and resolved by Compile, once
// every model's config (schema, alias) is known. The separator cannot appear in SQL text.
const (
	placeholderMark = "\x1f"
	refPrefix       = placeholderMark + "ref:"
	srcPrefix       = placeholderMark + "src:"
)

func refPlaceholder(name string) string { return refPrefix + name + placeholderMark }
func srcPlaceholder(source, table string) string {
	return srcPrefix + source + "." + table + placeholderMark
}

// jinjaConfig is dbt's Jinja setup: no autoescape, trailing newline dropped.
var jinjaConfig = func() *config.Config {
	c := config.New()
	return c
}()

// sourceLoader serves one template's text, whatever name it is asked for.
type sourceLoader struct{ src string }

func (l sourceLoader) Read(string) (io.Reader, error)         { return strings.NewReader(l.src), nil }
func (l sourceLoader) Resolve(p string) (string, error)       { return p, nil }
func (l sourceLoader) Inherit(string) (loaders.Loader, error) { return l, nil }

// parseTemplate parses Jinja text; errors carry the line and column within the file.
func parseTemplate(file, src string) (*exec.Template, *Error) {
	if i := strings.Index(src, placeholderMark); i >= 0 {
		p := (&renderState{raw: src, file: file}).at(i)
		return nil, errorf(file, p.Line, p.Col, "the file holds a control character (\\x1f); remove it")
	}
	// a conditional expression is rewritten before parsing: gonja parses one inside a
	// call's arguments, but wrongly (as several arguments)
	if strings.Contains(src, " if ") && inJinja(src, " else ") {
		if rw := rewriteJinja(src); rw != src {
			if t, err := exec.NewTemplate(file, jinjaConfig, sourceLoader{rw}, dbtEnvironment); err == nil {
				return t, nil
			}
		}
	}
	t, err := exec.NewTemplate(file, jinjaConfig, sourceLoader{src}, dbtEnvironment)
	if err != nil {
		// Jinja that gonja does not parse as written (a trailing comma, *args, a
		// conditional without else): parsed again rewritten, with the same meaning
		if rw := rewriteJinja(src); rw != src {
			if t2, err2 := exec.NewTemplate(file, jinjaConfig, sourceLoader{rw}, dbtEnvironment); err2 == nil {
				return t2, nil
			}
		}
		return nil, placeTag(jinjaError(file, err, "Jinja syntax error"), src)
	}
	return t, nil
}

// inJinja reports whether needle occurs inside a {{ }} or {% %} tag of src (read with
// tagEnd, so a "}}" in a string does not end it): SQL's own "case … else" between the
// tags needs no rewrite.
func inJinja(src, needle string) bool {
	for i := 0; ; {
		j := strings.IndexByte(src[i:], '{')
		if j < 0 || i+j+1 >= len(src) {
			return false
		}
		j += i
		kind := src[j+1]
		if kind != '{' && kind != '%' {
			i = j + 1
			continue
		}
		end := tagEnd(src, j+2, kind)
		if end < 0 {
			return true // an unclosed tag: the rewrite and the parse say what is wrong
		}
		if strings.Contains(src[j+2:end], needle) {
			return true
		}
		i = end + 2
	}
}

// macroSet is the project's macros, parsed once and defined into each render's context.
type macroSet struct {
	templates []*exec.Template
	files     []string          // each template's file
	names     map[string]string // macro name → file; a package's as "package.macro"
	sources   map[string]string // file → its text, for fingerprints

	unparsed map[string]*Error // a package's files that do not parse, by file

	groups    *macroGroups // by package, made once the set is read (group)
	usesGraph bool         // a macro reads dbt's graph
}

// broken records a package's file that does not parse.
func (ms *macroSet) broken(file string, e *Error) {
	if ms.unparsed == nil {
		ms.unparsed = map[string]*Error{}
	}
	ms.unparsed[file] = e
}

var (
	testBlockRe    = regexp.MustCompile(`\{%(-?)\s*test\s+(\w+)\s*\(`)
	endTestRe      = regexp.MustCompile(`\{%(-?)\s*endtest\s*(-?)%\}`)
	macroNameRe    = regexp.MustCompile(`\{%-?\s*macro\s+(\w+)\s*\(`)
	unsupportedTag = regexp.MustCompile(`\{%-?\s*(materialization|snapshot)\b`)
	docsBlockRe    = regexp.MustCompile(`(?s)\{%-?\s*docs\s+(\w+)\s*-?%\}(.*?)\{%-?\s*enddocs\s*-?%\}`)
)

// prepareMacroSource turns dbt's {% test name(...) %} blocks into macros named test_name,
// which is how dbt itself exposes them.
func prepareMacroSource(src string) string {
	src = testBlockRe.ReplaceAllString(src, "{%${1} macro test_${2}(")
	return endTestRe.ReplaceAllString(src, "{%${1} endmacro ${2}%}")
}

// renderEnv is what every render of one project shares.
type renderEnv struct {
	project *Project
	env     func(string) (string, bool)
	base    map[string]any // copied into every render: gonja copies only a context's own entries
	funcs   map[string]any // dbt's other context functions: set when a render may call them
}

func newRenderEnv(p *Project, env func(string) (string, bool)) *renderEnv {
	re := &renderEnv{project: p, env: env}
	base := exec.EmptyContext()
	target := map[string]any{
		"name": p.Warehouse.Target, "type": "duckdb", "schema": p.Warehouse.Schema,
		"path": p.Warehouse.Path, "threads": p.Warehouse.Threads, "database": p.Warehouse.database(),
		"profile_name": p.Name,
	}
	base.Set("target", target)
	base.Set("project_name", p.Name)
	base.Set("__splat", splatFunc)
	base.Set("namespace", namespaceFunc)
	base.Set("flags", map[string]any{"FULL_REFRESH": false, "WHICH": "run"})
	base.Set("log", func(_ *exec.VarArgs) string { return "" })
	base.Set("doc", func(name string) (string, error) {
		d, ok := p.Docs[name]
		if !ok {
			return "", fmt.Errorf("unknown doc %q%s", name, didYouMean(name, slices.Sorted(maps.Keys(p.Docs))))
		}
		return d, nil
	})
	base.Set("exceptions", map[string]any{
		"raise_compiler_error": func(msg string) (string, error) { return "", fmt.Errorf("%s", msg) },
		"warn":                 func(msg string) string { return "" },
	})
	for _, name := range []string{"adapter"} { // see defineMacros
		name := name
		base.Set(name, func(_ *exec.VarArgs) (string, error) {
			return "", fmt.Errorf("%s is a dbt feature strata does not support in templates", name)
		})
	}
	re.funcs = dbtFunctions(p, time.Now().UTC())
	re.base = map[string]any{}
	for _, k := range []string{"__splat", "namespace", "target", "project_name", "flags", "log", "doc", "exceptions", "adapter"} {
		v, _ := base.Get(k)
		re.base[k] = v
	}

	return re
}

// renderState collects what one render learns: config() calls, refs, sources and errors.
type renderState struct {
	file        string
	raw         string
	config      configLayer
	refs        []Ref
	sources     []SourceRef
	errs        Errors
	incremental bool
	window      *Window // the partition being rendered; a sample one at load
	spec        *PartitionSpec
	calls       map[string]int // calls placed so far, by function and argument
	warnings    []string
	vars, envs  map[string]bool // the vars and environment variables the render read
	// overrides of a unit test: vars, environment variables
	varOverrides map[string]any
	envOverrides map[string]string
	extra        map[string]any // more context: a project hook's schemas, invocation_id, …
	live         Introspector   // the warehouse, at run time: execute is true
	results      map[string]any // statement results, by name, for load_result
	flags        map[string]any // the run's flags, when it renders as it runs
}

func (s *renderState) read(set *map[string]bool, name string) {
	if *set == nil {
		*set = map[string]bool{}
	}
	(*set)[name] = true
}

func (s *renderState) errorf(format string, args ...any) {
	s.errs = append(s.errs, errorf(s.file, 0, 0, format, args...))
}

// pos finds where a text first sits in the file, for error messages.
func (s *renderState) pos(needle ...string) Pos {
	for _, n := range needle {
		if i := strings.Index(s.raw, n); i >= 0 {
			return s.at(i)
		}
	}
	return Pos{File: s.file}
}

// at turns a byte offset of the file into a position.
func (s *renderState) at(i int) Pos {
	line := strings.Count(s.raw[:i], "\n") + 1
	col := i - strings.LastIndex(s.raw[:i], "\n")
	return Pos{File: s.file, Line: line, Col: col}
}

// callPos places the n-th call fn('arg' in the file at its quoted argument: calls are
// counted so that the second ref('x') is placed at the second, and text that merely
// looks like the argument elsewhere in the SQL is not mistaken for it. It scans with
// plain string search: it runs for every call of every model.
func (s *renderState) callPos(fn, arg string) Pos {
	var found []int
	for i := 0; ; {
		j := strings.Index(s.raw[i:], fn)
		if j < 0 {
			break
		}
		j += i
		i = j + len(fn)
		if j > 0 && isIdent(s.raw[j-1]) {
			continue
		}
		k := skipSpace(s.raw, i)
		if k >= len(s.raw) || s.raw[k] != '(' {
			continue
		}
		k = skipSpace(s.raw, k+1)
		if k >= len(s.raw) || (s.raw[k] != '\'' && s.raw[k] != '"') {
			continue
		}
		if strings.HasPrefix(s.raw[k+1:], arg) && k+1+len(arg) < len(s.raw) && (s.raw[k+1+len(arg)] == '\'' || s.raw[k+1+len(arg)] == '"') {
			found = append(found, k)
		}
	}
	if len(found) == 0 {
		return s.pos("'"+arg+"'", `"`+arg+`"`)
	}
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	key := fn + "\x00" + arg
	n := min(s.calls[key], len(found)-1)
	s.calls[key]++
	return s.at(found[n])
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// context builds the Jinja context of one render: dbt's functions bound to st.
func (re *renderEnv) context(self string, st *renderState) *exec.Context {
	p := re.project
	ctx := exec.NewContext(maps.Clone(re.base))
	c := calls{re: re, st: st}
	ctx.Set("ref", c.ref)
	ctx.Set("source", c.source)
	ctx.Set("config", c.config)
	ctx.Set("var", c.var_)
	ctx.Set("env_var", c.envVar)
	ctx.Set("is_incremental", func() bool { return st.incremental })
	if st.flags != nil {
		ctx.Set("flags", st.flags)
	}
	// what most models never name is set only when the text (or a macro it calls) may:
	// every entry of a render's context is copied again when it executes
	full := re.needsMacros(st.raw)
	names := func(words ...string) bool {
		if full {
			return true
		}
		for _, w := range words {
			if strings.Contains(st.raw, w) {
				return true
			}
		}
		return false
	}
	if names("call") {
		rc := &rootContext{ctx: ctx}
		ctx.Set("__strata_root", rc)
		ctx.Set("caller", exec.Macro(rc.caller))
	}
	switch {
	case st.live != nil || strings.Contains(st.raw, "graph"):
		ctx.Set("graph", p.graphObject())
	case st.raw == "" || p.macros != nil && p.macros.usesGraph:
		ctx.Set("graph", map[string]any{"nodes": map[string]any{}, "sources": map[string]any{}, "exposures": map[string]any{}, "metrics": map[string]any{}})
	}
	if names("execute", "run_query", "load_result", "statement") {
		re.introspection(ctx, st)
	}
	for k, v := range st.extra {
		ctx.Set(k, v)
	}
	setWindowVars(ctx, st)
	if self != "" {
		if names("this") {
			ctx.Set("this", p.refRelation(self))
		}
		if names("model", "node") {
			node := p.nodeObject(self, st.file)
			ctx.Set("model", node)
			ctx.Set("node", node)
		}
	}
	if full {
		for k, v := range re.funcs {
			ctx.Set(k, v)
		}
		re.defineMacros(ctx, st)
	} else if strings.Contains(st.raw, "{") {
		// only what the text names: every entry of a render's context is copied again
		// when it executes
		for k, v := range re.funcs {
			if strings.Contains(st.raw, k) {
				ctx.Set(k, v)
			}
		}
	}
	return ctx
}

// render executes a parsed template in a fresh context. A panic inside the template
// engine (gonja divides by zero, say) becomes an error on the file, never a crash.
func (re *renderEnv) render(t *exec.Template, self string, st *renderState) (out string, e *Error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(returned); ok {
				out, e = "", errorf(st.file, 0, 0, "return() is for macros: it ends a macro with a value, and here it is outside any")
				return
			}
			out, e = "", errorf(st.file, 0, 0, "Jinja error: %v", r)
		}
	}()
	out, err := t.ExecuteToString(re.context(self, st))
	if err != nil {
		if e := re.macroError(st.file, err); e != nil {
			return "", e
		}
		return "", st.explain(jinjaError(st.file, err, "Jinja error"), re.project)
	}
	return out, nil
}

// osEnv is the default environment lookup.
func osEnv(name string) (string, bool) { return os.LookupEnv(name) }

// sampleWindow is the partition rendered at load, when only refs and configs matter.
var sampleWindow = Window{Start: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC)}

// needsMacros reports whether a text may call a macro (the project's, a package's or
// dbt's): defining them costs a walk of every macro file, which most models do not need.
func (re *renderEnv) needsMacros(text string) bool {
	if text == "" {
		return true // hooks and custom tests render with an empty raw: define them
	}
	if !strings.Contains(text, "{{") && !strings.Contains(text, "{%") {
		return false
	}
	if strings.Contains(text, "dbt.") || strings.Contains(text, "adapter.") || strings.Contains(text, "return(") {
		return true
	}
	if ms := re.project.macros; ms != nil {
		for name := range ms.names {
			if strings.Contains(text, name) {
				return true
			}
		}
	}
	// dbt's own macros, called by name: each identifier before a "(", looked up once
	builtin := dbtMacroNames()
	for i := strings.IndexByte(text, '('); i >= 0; {
		j := i
		for j > 0 && isIdent(text[j-1]) {
			j--
		}
		if j < i && builtin[text[j:i]] {
			return true
		}
		k := strings.IndexByte(text[i+1:], '(')
		if k < 0 {
			break
		}
		i += 1 + k
	}
	return false
}

// dbtMacroNames are dbt's own macros' names, as a set.
var dbtMacroNames = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{}
	for _, name := range dbtMacros().grouped().names[dbtNamespace] {
		out[name] = true
	}
	return out
})

// sampleVars are the window variables of the sample window, computed once.
var sampleVars = windowVars(&sampleWindow, nil)

// windowVars computes a partition's Jinja variables.
func windowVars(w *Window, spec *PartitionSpec) map[string]string {
	read := *w
	if spec != nil {
		read = spec.ReadWindow(*w)
	}
	return map[string]string{
		"partition_start": SQLTimestamp(w.Start), "partition_end": SQLTimestamp(w.End),
		"ds": w.Start.Format("2006-01-02"), "ds_nodash": w.Start.Format("20060102"), "hour": w.Start.Format("15"),
		"ts":           w.Start.Format("2006-01-02T15:04:05Z"),
		"window_start": SQLTimestamp(read.Start), "window_end": SQLTimestamp(read.End),
	}
}

// setWindowVars defines a partition's Jinja variables: partition_start and partition_end
// (SQL literals), ds, ds_nodash, hour, and window_start/window_end for the span read.
func setWindowVars(ctx *exec.Context, st *renderState) {
	vars := sampleVars
	if st.window != nil {
		vars = windowVars(st.window, st.spec)
	}
	for k, v := range vars {
		ctx.Set(k, v)
	}
}
