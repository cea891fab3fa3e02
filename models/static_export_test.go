package models

import (
	"fmt"
	"reflect"
)

// StaticRendered lists the models of p whose load render took the static path.
func StaticRendered(p *Project) []string {
	var out []string
	for name, m := range p.Models {
		if m.static {
			out = append(out, name)
		}
	}
	return out
}

// RenderBothWays renders src as model name of p statically and with gonja, and says how
// the two differ ("" when they agree). static reports whether the static path took it.
func RenderBothWays(p *Project, name, src string) (static bool, diff string) {
	re := p.renderEnv()
	a := &renderState{file: "models/" + name + ".sql", raw: src}
	outA, ok := re.renderStatic(name, a)
	if !ok {
		return false, ""
	}
	t, perr := parseTemplate(a.file, src)
	if perr != nil {
		return true, "gonja does not parse it: " + perr.Error()
	}
	b := &renderState{file: a.file, raw: src}
	outB, err := re.render(t, name, b)
	if err != nil {
		return true, "gonja fails: " + err.Error()
	}
	for _, d := range []struct {
		what string
		x, y any
	}{
		{"output", outA, outB}, {"refs", a.refs, b.refs}, {"sources", a.sources, b.sources},
		{"config", a.config, b.config}, {"vars", a.vars, b.vars}, {"envs", a.envs, b.envs},
		{"errors", a.errs, b.errs}, {"warnings", a.warnings, b.warnings},
	} {
		if !reflect.DeepEqual(d.x, d.y) {
			return true, fmt.Sprintf("%s: static %#v, gonja %#v", d.what, d.x, d.y)
		}
	}
	return true, ""
}

// ModelSource is a model's text, as read.
func ModelSource(m *Model) string { return m.raw }
