package deps

import (
	"slices"
	"testing"
)

// TestSpecifiers reads requirements as dbt's semver.py does.
func TestSpecifiers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"1.1.1", "1.1.1", true},
		{"=1.1.1", "1.1.1", true},
		{">=1.0.0", ">=1.0.0", true},
		{"<=1.0.0", "<=1.0.0", true},
		{">1.0.0", ">1.0.0", true},
		{"<2.0.0", "<2.0.0", true},
		{"1.2.0-rc1", "1.2.0-rc1", true},
		{"1.2.0rc1", "1.2.0-rc1", true}, // dbt's dash is optional
		{"1.2.0-rc.1+build.5", "1.2.0-rc.1+build.5", true},
		{"1.0", "", false},
		{"v1.0.0", "", false},
		{"01.0.0", "", false},
		{">= 1.0.0", "", false},
		{"~1.0.0", "", false},
		{"1.0.0,<2.0.0", "", false},
	}
	for _, tt := range tests {
		s, err := parseSpecifier(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("parseSpecifier(%q) error = %v, want ok %v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && s.String() != tt.want {
			t.Errorf("parseSpecifier(%q) = %s, want %s", tt.in, s, tt.want)
		}
	}
}

// TestVersionOrder sorts by semver precedence.
func TestVersionOrder(t *testing.T) {
	t.Parallel()
	in := []string{"1.0.0", "2.0.0", "1.0.0-rc.1", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.11", "1.0.0-beta.2", "1.0.0-beta", "0.9.10", "0.9.9", "1.0.0-alpha.beta"}
	want := []string{"0.9.9", "0.9.10", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "2.0.0"}
	var got []string
	for _, v := range installable(in, true) {
		got = append(got, v.raw)
	}
	if !slices.Equal(got, want) {
		t.Errorf("order = %v\nwant    %v", got, want)
	}
}

// TestRanges reduces requirements and picks the highest release, as dbt does.
func TestRanges(t *testing.T) {
	t.Parallel()
	available := []string{"0.9.0", "1.0.0", "1.1.1", "1.2.0-rc1", "2.0.0-rc1", "2.0.0", "not-semver"}
	tests := []struct {
		specs      []string
		prerelease bool
		want       string // "" when none; "conflict" when the range is empty
	}{
		{[]string{">=1.0.0", "<2.0.0"}, false, "1.1.1"},
		{[]string{">=1.0.0", "<2.0.0"}, true, "1.2.0-rc1"}, // not 2.0.0-rc1: <2.0.0 keeps out its prereleases
		{[]string{"<=2.0.0"}, true, "2.0.0"},
		{[]string{"<2.0.0"}, true, "1.2.0-rc1"},
		{[]string{">1.1.1"}, false, "2.0.0"},
		{[]string{">=1.0.0", ">=1.1.0", "<3.0.0"}, false, "2.0.0"},
		{[]string{"1.0.0", ">=0.5.0"}, false, "1.0.0"},
		{[]string{"1.0.0", "<=1.0.0"}, false, "1.0.0"},
		{[]string{"1.0.0", "<1.0.0"}, false, "conflict"},
		{[]string{"1.0.0", "1.1.1"}, false, "conflict"},
		{[]string{">=2.0.0", "<2.0.0"}, false, "conflict"},
		{[]string{">2.0.0", "<=2.0.0"}, false, "conflict"},
		{[]string{">=3.0.0"}, false, ""},
		{[]string{">=1.0.0-rc1", "<1.0.0"}, true, ""},
	}
	for _, tt := range tests {
		var specs []specifier
		for _, s := range tt.specs {
			sp, err := parseSpecifier(s)
			if err != nil {
				t.Fatal(err)
			}
			specs = append(specs, sp)
		}
		r, ok := rangeOf(specs)
		got := "conflict"
		if ok {
			got = ""
			if v, found := highest(r, installable(available, tt.prerelease)); found {
				got = v.raw
			}
		}
		if got != tt.want {
			t.Errorf("%v (prerelease %v) = %q, want %q", tt.specs, tt.prerelease, got, tt.want)
		}
	}
}

// TestSpecHash is dbt's sha1_hash: JSON lines with sorted keys, sorted and joined.
func TestSpecHash(t *testing.T) {
	t.Parallel()
	got := pyJSON(map[string]any{"version": []any{">=1.0.0", "<2.0.0"}, "package": "dbt-labs/dbt_utils", "install-prerelease": true, "n": 1.0, "é": "ü"})
	want := `{"install-prerelease": true, "n": 1.0, "package": "dbt-labs/dbt_utils", "version": [">=1.0.0", "<2.0.0"], "\u00e9": "\u00fc"}`
	if got != want {
		t.Errorf("pyJSON = %s\nwant     %s", got, want)
	}
	a := []spec{{raw: map[string]any{"local": "a"}}, {raw: map[string]any{"local": "b"}}}
	b := []spec{a[1], a[0]}
	if specHash(a) != specHash(b) {
		t.Error("the hash depends on the order of packages.yml's entries; dbt sorts them")
	}
}
