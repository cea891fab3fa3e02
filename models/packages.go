package models

import (
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Package is a dbt package installed in the project's packages folder (dbt_packages/,
// what `strata deps` or `dbt deps` wrote): its macros are callable as name.macro, its
// generic tests as name.test, adapter.dispatch searches it, and its vars are defaults.
type Package struct {
	Name    string `json:"name"`
	Path    string `json:"path"` // its folder, relative to the project
	Version string `json:"version,omitempty"`
}

// defaultPackagesPath is dbt's packages-install-path.
const defaultPackagesPath = "dbt_packages"

// readPackages reads every installed package's dbt_project.yml, vars and macros, after
// the project's own: package macros go into the set under "package.macro".
func (l *loader) readPackages(ms *macroSet) {
	dir := l.layout.packagesPath
	if dir == "" {
		dir = defaultPackagesPath
	}
	var projects []string
	for _, path := range l.walk([]string{dir}, "dbt_project.yml") {
		rel := l.rel(path)
		// dbt_packages/<folder>/dbt_project.yml: a package's own tests and nested
		// folders are not packages
		if parts := strings.Split(strings.TrimPrefix(rel, filepath.ToSlash(dir)+"/"), "/"); len(parts) == 2 {
			projects = append(projects, path)
		}
	}
	slices.Sort(projects)
	seen := map[string]string{}
	for _, path := range projects {
		file := l.rel(path)
		data, err := l.in.readFile(path)
		if err != nil {
			l.add(fileError(file, err))
			continue
		}
		root, perr := parseYAML(file, data)
		if perr != nil {
			l.add(perr)
			continue
		}
		name := scalar(get(root, "name"))
		if name == "" {
			l.add(errorf(file, 1, 1, "the package has no name: its dbt_project.yml needs name:"))
			continue
		}
		if prev, ok := seen[name]; ok {
			l.add(errorf(file, 1, 1, "package %q is installed twice, also in %s: remove one folder and run strata deps again", name, prev))
			continue
		}
		if name == l.p.Name {
			l.add(errorf(file, 1, 1, "package %q has the project's own name: rename the project or remove the package", name))
			continue
		}
		seen[name] = file
		pkgDir := filepath.Dir(path)
		l.p.Packages = append(l.p.Packages, Package{Name: name, Path: filepath.ToSlash(l.rel(pkgDir)), Version: scalar(get(root, "version"))})
		l.packageVars(name, get(root, "vars"))
		macroPaths := []string{"macros"}
		if n := get(root, "macro-paths"); n != nil {
			macroPaths = toStrings(decode(n))
		}
		testPaths := []string{"tests"}
		if n := get(root, "test-paths"); n != nil {
			testPaths = toStrings(decode(n))
		}
		var roots []string
		for _, mp := range macroPaths {
			roots = append(roots, filepath.Join(l.rel(pkgDir), mp))
		}
		for _, tp := range testPaths {
			roots = append(roots, filepath.Join(l.rel(pkgDir), tp, "generic"))
		}
		l.readMacroFiles(ms, name, roots)
		modelPaths := []string{"models"}
		if n := get(root, "model-paths"); n != nil {
			modelPaths = toStrings(decode(n))
		}
		pp := pkgPaths{pkg: name}
		for _, mp := range modelPaths {
			pp.paths = append(pp.paths, filepath.Join(l.rel(pkgDir), mp))
		}
		l.pkgModels = append(l.pkgModels, pp)
		seedPaths := []string{"seeds"}
		if n := get(root, "seed-paths"); n != nil {
			seedPaths = toStrings(decode(n))
		}
		sp := pkgPaths{pkg: name}
		for _, s := range seedPaths {
			sp.paths = append(sp.paths, filepath.Join(l.rel(pkgDir), s))
		}
		l.pkgSeeds = append(l.pkgSeeds, sp)
	}
}

// packageVars takes a package's vars as defaults: the project's own vars, and its vars
// scoped to the package (vars: {dbt_date: {time_zone: ...}}), win.
func (l *loader) packageVars(pkg string, n *yaml.Node) {
	scoped, _ := l.p.Vars[pkg].(map[string]any)
	for k, v := range scoped {
		if _, ok := l.p.Vars[k]; !ok {
			l.p.Vars[k] = v
		}
	}
	for _, kv := range pairs(n) {
		if _, ok := l.p.Vars[kv.Key]; !ok {
			l.p.Vars[kv.Key] = decode(kv.Value)
		}
	}
}

// readDispatch reads dispatch: [{macro_namespace: dbt_utils, search_order: [proj,
// dbt_utils]}] from the project file.
func (l *loader) readDispatch(file string, n *yaml.Node) {
	if n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		l.add(errorf(file, n.Line, n.Column, "dispatch: give a list of {macro_namespace: ..., search_order: [...]}"))
		return
	}
	for _, item := range n.Content {
		ns := scalar(get(item, "macro_namespace"))
		order := get(item, "search_order")
		if ns == "" || order == nil || order.Kind != yaml.SequenceNode {
			l.add(errorf(file, item.Line, item.Column, "dispatch: each entry needs macro_namespace and a search_order list"))
			continue
		}
		if l.p.Dispatch == nil {
			l.p.Dispatch = map[string][]string{}
		}
		l.p.Dispatch[ns] = toStrings(decode(order))
	}
}

// genericTestMacro is the macro a generic test's name calls: test_unique_id for
// unique_id, dbt_utils.test_expression_is_true for dbt_utils.expression_is_true.
func genericTestMacro(kind string) string {
	if pkg, name, ok := strings.Cut(kind, "."); ok {
		return pkg + ".test_" + name
	}
	return "test_" + kind
}
