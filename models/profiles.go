package models

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The warehouse: strata.yml's warehouse: (and targets:), or the selected target of a dbt
// project's profiles.yml with dbt-duckdb's keys; and the Jinja in project files.

// readStrataWarehouse reads warehouse: (and targets: when a target is chosen) from strata.yml.
func (l *loader) readStrataWarehouse(file string, root *yaml.Node) {
	w := Warehouse{Type: "duckdb", Path: l.p.Name + ".duckdb", Schema: "main", Target: "dev"}
	l.applyWarehouse(file, &w, get(root, "warehouse"))
	target := l.opts.Target
	if target == "" {
		target = scalar(get(root, "target"))
	}
	if target != "" {
		targets := get(root, "targets")
		tn := get(targets, target)
		if tn == nil {
			var names []string
			for _, kv := range pairs(targets) {
				names = append(names, kv.Key)
			}
			l.add(errorf(file, 0, 0, "unknown target %q: add it under targets:%s", target, didYouMean(target, names)))
		}
		l.applyWarehouse(file, &w, tn)
		w.Target = target
	}
	l.finishWarehouse(&w)
}

func (l *loader) applyWarehouse(file string, w *Warehouse, n *yaml.Node) {
	for _, kv := range pairs(n) {
		switch kv.Key {
		case "type":
			w.Type = kv.Value.Value
			if w.Type != "duckdb" {
				l.add(errorf(file, kv.Value.Line, kv.Value.Column, "warehouse type %q is not supported; strata runs on duckdb", w.Type))
			}
		case "path":
			w.Path = kv.Value.Value
		case "schema":
			w.Schema = kv.Value.Value
		case "threads":
			t, err := strconv.Atoi(kv.Value.Value)
			if err != nil || t < 1 {
				l.add(errorf(file, kv.Value.Line, kv.Value.Column, "field 'threads': %q is not a positive number", kv.Value.Value))
			}
			w.Threads = t
		case "external_root":
			w.ExternalRoot = kv.Value.Value
		case "settings":
			w.Settings = map[string]string{}
			for _, s := range pairs(kv.Value) {
				w.Settings[s.Key] = fmt.Sprint(decode(s.Value))
			}
		case "extensions":
			for _, e := range seq(kv.Value) {
				name := scalar(e)
				if e.Kind == yaml.MappingNode {
					name = scalar(get(e, "name"))
				}
				if name == "" {
					l.add(errorf(file, e.Line, e.Column, "extensions: give each extension's name"))
					continue
				}
				w.Extensions = append(w.Extensions, name)
			}
		case "attach":
			for _, a := range seq(kv.Value) {
				at := Attach{Path: scalar(get(a, "path")), Alias: scalar(get(a, "alias")), Type: scalar(get(a, "type")), ReadOnly: truthy(decode(get(a, "read_only")))}
				if at.Path == "" {
					l.add(errorf(file, a.Line, a.Column, "attach: each entry needs a path"))
					continue
				}
				if at.Path != ":memory:" && !filepath.IsAbs(at.Path) && !strings.Contains(at.Path, "://") {
					at.Path = filepath.Join(l.p.Dir, at.Path)
				}
				w.Attach = append(w.Attach, at)
			}
		case "plugins", "filesystems", "secrets", "module_paths":
			l.add(errorf(file, kv.KeyN.Line, kv.KeyN.Column, "%q is a dbt-duckdb feature that runs Python or reaches remote stores; strata does not run it: remove %s from the target", kv.Key, kv.Key))
		case "database", "host", "port", "user", "password", "dbname":
		default:
			l.add(errorf(file, kv.KeyN.Line, kv.KeyN.Column, "unknown warehouse key %q%s", kv.Key, didYouMean(kv.Key, []string{"type", "path", "schema", "threads"})))
		}
	}
}

func (l *loader) finishWarehouse(w *Warehouse) {
	if w.Path != ":memory:" && w.Path != "" && !filepath.IsAbs(w.Path) {
		w.Path = filepath.Join(l.p.Dir, w.Path)
	}
	if w.Path == "" {
		w.Path = ":memory:"
	}
	if w.Schema == "" {
		w.Schema = "main"
	}
	l.p.Warehouse = *w
}

// readProfile finds profiles.yml and reads the DuckDB target of profile.
func (l *loader) readProfile(profile string) {
	var dirs []string
	if l.opts.ProfilesDir != "" {
		dirs = append(dirs, l.opts.ProfilesDir)
	}
	dirs = append(dirs, l.p.Dir)
	if d, ok := l.opts.Env("DBT_PROFILES_DIR"); ok {
		dirs = append(dirs, d)
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".dbt"))
	}
	var data []byte
	var path string
	for _, d := range dirs {
		path = filepath.Join(d, "profiles.yml")
		if b, err := l.in.readFile(path); err == nil {
			data = b
			break
		}
	}
	if data == nil {
		l.add(errorf("dbt_project.yml", 0, 0, "no profiles.yml found (looked in %s); add one with a duckdb target for profile %q", strings.Join(dirs, ", "), profile))
		return
	}
	file := l.rel(path)
	// only the selected target is rendered, as dbt does: another target's env_var()
	// without a default is no error; a file whose YAML holds Jinja in its structure is
	// rendered whole first
	rawRoot, rawErr := parseYAML(file, data)
	if strings.Contains(string(data), "{{") && rawErr != nil {
		st := &renderState{file: file, raw: string(data)}
		re := newRenderEnv(l.p, l.opts.Env)
		if t, perr := parseTemplate(file, string(data)); perr != nil {
			l.add(perr)
			return
		} else if out, rerr := re.render(t, "", st); rerr != nil {
			l.add(rerr)
			return
		} else {
			l.add(st.errs...)
			data = []byte(out)
		}
	}
	root, perr := rawRoot, rawErr
	if rawErr != nil {
		root, perr = parseYAML(file, data)
	}
	if perr != nil {
		l.add(perr)
		return
	}
	pn := get(root, profile)
	if pn == nil {
		l.add(errorf(file, 0, 0, "profile %q not found%s", profile, didYouMean(profile, keysOf(root))))
		return
	}
	target := l.opts.Target
	if target == "" {
		tn := get(pn, "target")
		l.renderScalars(file, tn)
		target = scalar(tn)
	}
	if target == "" {
		target = "dev"
	}
	outputs := get(pn, "outputs")
	tn := get(outputs, target)
	if tn == nil {
		l.add(errorf(file, pn.Line, pn.Column, "profile %q has no target %q%s", profile, target, didYouMean(target, keysOf(outputs))))
		return
	}
	l.renderScalars(file, tn)
	w := Warehouse{Type: "duckdb", Path: ":memory:", Schema: "main", Target: target}
	if t := scalar(get(tn, "type")); t != "duckdb" {
		l.add(errorf(file, tn.Line, tn.Column, "profile %q target %q has type %q: strata runs dbt projects on DuckDB only (type: duckdb)", profile, target, t))
		return
	}
	l.applyWarehouse(file, &w, tn)
	l.finishWarehouse(&w)
}

// renderConfigs renders the Jinja in a project file's configs, in place, with the
// rendered text read as YAML (so "{{ var('x', false) }}" is false, and a rendered list is
// a list); hooks are left for their run.
func (l *loader) renderConfigs(file string, n *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch strings.TrimPrefix(strings.ReplaceAll(k.Value, "_", "-"), "+") {
		case "pre-hook", "post-hook":
			continue
		}
		if v.Kind == yaml.ScalarNode && (strings.Contains(v.Value, "{{") || strings.Contains(v.Value, "{%")) {
			line, col := v.Line, v.Column
			l.renderScalars(file, v)
			var parsed yaml.Node
			if err := yaml.Unmarshal([]byte(v.Value), &parsed); err == nil && len(parsed.Content) == 1 {
				*v = *parsed.Content[0]
				setPos(v, line, col)
			}
			continue
		}
		l.renderConfigs(file, v)
	}
}

// setPos places a node (and what is in it) at a position.
func setPos(n *yaml.Node, line, col int) {
	n.Line, n.Column = line, col
	for _, c := range n.Content {
		setPos(c, line, col)
	}
}

// renderScalars renders the Jinja in every string under n, in place; an error is placed
// at its value.
func (l *loader) renderScalars(file string, n *yaml.Node) {
	if n == nil {
		return
	}
	if n.Kind == yaml.ScalarNode {
		if !strings.Contains(n.Value, "{{") && !strings.Contains(n.Value, "{%") {
			return
		}
		t, perr := parseTemplate(file, n.Value)
		if perr != nil {
			l.add(errorf(file, n.Line, n.Column, "%s", perr.Msg))
			return
		}
		st := &renderState{file: file, raw: n.Value}
		out, rerr := newRenderEnv(l.p, l.opts.Env).render(t, "", st)
		if rerr != nil {
			l.add(errorf(file, n.Line, n.Column, "%s", rerr.Msg))
			return
		}
		for _, e := range st.errs {
			l.add(errorf(file, n.Line, n.Column, "%s", e.Msg))
		}
		n.Value = strings.TrimSpace(out)
		return
	}
	for _, c := range n.Content {
		l.renderScalars(file, c)
	}
}

func keysOf(n *yaml.Node) []string {
	var out []string
	for _, kv := range pairs(n) {
		out = append(out, kv.Key)
	}
	return out
}
