package deps

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// requirement is one spec with who asked for it.
type requirement struct {
	spec
	from string // "packages.yml:3:5", or "dbt-labs/dbt_date@0.10.0's packages"
}

// wanted is every requirement on one package, merged as dbt's PackageListing does:
// a hub package's version ranges add up, a git package's revisions must agree.
type wanted struct {
	key   string
	first requirement // its kind, subdirectory, install-prerelease and place are the first's
	reqs  []requirement
}

// fetched is what is known of a package once fetched for resolution: its name, its own
// packages, and the tree to install when it had to be downloaded or cloned.
type fetched struct {
	name  string
	sha   string // git: the commit
	tree  string // a staged copy ready to install; "" when not fetched yet (hub, local)
	specs []requirement
}

// resolver resolves packages as dbt's resolve_packages does: breadth first, each
// package pinned with what is known of it so far and its own packages added, until no
// new package or version appears; then every package pinned once more with all its
// requirements.
type resolver struct {
	ctx     context.Context
	proj    *project
	hub     *hub
	stage   string
	warn    func(string)
	fetched map[string]*fetched // by pinned identity (key@version)
	warned  map[string]bool
	n       int
}

func (r *resolver) tmp() string {
	r.n++
	return filepath.Join(r.stage, fmt.Sprintf("p%d", r.n))
}

// resolve pins every package the root specs need, in the order they were first asked for.
func (r *resolver) resolve(specs []spec) ([]pinned, error) {
	pending := make([]requirement, len(specs))
	for i, s := range specs {
		pending[i] = requirement{spec: s, from: s.At.String()}
	}
	final := map[string]*wanted{}
	var order []string
	for len(pending) > 0 {
		var next []requirement
		for _, req := range pending {
			k := keyOf(req.spec)
			w := final[k]
			if w == nil {
				w = &wanted{key: k, first: req}
				final[k] = w
				order = append(order, k)
			}
			w.reqs = append(w.reqs, req)
			p, err := r.pin(w)
			if err != nil {
				return nil, err
			}
			id := p.key() + "@" + p.Version + p.Requested
			if _, seen := r.fetched[id]; seen {
				continue
			}
			f, err := r.fetch(p)
			if err != nil {
				return nil, placeErr(err, p.At)
			}
			r.fetched[id] = f
			next = append(next, f.specs...)
		}
		pending = next
	}
	var out []pinned
	byName := map[string]pinned{}
	for _, k := range order {
		p, err := r.pin(final[k])
		if err != nil {
			return nil, err
		}
		f := r.fetched[p.key()+"@"+p.Version+p.Requested]
		if f == nil {
			if f, err = r.fetch(p); err != nil {
				return nil, placeErr(err, p.At)
			}
			r.fetched[p.key()+"@"+p.Version+p.Requested] = f
		}
		p.Name, p.Revision = f.name, f.sha
		if prev, dup := byName[p.Name]; dup {
			return nil, errorAt(p.At, "two packages are both named %q: %s (%s) and %s (%s); keep one of them", p.Name, prev.label(), prev.At, p.label(), p.At)
		}
		if p.Name == r.proj.Name {
			return nil, errorAt(p.At, "package %s is named %q, as the project is: package names must be unique in a project; rename the project or drop the package", p.label(), p.Name)
		}
		byName[p.Name] = p
		out = append(out, p)
	}
	return out, nil
}

// keyOf is a spec's package identity.
func keyOf(s spec) string {
	switch s.Kind {
	case SourceHub:
		return s.Package
	case SourceGit:
		return gitKey(s.Git, s.Subdirectory)
	case SourceLocal:
		return "local:" + s.Local
	}
	return "tarball:" + s.Tarball
}

// pin picks what to install for a package given its requirements so far.
func (r *resolver) pin(w *wanted) (pinned, error) {
	s := w.first.spec
	p := pinned{Kind: s.Kind, At: s.At}
	switch s.Kind {
	case SourceHub:
		return r.pinHub(w)
	case SourceGit:
		revs := map[string]string{} // revision → who asked
		for _, req := range w.reqs {
			if req.Revision != "" {
				if _, ok := revs[req.Revision]; !ok {
					revs[req.Revision] = req.from
				}
			}
		}
		if len(revs) > 1 {
			var parts []string
			for _, rev := range slices.Sorted(maps.Keys(revs)) {
				parts = append(parts, fmt.Sprintf("%q (%s)", rev, revs[rev]))
			}
			return p, errorAt(s.At, "git package %s is asked for at more than one revision: %s; a git package is installed at one revision, so ask for the same one everywhere", redactURL(s.Git), strings.Join(parts, " and "))
		}
		for rev := range revs {
			p.Requested = rev
		}
		p.Git, p.Written, p.Subdirectory = s.Git, written(s, "git", s.Git), s.Subdirectory
		warn := true
		for _, req := range w.reqs {
			warn = warn && req.WarnUnpinned
		}
		if warn && !r.warned[w.key] && (p.Requested == "" || p.Requested == "HEAD" || p.Requested == "main" || p.Requested == "master") {
			r.warned[w.key] = true
			how := "is not pinned: it uses the default branch's HEAD"
			if p.Requested == "main" || p.Requested == "master" {
				how = fmt.Sprintf("is pinned to the %q branch", p.Requested)
			}
			r.say(fmt.Sprintf("%s: the git package %s %s, which can change without warning: pin a tag or commit with revision: (or set warn-unpinned: false)", s.At, redactURL(s.Git), how))
		}
	case SourceLocal:
		p.Local, p.Written = s.Local, written(s, "local", s.Local)
	case SourceTarball:
		p.Tarball, p.Name, p.Written = s.Tarball, s.Name, written(s, "tarball", s.Tarball)
	}
	return p, nil
}

// written is a spec's value as packages.yml writes it (env_var() unrendered), for the lock.
func written(s spec, key, rendered string) string {
	if raw, ok := s.raw[key].(string); ok {
		return raw
	}
	return rendered
}

func (r *resolver) say(msg string) {
	if r.warn != nil {
		r.warn(msg)
	}
}

// pinHub picks the highest release that every requirement allows.
func (r *resolver) pinHub(w *wanted) (pinned, error) {
	s := w.first.spec
	p := pinned{Kind: SourceHub, Package: s.Package, At: s.At}
	ok, index, err := r.hub.has(r.ctx, s.Package)
	if err != nil {
		return p, placeErr(err, s.At)
	}
	if !ok {
		return p, errorAt(s.At, "package %s is not on the package hub (%s)%s: check its name on hub.getdbt.com", s.Package, r.hub.base, didYouMean(s.Package, index))
	}
	var all []specifier
	prerelease := s.Prerelease
	groups := make([][]specifier, len(w.reqs))
	for i, req := range w.reqs {
		for _, v := range req.Versions {
			sp, err := parseSpecifier(v)
			if err != nil {
				return p, errorAt(req.At, "package %s: version %v", s.Package, err)
			}
			prerelease = prerelease || sp.V.Pre != ""
			groups[i] = append(groups[i], sp)
			all = append(all, sp)
		}
	}
	rng, ok := rangeOf(all)
	if !ok {
		return p, conflict(s, w.reqs, groups)
	}
	hp, err := r.hub.pkg(r.ctx, s.Package)
	if err != nil {
		return p, placeErr(err, s.At)
	}
	releases := installable(slices.Collect(maps.Keys(hp.Versions)), prerelease)
	v, ok := highest(rng, releases)
	if !ok {
		return p, noRelease(s, rng, w.reqs, releases, slices.Collect(maps.Keys(hp.Versions)), prerelease)
	}
	p.Version = v.raw
	if len(releases) > 0 {
		p.Latest = releases[len(releases)-1].raw
	}
	return p, nil
}

// conflict names the two requirements that no version satisfies together.
func conflict(s spec, reqs []requirement, groups [][]specifier) error {
	for i := range groups {
		for j := i + 1; j < len(groups); j++ {
			if _, ok := rangeOf(append(slices.Clone(groups[i]), groups[j]...)); !ok {
				return errorAt(s.At, "package %s: no version can satisfy both %s (%s) and %s (%s): change one of them",
					s.Package, specsString(groups[i]), reqs[i].from, specsString(groups[j]), reqs[j].from)
			}
		}
	}
	for i := range groups {
		if _, ok := rangeOf(groups[i]); !ok {
			return errorAt(reqs[i].At, "package %s: no version can satisfy %s: the range is empty", s.Package, specsString(groups[i]))
		}
	}
	return errorAt(s.At, "package %s: no version satisfies every requirement", s.Package)
}

func specsString(ss []specifier) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return strings.Join(parts, ", ")
}

// noRelease says no release is in the range, and lists those there are.
func noRelease(s spec, rng versionRange, reqs []requirement, releases []version, all []string, prerelease bool) error {
	var avail []string
	for _, v := range releases {
		avail = append(avail, v.raw)
	}
	list := strings.Join(avail, ", ")
	if list == "" {
		list = "none"
	}
	asked := rng.String()
	if len(reqs) > 1 {
		var from []string
		for _, r := range reqs {
			from = append(from, fmt.Sprintf("%s (%s)", strings.Join(r.Versions, ", "), r.from))
		}
		asked += " (from " + strings.Join(from, " and ") + ")"
	}
	msg := fmt.Sprintf("package %s: no release satisfies %s; the hub has %s", s.Package, asked, list)
	if !prerelease {
		var pre []string
		for _, a := range all {
			if v, ok := parseVersion(a); ok && v.Pre != "" && rng.allows(v) {
				pre = append(pre, a)
			}
		}
		if len(pre) > 0 {
			slices.Sort(pre)
			msg += fmt.Sprintf(" (and the prerelease %s, installed only with install-prerelease: true)", strings.Join(pre, ", "))
		}
	}
	return errorAt(s.At, "%s", msg+": change version:")
}

// fetch learns a pinned package's name and own packages: from the hub's JSON for a hub
// release, by cloning for git (kept staged to install), by reading the folder for local.
func (r *resolver) fetch(p pinned) (*fetched, error) {
	switch p.Kind {
	case SourceHub:
		hp, err := r.hub.pkg(r.ctx, p.Package)
		if err != nil {
			return nil, err
		}
		hv, ok := hp.Versions[p.Version]
		if !ok {
			return nil, errorAt(p.At, "release %s of %s is not on the hub: run strata deps --upgrade", p.Version, p.Package)
		}
		name := hv.Name
		if name == "" {
			_, name, _ = strings.Cut(p.Package, "/")
		}
		f := &fetched{name: name}
		label := p.label() + "'s packages"
		if len(hv.Packages) > 0 && string(hv.Packages) != "null" {
			var doc yaml.Node
			if err := yaml.Unmarshal(hv.Packages, &doc); err != nil || len(doc.Content) == 0 {
				return nil, &FetchError{What: "GET " + r.hub.url(p.Package), Err: fmt.Errorf("release %s: its packages are not a list", p.Version), Hint: r.hub.hint()}
			}
			specs, perr := specList("hub "+p.label(), doc.Content[0], true)
			if perr != nil {
				return nil, perr
			}
			for _, s := range specs {
				s.At = p.At // a hub release's packages have no lines of their own
				f.specs = append(f.specs, requirement{spec: s, from: label})
			}
		}
		return f, nil
	case SourceGit:
		clone := r.tmp()
		sha, err := checkoutGit(r.ctx, p.Git, firstNonEmpty(p.Requested, p.Revision), clone, r.proj.Dir)
		if err != nil {
			return nil, err
		}
		root := clone
		from := "git package " + redactURL(p.Git)
		if p.Subdirectory != "" {
			root = filepath.Join(clone, filepath.FromSlash(p.Subdirectory))
			from += " subdirectory " + p.Subdirectory
			if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
				return nil, errorAt(p.At, "%s: the repository has no folder %q at %s: check subdirectory:", redactURL(p.Git), p.Subdirectory, short(sha))
			}
		}
		tree := r.tmp()
		if err := copyTree(root, tree, copyOptions{skip: func(_, rel string, dir bool) bool {
			return filepath.Base(rel) == ".git"
		}}); err != nil {
			return nil, &FetchError{What: "copy " + from, Err: err}
		}
		_ = os.RemoveAll(clone)
		return r.fromTree(tree, from, p.label(), p.At, sha)
	case SourceLocal:
		dir := r.localDir(p.Local)
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() {
			return nil, errorAt(p.At, "local package %q: no folder %s: local: is relative to the project's folder", p.Local, dir)
		}
		f, err := r.fromTree(dir, "local package "+p.Local, p.label(), p.At, "")
		if err != nil {
			return nil, err
		}
		f.tree = "" // copied at install, so that it is the folder's content then
		return f, nil
	}
	tree := r.tmp()
	if err := downloadTarball(r.ctx, r.hub, p.Tarball, tree); err != nil {
		return nil, err
	}
	f, err := r.fromTree(tree, "tarball "+p.Tarball, p.label(), p.At, "")
	if err != nil {
		return nil, err
	}
	if !nameRe.MatchString(p.Name) {
		return nil, errorAt(p.At, "tarball package name %q is not a dbt project name (letters, digits and underscores)", p.Name)
	}
	f.name = p.Name // dbt installs a tarball under the name packages.yml gives it
	return f, nil
}

// fromTree reads a package's name and own packages from its folder.
func (r *resolver) fromTree(dir, from, label string, at place, sha string) (*fetched, error) {
	name, err := packageName(dir, from, at)
	if err != nil {
		return nil, err
	}
	f := &fetched{name: name, sha: sha, tree: dir}
	specs, _, err := readSpecs(dir)
	if err != nil {
		if e, ok := err.(*Error); ok {
			e.File = label + ": " + e.File
			return nil, e
		}
		return nil, err
	}
	for _, s := range specs {
		s.At.File = label + ": " + s.At.File
		f.specs = append(f.specs, requirement{spec: s, from: s.At.String()})
	}
	return f, nil
}

// localDir is a local package's folder: relative to the root project, as dbt resolves it.
func (r *resolver) localDir(local string) string {
	if filepath.IsAbs(local) {
		return filepath.Clean(local)
	}
	return filepath.Join(r.proj.Dir, filepath.FromSlash(local))
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
