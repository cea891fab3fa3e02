package models

import (
	"maps"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// applyConfigs merges every model's and test's configs in dbt's order and validates them.
func (l *loader) applyConfigs() {
	// the models merge on every core: each reads the shared folder tree and writes
	// only itself (and the loader's errors, under its lock)
	names := l.p.ModelNames()
	off := make([]bool, len(names))
	var wg sync.WaitGroup
	var next atomic.Int64
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(names); i = int(next.Add(1) - 1) {
				off[i] = !l.applyConfig(l.p.Models[names[i]])
			}
		})
	}
	wg.Wait()
	disabled := map[string]bool{}
	for i, name := range names {
		if off[i] {
			disabled[name] = true
			delete(l.p.Models, name)
		}
	}
	l.disabled = disabled
	var unused []string
	for _, key := range []string{"models", "seeds", "snapshots"} {
		l.folders[key].unused(key, &unused)
	}
	l.p.Warnings = append(l.p.Warnings, unused...)
	for name, t := range l.p.Tests {
		folder := l.folders["data_tests"].layersFor(l.p.Name, nil, t.Name, false)
		cfg := mergeConfig(folder, t.config)
		t.config = configLayer{}
		if !cfg.Enabled {
			delete(l.p.Tests, name)
			continue
		}
		if err := t.applyConfig(cfg); err != nil {
			l.add(err)
		}
	}
}

// applyConfig merges one model's configs and validates them; it reports whether the
// model is enabled.
func (l *loader) applyConfig(m *Model) bool {
	tree, roots := l.folders["models"], l.layout.modelPaths
	switch m.Kind {
	case KindSeed:
		tree, roots = l.folders["seeds"], l.layout.seedPaths
	case KindSnapshot:
		tree, roots = l.folders["snapshots"], l.layout.snapshotPaths
	}
	folder := tree.layersFor(l.p.Name, dirsUnder(m.Path, roots), m.Name, false)
	m.Config = mergeConfig(folder, m.propConfig, m.fileConfig)
	m.propConfig = configLayer{} // merged; the file's layer stays, for the parse cache's reuse
	if !m.Config.Enabled {
		return false
	}
	if m.Kind == KindSnapshot {
		m.Config.Materialized = "snapshot"
		m.Config.Raw["materialized"] = "snapshot"
		spec, errs := parseSnapshot(m)
		l.add(errs...)
		m.snapshot = spec
	} else if m.Kind == KindPython {
		if m.Config.Materialized == "" {
			m.Config.Materialized = "table"
		}
	} else if m.Kind != KindSeed {
		if m.Config.Materialized == "" {
			m.Config.Materialized = "view"
		}
		m.Kind = Kind(m.Config.Materialized)
		if m.Kind == KindSnapshot {
			m.Kind = KindView // refused by validate: a model is never a snapshot
		}
		if m.Kind == KindPartitioned || (m.Kind == KindIncremental && m.Config.IncrementalStrategy == "microbatch") {
			spec, errs := parsePartition(m)
			l.add(errs...)
			m.partition = spec
			m.Kind = KindPartitioned
		}
		if m.Kind == KindIncremental && m.Config.IncrementalStrategy == "" {
			m.Config.IncrementalStrategy = "append"
			if len(m.Config.UniqueKey) > 0 {
				m.Config.IncrementalStrategy = "delete+insert"
			}
		}
	} else {
		m.Config.Materialized = "seed"
	}
	l.add(m.Config.validate(m)...)
	if m.Kind != KindIncremental && m.Kind != KindPartitioned && !l.p.readsWarehouse(m) {
		m.tmpl = nil // only these render again; the parsed template is most of a model's memory
	} else if m.tmpl == nil && (m.reused || m.static) {
		// its load render came from the parse cache, or was static: parse it for the
		// renders to come
		t, perr := parseTemplate(m.Path, m.raw)
		if perr != nil {
			l.add(perr)
			return true
		}
		m.tmpl = t
	}
	return true
}

// applyConfig sets a test's severity, filter and tags.
func (t *Test) applyConfig(c Config) *Error {
	t.Tags = c.Tags
	t.Where = str(c.Raw["where"])
	t.WarnIf, t.ErrorIf, t.FailCalc = "!= 0", "!= 0", "count(*)"
	if v := str(c.Raw["warn_if"]); v != "" {
		t.WarnIf = v
	}
	if v := str(c.Raw["error_if"]); v != "" {
		t.ErrorIf = v
	}
	if v := str(c.Raw["fail_calc"]); v != "" {
		t.FailCalc = v
	}
	if v, ok := c.Raw["limit"]; ok && v != nil {
		n, err := toInt(v)
		if err != nil || n < 0 {
			p := c.Where["limit"]
			return errorf(t.Path, p.Line, p.Col, "test %s: limit must be a whole number, not %v", t.Name, v)
		}
		t.Limit = n
	}
	t.StoreFailuresAs = str(c.Raw["store_failures_as"])
	if v, ok := c.Raw["store_failures"].(bool); ok {
		t.StoreFailures = v
	}
	switch t.StoreFailuresAs {
	case "":
		if t.StoreFailures {
			t.StoreFailuresAs = "table"
		}
	case "table", "view":
		t.StoreFailures = true
	case "ephemeral":
		t.StoreFailures = false
	default:
		p := c.Where["store_failures_as"]
		return errorf(t.Path, p.Line, p.Col, "test %s: store_failures_as %q: use table, view or ephemeral", t.Name, t.StoreFailuresAs)
	}
	if s := strings.ToLower(str(c.Raw["severity"])); s != "" {
		if s != "error" && s != "warn" {
			p := c.Where["severity"]
			return errorf(t.Path, p.Line, p.Col, "test %s: severity %q must be error or warn", t.Name, s)
		}
		t.Severity = s
	}
	return nil
}

// dirsUnder returns the folders between a resource root and a file: models/a/b/x.sql → [a b].
func dirsUnder(file string, roots []string) []string {
	dir := path.Dir(file)
	for _, r := range roots {
		r = strings.TrimSuffix(path.Clean(r), "/")
		if dir == r {
			return nil
		}
		if strings.HasPrefix(dir, r+"/") {
			return strings.Split(strings.TrimPrefix(dir, r+"/"), "/")
		}
	}
	return nil
}

// resolve checks every ref() and source() and records each node's dependencies.
func (l *loader) resolve() {
	names := l.p.ModelNames()
	for _, name := range names {
		m := l.p.Models[name]
		m.DependsOn = l.resolveRefs(m.Path, m.Refs)
		m.SourceDeps = l.resolveSources(m.Path, m.Sources)
	}
	for name, t := range l.p.Tests {
		if t.Model != "" {
			if strings.Contains(t.Model, ".") {
				if l.p.SourceTable(t.Model) == nil {
					l.add(errorf(t.Pos.File, t.Pos.Line, t.Pos.Col, "test on unknown source table %q", t.Model))
					continue
				}
				t.SourceDeps = append(t.SourceDeps, t.Model)
			} else if _, ok := l.p.Models[t.Model]; !ok {
				delete(l.p.Tests, name) // its model is disabled
				continue
			} else {
				t.DependsOn = append(t.DependsOn, t.Model)
			}
		}
		for _, d := range l.resolveRefs(t.Pos.File, t.refs) {
			t.DependsOn = appendUnique(t.DependsOn, d)
		}
		for _, d := range l.resolveSources(t.Pos.File, t.sources) {
			t.SourceDeps = appendUnique(t.SourceDeps, d)
		}
	}
	for _, e := range l.p.Exposures {
		for _, d := range e.DependsOn {
			if _, ok := l.p.Models[d]; !ok {
				l.add(errorf(e.Pos.File, e.Pos.Line, e.Pos.Col, "exposure %q depends on unknown model %q%s", e.Name, d, didYouMean(d, names)))
			}
		}
		for _, d := range e.SourceDeps {
			if l.p.SourceTable(d) == nil {
				l.add(errorf(e.Pos.File, e.Pos.Line, e.Pos.Col, "exposure %q depends on unknown source %q", e.Name, d))
			}
		}
	}
}

func (l *loader) resolveRefs(file string, refs []Ref) []string {
	var deps []string
	for _, r := range refs {
		if _, ok := l.p.Models[r.Name]; ok {
			deps = appendUnique(deps, r.Name)
			continue
		}
		pos := r.Pos
		if pos.File == "" {
			pos.File = file
		}
		if l.disabled[r.Name] {
			l.add(errorf(pos.File, pos.Line, pos.Col, "ref %q points to a disabled model; enable it or remove the ref", r.Name))
			continue
		}
		if l.failed[r.Name] {
			continue // the model's own file says what is wrong
		}
		l.add(errorf(pos.File, pos.Line, pos.Col, "unknown ref %q%s", r.Name, didYouMean(r.Name, l.p.ModelNames())))
	}
	return deps
}

func (l *loader) resolveSources(file string, refs []SourceRef) []string {
	var deps []string
	for _, r := range refs {
		id := r.Source + "." + r.Table
		pos := r.Pos
		if pos.File == "" {
			pos.File = file
		}
		s, ok := l.p.Sources[r.Source]
		if !ok {
			var names []string
			for n := range l.p.Sources {
				names = append(names, n)
			}
			l.add(errorf(pos.File, pos.Line, pos.Col, "unknown source %q%s: no source %q is declared; declare it under sources: in a YAML file", id, didYouMean(r.Source, names), r.Source))
			continue
		}
		if _, ok := s.Tables[r.Table]; !ok {
			l.add(errorf(pos.File, pos.Line, pos.Col, "source %q has no table %q%s", r.Source, r.Table, didYouMean(r.Table, slices.Sorted(maps.Keys(s.Tables)))))
			continue
		}
		deps = appendUnique(deps, id)
	}
	return deps
}
