package models

import (
	"fmt"
	"maps"
	"slices"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// calls are dbt's functions of one render (ref, source, config, var, env_var), shared
// by gonja's context and the static render.
type calls struct {
	re *renderEnv
	st *renderState
}

func (c calls) ref(args *exec.VarArgs) (any, error) {
	p, st := c.re.project, c.st
	var name string
	switch len(args.Args) {
	case 1:
		name = args.Args[0].String()
	case 2:
		pkg := args.Args[0].String()
		name = args.Args[1].String()
		if pkg != p.Name {
			pos := st.callPos("ref", pkg)
			st.errs = append(st.errs, errorf(pos.File, pos.Line, pos.Col,
				"ref(%q, %q): packages are not supported; only this project (%q) can be referenced", pkg, name, p.Name))
		}
	default:
		return "", fmt.Errorf("ref() takes a model name, or a package and a model name")
	}
	pos := st.callPos("ref", name)
	if len(args.Args) == 2 {
		pos = st.pos("'"+name+"'", `"`+name+`"`)
	}
	st.refs = append(st.refs, Ref{Name: name, Pos: pos})
	return p.refRelation(name), nil
}

func (c calls) source(source, table string) relation {
	p, st := c.re.project, c.st
	st.sources = append(st.sources, SourceRef{Source: source, Table: table, Pos: st.callPos("source", source)})
	return p.sourceRelation(source, table)
}

func (c calls) config(args *exec.VarArgs) string {
	p, st := c.re.project, c.st
	if st.config.values == nil {
		st.config = configLayer{values: map[string]any{}, pos: map[string]Pos{}}
	}
	at := st.pos("config(")
	for k, v := range args.KwArgs {
		k = normalizeKey(k)
		if !configKeys[k] {
			msg := fmt.Sprintf("unknown config key %q%s", k, didYouMean(k, slices.Sorted(maps.Keys(configKeys))))
			if p.Flavor == "dbt" {
				st.warnings = append(st.warnings, fmt.Sprintf("%s:%d:%d: %s (ignored)", at.File, at.Line, at.Col, msg))
			} else {
				st.errs = append(st.errs, errorf(at.File, at.Line, at.Col, "%s", msg))
			}
		}
		st.config.values[k] = v.ToGoSimpleType(false)
		st.config.pos[k] = at
	}
	return ""
}

func (c calls) var_(args *exec.VarArgs) (any, error) {
	p, st := c.re.project, c.st
	if len(args.Args) == 0 {
		return nil, fmt.Errorf("var() needs a variable name")
	}
	name := args.Args[0].String()
	st.read(&st.vars, name)
	if v, ok := st.varOverrides[name]; ok {
		return v, nil
	}
	if v, ok := p.Vars[name]; ok {
		return v, nil
	}
	if len(args.Args) > 1 {
		return args.Args[1].Interface(), nil
	}
	pos := st.callPos("var", name)
	pos.Col -= len("var(")
	st.errs = append(st.errs, errorf(pos.File, pos.Line, pos.Col,
		"required var %q is not set: add it under vars: in the project file, pass --vars '{%s: ...}', or give var() a default", name, name))
	return "", nil
}

func (c calls) envVar(args *exec.VarArgs) (string, error) {
	st := c.st
	if len(args.Args) == 0 {
		return "", fmt.Errorf("env_var() needs a variable name")
	}
	name := args.Args[0].String()
	st.read(&st.envs, name)
	if v, ok := st.envOverrides[name]; ok {
		return v, nil
	}
	if v, ok := c.re.env(name); ok {
		return v, nil
	}
	if len(args.Args) > 1 {
		return args.Args[1].String(), nil
	}
	pos := st.callPos("env_var", name)
	pos.Col -= len("env_var(")
	st.errs = append(st.errs, errorf(pos.File, pos.Line, pos.Col,
		"environment variable %s is not set: export it, or give env_var() a default", name))
	return "", nil
}
