package deps

import (
	"testing"
)

// FuzzSpecs: any packages.yml gives packages or a placed error, never a panic.
func FuzzSpecs(f *testing.F) {
	for _, s := range []string{
		"packages:\n  - package: dbt-labs/dbt_utils\n    version: [\">=1.0.0\", \"<2.0.0\"]\n",
		"packages:\n  - git: https://example.com/x.git\n    revision: v1\n    subdirectory: sub\n",
		"packages:\n  - local: ../x\n",
		"packages:\n  - local: x\n   revison: 1\n",
		"packages: [{tarball: 'https://x/y.tgz', name: y}]\n",
		"packages:\n  - git: \"{{ env_var('X', 'y') }}\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := parseYAML("packages.yml", data)
		if err != nil {
			if err.File != "packages.yml" {
				t.Fatalf("error without its file: %v", err)
			}
			return
		}
		if _, err := specsOf("packages.yml", root, []string{"packages"}); err != nil && err.File != "packages.yml" {
			t.Fatalf("error without its file: %v", err)
		}
	})
}

// FuzzSpecifier: any version string parses or is refused, and a parsed one prints back
// to a string that parses to the same requirement.
func FuzzSpecifier(f *testing.F) {
	for _, s := range []string{"1.1.1", ">=1.0.0", "<2.0.0-rc.1", "1.2.0rc1", "1.0.0+build", "=0.0.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := parseSpecifier(s)
		if err != nil {
			return
		}
		again, err := parseSpecifier(sp.String())
		if err != nil {
			t.Fatalf("%q prints as %q, which does not parse: %v", s, sp, err)
		}
		if again.Op != sp.Op || compareVersions(again.V, sp.V) != 0 || again.V.Build != sp.V.Build {
			t.Fatalf("%q → %q → %q", s, sp, again)
		}
	})
}
