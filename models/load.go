package models

import (
	"errors"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Options change how a project loads.
type Options struct {
	Target      string                      // the profile target or strata.yml target; "" for the default
	Vars        map[string]any              // --vars, overriding the project's vars
	Env         func(string) (string, bool) // environment lookup; os.LookupEnv when nil
	ProfilesDir string                      // where profiles.yml is; project folder, $DBT_PROFILES_DIR, ~/.dbt when ""
	// Cache is the parse cache's folder (the CLI's .strata): a load that finds nothing
	// changed since the last one takes the project from there (cache.go). "" for none.
	Cache string
	// DeferCache leaves writing the parse cache to the project's SaveCache, for a
	// caller with read-only work to do meanwhile (the CLI builds the graph).
	DeferCache bool
}

// ErrNoProject says a folder holds neither strata.yml nor dbt_project.yml.
var ErrNoProject = errors.New("no strata.yml or dbt_project.yml")

// NoProjectError is ErrNoProject for one folder.
type NoProjectError struct{ Dir string }

func (e *NoProjectError) Error() string { return e.Dir + ": " + ErrNoProject.Error() }

func (e *NoProjectError) Unwrap() error { return ErrNoProject }

// layout is where a project keeps each kind of file, relative to its folder.
type layout struct {
	modelPaths, seedPaths, testPaths, macroPaths, snapshotPaths []string
	packagesPath                                                string // packages-install-path
}

// loader holds the state of one Load.
type loader struct {
	p        *Project
	opts     Options
	layout   layout
	folders  map[string]*folderConfig // "models", "seeds", "data_tests" trees from the project file
	errs     Errors
	mu       sync.Mutex
	re       *renderEnv
	props    []*propsFile
	disabled map[string]bool
	failed   map[string]bool // models whose file failed to read: their error is the root one
	// pkgModels and pkgSeeds are the packages' model and seed paths, relative to the
	// project
	pkgModels, pkgSeeds []pkgPaths
	in                  *inputs   // what the load read, for the parse cache; nil without one
	prev                *prevLoad // the cached load it replaces, whose renders it may reuse
	// listings are the folders walked, by root: the model paths are walked for models,
	// property files and docs, once
	listMu   sync.Mutex
	listings map[string]*listing
}

// Load reads, renders and validates the project in dir. Its error, when not nil, is an
// Errors listing every problem found, or wraps ErrNoProject.
func Load(dir string, opts Options) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if opts.Env == nil {
		opts.Env = osEnv
	}
	var in *inputs
	var prev *prevLoad
	if opts.Cache != "" {
		var p *Project
		if p, prev = loadCached(abs, opts); p != nil {
			return p, nil
		}
		in = newInputs()
		opts.Env = in.env(opts.Env)
	}
	l := &loader{
		in:      in,
		prev:    prev,
		p:       &Project{Dir: abs, Models: map[string]*Model{}, Sources: map[string]*Source{}, Tests: map[string]*Test{}, Docs: map[string]string{}, Vars: map[string]any{}},
		opts:    opts,
		folders: map[string]*folderConfig{},
	}
	if err := l.readProjectFile(); err != nil {
		return nil, err
	}
	if l.p.Name == "" || l.p.Warehouse.Path == "" {
		// the project file could not be read (bad YAML, no name, no usable target):
		// nothing else can be resolved against it
		return nil, l.fail()
	}
	for k, v := range opts.Vars {
		l.p.Vars[k] = v
	}
	l.re = newRenderEnv(l.p, opts.Env)
	l.p.re = l.re
	l.readDocsAndMacros()
	l.p.renderFP = renderFingerprint(l.p)
	l.checkUnsupportedPaths()
	l.readModels()
	l.readSeeds()
	l.readSnapshots()
	l.readProperties()
	l.applyConfigs()
	l.expandCDC()
	l.modelSchedules()
	l.readSingularTests()
	l.resolve()
	l.resolveSemantic()
	l.resolveUnitTests()
	l.checkRelations()
	if len(l.errs) > 0 {
		return nil, l.fail()
	}
	l.p.loaded = true
	if in != nil {
		if save := prepareCache(l.p, in, opts); save != nil && opts.DeferCache {
			l.p.pendingCache = sync.OnceFunc(save)
		} else if save != nil {
			save()
		}
	}
	return l.p, nil
}

func (l *loader) fail() error {
	l.errs.Sort()
	return l.errs
}

func (l *loader) add(errs ...*Error) {
	l.mu.Lock()
	l.errs = append(l.errs, errs...)
	l.mu.Unlock()
}

// rel returns a path relative to the project folder, with forward slashes.
func (l *loader) rel(path string) string {
	r, err := filepath.Rel(l.p.Dir, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(r)
}

// walk lists the files under the project's paths whose names end in one of exts, sorted.
func (l *loader) walk(paths []string, exts ...string) []string {
	roots := make([]string, len(paths))
	for i, p := range paths {
		roots[i] = filepath.Join(l.p.Dir, p)
	}
	files, dirs := walkListed(roots, exts, l.list)
	l.in.walked(walkRec{Roots: roots, Exts: exts, Files: files, Dirs: dirs})
	return files
}

// list walks root, or gives the walk of it this load made already.
func (l *loader) list(root string) *listing {
	l.listMu.Lock()
	defer l.listMu.Unlock()
	if ls, ok := l.listings[root]; ok {
		return ls
	}
	if l.listings == nil {
		l.listings = map[string]*listing{}
	}
	ls := listRoot(root)
	l.listings[root] = ls
	return ls
}

// readModels renders every model file, in parallel.
func (l *loader) readModels() {
	files := l.walk(l.layout.modelPaths, ".sql", ".py")
	pkgOf := make([]string, len(files))
	for _, pm := range l.pkgModels { // a package's models, after the project's own
		more := l.walk(pm.paths, ".sql")
		files = append(files, more...)
		for range more {
			pkgOf = append(pkgOf, pm.pkg)
		}
	}
	// the property files parse in the same pass, on every core: the two are independent
	// until readProperties applies them, in file order. Their YAML goes first, the longest
	// jobs before the many short ones.
	props := l.propertyFiles()
	l.props = make([]*propsFile, len(props))
	results := make([]*Model, len(files))
	// an atomic counter deals the files out: a channel's handoff per file woke a parked
	// worker every time, tens of thousands of futex calls on a large project
	var wg sync.WaitGroup
	var next atomic.Int64
	jobs := int64(len(props) + len(files))
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < jobs; i = next.Add(1) - 1 {
				if i < int64(len(props)) {
					l.props[i] = l.parseProps(props[i])
					continue
				}
				i -= int64(len(props))
				results[i] = l.readModel(files[i])
				if results[i] != nil {
					results[i].Package = pkgOf[i]
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]string{}
	for _, m := range results {
		if m == nil {
			continue
		}
		if prev, ok := seen[m.Name]; ok {
			l.add(errorf(m.Path, 1, 1, "duplicate model name %q: also defined in %s; rename one of the files", m.Name, prev))
			continue
		}
		seen[m.Name] = m.Path
		l.p.Models[m.Name] = m
	}
}

func (l *loader) readModel(path string) *Model {
	file := l.rel(path)
	if strings.HasSuffix(path, ".py") {
		return l.pythonModel(path, file)
	}
	data, err := l.in.readFile(path)
	if err != nil {
		l.add(errorf(file, 0, 0, "%v", err))
		return nil
	}
	name := strings.TrimSuffix(filepath.Base(path), ".sql")
	if strings.TrimSpace(string(data)) == "" {
		l.add(errorf(file, 1, 1, "the model file is empty: write the select that builds %s, or delete the file", name))
		l.fail1(name)
		return nil
	}
	m := l.modelFromSource(file, name, string(data))
	if m == nil {
		l.fail1(name)
	}
	return m
}

// pkgPaths is where a package keeps its models.
type pkgPaths struct {
	pkg   string
	paths []string
}

// fail1 records a model whose file failed: refs to it and its properties say nothing
// more, the file's own error says it all.
func (l *loader) fail1(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed == nil {
		l.failed = map[string]bool{}
	}
	l.failed[name] = true
}

// modelFromSource renders a model's text (a model file, or a snapshot block) once, to
// learn its refs, sources and config.
func (l *loader) modelFromSource(file, name, src string) *Model {
	m := &Model{Name: name, Path: file, raw: src}
	if loc := unsupportedTag.FindStringIndex(m.raw); loc != nil {
		p := (&renderState{raw: m.raw, file: file}).pos(m.raw[loc[0]:loc[1]])
		tag := strings.Fields(strings.Trim(m.raw[loc[0]:loc[1]], "{%- "))[0]
		if tag == "snapshot" {
			l.add(errorf(file, p.Line, p.Col, "a {%% snapshot %%} block belongs under the snapshot paths (snapshots/): move this file there"))
			return nil
		}
		l.add(errorf(file, p.Line, p.Col, "{%% %s %%} blocks are a dbt feature strata does not support", tag))
		return nil
	}
	if pm := l.reuse(file, name, src); pm != nil {
		return pm
	}
	st := &renderState{file: file, raw: m.raw}
	out, static := l.re.renderStatic(name, st)
	if static {
		m.static = true
	} else {
		t, perr := parseTemplate(file, m.raw)
		if perr != nil {
			l.add(perr)
			return nil
		}
		m.tmpl = t
		st = &renderState{file: file, raw: m.raw}
		var rerr *Error
		if out, rerr = l.re.render(t, name, st); rerr != nil {
			l.add(rerr)
			return nil
		}
	}
	l.add(st.errs...)
	if len(st.warnings) > 0 {
		m.warned = st.warnings
		l.mu.Lock()
		l.p.Warnings = append(l.p.Warnings, st.warnings...)
		l.mu.Unlock()
	}
	if strings.TrimSpace(out) == "" && len(st.errs) == 0 && !l.p.readsWarehouse(m) { // one that does renders when it runs
		l.add(errorf(file, 1, 1, "model %s renders to no SQL (a file of config() and Jinja alone builds nothing): write its select", name))
		return nil
	}
	m.rendered = out
	m.varsRead, m.envsRead = st.vars, st.envs
	m.Refs = st.refs
	m.Sources = st.sources
	m.fileConfig = st.config
	return m
}

// readSeeds registers every CSV under the seed paths.
func (l *loader) readSeeds() {
	files := l.walk(l.layout.seedPaths, ".csv")
	pkgOf := make([]string, len(files))
	for _, pp := range l.pkgSeeds { // a package's seeds, after the project's own
		more := l.walk(pp.paths, ".csv")
		files = append(files, more...)
		for range more {
			pkgOf = append(pkgOf, pp.pkg)
		}
	}
	for i, path := range files {
		file := l.rel(path)
		name := strings.TrimSuffix(filepath.Base(path), ".csv")
		if prev, ok := l.p.Models[name]; ok {
			l.add(errorf(file, 1, 1, "duplicate name %q: a seed and %s share it; rename one", name, prev.Path))
			continue
		}
		l.p.Models[name] = &Model{Name: name, Kind: KindSeed, Path: file, Package: pkgOf[i]}
	}
}

// readSingularTests loads tests/*.sql: queries returning the rows that fail.
func (l *loader) readSingularTests() {
	for _, path := range l.walk(l.layout.testPaths, ".sql") {
		file := l.rel(path)
		if l.underGeneric(file) {
			continue // a generic test's macro, read with the macros
		}
		data, err := l.in.readFile(path)
		if err != nil {
			l.add(errorf(file, 0, 0, "%v", err))
			continue
		}
		name := strings.TrimSuffix(filepath.Base(path), ".sql")
		t, perr := parseTemplate(file, string(data))
		if perr != nil {
			l.add(perr)
			continue
		}
		st := &renderState{file: file, raw: string(data)}
		out, rerr := l.re.render(t, "", st)
		if rerr != nil {
			l.add(rerr)
			continue
		}
		l.add(st.errs...)
		test := &Test{Name: name, Path: file, Pos: Pos{File: file, Line: 1, Col: 1}, Severity: "error", rendered: out}
		cfg := mergeConfig(l.folders["data_tests"].layersFor(l.p.Name, nil, name, false), st.config)
		test.applyConfig(cfg)
		for _, r := range st.refs {
			test.refs = append(test.refs, r)
		}
		test.sources = st.sources
		l.addTest(test)
	}
}

// readDocsAndMacros reads {% docs %} blocks from .md files and macros from the macro paths.
func (l *loader) readDocsAndMacros() {
	docPaths := append(append(append([]string{}, l.layout.modelPaths...), l.layout.seedPaths...), l.layout.macroPaths...)
	for _, path := range l.walk(docPaths, ".md") {
		data, err := l.in.readFile(path)
		if err != nil {
			continue
		}
		for _, m := range docsBlockRe.FindAllStringSubmatch(string(data), -1) {
			l.p.Docs[m[1]] = strings.TrimSpace(m[2])
		}
	}
	ms := &macroSet{names: map[string]string{}, sources: map[string]string{}}
	// generic tests may also live in tests/generic/ (dbt ≥ 1.5): they are macros
	macroPaths := slices.Clone(l.layout.macroPaths)
	for _, tp := range l.layout.testPaths {
		macroPaths = append(macroPaths, filepath.Join(tp, "generic"))
	}
	l.readMacroFiles(ms, "", macroPaths)
	l.readPackages(ms)
	if len(ms.names) > 0 {
		ms.group()
		l.p.macros = ms
	}
}

// readMacroFiles reads the macro files under roots: the project's own when pkg is "",
// else a package's, named "pkg.macro" in the set.
func (l *loader) readMacroFiles(ms *macroSet, pkg string, roots []string) {
	for _, path := range l.walk(roots, ".sql") {
		file := l.rel(path)
		data, err := l.in.readFile(path)
		if err != nil {
			l.add(errorf(file, 0, 0, "%v", err))
			continue
		}
		src := string(data)
		if loc := unsupportedTag.FindStringIndex(src); loc != nil {
			p := (&renderState{raw: src, file: file}).pos(src[loc[0]:loc[1]])
			if pkg != "" {
				continue // a package's materializations and snapshots: not called by strata
			}
			l.add(errorf(file, p.Line, p.Col, "custom materializations and snapshots are dbt features strata does not support"))
			continue
		}
		src = prepareMacroSource(src)
		t, perr := parseTemplate(file, src)
		if perr != nil && pkg == "" {
			l.add(perr)
			continue
		}
		for _, m := range macroNameRe.FindAllStringSubmatch(src, -1) {
			key := m[1]
			if pkg != "" {
				key = pkg + "." + m[1]
			}
			if prev, ok := ms.names[key]; ok && prev != file {
				p := (&renderState{raw: src, file: file}).pos(m[0])
				l.add(errorf(file, p.Line, p.Col, "macro %q is also defined in %s; rename one", m[1], prev))
			}
			ms.names[key] = file
		}
		ms.sources[file] = string(data)
		if perr != nil {
			// a package's file that does not parse fails the macros it defines, when
			// one is called, and not the whole project
			ms.broken(file, perr)
			continue
		}
		ms.templates = append(ms.templates, t)
		ms.files = append(ms.files, file)
	}
}

// checkUnsupportedPaths fails loudly on dbt features strata does not run.
func (l *loader) checkUnsupportedPaths() {
	for _, name := range []string{"packages.yml", "dependencies.yml"} {
		path := filepath.Join(l.p.Dir, name)
		data, err := l.in.readFile(path)
		if err != nil {
			continue
		}
		root, perr := parseYAML(name, data)
		if perr != nil {
			l.add(perr)
			continue
		}
		if pk := get(root, "packages"); pk != nil && len(pk.Content) > len(l.p.Packages) {
			// as dbt: fewer installed than listed (a package's own may add more)
			dir := l.layout.packagesPath
			if dir == "" {
				dir = defaultPackagesPath
			}
			l.add(errorf(name, pk.Line, pk.Column, "%s lists %d packages and %d are installed in %s/: run strata deps", name, len(pk.Content), len(l.p.Packages), dir))
		}
	}
}

// fileError reports a problem reading a whole file.
func fileError(file string, err error) *Error {
	return errorf(file, 0, 0, "%v", err)
}

// underGeneric reports whether a file is in a test path's generic/ folder.
func (l *loader) underGeneric(file string) bool {
	for _, tp := range l.layout.testPaths {
		if strings.HasPrefix(file, strings.TrimSuffix(filepath.ToSlash(tp), "/")+"/generic/") {
			return true
		}
	}
	return false
}
