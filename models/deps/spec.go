package deps

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Source kinds, as --json and the lock name them.
const (
	SourceHub     = "hub"
	SourceGit     = "git"
	SourceLocal   = "local"
	SourceTarball = "tarball"
)

// spec is one entry of packages.yml: what is asked for, and where.
type spec struct {
	Kind string

	Package    string   // hub: org/name
	Versions   []string // hub: requirements as written ("1.1.1", ">=1.0.0")
	Prerelease bool     // hub: install-prerelease

	Git          string // git: URL, env_var() rendered
	Revision     string // git: branch, tag or commit; "" for the default branch
	Subdirectory string // git: the package's folder in the repository
	WarnUnpinned bool   // git: warn when not pinned to a tag or commit (default true)

	Local string // local: folder, relative to the root project

	Tarball string // tarball: URL
	Name    string // tarball: the package's name

	At  place
	raw map[string]any // the entry as written (env_var() unrendered), for the lock's hash
}

// kindKeys are the keys each kind of entry takes, the first naming the kind.
var kindKeys = map[string][]string{
	SourceHub:     {"package", "version", "install-prerelease"},
	SourceGit:     {"git", "revision", "warn-unpinned", "subdirectory"},
	SourceLocal:   {"local"},
	SourceTarball: {"tarball", "name"},
}

// readSpecs reads the packages the project asks for: packages.yml, or the packages: key
// of dependencies.yml (dbt refuses both at once). file is the one read; "" when the
// project asks for none.
func readSpecs(dir string) ([]spec, string, error) {
	var found []string
	var specs []spec
	for _, name := range []string{"packages.yml", "dependencies.yml"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		top := []string{"packages"}
		if name == "dependencies.yml" {
			top = []string{"packages", "projects"} // projects: dbt Mesh's, not packages
		}
		root, perr := parseYAML(name, data)
		if perr != nil {
			return nil, "", perr
		}
		s, perr := specsOf(name, root, top)
		if perr != nil {
			return nil, "", perr
		}
		if len(s) > 0 {
			found = append(found, name)
			specs = s
		}
	}
	if len(found) > 1 {
		return nil, "", &Error{File: "dependencies.yml", Msg: "packages.yml and dependencies.yml both list packages: keep them in one of the two files"}
	}
	if len(found) == 0 {
		return nil, "", nil
	}
	return specs, found[0], nil
}

// specsOf reads the packages: list of a parsed file.
func specsOf(file string, root *yaml.Node, top []string) ([]spec, *Error) {
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if !slices.Contains(top, k.Value) {
			return nil, &Error{File: file, Line: k.Line, Col: k.Column, Msg: fmt.Sprintf("unknown key %q%s: %s holds %s", k.Value, didYouMean(k.Value, top), file, strings.Join(quoted(top), " and "))}
		}
		if k.Value == "packages" {
			list = v
		}
	}
	if list == nil || (list.Kind == yaml.ScalarNode && list.Tag == "!!null") {
		return nil, nil
	}
	return specList(file, list, false)
}

// specList reads a list of package entries; lenient skips keys it does not know (a hub
// release's packages, which the hub may describe with more than packages.yml takes).
func specList(file string, list *yaml.Node, lenient bool) ([]spec, *Error) {
	if list.Kind != yaml.SequenceNode {
		return nil, &Error{File: file, Line: list.Line, Col: list.Column, Msg: "packages: must be a list of packages, each `- package: org/name`, `- git: URL` or `- local: path`"}
	}
	var out []spec
	for _, item := range list.Content {
		s, err := specOf(file, item, lenient)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// specOf reads one entry of packages:.
func specOf(file string, n *yaml.Node, lenient bool) (spec, *Error) {
	at := place{File: file, Line: n.Line, Col: n.Column}
	if n.Kind != yaml.MappingNode {
		return spec{}, errorAt(at, "a package entry is a mapping: `- package: org/name` with `version:`, `- git: URL`, or `- local: path`")
	}
	s := spec{At: at, WarnUnpinned: true, raw: map[string]any{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		for kind, keys := range kindKeys {
			if k.Value == keys[0] {
				if s.Kind != "" {
					return spec{}, &Error{File: file, Line: k.Line, Col: k.Column, Msg: fmt.Sprintf("an entry is one package: it has both %s: and %s:; split it into two entries", kindKeys[s.Kind][0], k.Value)}
				}
				s.Kind = kind
			}
		}
		if k.Value == "private" {
			return spec{}, &Error{File: file, Line: k.Line, Col: k.Column, Msg: "private: packages go through dbt Cloud's git integration, which strata does not have: use `git:` with the repository's URL (and env_var() for a token)"}
		}
	}
	if s.Kind == "" {
		return spec{}, errorAt(at, "a package entry needs one of package: (the dbt hub), git: or local: (or tarball:)")
	}
	allowed := kindKeys[s.Kind]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		kat := place{File: file, Line: k.Line, Col: k.Column}
		vat := place{File: file, Line: v.Line, Col: v.Column}
		if !slices.Contains(allowed, k.Value) {
			if lenient {
				continue
			}
			return spec{}, errorAt(kat, "unknown key %q in a %s package%s; it takes %s", k.Value, s.Kind, didYouMean(k.Value, allowed), strings.Join(quoted(allowed), ", "))
		}
		s.raw[k.Value] = nodeValue(v)
		var err *Error
		switch k.Value {
		case "package":
			s.Package, err = stringOf(v, vat, k.Value)
		case "version":
			s.Versions, err = versionsOf(v, vat)
		case "install-prerelease":
			s.Prerelease, err = boolOf(v, vat, k.Value)
		case "git":
			s.Git, err = stringOf(v, vat, k.Value)
		case "revision":
			s.Revision, err = stringOf(v, vat, k.Value)
		case "warn-unpinned":
			s.WarnUnpinned, err = boolOf(v, vat, k.Value)
		case "subdirectory":
			s.Subdirectory, err = stringOf(v, vat, k.Value)
		case "local":
			s.Local, err = stringOf(v, vat, k.Value)
		case "tarball":
			s.Tarball, err = stringOf(v, vat, k.Value)
		case "name":
			s.Name, err = stringOf(v, vat, k.Value)
		}
		if err != nil {
			return spec{}, err
		}
	}
	switch s.Kind {
	case SourceHub:
		if !strings.Contains(s.Package, "/") {
			return spec{}, errorAt(at, "package %q: hub packages are named with their namespace, like dbt-labs/dbt_utils", s.Package)
		}
		if len(s.Versions) == 0 {
			return spec{}, errorAt(at, "package %s has no version: a hub package needs `version:` (a release like \"1.1.1\", or a range like [\">=1.0.0\", \"<2.0.0\"])", s.Package)
		}
		for _, v := range s.Versions {
			if _, err := parseSpecifier(v); err != nil {
				return spec{}, errorAt(valueAt(n, "version", at), "package %s: version %v", s.Package, err)
			}
		}
	case SourceGit:
		if s.Git == "" {
			return spec{}, errorAt(at, "git: needs the repository's URL")
		}
		if strings.HasPrefix(s.Git, "-") {
			return spec{}, errorAt(valueAt(n, "git", at), "git URL %q starts with '-': give the repository's URL", s.Git)
		}
		if s.Subdirectory != "" && !relativeInside(s.Subdirectory) {
			return spec{}, errorAt(valueAt(n, "subdirectory", at), "subdirectory %q must be a folder inside the repository, without ..", s.Subdirectory)
		}
	case SourceLocal:
		if s.Local == "" {
			return spec{}, errorAt(at, "local: needs the package's folder, relative to the project")
		}
	case SourceTarball:
		if s.Tarball == "" || s.Name == "" {
			return spec{}, errorAt(at, "a tarball package needs `tarball:` (its URL) and `name:` (the package's name)")
		}
	}
	return s, nil
}

// valueAt is where a key's value is written in a mapping.
func valueAt(m *yaml.Node, key string, def place) place {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return place{File: def.File, Line: m.Content[i+1].Line, Col: m.Content[i+1].Column}
		}
	}
	return def
}

// relativeInside reports whether a slash path stays inside its root.
func relativeInside(p string) bool {
	p = strings.ReplaceAll(p, `\`, "/")
	if strings.HasPrefix(p, "/") {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return false
		}
	}
	return true
}

func stringOf(v *yaml.Node, at place, key string) (string, *Error) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || v.Tag == "!!bool" {
		return "", errorAt(at, "%s: must be a string", key)
	}
	return renderEnv(v.Value, at)
}

func boolOf(v *yaml.Node, at place, key string) (bool, *Error) {
	var b bool
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" || v.Decode(&b) != nil {
		return false, errorAt(at, "%s: must be true or false", key)
	}
	return b, nil
}

// versionsOf reads version: a requirement, or a list of them.
func versionsOf(v *yaml.Node, at place) ([]string, *Error) {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	var out []string
	for _, it := range items {
		iat := place{File: at.File, Line: it.Line, Col: it.Column}
		if it.Kind != yaml.ScalarNode || it.Tag == "!!null" || it.Tag == "!!bool" {
			return nil, errorAt(iat, "version: must be a version string like \"1.1.1\", or a list of them like [\">=1.0.0\", \"<2.0.0\"]")
		}
		s, err := renderEnv(it.Value, iat)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

var (
	envVarRe = regexp.MustCompile(`\{\{\s*env_var\(\s*(?:'([^']*)'|"([^"]*)")\s*(?:,\s*(?:'([^']*)'|"([^"]*)")\s*)?\)\s*\}\}`)
	jinjaRe  = regexp.MustCompile(`\{\{|\{%|\{#`)
)

// renderEnv renders the one piece of Jinja packages.yml uses: {{ env_var('NAME') }} and
// {{ env_var('NAME', 'default') }}, e.g. a git token kept out of the file.
func renderEnv(s string, at place) (string, *Error) {
	if !jinjaRe.MatchString(s) {
		return s, nil
	}
	var missing string
	out := envVarRe.ReplaceAllStringFunc(s, func(m string) string {
		g := envVarRe.FindStringSubmatch(m)
		name := g[1] + g[2]
		if v, ok := os.LookupEnv(name); ok {
			return v
		}
		if g[3] != "" || g[4] != "" || strings.Contains(m, ",") {
			return g[3] + g[4]
		}
		if missing == "" {
			missing = name
		}
		return ""
	})
	if missing != "" {
		return "", errorAt(at, "env var %s is not set: set it, or give env_var() a default: {{ env_var('%s', '...') }}", missing, missing)
	}
	if jinjaRe.MatchString(out) {
		return "", errorAt(at, "%q: packages.yml renders only {{ env_var('NAME') }}; write the value out", s)
	}
	return out, nil
}
