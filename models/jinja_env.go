package models

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/nikolalohinski/gonja/v2"
	"github.com/nikolalohinski/gonja/v2/builtins"
	controlStructures "github.com/nikolalohinski/gonja/v2/builtins/control_structures"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// dbtEnvironment is gonja's environment with Jinja's (and dbt's) list and dict
// semantics: `{% do xs.append(x) %}` and `{% do d.update(...) %}` change the list or dict
// that was set, also inside a for loop or an if block. gonja writes a method call's
// result back into the innermost scope, where a loop's scope drops it; here a list a
// `set` makes is kept behind a pointer and the methods change it in place.
var dbtEnvironment = func() *exec.Environment {
	cs := exec.NewControlStructureSet(map[string]parser.ControlStructureParser{}).Update(builtins.ControlStructures)
	if inner, ok := builtins.ControlStructures.Get("set"); ok {
		_ = cs.Replace("set", boxedSetParser(inner))
	}
	if inner, ok := builtins.ControlStructures.Get("call"); ok {
		_ = cs.Replace("call", callParser(inner))
	}
	if inner, ok := builtins.ControlStructures.Get("macro"); ok {
		_ = cs.Replace("macro", returningMacroParser(inner))
	}
	m := builtins.Methods
	m.List = listMethods(builtins.Methods.List)
	m.Dict = dictMethods(builtins.Methods.Dict)
	m.Str = strMethods(builtins.Methods.Str)
	tests := exec.NewTestSet(map[string]exec.TestFunction{}).Update(builtins.Tests)
	// a relation is a mapping, as dbt's is (dbt_utils' _is_relation asks)
	_ = tests.Replace("mapping", func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
		if _, ok := in.Interface().(relation); ok {
			return true, nil
		}
		return in.IsDict(), nil
	})
	return &exec.Environment{
		Context:           gonja.DefaultContext,
		Filters:           builtins.Filters,
		Tests:             tests,
		ControlStructures: cs,
		Methods:           m,
	}
}()

// boxedSet is `{% set name = ... %}` that keeps a list behind a pointer.
type boxedSet struct {
	exec.ControlStructure
	name string // the variable set, when the target is a plain name
}

func boxedSetParser(inner parser.ControlStructureParser) parser.ControlStructureParser {
	return func(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
		name := ""
		if t := args.Current(tokens.Name); t != nil && args.Peek(tokens.Assign) != nil {
			name = t.Val
		}
		cs, err := inner(p, args)
		if err != nil {
			return nil, err
		}
		ecs, ok := cs.(exec.ControlStructure)
		if !ok || name == "" {
			return cs, nil
		}
		return &boxedSet{ControlStructure: ecs, name: name}, nil
	}
}

func (s *boxedSet) Execute(r *exec.Renderer, tag *nodes.ControlStructureBlock) error {
	if err := s.ControlStructure.Execute(r, tag); err != nil {
		return err
	}
	if v, ok := r.Environment.Context.Get(s.name); ok && v != nil {
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice {
			r.Environment.Context.Set(s.name, boxList(rv))
		}
	}
	return nil
}

// boxList is a list of plain values behind a pointer, whatever made it (a literal's
// values, split()'s strings), so anything can be appended and filters see plain values;
// the lists in it are boxed too, so xs[0].append() also lasts.
func boxList(rv reflect.Value) *[]any {
	list := make([]any, rv.Len())
	for i := range list {
		x := rv.Index(i).Interface()
		if xv, ok := x.(*exec.Value); ok {
			x = xv.Interface()
		}
		if xr := reflect.ValueOf(x); x != nil && xr.Kind() == reflect.Slice {
			x = boxList(xr)
		}
		list[i] = x
	}
	return &list
}

// namespaceFunc is Jinja's namespace(), its lists boxed so ns.xs.append() lasts.
func namespaceFunc(args *exec.VarArgs) map[string]any {
	ns := map[string]any{}
	for k, v := range args.KwArgs {
		x := v.Interface()
		if xr := reflect.ValueOf(x); x != nil && xr.Kind() == reflect.Slice {
			x = boxList(xr)
		}
		ns[k] = x
	}
	return ns
}

// rootContext is a render's top context, reachable from every scope below it (and from
// the copy of it a template executes in: they share this pointer), with the callers of
// the {% call %} blocks being run, innermost last.
type rootContext struct {
	ctx     *exec.Context
	callers []exec.Macro
}

// caller is Jinja's caller() for a macro that gonja did not hand one: the innermost
// {% call %} block's body.
func (rc *rootContext) caller(args *exec.VarArgs) *exec.Value {
	if len(rc.callers) == 0 {
		return exec.AsValue(fmt.Errorf("caller() is for a macro called from a {%% call %%} block"))
	}
	return rc.callers[len(rc.callers)-1](args)
}

// callBlock is {% call m(...) %}body{% endcall %} whose caller() reaches m also when m
// was defined in another scope than the call (a package's macro, called from a macro):
// gonja hands the caller over in the calling scope only.
type callBlock struct {
	*controlStructures.CallControlStructure
}

func callParser(inner parser.ControlStructureParser) parser.ControlStructureParser {
	return func(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
		cs, err := inner(p, args)
		if err != nil {
			return nil, err
		}
		if c, ok := cs.(*controlStructures.CallControlStructure); ok {
			return &callBlock{c}, nil
		}
		return cs, nil
	}
}

func (c *callBlock) Execute(r *exec.Renderer, tag *nodes.ControlStructureBlock) error {
	root, _ := r.Environment.Context.Get("__strata_root")
	rc, ok := root.(*rootContext)
	if !ok {
		return c.CallControlStructure.Execute(r, tag)
	}
	callerFn := func(*exec.VarArgs) *exec.Value {
		buf := new(strings.Builder)
		sub := r.Inherit()
		sub.Output = buf
		if err := sub.ExecuteWrapper(c.Body); err != nil {
			return exec.AsValue(err)
		}
		return exec.AsSafeValue(buf.String())
	}
	r.Environment.Context.Set("__gonja_caller__", callerFn)
	rc.ctx.Set("__gonja_caller__", exec.Macro(callerFn))
	rc.callers = append(rc.callers, callerFn)
	result := r.Eval(c.Call)
	rc.callers = rc.callers[:len(rc.callers)-1]
	r.Environment.Context.Set("__gonja_caller__", nil)
	rc.ctx.Set("__gonja_caller__", nil)
	if result.IsError() {
		return fmt.Errorf("{%% call %%}: %w", result)
	}
	_, err := r.Output.Write([]byte(result.String()))
	return err
}

// returningMacro is `{% macro name(...) %}` whose {{ return(x) }} gives its value.
type returningMacro struct {
	exec.ControlStructure
	name string
}

func returningMacroParser(inner parser.ControlStructureParser) parser.ControlStructureParser {
	return func(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
		name := ""
		if t := args.Current(tokens.Name); t != nil {
			name = t.Val
		}
		cs, err := inner(p, args)
		if err != nil {
			return nil, err
		}
		if ecs, ok := cs.(exec.ControlStructure); ok && name != "" {
			return &returningMacro{ControlStructure: ecs, name: name}, nil
		}
		return cs, nil
	}
}

func (m *returningMacro) Execute(r *exec.Renderer, tag *nodes.ControlStructureBlock) error {
	if err := m.ControlStructure.Execute(r, tag); err != nil {
		return err
	}
	if v, ok := r.Environment.Context.Get(m.name); ok {
		if mac, ok := v.(exec.Macro); ok {
			r.Environment.Context.Set(m.name, returning(mac))
		}
	}
	return nil
}
