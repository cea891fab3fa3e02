package deps

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"go.yaml.in/yaml/v3"
)

// LockFile is dbt's lock file name, in the project's folder.
const LockFile = "package-lock.yml"

// pinned is one package resolved to exactly one thing to install: a hub release, a git
// commit, a local folder or a tarball URL. It is one entry of package-lock.yml.
type pinned struct {
	Kind string

	Package string // hub: org/name
	Version string // hub: the release, as the hub spells it
	Latest  string // hub: the newest installable release, for "update available"

	Git          string // git: the URL, env_var() rendered
	Revision     string // git: the commit
	Requested    string // git: the revision packages.yml asked for ("" for HEAD)
	Subdirectory string

	Local string // local: as written; resolved against the project

	Tarball string

	Name string // the package's project name: its folder in dbt_packages/

	// Written is the git URL, local path or tarball URL as packages.yml writes it, with
	// env_var() unrendered: what the lock records, so that a token never lands in it.
	Written string

	At place // where it was asked for (packages.yml, a package's packages.yml, the lock)
}

// key is the package's identity among requirements: dbt's name for it.
func (p pinned) key() string {
	switch p.Kind {
	case SourceHub:
		return p.Package
	case SourceGit:
		return gitKey(p.Git, p.Subdirectory)
	case SourceLocal:
		return "local:" + p.Local
	}
	return "tarball:" + p.Tarball
}

// label is how progress lines name the package: org/name@1.1.1, URL@revision, the path.
func (p pinned) label() string {
	switch p.Kind {
	case SourceHub:
		return p.Package + "@" + p.Version
	case SourceGit:
		rev := p.Requested
		if rev == "" {
			rev = p.Revision
		}
		s := redactURL(p.Git) + "@" + rev
		if p.Subdirectory != "" {
			s += " (" + p.Subdirectory + ")"
		}
		return s
	case SourceLocal:
		return p.Local
	}
	return p.Tarball
}

// gitKey is a git package's identity: its URL with or without .git, and its folder.
func gitKey(u, sub string) string {
	k := strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git")
	if sub != "" {
		k += "/" + strings.Trim(sub, "/")
	}
	return "git:" + k
}

// lock is package-lock.yml: every package to install, and the hash of the packages.yml
// it was resolved from.
type lock struct {
	Packages []pinned
	Hash     string
}

// readLock reads package-lock.yml; nil when there is none.
func readLock(dir string) (*lock, error) {
	data, err := os.ReadFile(filepath.Join(dir, LockFile))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	root, perr := parseYAML(LockFile, data)
	if perr != nil {
		return nil, perr
	}
	l := &lock{Hash: scalarAt(root, "sha1_hash")}
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "packages" {
			list = root.Content[i+1]
		}
	}
	if list == nil || list.Kind != yaml.SequenceNode {
		return l, nil
	}
	for _, n := range list.Content {
		at := place{File: LockFile, Line: n.Line, Col: n.Column}
		if n.Kind != yaml.MappingNode {
			return nil, errorAt(at, "a lock entry is a mapping; delete %s and run strata deps to write it again", LockFile)
		}
		p := pinned{At: at, Name: scalarAt(n, "name")}
		switch {
		case scalarAt(n, "package") != "":
			p.Kind, p.Package = SourceHub, scalarAt(n, "package")
			p.Version = scalarAt(n, "version")
			if p.Version == "" {
				if v := lockListVersion(n); v != "" {
					p.Version = v
				}
			}
			if _, ok := parseVersion(p.Version); !ok {
				return nil, errorAt(at, "package %s: the lock pins no single release (version %q); run strata deps --upgrade", p.Package, p.Version)
			}
		case scalarAt(n, "git") != "":
			p.Kind, p.Written = SourceGit, scalarAt(n, "git")
			p.Revision, p.Subdirectory = scalarAt(n, "revision"), scalarAt(n, "subdirectory")
			p.Requested = p.Revision
		case scalarAt(n, "local") != "":
			p.Kind, p.Written = SourceLocal, scalarAt(n, "local")
		case scalarAt(n, "tarball") != "":
			p.Kind, p.Written = SourceTarball, scalarAt(n, "tarball")
		default:
			return nil, errorAt(at, "a lock entry needs package:, git:, local: or tarball:; delete %s and run strata deps to write it again", LockFile)
		}
		if p.Kind != SourceHub {
			v, perr := renderEnv(p.Written, at)
			if perr != nil {
				return nil, perr
			}
			p.Git, p.Local, p.Tarball = v, v, v
			switch p.Kind {
			case SourceGit:
				p.Local, p.Tarball = "", ""
			case SourceLocal:
				p.Git, p.Tarball = "", ""
			default:
				p.Git, p.Local = "", ""
			}
		}
		l.Packages = append(l.Packages, p)
	}
	return l, nil
}

// lockListVersion reads a version written as a one-element list (dbt 1.7.0 wrote some so).
func lockListVersion(n *yaml.Node) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if v := n.Content[i+1]; n.Content[i].Value == "version" && v.Kind == yaml.SequenceNode && len(v.Content) == 1 {
			return v.Content[0].Value
		}
	}
	return ""
}

// writeLock writes package-lock.yml in dbt's shape: keys sorted, list items indented.
func writeLock(dir string, l *lock) error {
	var b strings.Builder
	b.WriteString("packages:\n")
	for _, p := range l.Packages {
		kv := map[string]string{"name": p.Name}
		switch p.Kind {
		case SourceHub:
			kv["package"], kv["version"] = p.Package, p.Version
		case SourceGit:
			kv["git"], kv["revision"] = p.Written, p.Revision
			if p.Subdirectory != "" {
				kv["subdirectory"] = p.Subdirectory
			}
		case SourceLocal:
			kv["local"] = p.Written
		case SourceTarball:
			kv["tarball"] = p.Written
		}
		for i, k := range slices.Sorted(maps.Keys(kv)) {
			lead := "    "
			if i == 0 {
				lead = "  - "
			}
			fmt.Fprintf(&b, "%s%s: %s\n", lead, k, yamlScalar(kv[k]))
		}
	}
	fmt.Fprintf(&b, "sha1_hash: %s\n", l.Hash)
	path := filepath.Join(dir, LockFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// yamlScalar writes a string so that YAML reads it back as that string ("1.0" quoted).
func yamlScalar(s string) string {
	out, err := yaml.Marshal(s)
	if err != nil {
		return strconv.Quote(s)
	}
	return strings.TrimSuffix(string(out), "\n")
}

// specHash is package-lock.yml's sha1_hash: as dbt computes it, the SHA-1 of every
// packages.yml entry as JSON with sorted keys (Python's json.dumps(..., sort_keys=True)),
// the lines sorted and joined by newlines. A lock whose hash differs from packages.yml's
// was resolved from another packages.yml, and is resolved again.
func specHash(specs []spec) string {
	lines := make([]string, len(specs))
	for i, s := range specs {
		lines[i] = pyJSON(s.raw)
	}
	slices.Sort(lines)
	sum := sha1.Sum([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:])
}

// pyJSON encodes like Python's json.dumps with sort_keys=True: ", " and ": " between
// items, non-ASCII as \u escapes.
func pyJSON(v any) string {
	var b strings.Builder
	writePyJSON(&b, v)
	return b.String()
}

func writePyJSON(b *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int:
		b.WriteString(strconv.Itoa(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(v, 10))
	case float64:
		switch {
		case math.IsInf(v, 1):
			b.WriteString("Infinity")
		case math.IsInf(v, -1):
			b.WriteString("-Infinity")
		case math.IsNaN(v):
			b.WriteString("NaN")
		case v == math.Trunc(v) && math.Abs(v) < 1e16:
			b.WriteString(strconv.FormatFloat(v, 'f', 1, 64))
		default:
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		}
	case string:
		b.WriteByte('"')
		for _, r := range v {
			switch {
			case r == '"':
				b.WriteString(`\"`)
			case r == '\\':
				b.WriteString(`\\`)
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\r':
				b.WriteString(`\r`)
			case r == '\t':
				b.WriteString(`\t`)
			case r == '\b':
				b.WriteString(`\b`)
			case r == '\f':
				b.WriteString(`\f`)
			case r < 0x20 || (r > 0x7f && r <= 0xffff):
				fmt.Fprintf(b, `\u%04x`, r)
			case r > 0xffff:
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte('"')
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyJSON(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(v)) {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyJSON(b, k)
			b.WriteString(": ")
			writePyJSON(b, v[k])
		}
		b.WriteByte('}')
	default:
		writePyJSON(b, fmt.Sprint(v))
	}
}
