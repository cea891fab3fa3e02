package models

import (
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nikolalohinski/gonja/v2"
	"github.com/nikolalohinski/gonja/v2/builtins"
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
	t, err := exec.NewTemplate(file, jinjaConfig, sourceLoader{src}, gonja.DefaultEnvironment)
	if err != nil {
		return nil, jinjaError(file, err, "Jinja syntax error")
	}
	return t, nil
}

var (
	syntaxPosRe = regexp.MustCompile(`\(Line: (\d+) Col: (\d+), near "([^"]*)"\)`)
	linePosRe   = regexp.MustCompile(`at line (\d+)`)
	wrapNoiseRe = regexp.MustCompile(`(unable to execute template: |Unable to render expression at line \d+: [^:]*: |Unable to execute controlStructure at line \d+: [^:]*: |failed to parse template '(?s:.*?)': )`)
)

// jinjaError turns a gonja error into a placed Error with gonja's wrapping removed.
func jinjaError(file string, err error, what string) *Error {
	msg := err.Error()
	line, col := 0, 0
	if m := syntaxPosRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		col, _ = strconv.Atoi(m[2])
		msg = strings.Replace(msg, m[0], fmt.Sprintf("near %q", m[3]), 1)
	} else if m := linePosRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	msg = wrapNoiseRe.ReplaceAllString(msg, "")
	return errorf(file, line, col, "%s: %s", what, strings.TrimSpace(msg))
}

// macroSet is the project's macros, parsed once and defined into each render's context.
type macroSet struct {
	templates []*exec.Template
	names     map[string]string // macro name → file
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
}

func newRenderEnv(p *Project, env func(string) (string, bool)) *renderEnv {
	re := &renderEnv{project: p, env: env}
	base := exec.EmptyContext()
	target := map[string]any{
		"name": p.Warehouse.Target, "type": "duckdb", "schema": p.Warehouse.Schema,
		"path": p.Warehouse.Path, "threads": p.Warehouse.Threads, "database": "",
		"profile_name": p.Name,
	}
	base.Set("target", target)
	base.Set("project_name", p.Name)
	base.Set("execute", true)
	base.Set("flags", map[string]any{"FULL_REFRESH": false, "WHICH": "run"})
	base.Set("log", func(_ *exec.VarArgs) string { return "" })
	base.Set("doc", func(name string) (string, error) {
		d, ok := p.Docs[name]
		if !ok {
			return "", fmt.Errorf("unknown doc %q%s", name, didYouMean(name, sortedKeys(p.Docs)))
		}
		return d, nil
	})
	base.Set("exceptions", map[string]any{
		"raise_compiler_error": func(msg string) (string, error) { return "", fmt.Errorf("%s", msg) },
		"warn":                 func(msg string) string { return "" },
	})
	for _, name := range []string{"run_query", "statement", "adapter", "load_result", "graph"} {
		name := name
		base.Set(name, func(_ *exec.VarArgs) (string, error) {
			return "", fmt.Errorf("%s is a dbt feature strata does not support in templates", name)
		})
	}
	re.base = map[string]any{}
	for _, k := range []string{"target", "project_name", "execute", "flags", "log", "doc", "exceptions", "run_query", "statement", "adapter", "load_result", "graph"} {
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
}

func (s *renderState) errorf(format string, args ...any) {
	s.errs = append(s.errs, errorf(s.file, 0, 0, format, args...))
}

// pos finds where a call's text sits in the file, for error messages.
func (s *renderState) pos(needle ...string) Pos {
	for _, n := range needle {
		if i := strings.Index(s.raw, n); i >= 0 {
			line := strings.Count(s.raw[:i], "\n") + 1
			col := i - strings.LastIndex(s.raw[:i], "\n")
			return Pos{File: s.file, Line: line, Col: col}
		}
	}
	return Pos{File: s.file}
}

// context builds the Jinja context of one render: dbt's functions bound to st.
func (re *renderEnv) context(self string, st *renderState) *exec.Context {
	p := re.project
	ctx := exec.NewContext(maps.Clone(re.base))
	ctx.Set("ref", func(args *exec.VarArgs) (string, error) {
		var name string
		switch len(args.Args) {
		case 1:
			name = args.Args[0].String()
		case 2:
			pkg := args.Args[0].String()
			name = args.Args[1].String()
			if pkg != p.Name {
				pos := st.pos("'"+pkg+"'", `"`+pkg+`"`)
				st.errs = append(st.errs, errorf(pos.File, pos.Line, pos.Col,
					"ref(%q, %q): packages are not supported; only this project (%q) can be referenced", pkg, name, p.Name))
			}
		default:
			return "", fmt.Errorf("ref() takes a model name, or a package and a model name")
		}
		st.refs = append(st.refs, Ref{Name: name, Pos: st.pos("'"+name+"'", `"`+name+`"`)})
		return refPlaceholder(name), nil
	})
	ctx.Set("source", func(source, table string) string {
		st.sources = append(st.sources, SourceRef{Source: source, Table: table,
			Pos: st.pos("'"+source+"'", `"`+source+`"`)})
		return srcPlaceholder(source, table)
	})
	ctx.Set("config", func(args *exec.VarArgs) string {
		if st.config.values == nil {
			st.config = configLayer{values: map[string]any{}, pos: map[string]Pos{}}
		}
		at := st.pos("config(")
		for k, v := range args.KwArgs {
			k = normalizeKey(k)
			st.config.values[k] = v.ToGoSimpleType(false)
			st.config.pos[k] = at
		}
		return ""
	})
	ctx.Set("var", func(args *exec.VarArgs) (any, error) {
		if len(args.Args) == 0 {
			return nil, fmt.Errorf("var() needs a variable name")
		}
		name := args.Args[0].String()
		if v, ok := p.Vars[name]; ok {
			return v, nil
		}
		if len(args.Args) > 1 {
			return args.Args[1].Interface(), nil
		}
		pos := st.pos("var('"+name+"'", `var("`+name+`"`)
		st.errs = append(st.errs, errorf(pos.File, pos.Line, pos.Col,
			"required var %q is not set: add it under vars: in the project file, pass --vars '{%s: ...}', or give var() a default", name, name))
		return "", nil
	})
	ctx.Set("env_var", func(args *exec.VarArgs) (string, error) {
		if len(args.Args) == 0 {
			return "", fmt.Errorf("env_var() needs a variable name")
		}
		name := args.Args[0].String()
		if v, ok := re.env(name); ok {
			return v, nil
		}
		if len(args.Args) > 1 {
			return args.Args[1].String(), nil
		}
		pos := st.pos("env_var('"+name+"'", `env_var("`+name+`"`)
		st.errs = append(st.errs, errorf(pos.File, pos.Line, pos.Col,
			"environment variable %s is not set: export it, or give env_var() a default", name))
		return "", nil
	})
	ctx.Set("is_incremental", func() bool { return st.incremental })
	setWindowVars(ctx, st)
	if self != "" {
		ctx.Set("this", refPlaceholder(self))
		ctx.Set("model", map[string]any{"name": self, "path": st.file})
	}
	if p.macros != nil {
		for _, mt := range p.macros.templates {
			r := exec.NewRenderer(&exec.Environment{
				Context: ctx, Filters: builtins.Filters, Tests: builtins.Tests,
				ControlStructures: builtins.ControlStructures, Methods: builtins.Methods,
			}, io.Discard, jinjaConfig, sourceLoader{}, mt)
			if err := r.Execute(); err != nil {
				st.errorf("macros: %v", err)
			}
		}
	}
	return ctx
}

// render executes a parsed template in a fresh context.
func (re *renderEnv) render(t *exec.Template, self string, st *renderState) (string, *Error) {
	out, err := t.ExecuteToString(re.context(self, st))
	if err != nil {
		return "", jinjaError(st.file, err, "Jinja error")
	}
	return out, nil
}

// osEnv is the default environment lookup.
func osEnv(name string) (string, bool) { return os.LookupEnv(name) }

// sampleWindow is the partition rendered at load, when only refs and configs matter.
var sampleWindow = Window{Start: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC)}

// setWindowVars defines a partition's Jinja variables: partition_start and partition_end
// (SQL literals), ds, ds_nodash, hour, and window_start/window_end for the span read.
func setWindowVars(ctx *exec.Context, st *renderState) {
	w := st.window
	if w == nil {
		w = &sampleWindow
	}
	ctx.Set("partition_start", SQLTimestamp(w.Start))
	ctx.Set("partition_end", SQLTimestamp(w.End))
	ctx.Set("ds", w.Start.Format("2006-01-02"))
	ctx.Set("ds_nodash", w.Start.Format("20060102"))
	ctx.Set("hour", w.Start.Format("15"))
	ctx.Set("ts", w.Start.Format("2006-01-02T15:04:05Z"))
	read := *w
	if st.spec != nil {
		read = st.spec.ReadWindow(*w)
	}
	ctx.Set("window_start", SQLTimestamp(read.Start))
	ctx.Set("window_end", SQLTimestamp(read.End))
}
