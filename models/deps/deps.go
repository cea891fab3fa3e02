package deps

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Options are what `strata deps` is asked to do.
type Options struct {
	// Upgrade resolves packages.yml again even when package-lock.yml matches it (dbt's
	// --upgrade), and writes the lock anew.
	Upgrade bool
	// LockOnly resolves and writes package-lock.yml, and installs nothing (dbt's --lock).
	LockOnly bool
	// HubURL is the package hub's base URL; "" reads DBT_PACKAGE_HUB_URL, else
	// https://hub.getdbt.com/.
	HubURL string
	// Client makes the hub's and tarballs' requests; nil is http.DefaultClient.
	Client *http.Client
	// Progress gets a line per step ("Installing dbt-labs/dbt_utils@1.1.1"); Warn gets
	// warnings (an unpinned git package, a package that moved on the hub). Either may be nil.
	Progress func(string)
	Warn     func(string)
}

// Result is what Install did; its JSON is `strata deps --json`'s.
type Result struct {
	Packages    []Package `json:"packages"`     // in the order packages.yml (and their own packages) ask for them
	Installed   bool      `json:"installed"`    // false with --lock, or when packages.yml lists none
	InstallPath string    `json:"install_path"` // relative to the project when inside it
	LockFile    string    `json:"lock_file"`    // package-lock.yml; "" when there is none
	LockUpdated bool      `json:"lock_updated"` // the lock was written (it was missing, stale, or --upgrade)
	Removed     []string  `json:"removed"`      // packages no longer asked for, removed from the install path
}

// Package is one installed (or, with --lock, resolved) package.
type Package struct {
	Name     string `json:"name"`               // the package's project name, its folder
	Source   string `json:"source"`             // hub, git, local or tarball
	Package  string `json:"package"`            // org/name, the git URL, the local path or the tarball URL
	Version  string `json:"version,omitempty"`  // hub: the release
	Revision string `json:"revision,omitempty"` // git: the commit
	Path     string `json:"path"`               // where it is installed, relative to the project
}

// Install reads the project's packages.yml (or dependencies.yml), resolves it (or
// follows package-lock.yml when the lock was written from the same packages.yml),
// writes the lock, and installs every package into the packages folder. Each package is
// fetched and staged first and then swapped in by a rename: when anything fails before
// the swap, the packages folder is as it was.
func Install(ctx context.Context, dir string, opts Options) (*Result, error) {
	say := func(f func(string), msg string) {
		if f != nil {
			f(msg)
		}
	}
	proj, err := readProject(dir)
	if err != nil {
		return nil, err
	}
	res := &Result{Packages: []Package{}, Removed: []string{}, InstallPath: relTo(proj.Dir, proj.InstallPath)}
	specs, specFile, err := readSpecs(proj.Dir)
	if err != nil {
		return nil, err
	}
	if len(specs) == 0 {
		say(opts.Progress, "No packages found in packages.yml")
		return res, nil
	}
	hash := specHash(specs)
	var lk *lock
	if !opts.Upgrade { // --upgrade writes the lock anew: a broken one is no obstacle
		if lk, err = readLock(proj.Dir); err != nil {
			return nil, err
		}
	}
	parent := filepath.Dir(proj.InstallPath)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	stage, err := os.MkdirTemp(parent, ".strata-deps-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stage)
	h := newHub(opts.HubURL, opts.Client, opts.Warn)
	r := &resolver{ctx: ctx, proj: proj, hub: h, stage: stage, warn: opts.Warn, fetched: map[string]*fetched{}, warned: map[string]bool{}}
	var pins []pinned
	switch {
	case lk == nil, lk.Hash != hash:
		if lk != nil {
			say(opts.Progress, fmt.Sprintf("%s changed since %s was written: resolving it again", specFile, LockFile))
		}
		if pins, err = r.resolve(specs); err != nil {
			return nil, err
		}
		if err := writeLock(proj.Dir, &lock{Packages: pins, Hash: hash}); err != nil {
			return nil, err
		}
		res.LockUpdated = true
		say(opts.Progress, "Updated "+LockFile)
	default:
		pins = lk.Packages
	}
	res.LockFile = LockFile
	if opts.LockOnly {
		for _, p := range pins {
			res.Packages = append(res.Packages, p.public(""))
		}
		return res, nil
	}

	type staged struct {
		p    pinned
		tree string
	}
	var ready []staged
	seen := map[string]pinned{}
	for _, p := range pins {
		say(opts.Progress, "Installing "+p.label())
		p, tree, err := r.stageInstall(p)
		if err != nil {
			return nil, placeErr(err, p.At)
		}
		if prev, dup := seen[p.Name]; dup {
			return nil, errorAt(p.At, "two packages are both named %q: %s (%s) and %s (%s); keep one of them", p.Name, prev.label(), prev.At, p.label(), p.At)
		}
		seen[p.Name] = p
		ready = append(ready, staged{p, tree})
		say(opts.Progress, "  Installed from "+p.versionName())
		if p.Kind == SourceHub && p.Latest != "" {
			if p.Latest != p.Version {
				say(opts.Progress, "  Updated version available: "+p.Latest)
			} else {
				say(opts.Progress, "  Up to date!")
			}
		}
	}
	if err := os.MkdirAll(proj.InstallPath, 0o755); err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, s := range ready {
		dest := filepath.Join(proj.InstallPath, s.p.Name)
		if err := swapIn(s.tree, dest, filepath.Join(stage, "old-"+s.p.Name)); err != nil {
			return nil, fmt.Errorf("install %s into %s: %w", s.p.label(), relTo(proj.Dir, dest), err)
		}
		names[s.p.Name] = true
		res.Packages = append(res.Packages, s.p.public(relTo(proj.Dir, dest)))
	}
	res.Installed = true
	removed, err := prune(proj.InstallPath, names, stage)
	if err != nil {
		return nil, err
	}
	for _, n := range removed {
		say(opts.Progress, fmt.Sprintf("Removed %s: no longer in %s", relTo(proj.Dir, filepath.Join(proj.InstallPath, n)), LockFile))
		res.Removed = append(res.Removed, n)
	}
	return res, nil
}

// stageInstall gets a pinned package's files into a staged folder of their own.
func (r *resolver) stageInstall(p pinned) (pinned, string, error) {
	switch p.Kind {
	case SourceHub:
		hp, err := r.hub.pkg(r.ctx, p.Package)
		if err != nil {
			return p, "", err
		}
		hv, ok := hp.Versions[p.Version]
		if !ok {
			return p, "", errorAt(p.At, "release %s of %s is not on the hub (%s) any more: run strata deps --upgrade to pick another", p.Version, p.Package, r.hub.base)
		}
		if p.Latest == "" {
			if rel := installable(slices.Collect(maps.Keys(hp.Versions)), false); len(rel) > 0 {
				p.Latest = rel[len(rel)-1].raw
			}
		}
		u, err := r.hub.tarballURL(hv)
		if err != nil || hv.Downloads.Tarball == "" {
			return p, "", &FetchError{What: "GET " + r.hub.url(p.Package), Err: fmt.Errorf("release %s has no downloads.tarball", p.Version), Hint: r.hub.hint()}
		}
		tree := r.tmp()
		if err := downloadTarball(r.ctx, r.hub, u, tree); err != nil {
			return p, "", err
		}
		name, err := packageName(tree, fmt.Sprintf("the tarball of %s", p.label()), p.At)
		if err != nil {
			return p, "", err
		}
		p.Name = name
		return p, tree, nil
	case SourceLocal:
		f, err := r.fetch(p)
		if err != nil {
			return p, "", err
		}
		src := r.localDir(p.Local)
		tree := r.tmp()
		if err := copyTree(src, tree, copyOptions{follow: true, skip: r.localSkip()}); err != nil {
			return p, "", fmt.Errorf("copy local package %s: %w", p.Local, err)
		}
		p.Name = f.name
		return p, tree, nil
	}
	id := p.key() + "@" + p.Version + p.Requested
	f := r.fetched[id]
	if f == nil || f.tree == "" {
		var err error
		if f, err = r.fetch(p); err != nil {
			return p, "", err
		}
		r.fetched[id] = f
	}
	p.Name = f.name
	if p.Kind == SourceGit {
		p.Revision = f.sha
	}
	return p, f.tree, nil
}

// localSkip leaves out of a local package's copy its git folder, its own build outputs
// and installed packages, and strata's staging and packages folders (a local package
// may be the project's parent).
func (r *resolver) localSkip() func(abs, rel string, dir bool) bool {
	avoid := []string{r.stage, r.proj.InstallPath}
	for i, a := range avoid {
		if real, err := filepath.EvalSymlinks(a); err == nil {
			avoid[i] = real
		}
	}
	return func(abs, rel string, dir bool) bool {
		if filepath.Base(rel) == ".git" || slices.Contains(avoid, abs) {
			return true
		}
		return dir && !strings.Contains(rel, string(filepath.Separator)) &&
			slices.Contains([]string{"target", "logs", "dbt_packages", "dbt_modules"}, rel)
	}
}

// downloadTarball fetches a package's .tar.gz and extracts it into dir.
func downloadTarball(ctx context.Context, h *hub, u, dir string) error {
	data, err := h.download(ctx, u)
	if err != nil {
		var fe *FetchError
		if errors.As(err, &fe) {
			fe.Hint = "the package's download did not answer: check the network (and " + HubEnv + " for hub packages)"
		}
		return err
	}
	if err := extractTarball(data, dir); err != nil {
		return &FetchError{What: "GET " + u, Err: fmt.Errorf("not a package: %w", err), Hint: "nothing was installed from it"}
	}
	return nil
}

// swapIn replaces dest with tree by renames: the old folder (or a symlink dbt made for a
// local package) is moved aside first and put back if the new one cannot take its place.
func swapIn(tree, dest, aside string) error {
	old := false
	if _, err := os.Lstat(dest); err == nil {
		if err := os.Rename(dest, aside); err != nil {
			return err
		}
		old = true
	}
	if err := os.Rename(tree, dest); err != nil {
		if old {
			_ = os.Rename(aside, dest)
		}
		return err
	}
	return nil
}

// prune removes from the packages folder the packages no longer installed (dbt empties
// the folder before installing): folders with a dbt_project.yml and symlinks; anything
// else is left alone.
func prune(installPath string, keep map[string]bool, stage string) ([]string, error) {
	entries, err := os.ReadDir(installPath)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		name := e.Name()
		if keep[name] || strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(installPath, name)
		switch {
		case e.Type()&os.ModeSymlink != 0:
			if err := os.Remove(path); err != nil {
				return removed, err
			}
		case e.IsDir():
			if _, err := os.Stat(filepath.Join(path, "dbt_project.yml")); err != nil {
				continue
			}
			if err := os.Rename(path, filepath.Join(stage, "removed-"+name)); err != nil {
				return removed, err
			}
		default:
			continue
		}
		removed = append(removed, name)
	}
	return removed, nil
}

// public is a pinned package as --json shows it.
func (p pinned) public(path string) Package {
	out := Package{Name: p.Name, Source: p.Kind, Path: path}
	switch p.Kind {
	case SourceHub:
		out.Package, out.Version = p.Package, p.Version
	case SourceGit:
		out.Package, out.Revision = redactURL(p.Git), p.Revision
	case SourceLocal:
		out.Package = p.Local
	case SourceTarball:
		out.Package = p.Tarball
	}
	return out
}

// versionName is dbt's "Installed from …" wording.
func (p pinned) versionName() string {
	switch p.Kind {
	case SourceHub:
		return "version " + p.Version
	case SourceGit:
		s := "revision " + p.Revision
		if p.Subdirectory != "" {
			s += ", subdirectory " + p.Subdirectory
		}
		return s
	case SourceLocal:
		return "<local @ " + p.Local + ">"
	}
	return "tarball " + p.Tarball
}

// relTo is a path relative to the project, in slashes, when inside it.
func relTo(dir, path string) string {
	if rel, err := filepath.Rel(dir, path); err == nil && filepath.IsLocal(rel) {
		return filepath.ToSlash(rel)
	}
	return path
}
