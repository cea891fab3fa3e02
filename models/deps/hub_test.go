package deps

import (
	"archive/tar"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Hub packages, against an httptest hub serving tarballs built from the fixtures.

// hubFixture is a hub with the fixture packages under several versions: dbt_utils
// 1.0.0, 1.1.1, 1.2.0-rc1, 2.0.0-rc1 and 2.0.0; dbt_date 0.10.0, which needs
// dbt_utils [">=1.0.0", "<2.0.0"] (in the hub's JSON and its own packages.yml);
// audit_helper 0.12.0; and packages whose tarballs are bad.
func hubFixture(t *testing.T) *testHub {
	t.Helper()
	fx := fixtures(t)
	h := newTestHub(t)
	for _, v := range []string{"1.0.0", "1.1.1", "1.2.0-rc1", "2.0.0-rc1", "2.0.0"} {
		h.add("dbt-labs/dbt_utils", v, release{name: "dbt_utils",
			tarball: folderTarball(t, filepath.Join(fx, "dbt_utils"), "dbt-labs-dbt-utils-"+v, map[string]string{"release.txt": v})})
	}
	datePackages := "packages:\n  - package: dbt-labs/dbt_utils\n    version: [\">=1.0.0\", \"<2.0.0\"]\n"
	h.add("godatadriven/dbt_date", "0.10.0", release{name: "dbt_date",
		packages: []map[string]any{{"package": "dbt-labs/dbt_utils", "version": []string{">=1.0.0", "<2.0.0"}, "unrendered": map[string]any{}}}, // a key packages.yml does not take: ignored in the hub's JSON
		tarball:  folderTarball(t, filepath.Join(fx, "dbt_date"), "dbt-date-0.10.0", map[string]string{"packages.yml": datePackages, "release.txt": "0.10.0"})})
	h.add("dbt-labs/audit_helper", "0.12.0", release{name: "audit_helper",
		tarball: folderTarball(t, filepath.Join(fx, "audit_helper"), "dbt-audit-helper-0.12.0", map[string]string{"release.txt": "0.12.0"})})
	h.add("evil/escape", "1.0.0", release{name: "escape", tarball: tarGz(t, []testEntry{
		{name: "escape-1.0.0/", typ: tar.TypeDir},
		{name: "escape-1.0.0/dbt_project.yml", body: "name: escape\n", typ: tar.TypeReg},
		{name: "escape-1.0.0/../../escaped.sql", body: "select 'outside'\n", typ: tar.TypeReg},
	})})
	h.add("evil/symlink", "1.0.0", release{name: "symlink", tarball: tarGz(t, []testEntry{
		{name: "symlink-1.0.0/", typ: tar.TypeDir},
		{name: "symlink-1.0.0/dbt_project.yml", body: "name: symlink\n", typ: tar.TypeReg},
		{name: "symlink-1.0.0/passwd", link: "../../../../../../etc/passwd", typ: tar.TypeSymlink},
	})})
	h.add("evil/chained", "1.0.0", release{name: "chained", tarball: tarGz(t, []testEntry{
		{name: "chained-1.0.0/", typ: tar.TypeDir},
		{name: "chained-1.0.0/dbt_project.yml", body: "name: chained\n", typ: tar.TypeReg},
		{name: "chained-1.0.0/a/", typ: tar.TypeDir},
		{name: "chained-1.0.0/a/up", link: "..", typ: tar.TypeSymlink},
		{name: "chained-1.0.0/a/up/x.sql", body: "written through a link\n", typ: tar.TypeReg},
	})})
	h.add("evil/notgzip", "1.0.0", release{name: "notgzip", tarball: []byte("<html>not found</html>")})
	h.add("evil/noproject", "1.0.0", release{name: "noproject", tarball: tarGz(t, []testEntry{
		{name: "noproject-1.0.0/macros/a.sql", body: "select 1\n", typ: tar.TypeReg},
	})})
	return h
}

// TestHubVersions resolves version ranges on the hub with dbt's rules: the highest
// release in range, prereleases only when asked for, and never a prerelease of an
// exclusive upper bound.
func TestHubVersions(t *testing.T) {
	t.Parallel()
	h := hubFixture(t)
	tests := []struct {
		name, entry string
		want        string
	}{
		{"exact", `version: "1.1.1"`, "1.1.1"},
		{"range", `version: [">=1.0.0", "<2.0.0"]`, "1.1.1"},
		{"open range", `version: ">=1.0.0"`, "2.0.0"},
		{"upper bound only", `version: "<=1.1.1"`, "1.1.1"},
		{"exclusive lower bound", `version: [">1.0.0", "<1.2.0"]`, "1.1.1"},
		{"prerelease asked for", "version: [\">=1.0.0\", \"<2.0.0\"]\n    install-prerelease: true", "1.2.0-rc1"},
		{"prerelease named", `version: "1.2.0-rc1"`, "1.2.0-rc1"},
		{"prerelease named, dbt's dashless spelling", `version: "2.0.0rc1"`, "2.0.0-rc1"},
		{"range naming a prerelease", `version: [">=1.2.0-rc1", "<2.0.0"]`, "1.2.0-rc1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newProject(t, map[string]string{"packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n    " + tt.entry + "\n"})
			res, _, _ := mustInstall(t, dir, Options{HubURL: h.srv.URL})
			if got := installed(res); !cmp.Equal(got, []string{"dbt_utils=" + tt.want}) {
				t.Errorf("installed %v, want dbt_utils=%s", got, tt.want)
			}
			if got := readFile(t, filepath.Join(dir, "dbt_packages", "dbt_utils", "release.txt")); got != tt.want {
				t.Errorf("the installed files are release %s, want %s", got, tt.want)
			}
			if !exists(filepath.Join(dir, "dbt_packages", "dbt_utils", "macros", "sql", "star.sql")) {
				t.Error("the tarball's top folder was not stripped")
			}
			if got := readFile(t, filepath.Join(dir, LockFile)); !strings.Contains(got, "  - name: dbt_utils\n    package: dbt-labs/dbt_utils\n    version: "+tt.want+"\n") {
				t.Errorf("package-lock.yml:\n%s", got)
			}
		})
	}
}

// TestHubTransitive installs a package's own packages, with the version ranges on one
// package from two places intersected, and says which requirements conflict.
func TestHubTransitive(t *testing.T) {
	t.Parallel()
	h := hubFixture(t)
	dir := newProject(t, map[string]string{"packages.yml": "packages:\n  - package: godatadriven/dbt_date\n    version: 0.10.0\n  - package: dbt-labs/dbt_utils\n    version: \">=1.0.0\"\n"})
	res, progress, _ := mustInstall(t, dir, Options{HubURL: h.srv.URL})
	if got, want := installed(res), []string{"dbt_date=0.10.0", "dbt_utils=1.1.1"}; !cmp.Equal(got, want) {
		t.Errorf("installed %v, want %v (>=1.0.0 and dbt_date's <2.0.0)", got, want)
	}
	want := "Installing dbt-labs/dbt_utils@1.1.1\n  Installed from version 1.1.1\n  Updated version available: 2.0.0"
	if got := strings.Join(progress, "\n"); !strings.Contains(got, want) {
		t.Errorf("progress:\n%s\nwant it to contain:\n%s", got, want)
	}

	t.Run("transitive only", func(t *testing.T) {
		dir := newProject(t, map[string]string{"packages.yml": "packages:\n  - package: godatadriven/dbt_date\n    version: 0.10.0\n"})
		res, _, _ := mustInstall(t, dir, Options{HubURL: h.srv.URL})
		if got, want := installed(res), []string{"dbt_date=0.10.0", "dbt_utils=1.1.1"}; !cmp.Equal(got, want) {
			t.Errorf("installed %v, want %v", got, want)
		}
		if got := readFile(t, filepath.Join(dir, LockFile)); !strings.Contains(got, "package: dbt-labs/dbt_utils\n    version: 1.1.1\n") {
			t.Errorf("the lock lacks the transitive package:\n%s", got)
		}
	})
	t.Run("conflict", func(t *testing.T) {
		dir := newProject(t, map[string]string{"packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n    version: \"2.0.0\"\n  - package: godatadriven/dbt_date\n    version: 0.10.0\n"})
		_, _, _, err := install(t, dir, Options{HubURL: h.srv.URL})
		checkErr(t, err, false, `^packages.yml:2:5: package dbt-labs/dbt_utils: no version can satisfy both 2.0.0 \(packages.yml:2:5\) and >=1.0.0, <2.0.0 \(godatadriven/dbt_date@0.10.0's packages\)`)
		if exists(filepath.Join(dir, LockFile)) || exists(filepath.Join(dir, "dbt_packages")) {
			t.Error("a failed resolution wrote the lock or dbt_packages")
		}
	})
}

// TestHubLock writes the lock, follows it when packages.yml is unchanged (even after the
// hub gained a release), resolves again with Upgrade or a changed packages.yml, and with
// LockOnly writes the lock and installs nothing.
func TestHubLock(t *testing.T) {
	t.Parallel()
	h := hubFixture(t)
	fx := fixtures(t)
	dir := newProject(t, map[string]string{"packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n    version: [\">=1.0.0\", \"<3.0.0\"]\n  - package: dbt-labs/audit_helper\n    version: 0.12.0\n"})
	res, _, _ := mustInstall(t, dir, Options{HubURL: h.srv.URL})
	if got := installed(res); !cmp.Equal(got, []string{"dbt_utils=2.0.0", "audit_helper=0.12.0"}) {
		t.Fatalf("installed %v", got)
	}
	wantLock := fmt.Sprintf("packages:\n  - name: dbt_utils\n    package: dbt-labs/dbt_utils\n    version: 2.0.0\n  - name: audit_helper\n    package: dbt-labs/audit_helper\n    version: 0.12.0\nsha1_hash: %s\n", specHashOf(t, dir))
	if diff := cmp.Diff(wantLock, readFile(t, filepath.Join(dir, LockFile))); diff != "" {
		t.Errorf("package-lock.yml (-want +got):\n%s", diff)
	}
	indexHits := h.hit("/api/v1/index.json")

	h.add("dbt-labs/dbt_utils", "2.1.0", release{name: "dbt_utils", tarball: folderTarball(t, filepath.Join(fx, "dbt_utils"), "dbt-utils-2.1.0", map[string]string{"release.txt": "2.1.0"})})
	res, progress, _ := mustInstall(t, dir, Options{HubURL: h.srv.URL})
	if got := installed(res); res.LockUpdated || !cmp.Equal(got, []string{"dbt_utils=2.0.0", "audit_helper=0.12.0"}) {
		t.Errorf("with the lock: %v (lock updated: %v), want the locked 2.0.0", got, res.LockUpdated)
	}
	if h.hit("/api/v1/index.json") != indexHits {
		t.Error("following the lock resolved packages.yml again (it read index.json)")
	}
	if got := strings.Join(progress, "\n"); !strings.Contains(got, "Updated version available: 2.1.0") {
		t.Errorf("progress does not say 2.1.0 is out:\n%s", got)
	}

	res, _, _ = mustInstall(t, dir, Options{HubURL: h.srv.URL, Upgrade: true})
	if got := installed(res); !res.LockUpdated || !cmp.Equal(got, []string{"dbt_utils=2.1.0", "audit_helper=0.12.0"}) {
		t.Errorf("--upgrade: %v", got)
	}
	if got := readFile(t, filepath.Join(dir, "dbt_packages", "dbt_utils", "release.txt")); got != "2.1.0" {
		t.Errorf("after --upgrade the files are release %s", got)
	}

	// packages.yml changed: the lock's hash no longer matches, so it is resolved again
	writeFiles(t, dir, map[string]string{"packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n    version: \"1.0.0\"\n"})
	res, _, _ = mustInstall(t, dir, Options{HubURL: h.srv.URL})
	if got := installed(res); !res.LockUpdated || !cmp.Equal(got, []string{"dbt_utils=1.0.0"}) || !cmp.Equal(res.Removed, []string{"audit_helper"}) {
		t.Errorf("after editing packages.yml: %v, removed %v", got, res.Removed)
	}

	t.Run("lock only", func(t *testing.T) {
		dir := newProject(t, map[string]string{"packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n    version: \"1.1.1\"\n"})
		res, _, _ := mustInstall(t, dir, Options{HubURL: h.srv.URL, LockOnly: true})
		if res.Installed || !res.LockUpdated || !cmp.Equal(installed(res), []string{"dbt_utils=1.1.1"}) {
			t.Errorf("--lock: %+v", res)
		}
		if exists(filepath.Join(dir, "dbt_packages")) {
			t.Error("--lock installed packages")
		}
		if !strings.Contains(readFile(t, filepath.Join(dir, LockFile)), "version: 1.1.1") {
			t.Error("--lock wrote no lock")
		}
		res, _, _ = mustInstall(t, dir, Options{HubURL: h.srv.URL})
		if res.LockUpdated || !cmp.Equal(installed(res), []string{"dbt_utils=1.1.1"}) {
			t.Errorf("install after --lock: %+v", res)
		}
	})
}

// TestHubBadTarballs refuses tarballs that would write or link outside the package, or
// are not tarballs, and leaves the packages installed before as they were.
func TestHubBadTarballs(t *testing.T) {
	t.Parallel()
	h := hubFixture(t)
	tests := []struct {
		pkg, want string
	}{
		{"evil/escape", `^packages.yml:4:5: GET .*/tarballs/evil/escape/1.0.0.tar.gz: not a package: tarball entry "escape-1.0.0/../../escaped.sql" escapes the package folder`},
		{"evil/symlink", `not a package: tarball entry "symlink-1.0.0/passwd" links to "../../../../../../etc/passwd", outside the package`},
		{"evil/chained", `not a package: tarball entry "chained-1.0.0/a/up/x.sql": it is written through a symlink`},
		{"evil/notgzip", `GET .*notgzip/1.0.0.tar.gz: not a package: not a gzip-compressed tar file`},
		{"evil/noproject", `^packages.yml:4:5: the tarball of evil/noproject@1.0.0 has no dbt_project.yml at its root`},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			dir := filepath.Join(root, "a", "b", "proj")
			writeFiles(t, dir, map[string]string{"dbt_project.yml": "name: proj\n", "packages.yml": "packages:\n  - package: dbt-labs/audit_helper\n    version: 0.12.0\n"})
			mustInstall(t, dir, Options{HubURL: h.srv.URL})
			before := readFile(t, filepath.Join(dir, "dbt_packages", "audit_helper", "release.txt"))

			writeFiles(t, dir, map[string]string{"packages.yml": "packages:\n  - package: dbt-labs/audit_helper\n    version: 0.12.0\n  - package: " + tt.pkg + "\n    version: 1.0.0\n"})
			_, _, _, err := install(t, dir, Options{HubURL: h.srv.URL})
			if err == nil {
				t.Fatal("a bad tarball was installed")
			}
			if !regexp.MustCompile(tt.want).MatchString(err.Error()) {
				t.Errorf("error:\n%v\nwant it to match %s", err, tt.want)
			}
			if got := readFile(t, filepath.Join(dir, "dbt_packages", "audit_helper", "release.txt")); got != before {
				t.Errorf("the installed package changed: %q", got)
			}
			for _, p := range []string{filepath.Join(root, "a", "escaped.sql"), filepath.Join(root, "a", "b", "escaped.sql"), filepath.Join(dir, "escaped.sql")} {
				if exists(p) {
					t.Errorf("%s was written outside the package", p)
				}
			}
			if entries, _ := os.ReadDir(filepath.Join(dir, "dbt_packages")); len(entries) != 1 {
				t.Errorf("dbt_packages holds %v, want audit_helper alone", entries)
			}
		})
	}
}

// TestHubErrors: a package the hub does not have, a version no release satisfies, and a
// hub that does not answer.
func TestHubErrors(t *testing.T) {
	t.Parallel()
	h := hubFixture(t)
	dead := newTestHub(t)
	dead.srv.Close()
	tests := []struct {
		name, packages, hub string
		fetch               bool
		want                string
	}{
		{"not on the hub", "packages:\n  - package: dbt-labs/dbt_utilz\n    version: 1.0.0\n", h.srv.URL, false,
			`^packages.yml:2:5: package dbt-labs/dbt_utilz is not on the package hub \(http://127.0.0.1:\d+/\) \(did you mean "dbt-labs/dbt_utils"\?\)`},
		{"no release in range", "packages:\n  - package: dbt-labs/dbt_utils\n    version: \">=3.0.0\"\n", h.srv.URL, false,
			`^packages.yml:2:5: package dbt-labs/dbt_utils: no release satisfies >=3.0.0; the hub has 1.0.0, 1.1.1, 2.0.0: change version:`},
		{"only a prerelease in range", "packages:\n  - package: dbt-labs/dbt_utils\n    version: [\">1.1.1\", \"<2.0.0\"]\n", h.srv.URL, false,
			`no release satisfies >1.1.1, <2.0.0; the hub has 1.0.0, 1.1.1, 2.0.0 \(and the prerelease 1.2.0-rc1, installed only with install-prerelease: true\)`},
		{"empty range", "packages:\n  - package: dbt-labs/dbt_utils\n    version: [\">=2.0.0\", \"<1.0.0\"]\n", h.srv.URL, false,
			`^packages.yml:2:5: package dbt-labs/dbt_utils: no version can satisfy >=2.0.0, <1.0.0: the range is empty`},
		{"hub unreachable", "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.0.0\n", dead.srv.URL, true,
			`^packages.yml:2:5: GET http://127.0.0.1:\d+/api/v1/index.json: .*connect.*; the package hub at http://127.0.0.1:\d+/ did not answer: check the network, or set DBT_PACKAGE_HUB_URL to a hub that answers`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newProject(t, map[string]string{"packages.yml": tt.packages})
			_, _, _, err := install(t, dir, Options{HubURL: tt.hub})
			checkErr(t, err, tt.fetch, tt.want)
		})
	}
}

// TestHubEnv reads the hub's URL from DBT_PACKAGE_HUB_URL, as dbt does.
func TestHubEnv(t *testing.T) {
	h := hubFixture(t)
	t.Setenv(HubEnv, h.srv.URL)
	dir := newProject(t, map[string]string{"packages.yml": "packages:\n  - package: dbt-labs/audit_helper\n    version: 0.12.0\n"})
	res, _, _ := mustInstall(t, dir, Options{})
	if got := installed(res); !cmp.Equal(got, []string{"audit_helper=0.12.0"}) {
		t.Errorf("installed %v", got)
	}
}
