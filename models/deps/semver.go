package deps

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// version is a semantic version as dbt's semver.py reads it: major.minor.patch, a
// prerelease (the dash before it optional: 1.2.0rc1 is 1.2.0-rc1) and build metadata.
type version struct {
	Major, Minor, Patch uint64
	Pre                 string // "" for a release
	Build               string
	raw                 string // as written, without its matcher
}

// specifier is one version requirement: a matcher (=, >, >=, <, <=) and a version.
type specifier struct {
	Op string // "=" when none is written
	V  version
}

// dbt's _VERSION_REGEX: an optional matcher, three numbers without leading zeros, an
// optional prerelease (dash optional) and build.
var versionRe = regexp.MustCompile(`^(>=|>|<=|<|=)?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-?((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9A-Za-z-]*(?:\.[0-9A-Za-z-]*)*))?$`)

// parseSpecifier reads a requirement like ">=1.0.0" or "1.1.1"; the error says how to
// write one.
func parseSpecifier(s string) (specifier, error) {
	m := versionRe.FindStringSubmatch(s)
	if m == nil {
		hint := `write a version like "1.1.1", or a range with one of = > >= < <=, like ">=1.0.0"`
		switch {
		case strings.Contains(s, ","):
			hint = fmt.Sprintf("give a range as a list: version: [%s]", quoteList(strings.Split(s, ",")))
		case strings.ContainsAny(strings.TrimLeft(s, "<>= "), " ") || strings.ContainsAny(s, " "):
			hint = fmt.Sprintf("write it without spaces: %q", strings.ReplaceAll(s, " ", ""))
		case strings.Count(s, ".") == 1:
			hint = fmt.Sprintf("a version has three numbers: %q", s+".0")
		}
		return specifier{}, fmt.Errorf("%q is not a semantic version: %s", s, hint)
	}
	v := version{Pre: m[5], Build: m[6], raw: strings.TrimLeft(s, "<>=")}
	v.Major, _ = strconv.ParseUint(m[2], 10, 64)
	v.Minor, _ = strconv.ParseUint(m[3], 10, 64)
	v.Patch, _ = strconv.ParseUint(m[4], 10, 64)
	op := m[1]
	if op == "" {
		op = "="
	}
	return specifier{Op: op, V: v}, nil
}

// parseVersion reads a release's version (no matcher).
func parseVersion(s string) (version, bool) {
	sp, err := parseSpecifier(s)
	if err != nil || sp.Op != "=" || strings.HasPrefix(s, "=") {
		return version{}, false
	}
	return sp.V, true
}

func quoteList(parts []string) string {
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = strconv.Quote(strings.TrimSpace(p))
	}
	return strings.Join(q, ", ")
}

func (v version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Pre != "" {
		s += "-" + v.Pre
	}
	if v.Build != "" {
		s += "+" + v.Build
	}
	return s
}

func (s specifier) String() string {
	if s.Op == "=" {
		return s.V.String()
	}
	return s.Op + s.V.String()
}

// compareVersions orders versions by semver precedence: numbers, then a release after
// its prereleases, prereleases by their dot-separated identifiers; build metadata does
// not count.
func compareVersions(a, b version) int {
	if c := cmp.Compare(a.Major, b.Major); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Minor, b.Minor); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Patch, b.Patch); c != 0 {
		return c
	}
	switch {
	case a.Pre == b.Pre:
		return 0
	case a.Pre == "":
		return 1
	case b.Pre == "":
		return -1
	}
	as, bs := strings.Split(a.Pre, "."), strings.Split(b.Pre, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		an, aerr := strconv.ParseUint(as[i], 10, 64)
		bn, berr := strconv.ParseUint(bs[i], 10, 64)
		switch {
		case aerr == nil && berr == nil:
			if c := cmp.Compare(an, bn); c != 0 {
				return c
			}
		case aerr == nil: // numeric identifiers sort before alphanumeric ones
			return -1
		case berr == nil:
			return 1
		default:
			if c := strings.Compare(as[i], bs[i]); c != 0 {
				return c
			}
		}
	}
	return cmp.Compare(len(as), len(bs))
}

// bound is one end of a version range; set is false for an open end.
type bound struct {
	set       bool
	V         version
	inclusive bool
}

// versionRange is what a set of specifiers allows: dbt's VersionRange.
type versionRange struct {
	lo, hi bound
}

func (s specifier) toRange() versionRange {
	b := bound{set: true, V: s.V}
	switch s.Op {
	case ">=":
		b.inclusive = true
		return versionRange{lo: b}
	case ">":
		return versionRange{lo: b}
	case "<=":
		b.inclusive = true
		return versionRange{hi: b}
	case "<":
		return versionRange{hi: b}
	}
	b.inclusive = true
	return versionRange{lo: b, hi: b}
}

// intersect narrows r by o; ok is false when nothing is left (dbt's
// VersionsNotCompatibleException).
func (r versionRange) intersect(o versionRange) (versionRange, bool) {
	out := r
	if o.lo.set {
		if !out.lo.set {
			out.lo = o.lo
		} else if c := compareVersions(o.lo.V, out.lo.V); c > 0 || (c == 0 && !o.lo.inclusive) {
			out.lo = o.lo
		}
	}
	if o.hi.set {
		if !out.hi.set {
			out.hi = o.hi
		} else if c := compareVersions(o.hi.V, out.hi.V); c < 0 || (c == 0 && !o.hi.inclusive) {
			out.hi = o.hi
		}
	}
	if out.lo.set && out.hi.set {
		c := compareVersions(out.lo.V, out.hi.V)
		if c > 0 || (c == 0 && !(out.lo.inclusive && out.hi.inclusive)) {
			return out, false
		}
	}
	return out, true
}

// allows reports whether a release is in the range. As in dbt, an exclusive upper bound
// that is a release keeps out that release's own prereleases: <2.0.0 does not allow
// 2.0.0-rc1.
func (r versionRange) allows(v version) bool {
	if r.lo.set {
		if c := compareVersions(v, r.lo.V); c < 0 || (c == 0 && !r.lo.inclusive) {
			return false
		}
	}
	if r.hi.set {
		if c := compareVersions(v, r.hi.V); c > 0 || (c == 0 && !r.hi.inclusive) {
			return false
		}
		if !r.hi.inclusive && r.hi.V.Pre == "" && v.Pre != "" &&
			v.Major == r.hi.V.Major && v.Minor == r.hi.V.Minor && v.Patch == r.hi.V.Patch {
			return false
		}
	}
	return true
}

func (r versionRange) String() string {
	var parts []string
	if r.lo.set {
		op := ">"
		if r.lo.inclusive {
			op = ">="
		}
		if r.hi.set && r.hi.inclusive && r.lo.inclusive && compareVersions(r.lo.V, r.hi.V) == 0 {
			return "=" + r.lo.V.String()
		}
		parts = append(parts, op+r.lo.V.String())
	}
	if r.hi.set {
		op := "<"
		if r.hi.inclusive {
			op = "<="
		}
		parts = append(parts, op+r.hi.V.String())
	}
	if len(parts) == 0 {
		return "any version"
	}
	return strings.Join(parts, ", ")
}

// rangeOf reduces specifiers to one range (dbt's reduce_versions).
func rangeOf(specs []specifier) (versionRange, bool) {
	var r versionRange
	for _, s := range specs {
		var ok bool
		if r, ok = r.intersect(s.toRange()); !ok {
			return r, false
		}
	}
	return r, true
}

// installable is the releases dbt would consider, oldest first: prereleases only when
// asked for (install-prerelease, or a requirement naming a prerelease). Versions that
// are not semver are left out.
func installable(available []string, prerelease bool) []version {
	var out []version
	for _, s := range available {
		v, ok := parseVersion(s)
		if !ok || (v.Pre != "" && !prerelease) {
			continue
		}
		v.raw = s
		out = append(out, v)
	}
	slices.SortStableFunc(out, compareVersions)
	return out
}

// highest is the newest release the range allows (dbt's resolve_to_specific_version).
func highest(r versionRange, releases []version) (version, bool) {
	for i := len(releases) - 1; i >= 0; i-- {
		if r.allows(releases[i]) {
			return releases[i], true
		}
	}
	return version{}, false
}
