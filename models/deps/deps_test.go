package deps

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLocal installs local packages (a fixture by absolute path, a folder beside the
// project by a relative one), writes the lock, follows it, and removes a package that
// packages.yml no longer lists.
func TestLocal(t *testing.T) {
	t.Parallel()
	fx := fixtures(t)
	base := t.TempDir()
	writeFiles(t, base, map[string]string{
		"mine/dbt_project.yml":    "name: my_macros\nversion: '1.0.0'\n",
		"mine/macros/hello.sql":   "{% macro hello() %}hello{% endmacro %}\n",
		"mine/target/run.sql":     "select 'a build output, not the package'\n",
		"proj/dbt_project.yml":    "name: proj\n",
		"proj/packages.yml":       fmt.Sprintf("packages:\n  - local: %s\n  - local: ../mine\n", filepath.Join(fx, "dbt_utils")),
		"proj/dbt_packages/x.txt": "not a package: left alone\n",
	})
	dir := filepath.Join(base, "proj")
	res, progress, _ := mustInstall(t, dir, Options{})
	want := []Package{
		{Name: "dbt_utils", Source: SourceLocal, Package: filepath.Join(fx, "dbt_utils"), Path: "dbt_packages/dbt_utils"},
		{Name: "my_macros", Source: SourceLocal, Package: "../mine", Path: "dbt_packages/my_macros"},
	}
	if diff := cmp.Diff(want, res.Packages); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	if !res.Installed || !res.LockUpdated || res.LockFile != LockFile {
		t.Errorf("result = %+v", res)
	}
	for _, f := range []string{"dbt_utils/dbt_project.yml", "dbt_utils/macros/sql/star.sql", "my_macros/macros/hello.sql", "x.txt"} {
		if !exists(filepath.Join(dir, "dbt_packages", f)) {
			t.Errorf("dbt_packages/%s is missing", f)
		}
	}
	if exists(filepath.Join(dir, "dbt_packages", "my_macros", "target")) {
		t.Error("a local package's target/ was copied")
	}
	if got := strings.Join(progress, "\n"); !strings.Contains(got, "Installing ../mine\n  Installed from <local @ ../mine>") {
		t.Errorf("progress:\n%s", got)
	}
	lock := readFile(t, filepath.Join(dir, LockFile))
	wantLock := fmt.Sprintf("packages:\n  - local: %s\n    name: dbt_utils\n  - local: ../mine\n    name: my_macros\nsha1_hash: %s\n", filepath.Join(fx, "dbt_utils"), specHashOf(t, dir))
	if diff := cmp.Diff(wantLock, lock); diff != "" {
		t.Errorf("package-lock.yml (-want +got):\n%s", diff)
	}

	// the same packages.yml: the lock is followed, not written again
	res, _, _ = mustInstall(t, dir, Options{})
	if res.LockUpdated || len(res.Packages) != 2 {
		t.Errorf("second run: %+v", res)
	}

	// one package fewer: resolved again, and its folder removed
	writeFiles(t, dir, map[string]string{"packages.yml": "packages:\n  - local: ../mine\n"})
	res, _, _ = mustInstall(t, dir, Options{})
	if !res.LockUpdated || !cmp.Equal(res.Removed, []string{"dbt_utils"}) {
		t.Errorf("after dropping dbt_utils: %+v", res)
	}
	if exists(filepath.Join(dir, "dbt_packages", "dbt_utils")) || !exists(filepath.Join(dir, "dbt_packages", "x.txt")) {
		t.Error("dbt_utils should be gone and x.txt left alone")
	}
	if entries, _ := os.ReadDir(base); len(entries) != 2 {
		t.Errorf("staging folders left behind: %v", entries)
	}
}

func specHashOf(t *testing.T, dir string) string {
	t.Helper()
	specs, _, err := readSpecs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return specHash(specs)
}

// gitRepo is a bare repository with history: commit c1 tagged v1.0.0, c2 on main, c3 on
// branch dev; a second package lives in sub/.
type gitRepo struct {
	url, work  string
	c1, c2, c3 string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	root := t.TempDir()
	work := filepath.Join(root, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, work, "init", "--quiet", "-b", "main")
	writeFiles(t, work, map[string]string{
		"dbt_project.yml":       "name: git_pkg\n",
		"macros/which.sql":      "{% macro which() %}v1{% endmacro %}\n",
		"sub/dbt_project.yml":   "name: sub_pkg\n",
		"sub/macros/sub.sql":    "{% macro sub() %}sub v1{% endmacro %}\n",
		"integration_tests/x.y": "not part of sub\n",
	})
	git(t, work, "add", ".")
	git(t, work, "commit", "--quiet", "-m", "one")
	git(t, work, "tag", "v1.0.0")
	r := &gitRepo{work: work, c1: git(t, work, "rev-parse", "HEAD")}
	writeFiles(t, work, map[string]string{"macros/which.sql": "{% macro which() %}v2{% endmacro %}\n", "sub/macros/sub.sql": "sub v2\n"})
	git(t, work, "commit", "--quiet", "-am", "two")
	r.c2 = git(t, work, "rev-parse", "HEAD")
	git(t, work, "checkout", "--quiet", "-b", "dev")
	writeFiles(t, work, map[string]string{"macros/which.sql": "{% macro which() %}v3{% endmacro %}\n"})
	git(t, work, "commit", "--quiet", "-am", "three")
	r.c3 = git(t, work, "rev-parse", "HEAD")
	git(t, work, "checkout", "--quiet", "main")
	r.url = filepath.Join(root, "repo.git")
	git(t, root, "clone", "--quiet", "--bare", work, r.url)
	return r
}

// TestGit installs a git package from a local bare repository by tag, branch, commit
// (full and short) and default branch, and a package in a subdirectory, and records the
// commit in the lock.
func TestGit(t *testing.T) {
	t.Parallel()
	repo := newGitRepo(t)
	tests := []struct {
		name, entry   string
		pkg, file     string
		want, wantSHA string
		warns         bool
	}{
		{"tag", "revision: v1.0.0", "git_pkg", "macros/which.sql", "v1", repo.c1, false},
		{"branch main", "revision: main", "git_pkg", "macros/which.sql", "v2", repo.c2, true},
		{"branch dev", "revision: dev", "git_pkg", "macros/which.sql", "v3", repo.c3, false},
		{"sha", "revision: " + repo.c1, "git_pkg", "macros/which.sql", "v1", repo.c1, false},
		{"short sha", "revision: " + repo.c3[:10], "git_pkg", "macros/which.sql", "v3", repo.c3, false},
		{"default branch", "warn-unpinned: true", "git_pkg", "macros/which.sql", "v2", repo.c2, true},
		{"default branch, no warning", "warn-unpinned: false", "git_pkg", "macros/which.sql", "v2", repo.c2, false},
		{"subdirectory at a tag", "revision: v1.0.0\n    subdirectory: sub", "sub_pkg", "macros/sub.sql", "sub v1", repo.c1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newProject(t, map[string]string{"packages.yml": fmt.Sprintf("packages:\n  - git: %q\n    %s\n", repo.url, tt.entry)})
			res, _, warns := mustInstall(t, dir, Options{})
			if len(res.Packages) != 1 {
				t.Fatalf("packages = %+v", res.Packages)
			}
			p := res.Packages[0]
			if p.Name != tt.pkg || p.Source != SourceGit || p.Revision != tt.wantSHA || p.Path != "dbt_packages/"+tt.pkg {
				t.Errorf("package = %+v, want %s at %s", p, tt.pkg, tt.wantSHA)
			}
			if got := readFile(t, filepath.Join(dir, "dbt_packages", tt.pkg, tt.file)); !strings.Contains(got, tt.want) {
				t.Errorf("%s = %q, want %q", tt.file, got, tt.want)
			}
			if exists(filepath.Join(dir, "dbt_packages", tt.pkg, ".git")) {
				t.Error(".git was copied")
			}
			if tt.pkg == "sub_pkg" && exists(filepath.Join(dir, "dbt_packages", tt.pkg, "integration_tests")) {
				t.Error("a subdirectory install has the rest of the repository")
			}
			if got := len(warns) > 0; got != tt.warns {
				t.Errorf("warnings = %q, want some: %v", warns, tt.warns)
			}
			lock := readFile(t, filepath.Join(dir, LockFile))
			if !strings.Contains(lock, "    revision: "+tt.wantSHA+"\n") || !strings.Contains(lock, "  - git: "+repo.url+"\n") {
				t.Errorf("package-lock.yml does not pin %s:\n%s", tt.wantSHA, lock)
			}
		})
	}
}

// TestGitLockAndUpgrade follows the lock's commit after the branch moved on, and takes
// the new commit with Upgrade.
func TestGitLockAndUpgrade(t *testing.T) {
	t.Parallel()
	repo := newGitRepo(t)
	dir := newProject(t, map[string]string{"packages.yml": fmt.Sprintf("packages:\n  - git: %s\n    revision: main\n    warn-unpinned: false\n", repo.url)})
	res, _, _ := mustInstall(t, dir, Options{})
	if got := installed(res); !cmp.Equal(got, []string{"git_pkg=" + repo.c2}) {
		t.Fatalf("first install = %v", got)
	}
	writeFiles(t, repo.work, map[string]string{"macros/which.sql": "v4\n"})
	git(t, repo.work, "commit", "--quiet", "-am", "four")
	c4 := git(t, repo.work, "rev-parse", "HEAD")
	git(t, repo.work, "push", "--quiet", repo.url, "main")

	res, _, _ = mustInstall(t, dir, Options{})
	if got := installed(res); res.LockUpdated || !cmp.Equal(got, []string{"git_pkg=" + repo.c2}) {
		t.Errorf("with the lock = %v (lock updated: %v), want the locked %s", got, res.LockUpdated, repo.c2)
	}
	res, _, _ = mustInstall(t, dir, Options{Upgrade: true})
	if got := installed(res); !res.LockUpdated || !cmp.Equal(got, []string{"git_pkg=" + c4}) {
		t.Errorf("--upgrade = %v, want %s", got, c4)
	}
	if got := readFile(t, filepath.Join(dir, "dbt_packages", "git_pkg", "macros", "which.sql")); got != "v4\n" {
		t.Errorf("after --upgrade which.sql = %q", got)
	}
}

// TestGitErrors: a repository that is not there, a revision it does not have, a
// subdirectory without a package, and two revisions asked for one repository.
func TestGitErrors(t *testing.T) {
	t.Parallel()
	repo := newGitRepo(t)
	tests := []struct {
		name, packages string
		fetch          bool // a *FetchError (else an *Error)
		want           string
	}{
		{"no repository", fmt.Sprintf("packages:\n  - git: %s\n    revision: v1.0.0\n", filepath.Join(t.TempDir(), "nothing.git")), true,
			`^packages.yml:2:5: git clone .*nothing.git: .*(does not exist|not a git repository|does not appear)`},
		{"no such revision", fmt.Sprintf("packages:\n  - git: %s\n    revision: v9.9.9\n", repo.url), true,
			`^packages.yml:2:5: git checkout v9.9.9: .* has no branch, tag or commit "v9.9.9"`},
		{"subdirectory without dbt_project.yml", fmt.Sprintf("packages:\n  - git: %s\n    revision: v1.0.0\n    subdirectory: macros\n", repo.url), false,
			`^packages.yml:2:5: git package .* subdirectory macros has no dbt_project.yml at its root`},
		{"no such subdirectory", fmt.Sprintf("packages:\n  - git: %s\n    revision: v1.0.0\n    subdirectory: nope\n", repo.url), false,
			`^packages.yml:2:5: .*repo.git: the repository has no folder "nope"`},
		{"two revisions", fmt.Sprintf("packages:\n  - git: %s\n    revision: v1.0.0\n  - git: %s.git\n    revision: main\n", strings.TrimSuffix(repo.url, ".git"), strings.TrimSuffix(repo.url, ".git")), false,
			`more than one revision: "main" \(packages.yml:4:5\) and "v1.0.0" \(packages.yml:2:5\)`},
		{"subdirectory escapes", fmt.Sprintf("packages:\n  - git: %s\n    subdirectory: ../x\n", repo.url), false,
			`^packages.yml:3:19: subdirectory "../x" must be a folder inside the repository`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newProject(t, map[string]string{"packages.yml": tt.packages, "dbt_packages/keep/dbt_project.yml": "name: keep\n"})
			_, _, _, err := install(t, dir, Options{})
			checkErr(t, err, tt.fetch, tt.want)
			if !exists(filepath.Join(dir, "dbt_packages", "keep", "dbt_project.yml")) {
				t.Error("a failed install changed dbt_packages")
			}
		})
	}
}

func checkErr(t *testing.T, err error, fetch bool, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", want)
	}
	var fe *FetchError
	var de *Error
	switch {
	case fetch && !errors.As(err, &fe):
		t.Errorf("error %T %v, want a *FetchError", err, err)
	case !fetch && !errors.As(err, &de):
		t.Errorf("error %T %v, want an *Error", err, err)
	}
	if !regexp.MustCompile(want).MatchString(err.Error()) {
		t.Errorf("error:\n%v\nwant it to match %s", err, want)
	}
}

// TestMixed installs hub, git and local packages together, names each source in the
// lock, and follows that lock.
func TestMixed(t *testing.T) {
	t.Parallel()
	h := hubFixture(t)
	repo := newGitRepo(t)
	fx := fixtures(t)
	dir := newProject(t, map[string]string{"packages.yml": fmt.Sprintf("packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.1.1\n  - git: %s\n    revision: v1.0.0\n  - local: %s\n", repo.url, filepath.Join(fx, "audit_helper"))})
	res, _, _ := mustInstall(t, dir, Options{HubURL: h.srv.URL})
	want := fmt.Sprintf("packages:\n  - name: dbt_utils\n    package: dbt-labs/dbt_utils\n    version: 1.1.1\n  - git: %s\n    name: git_pkg\n    revision: %s\n  - local: %s\n    name: audit_helper\nsha1_hash: %s\n",
		repo.url, repo.c1, filepath.Join(fx, "audit_helper"), specHashOf(t, dir))
	if diff := cmp.Diff(want, readFile(t, filepath.Join(dir, LockFile))); diff != "" {
		t.Errorf("package-lock.yml (-want +got):\n%s", diff)
	}
	res2, _, _ := mustInstall(t, dir, Options{HubURL: h.srv.URL})
	if res2.LockUpdated || !cmp.Equal(res.Packages, res2.Packages) {
		t.Errorf("following the lock gave %+v, want %+v", res2.Packages, res.Packages)
	}
}

// TestSpecErrors: problems in packages.yml, each placed at its file, line and column.
func TestSpecErrors(t *testing.T) {
	t.Parallel()
	fx := fixtures(t)
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"bad YAML", map[string]string{"packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n   version: 1.0.0\n"},
			`^packages.yml:3:4: bad YAML: did not find expected '-' indicator \(check this line's indentation`},
		{"bad YAML in a flow list", map[string]string{"packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n    version: [\">=1.0.0\", \"<2.0.0\"\n"},
			`^packages.yml:3:\d+: bad YAML: did not find expected ',' or ']'`},
		{"unknown top key", map[string]string{"packages.yml": "pakages:\n  - local: x\n"},
			`^packages.yml:1:1: unknown key "pakages" \(did you mean "packages"\?\): packages.yml holds "packages"`},
		{"unknown key", map[string]string{"packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n    versoin: 1.0.0\n"},
			`^packages.yml:3:5: unknown key "versoin" in a hub package \(did you mean "version"\?\); it takes "package", "version", "install-prerelease"`},
		{"two kinds", map[string]string{"packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n    git: https://example.com/x.git\n"},
			`^packages.yml:3:5: an entry is one package: it has both package: and git:`},
		{"no version", map[string]string{"packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n"},
			`^packages.yml:2:5: package dbt-labs/dbt_utils has no version`},
		{"no namespace", map[string]string{"packages.yml": "packages:\n  - package: dbt_utils\n    version: 1.0.0\n"},
			`^packages.yml:2:5: package "dbt_utils": hub packages are named with their namespace, like dbt-labs/dbt_utils`},
		{"bad version", map[string]string{"packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n    version: \">=1.0.0, <2.0.0\"\n"},
			`^packages.yml:3:14: package dbt-labs/dbt_utils: version ">=1.0.0, <2.0.0" is not a semantic version: give a range as a list: version: \[">=1.0.0", "<2.0.0"\]`},
		{"two-part version", map[string]string{"packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.0\n"},
			`version "1.0" is not a semantic version: a version has three numbers: "1.0.0"`},
		{"not a bool", map[string]string{"packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.0.0\n    install-prerelease: yes please\n"},
			`^packages.yml:4:25: install-prerelease: must be true or false`},
		{"private", map[string]string{"packages.yml": "packages:\n  - private: dbt-labs/secret\n"},
			`^packages.yml:2:5: private: packages go through dbt Cloud`},
		{"not a list", map[string]string{"packages.yml": "packages: dbt-labs/dbt_utils\n"},
			`^packages.yml:1:11: packages: must be a list`},
		{"both files", map[string]string{"packages.yml": "packages:\n  - local: a\n", "dependencies.yml": "packages:\n  - local: b\n"},
			`dependencies.yml: packages.yml and dependencies.yml both list packages`},
		{"unset env var", map[string]string{"packages.yml": "packages:\n  - git: \"https://{{ env_var('STRATA_TEST_UNSET_TOKEN') }}@example.com/x.git\"\n"},
			`^packages.yml:2:10: env var STRATA_TEST_UNSET_TOKEN is not set`},
		{"other Jinja", map[string]string{"packages.yml": "packages:\n  - local: \"{{ var('x') }}\"\n"},
			`packages.yml renders only \{\{ env_var\('NAME'\) \}\}`},
		{"local folder missing", map[string]string{"packages.yml": "packages:\n  - local: ../nowhere\n"},
			`^packages.yml:2:5: local package "../nowhere": no folder .*nowhere: local: is relative to the project's folder`},
		{"local without dbt_project.yml", map[string]string{"packages.yml": "packages:\n  - local: pkg\n", "pkg/macros/a.sql": "select 1\n"},
			`^packages.yml:2:5: local package pkg has no dbt_project.yml at its root: a dbt package is a dbt project`},
		{"two packages of one name", map[string]string{"packages.yml": "packages:\n  - local: a\n  - local: b\n", "a/dbt_project.yml": "name: same\n", "b/dbt_project.yml": "name: same\n"},
			`^packages.yml:3:5: two packages are both named "same": a \(packages.yml:2:5\) and b \(packages.yml:3:5\); keep one of them`},
		{"the project's own name", map[string]string{"packages.yml": "packages:\n  - local: " + filepath.Join(fx, "dbt_utils") + "\n", "dbt_project.yml": "name: dbt_utils\n"},
			`is named "dbt_utils", as the project is: package names must be unique`},
		{"no project", map[string]string{"dbt_project.yml": "", "packages.yml": "packages:\n  - local: x\n"}, ``},
		{"a bad name", map[string]string{"packages.yml": "packages:\n  - local: a\n", "a/dbt_project.yml": "name: ../../etc\n"},
			`its dbt_project.yml names it "../../etc", which is not a dbt project name`},
		{"install path holds the project", map[string]string{"dbt_project.yml": "name: p\npackages-install-path: .\n", "packages.yml": "packages:\n  - local: x\n"},
			`^dbt_project.yml: packages-install-path "." is the project's own folder`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.name == "no project" {
				dir := t.TempDir()
				_, _, _, err := install(t, dir, Options{})
				checkErr(t, err, false, `has no dbt_project.yml or strata.yml: run strata deps in the project's folder`)
				return
			}
			dir := newProject(t, tt.files)
			_, _, _, err := install(t, dir, Options{HubURL: "http://127.0.0.1:1/"})
			checkErr(t, err, false, tt.want)
			if exists(filepath.Join(dir, "dbt_packages")) {
				t.Error("dbt_packages was created")
			}
		})
	}
}

// TestSpecForms: dependencies.yml's packages:, env_var() with a default, the lock
// keeping the unrendered URL (no token in it), a strata.yml project with its own
// packages-install-path, and no packages at all.
func TestSpecForms(t *testing.T) {
	t.Parallel()
	repo := newGitRepo(t)
	t.Run("dependencies.yml and env_var", func(t *testing.T) {
		t.Parallel()
		gitURL := fmt.Sprintf("{{ env_var('STRATA_TEST_UNSET_REPO', '%s') }}", repo.url)
		dir := newProject(t, map[string]string{
			"dependencies.yml": fmt.Sprintf("projects:\n  - name: upstream\npackages:\n  - git: \"%s\"\n    revision: v1.0.0\n", gitURL),
		})
		res, _, _ := mustInstall(t, dir, Options{})
		if got := installed(res); !cmp.Equal(got, []string{"git_pkg=" + repo.c1}) {
			t.Errorf("installed %v", got)
		}
		if lock := readFile(t, filepath.Join(dir, LockFile)); !strings.Contains(lock, "  - git: "+yamlScalar(gitURL)+"\n") {
			t.Errorf("the lock does not keep the URL as written:\n%s", lock)
		}
		res, _, _ = mustInstall(t, dir, Options{})
		if res.LockUpdated || len(res.Packages) != 1 {
			t.Errorf("following the lock: %+v", res)
		}
	})
	t.Run("a git repository by a path relative to the project", func(t *testing.T) {
		t.Parallel()
		dir := newProject(t, map[string]string{})
		rel, err := filepath.Rel(dir, repo.url)
		if err != nil {
			t.Fatal(err)
		}
		writeFiles(t, dir, map[string]string{"packages.yml": fmt.Sprintf("packages:\n  - git: %s\n    revision: v1.0.0\n", rel)})
		res, _, _ := mustInstall(t, dir, Options{})
		if got := installed(res); !cmp.Equal(got, []string{"git_pkg=" + repo.c1}) {
			t.Errorf("installed %v", got)
		}
	})
	t.Run("strata.yml and packages-install-path", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{
			"strata.yml":            "name: s\npackages-install-path: vendor/pkgs\n",
			"packages.yml":          "packages:\n  - local: lib\n",
			"lib/dbt_project.yml":   "name: lib\n",
			"lib/macros/m.sql":      "{% macro m() %}1{% endmacro %}\n",
			"lib/.git/HEAD":         "ref: refs/heads/main\n",
			"lib/dbt_packages/x/a":  "the package's own installed packages\n",
			"lib/nested/target/t.x": "a nested target/ is the package's own\n",
		})
		res, _, _ := mustInstall(t, dir, Options{})
		if len(res.Packages) != 1 || res.Packages[0].Path != "vendor/pkgs/lib" || res.InstallPath != "vendor/pkgs" {
			t.Fatalf("result %+v", res)
		}
		for f, want := range map[string]bool{"macros/m.sql": true, ".git": false, "dbt_packages": false, "nested/target/t.x": true} {
			if got := exists(filepath.Join(dir, "vendor", "pkgs", "lib", f)); got != want {
				t.Errorf("vendor/pkgs/lib/%s exists: %v, want %v", f, got, want)
			}
		}
	})
	t.Run("no packages", func(t *testing.T) {
		t.Parallel()
		dir := newProject(t, map[string]string{"packages.yml": "packages: []\n"})
		res, progress, _ := mustInstall(t, dir, Options{})
		if len(res.Packages) != 0 || res.Installed || exists(filepath.Join(dir, LockFile)) {
			t.Errorf("result %+v", res)
		}
		if !cmp.Equal(progress, []string{"No packages found in packages.yml"}) {
			t.Errorf("progress %q", progress)
		}
	})
}

// TestLockErrors: a lock that pins no single release is refused with what to do.
func TestLockErrors(t *testing.T) {
	t.Parallel()
	dir := newProject(t, map[string]string{"packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.0.0\n"})
	writeFiles(t, dir, map[string]string{LockFile: "packages:\n  - package: dbt-labs/dbt_utils\n    version: '>=1.0.0'\nsha1_hash: " + specHashOf(t, dir) + "\n"})
	_, _, _, err := install(t, dir, Options{HubURL: "http://127.0.0.1:1/"})
	checkErr(t, err, false, `^package-lock.yml:2:5: package dbt-labs/dbt_utils: the lock pins no single release \(version ">=1.0.0"\); run strata deps --upgrade`)

	// --upgrade writes the lock anew: the broken one is not read
	writeFiles(t, dir, map[string]string{"packages.yml": "packages:\n  - local: pkg\n", "pkg/dbt_project.yml": "name: pkg\n", LockFile: "packages: [\n"})
	res, _, _ := mustInstall(t, dir, Options{Upgrade: true})
	if !res.LockUpdated || !cmp.Equal(installed(res), []string{"pkg="}) {
		t.Errorf("--upgrade over a broken lock: %+v", res)
	}
}
