package deps

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stratadata/strata/internal/testproj"
)

// fixtures is the shared dbt package fixtures' folder, read in place (never copied into
// the repository); the test skips when this machine has none.
func fixtures(t *testing.T) string {
	t.Helper()
	return testproj.NeedDBTPackages(t)
}

// newProject writes a project's files under a new temporary folder and returns its path.
func newProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if _, ok := files["dbt_project.yml"]; !ok {
		files["dbt_project.yml"] = "name: root_project\n"
	}
	writeFiles(t, dir, files)
	return dir
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// install runs Install and collects its progress lines and warnings.
func install(t *testing.T, dir string, opts Options) (*Result, []string, []string, error) {
	t.Helper()
	var progress, warns []string
	var mu sync.Mutex
	opts.Progress = func(s string) { mu.Lock(); progress = append(progress, s); mu.Unlock() }
	opts.Warn = func(s string) { mu.Lock(); warns = append(warns, s); mu.Unlock() }
	res, err := Install(context.Background(), dir, opts)
	return res, progress, warns, err
}

func mustInstall(t *testing.T, dir string, opts Options) (*Result, []string, []string) {
	t.Helper()
	res, progress, warns, err := install(t, dir, opts)
	if err != nil {
		t.Fatalf("Install: %v", err)
	}
	return res, progress, warns
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// versions of a result, as name=version-or-revision.
func installed(res *Result) []string {
	var out []string
	for _, p := range res.Packages {
		v := p.Version
		if p.Source == SourceGit {
			v = p.Revision
		}
		out = append(out, p.Name+"="+v)
	}
	return out
}

// git runs the git command for a test, with an identity and no user configuration.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+home, "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=strata", "GIT_AUTHOR_EMAIL=strata@example.com", "GIT_COMMITTER_NAME=strata", "GIT_COMMITTER_EMAIL=strata@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// testEntry is one entry of a test tarball.
type testEntry struct {
	name, body, link string
	typ              byte
}

// tarGz builds a .tar.gz from entries.
func tarGz(t *testing.T, entries []testEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: e.typ, Linkname: e.link}
		switch e.typ {
		case tar.TypeXGlobalHeader:
			hdr = &tar.Header{Typeflag: e.typ, PAXRecords: map[string]string{"comment": "0123456789abcdef"}}
		case tar.TypeDir:
			hdr.Mode = 0o755
		case tar.TypeReg:
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// folderTarball is a package folder as GitHub serves its tarball: a pax global header,
// then every file under one top folder; extra files are added (or replace the folder's).
func folderTarball(t *testing.T, src, top string, extra map[string]string) []byte {
	t.Helper()
	entries := []testEntry{{name: "pax_global_header", typ: tar.TypeXGlobalHeader}, {name: top + "/", typ: tar.TypeDir}}
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if rel == "." {
			return nil
		}
		name := top + "/" + filepath.ToSlash(rel)
		if d.IsDir() {
			entries = append(entries, testEntry{name: name + "/", typ: tar.TypeDir})
			return nil
		}
		if _, replaced := extra[filepath.ToSlash(rel)]; replaced {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		entries = append(entries, testEntry{name: name, body: string(data), typ: tar.TypeReg})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range slices.Sorted(maps.Keys(extra)) {
		entries = append(entries, testEntry{name: top + "/" + rel, body: extra[rel], typ: tar.TypeReg})
	}
	return tarGz(t, entries)
}

// testHub is a dbt package hub over real HTTP: index.json, each package's JSON with its
// versions, and the tarballs.
type testHub struct {
	srv  *httptest.Server
	mu   sync.Mutex
	pkgs map[string]map[string]release // org/name → version → release
	hits map[string]int                // by path
}

// release is one version of a hub package.
type release struct {
	name     string           // the package's project name
	packages []map[string]any // its own packages, as the hub lists them
	tarball  []byte
	raw      string // a download URL other than the hub's own, when set
}

func newTestHub(t *testing.T) *testHub {
	h := &testHub{pkgs: map[string]map[string]release{}, hits: map[string]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *testHub) add(pkg, version string, r release) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pkgs[pkg] == nil {
		h.pkgs[pkg] = map[string]release{}
	}
	h.pkgs[pkg][version] = r
}

func (h *testHub) hit(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[path]
}

func (h *testHub) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hits[r.URL.Path]++
	path := r.URL.Path
	switch {
	case path == "/api/v1/index.json":
		idx := slices.Sorted(maps.Keys(h.pkgs))
		_ = json.NewEncoder(w).Encode(idx)
	case strings.HasPrefix(path, "/api/v1/") && strings.HasSuffix(path, ".json"):
		pkg := strings.TrimSuffix(strings.TrimPrefix(path, "/api/v1/"), ".json")
		versions, ok := h.pkgs[pkg]
		if !ok {
			http.NotFound(w, r)
			return
		}
		org, name, _ := strings.Cut(pkg, "/")
		out := map[string]any{"name": name, "namespace": org, "redirectname": nil, "redirectnamespace": nil}
		vs := map[string]any{}
		for v, rel := range versions {
			pk := rel.packages
			if pk == nil {
				pk = []map[string]any{}
			}
			url := h.srv.URL + "/tarballs/" + pkg + "/" + v + ".tar.gz"
			if rel.raw != "" {
				url = rel.raw
			}
			vs[v] = map[string]any{"name": rel.name, "packages": pk, "downloads": map[string]any{"tarball": url}, "require_dbt_version": []string{">=1.3.0"}}
		}
		out["versions"] = vs
		_ = json.NewEncoder(w).Encode(out)
	case strings.HasPrefix(path, "/tarballs/"):
		rest := strings.TrimSuffix(strings.TrimPrefix(path, "/tarballs/"), ".tar.gz")
		i := strings.LastIndex(rest, "/")
		rel, ok := h.pkgs[rest[:i]][rest[i+1:]]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(rel.tarball)
	default:
		http.NotFound(w, r)
	}
}
