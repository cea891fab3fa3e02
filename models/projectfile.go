package models

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"

	"go.yaml.in/yaml/v3"
)

// folderConfig is the dbt_project.yml config tree for one resource type: configs at each
// level apply to the models in that folder and below.
type folderConfig struct {
	layer    configLayer
	children map[string]*folderConfig
	pos      Pos
	used     atomic.Bool // some resource's path went through this level (models merge in parallel)
}

// parseFolderConfig reads a resource type's config tree. As in dbt, a key with "+" is a
// config; a key without it is a config when it is a known config key whose value is not
// a mapping, and otherwise a folder (or model) name. Unknown "+" keys are reported
// through unknown.
func parseFolderConfig(file string, n *yaml.Node, unknown func(yamlPair)) *folderConfig {
	f := &folderConfig{layer: configLayer{values: map[string]any{}, pos: map[string]Pos{}}, children: map[string]*folderConfig{}, pos: posOf(file, n)}
	for _, kv := range pairs(n) {
		plus := strings.HasPrefix(kv.Key, "+")
		if plus || (configKeys[kv.Key] && kv.Value.Kind != yaml.MappingNode) {
			k := normalizeKey(kv.Key)
			if plus && !configKeys[k] && unknown != nil {
				unknown(kv)
			}
			f.layer.values[k] = decode(kv.Value)
			f.layer.pos[k] = posOf(file, kv.KeyN)
			continue
		}
		if kv.Value.Kind == yaml.MappingNode {
			child := parseFolderConfig(file, kv.Value, unknown)
			child.pos = posOf(file, kv.KeyN)
			f.children[kv.Key] = child
		}
	}
	return f
}

// mark records that a resource's path went through f; it writes only the first time,
// as every model of a folder marks it.
func (f *folderConfig) mark() {
	if !f.used.Load() {
		f.used.Store(true)
	}
}

// unused lists the tree's levels that no resource's path went through: a misspelt
// project or folder name, whose configs apply to nothing.
func (f *folderConfig) unused(path string, out *[]string) {
	if f == nil {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(f.children)) {
		c := f.children[name]
		p := path + ": " + name
		if !c.used.Load() {
			*out = append(*out, fmt.Sprintf("%s:%d: %s matches no model or folder; its configs apply to nothing (a misspelt name?)", c.pos.File, c.pos.Line, p))
			continue
		}
		c.unused(p, out)
	}
}

// layersFor returns the config layers that apply to a resource in dirs (folders below the
// resource path) named name, from the outermost in.
func (f *folderConfig) layersFor(project string, dirs []string, name string, _ bool) configLayer {
	out := configLayer{values: map[string]any{}, pos: map[string]Pos{}}
	if f == nil {
		return out
	}
	apply := func(l configLayer) {
		for k, v := range l.values {
			if k == "tags" {
				out.values[k] = appendUnique(toStrings(out.values[k]), toStrings(v)...)
			} else {
				out.values[k] = v
			}
			if p, ok := l.pos[k]; ok {
				out.pos[k] = p
			}
		}
	}
	apply(f.layer)
	node := f.children[project]
	if node == nil {
		return out
	}
	node.mark()
	apply(node.layer)
	for _, d := range dirs {
		node = node.children[d]
		if node == nil {
			return out
		}
		node.mark()
		apply(node.layer)
	}
	if leaf := node.children[name]; leaf != nil {
		leaf.mark()
		apply(leaf.layer)
	}
	return out
}

var (
	strataKeys = []string{"name", "warehouse", "target", "targets", "vars", "models", "seeds", "data_tests", "tests", "sources",
		"model-paths", "seed-paths", "test-paths", "macro-paths", "snapshot-paths", "docs-paths", "openlineage", "schedules", "snapshots", "on-run-start", "on-run-end",
		"dispatch", "packages-install-path"}
	// overlayKeys are what a strata.yml beside dbt_project.yml may hold: strata's own
	// keys, so the dbt project's files stay untouched
	overlayKeys        = []string{"schedules", "openlineage"}
	dbtUnsupportedKeys = []string{}
)

// readProjectFile reads strata.yml or dbt_project.yml (+ profiles.yml).
func (l *loader) readProjectFile() error {
	file := "strata.yml"
	data, err := l.in.readFile(filepath.Join(l.p.Dir, file))
	var overlay []byte
	if err == nil && !hasNameKey(data) {
		if _, derr := l.in.readFile(filepath.Join(l.p.Dir, "dbt_project.yml")); derr == nil {
			overlay, err = data, os.ErrNotExist // strata's keys beside a dbt project
		}
	}
	if err != nil {
		file = "dbt_project.yml"
		data, err = l.in.readFile(filepath.Join(l.p.Dir, file))
		if err != nil {
			return &NoProjectError{Dir: l.p.Dir}
		}
		l.p.Flavor = "dbt"
	} else {
		l.p.Flavor = "strata"
	}
	root, perr := parseYAML(file, data)
	if perr != nil {
		l.add(perr)
		return nil
	}
	l.p.Name = scalar(get(root, "name"))
	if l.p.Name == "" {
		l.add(errorf(file, 1, 1, "field 'name' is missing: give the project a name"))
	}
	paths := func(key, def string) []string {
		n := get(root, key)
		if n == nil {
			return []string{def}
		}
		return toStrings(decode(n))
	}
	l.layout = layout{
		modelPaths:    paths("model-paths", "models"),
		seedPaths:     paths("seed-paths", "seeds"),
		testPaths:     paths("test-paths", "tests"),
		macroPaths:    paths("macro-paths", "macros"),
		snapshotPaths: paths("snapshot-paths", "snapshots"),
		packagesPath:  scalar(get(root, "packages-install-path")),
	}
	l.readDispatch(file, get(root, "dispatch"))
	strata := l.p.Flavor == "strata"
	unknown := func(kv yamlPair) {
		k := normalizeKey(kv.Key)
		msg := fmt.Sprintf("unknown config key %q%s", k, didYouMean(k, slices.Sorted(maps.Keys(configKeys))))
		if strata {
			l.add(errorf(file, kv.KeyN.Line, kv.KeyN.Column, "%s", msg))
			return
		}
		l.p.Warnings = append(l.p.Warnings, fmt.Sprintf("%s:%d:%d: %s (ignored)", file, kv.KeyN.Line, kv.KeyN.Column, msg))
	}
	l.readVars(file, get(root, "vars"))
	// configs written with Jinja ("{{ var('x', false) }}") take their rendered value, as
	// in dbt; hooks render later, when they run
	for _, key := range []string{"models", "seeds", "snapshots", "data_tests", "tests"} {
		l.renderConfigs(file, get(root, key))
	}
	for _, key := range []string{"models", "seeds", "snapshots"} {
		l.folders[key] = parseFolderConfig(file, get(root, key), unknown)
	}
	if n := get(root, "data_tests"); n != nil {
		l.folders["data_tests"] = parseFolderConfig(file, n, unknown)
	} else {
		l.folders["data_tests"] = parseFolderConfig(file, get(root, "tests"), unknown)
	}
	l.readProjectHooks(file, root)

	if l.p.Flavor == "strata" {
		for _, kv := range pairs(root) {
			if !slices.Contains(strataKeys, kv.Key) {
				l.add(errorf(file, kv.KeyN.Line, kv.KeyN.Column, "unknown key %q%s", kv.Key, didYouMean(kv.Key, strataKeys)))
			}
		}
		l.readStrataWarehouse(file, root)
		l.readOpenLineage(file, get(root, "openlineage"))
		l.readSchedules(file, get(root, "schedules"))
		return nil
	}
	if overlay != nil {
		l.readOverlay(overlay)
	}
	for _, kv := range pairs(root) {
		if slices.Contains(dbtUnsupportedKeys, kv.Key) && truthy(decode(kv.Value)) {
			l.add(errorf(file, kv.KeyN.Line, kv.KeyN.Column, "%s is a dbt feature strata does not support yet; remove it", kv.Key))
		}
	}
	profile := scalar(get(root, "profile"))
	if profile == "" {
		profile = l.p.Name
	}
	l.readProfile(profile)
	return nil
}

// readVars reads vars: global ones, then the ones scoped to this project (vars: {proj:
// {x: 1}}), which win wherever they are written.
func (l *loader) readVars(file string, n *yaml.Node) {
	var scoped *yaml.Node
	for _, kv := range pairs(n) {
		if kv.Key == l.p.Name && kv.Value.Kind == yaml.MappingNode {
			scoped = kv.Value
			continue
		}
		l.p.Vars[kv.Key] = decode(kv.Value)
	}
	for _, inner := range pairs(scoped) {
		l.p.Vars[inner.Key] = decode(inner.Value)
	}
}

// readOpenLineage reads openlineage: {file: ..., url: ..., namespace: ...}.
func (l *loader) readOpenLineage(file string, n *yaml.Node) {
	keys := []string{"file", "url", "namespace"}
	for _, kv := range pairs(n) {
		switch kv.Key {
		case "file":
			l.p.OpenLineage.File = kv.Value.Value
		case "url":
			l.p.OpenLineage.URL = strings.TrimSuffix(kv.Value.Value, "/")
			if !strings.HasPrefix(l.p.OpenLineage.URL, "http://") && !strings.HasPrefix(l.p.OpenLineage.URL, "https://") {
				l.add(errorf(file, kv.Value.Line, kv.Value.Column, "openlineage url %q must start with http:// or https://", kv.Value.Value))
			}
		case "namespace":
			l.p.OpenLineage.Namespace = kv.Value.Value
		default:
			l.add(errorf(file, kv.KeyN.Line, kv.KeyN.Column, "unknown openlineage key %q%s", kv.Key, didYouMean(kv.Key, keys)))
		}
	}
	if l.p.OpenLineage.Namespace == "" {
		l.p.OpenLineage.Namespace = l.p.Name
	}
}

// hasNameKey reports whether a strata.yml names its project (a project of its own) rather
// than only adding strata's keys to the dbt project beside it.
func hasNameKey(data []byte) bool {
	root, err := parseYAML("strata.yml", data)
	return err == nil && get(root, "name") != nil
}

// readOverlay reads a strata.yml beside dbt_project.yml: strata's own keys only.
func (l *loader) readOverlay(data []byte) {
	const file = "strata.yml"
	root, perr := parseYAML(file, data)
	if perr != nil {
		l.add(perr)
		return
	}
	for _, kv := range pairs(root) {
		if !slices.Contains(overlayKeys, kv.Key) {
			l.add(errorf(file, kv.KeyN.Line, kv.KeyN.Column, "%q: a strata.yml beside dbt_project.yml holds only strata's own keys (%s); put dbt's settings in dbt_project.yml",
				kv.Key, strings.Join(overlayKeys, ", ")))
		}
	}
	l.readOpenLineage(file, get(root, "openlineage"))
	l.readSchedules(file, get(root, "schedules"))
}

// readProjectHooks reads on-run-start and on-run-end: a statement or a list of them.
func (l *loader) readProjectHooks(file string, root *yaml.Node) {
	for _, key := range []string{"on-run-start", "on-run-end"} {
		n := get(root, key)
		var hooks []Hook
		if n != nil && n.Kind == yaml.ScalarNode && n.Value != "" {
			hooks = append(hooks, Hook{SQL: n.Value, Pos: posOf(file, n)})
		}
		for _, h := range seq(n) {
			hooks = append(hooks, Hook{SQL: scalar(h), Pos: posOf(file, h)})
		}
		if key == "on-run-start" {
			l.p.OnRunStart = hooks
		} else {
			l.p.OnRunEnd = hooks
		}
	}
}
