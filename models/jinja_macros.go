package models

import (
	_ "embed"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/nikolalohinski/gonja/v2"
	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/exec"
)

// dbt's macro namespaces, as a render sees them:
//   - the project's own macros, by name;
//   - each package's, as package.macro, and by name when the project has none of that
//     name (packages in name order: a later one wins);
//   - dbt's own (dbt.dateadd, dbt.type_string, …), by name when nothing else has it;
//   - adapter.dispatch(name, namespace) finds duckdb__name, then default__name, in the
//     namespace's search order (dispatch: config), the project first for dbt's own.
//
// A macro's {{ return(x) }} ends it with x as its value, as dbt's does.

//go:embed dbt_macros.sql
var dbtMacrosSource string

// dbtNamespace is the package name of dbt's own macros.
const dbtNamespace = "dbt"

var dbtMacros = sync.OnceValue(func() *macroSet {
	file := "<dbt>/dbt_macros.sql"
	t, perr := parseTemplate(file, dbtMacrosSource)
	if perr != nil {
		panic(fmt.Sprintf("models: dbt's macros: %v", perr)) // a programming error
	}
	ms := &macroSet{names: map[string]string{}, sources: map[string]string{file: dbtMacrosSource}, templates: []*exec.Template{t}, files: []string{file}}
	for _, m := range macroNameRe.FindAllStringSubmatch(dbtMacrosSource, -1) {
		ms.names[dbtNamespace+"."+m[1]] = file
	}
	ms.group()
	return ms
})

// returned is what {{ return(x) }} panics with; the macro's wrapper recovers it.
type returned struct{ v *exec.Value }

// returning wraps a macro so that a return() inside it is its value.
func returning(m exec.Macro) exec.Macro {
	return func(args *exec.VarArgs) (out *exec.Value) {
		defer func() {
			if r := recover(); r != nil {
				ret, ok := r.(returned)
				if !ok {
					panic(r)
				}
				out = ret.v
			}
		}()
		return m(args)
	}
}

func returnFunc(args *exec.VarArgs) (any, error) {
	v := exec.AsValue(nil)
	if len(args.Args) > 0 {
		v = args.Args[0]
	}
	panic(returned{v})
}

// macroGroups is the set's templates by package ("" for the project's own), and each
// package's macro names.
type macroGroups struct {
	order     []string // packages in definition order: dbt first, the project last
	templates map[string][]*exec.Template
	names     map[string][]string
	unparsed  map[string]*Error // by macro name, the package macros whose file does not parse
}

func (ms *macroSet) grouped() *macroGroups {
	if ms.groups == nil {
		ms.group()
	}
	return ms.groups
}

// group sorts the templates by package: once the set is read, before any render.
func (ms *macroSet) group() {
	{
		g := &macroGroups{templates: map[string][]*exec.Template{}, names: map[string][]string{}, unparsed: map[string]*Error{}}
		pkgOf := map[string]string{}
		for key, file := range ms.names {
			pkg, name := "", key
			if i := strings.IndexByte(key, '.'); i >= 0 {
				pkg, name = key[:i], key[i+1:]
			}
			pkgOf[file] = pkg
			g.names[pkg] = append(g.names[pkg], name)
			if e := ms.unparsed[file]; e != nil && pkg != "" {
				g.unparsed[name] = e
			}
		}
		for i, t := range ms.templates {
			pkg := pkgOf[ms.files[i]]
			g.templates[pkg] = append(g.templates[pkg], t)
		}
		var pkgs []string
		for pkg := range g.templates {
			if pkg != "" {
				pkgs = append(pkgs, pkg)
			}
		}
		slices.Sort(pkgs)
		g.order = append(pkgs, "")
		for _, names := range g.names {
			slices.Sort(names)
		}
		ms.groups = g
		for _, src := range ms.sources {
			if strings.Contains(src, "graph.") {
				ms.usesGraph = true
			}
		}
	}
}

// defineMacros defines dbt's macros, the packages' and the project's into a render's
// context, with their namespaces and adapter.dispatch.
func (re *renderEnv) defineMacros(ctx *exec.Context, st *renderState) {
	// a macro's body sees Jinja's globals (range, dict, namespace, …) as the template
	// does; the render's own names win
	ctx.Update(exec.EmptyContext().Update(gonja.DefaultContext).Update(ctx))
	env := &exec.Environment{Context: ctx, Filters: builtins.Filters, Tests: dbtEnvironment.Tests,
		ControlStructures: dbtEnvironment.ControlStructures, Methods: dbtEnvironment.Methods}
	ns := map[string]map[string]any{}
	run := func(t *exec.Template) {
		// a macro file's top level may panic in gonja (1 % 0) or return(): an error, never
		// a crash, whichever path defines the macros
		defer func() {
			if r := recover(); r != nil {
				st.errorf("macros: %v", r)
			}
		}()
		r := exec.NewRenderer(env, io.Discard, jinjaConfig, sourceLoader{}, t)
		if err := r.Execute(); err != nil {
			st.errorf("macros: %v", err)
		}
	}
	define := func(pkg string, g *macroGroups) {
		for _, t := range g.templates[pkg] {
			run(t)
		}
		name := pkg
		if name == "" {
			name = re.project.Name
		}
		space := map[string]any{}
		for _, m := range g.names[pkg] {
			if e := g.unparsed[m]; e != nil {
				msg := fmt.Sprintf("macro %s.%s cannot be used: %s", name, m, e.Error())
				space[m] = exec.Macro(func(*exec.VarArgs) *exec.Value { return exec.AsValue(fmt.Errorf("%s", msg)) })
				continue
			}
			v, ok := ctx.Get(m)
			if !ok {
				continue
			}
			space[m] = v // returning already: see returningMacro
		}
		ns[name] = space
	}
	define(dbtNamespace, dbtMacros().grouped())
	if re.project.macros != nil {
		g := re.project.macros.grouped()
		for _, pkg := range g.order {
			define(pkg, g)
		}
	}
	for name, space := range ns {
		ctx.Set(name, space)
	}
	ctx.Set("return", returnFunc)
	a := re.adapter(ns)
	re.liveAdapter(a, st)
	ctx.Set("adapter", a)
}

// adapter is dbt's adapter object, as far as a render can use it.
func (re *renderEnv) adapter(ns map[string]map[string]any) map[string]any {
	p := re.project
	a := map[string]any{
		"type": func() string { return "duckdb" },
		"quote": func(s string) string {
			return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
		},
		"dispatch": func(args *exec.VarArgs) (any, error) {
			name, namespace := "", ""
			if len(args.Args) > 0 {
				name = args.Args[0].String()
			}
			if len(args.Args) > 1 && !args.Args[1].IsNil() {
				namespace = args.Args[1].String()
			}
			if v, ok := args.KwArgs["macro_name"]; ok {
				name = v.String()
			}
			if v, ok := args.KwArgs["macro_namespace"]; ok && !v.IsNil() {
				namespace = v.String()
			}
			if name == "" {
				return nil, fmt.Errorf("adapter.dispatch() needs the macro's name")
			}
			if strings.Contains(name, ".") {
				return nil, fmt.Errorf("adapter.dispatch(%q): give the name alone and the package as macro_namespace", name)
			}
			order := p.Dispatch[namespace]
			switch {
			case order != nil:
			case namespace == "" || namespace == dbtNamespace:
				order = []string{p.Name, dbtNamespace}
			default:
				order = []string{namespace}
			}
			var tried []string
			for _, pkg := range order {
				for _, prefix := range []string{"duckdb__", "default__"} {
					if m, ok := ns[pkg][prefix+name]; ok {
						return m, nil
					}
					tried = append(tried, pkg+"."+prefix+name)
				}
			}
			// an error gonja would lose when the result is called: the call gives it
			err := fmt.Errorf("adapter.dispatch: no macro %s found (looked for %s)", name, strings.Join(tried, ", "))
			return exec.Macro(func(*exec.VarArgs) *exec.Value { return exec.AsValue(err) }), nil
		},
	}
	for _, name := range []string{"drop_relation", "execute", "get_missing_columns", "expand_target_column_types", "create_schema", "list_relations_without_caching"} {
		name := name
		a[name] = func(_ *exec.VarArgs) (string, error) {
			return "", fmt.Errorf("adapter.%s reads the warehouse while the project is rendered, which strata does not do yet", name)
		}
	}
	return a
}
