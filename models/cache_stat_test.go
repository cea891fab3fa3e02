//go:build linux

package models

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratadata/strata/internal/testproj"
)

// TestCacheTrustedStat: with stats trusted (nothing changed recently), a change that
// keeps a file's size and modification time is still seen (its change time moved), a
// new file in a subfolder is seen (the folder's times moved), and a file touched but
// not changed leaves the cache good.
func TestCacheTrustedStat(t *testing.T) {
	defer func(w time.Duration) { racyWindow = w }(racyWindow)
	racyWindow = 0
	dir := testproj.Write(t, map[string]string{
		"models/sub/a.sql": "select 1 as one",
		"models/b.sql":     "select * from {{ ref('a') }}",
	})
	time.Sleep(50 * time.Millisecond) // past a tick of the file clock
	opts := Options{Env: func(string) (string, bool) { return "", false }, Cache: t.TempDir()}
	load := func() *Project {
		t.Helper()
		p, err := Load(dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	load()
	if !load().Cached() {
		t.Fatal("an unchanged project was not taken from the cache")
	}
	a := filepath.Join(dir, "models", "sub", "a.sql")
	st, err := os.Stat(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a, []byte("select 2 as one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(a, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	p := load()
	if p.Cached() || !strings.Contains(p.Models["a"].raw, "2 as one") {
		t.Fatalf("a change with the same size and mtime was missed: cached %v, a is %q", p.Cached(), p.Models["a"].raw)
	}
	time.Sleep(50 * time.Millisecond)
	load() // a fresh cache, its stats trusted
	if err := os.WriteFile(filepath.Join(dir, "models", "sub", "c.sql"), []byte("select 3 as three"), 0o644); err != nil {
		t.Fatal(err)
	}
	if p := load(); p.Cached() || p.Models["c"] == nil {
		t.Fatalf("a new file in a subfolder was missed: cached %v", p.Cached())
	}
	time.Sleep(50 * time.Millisecond)
	load()
	now := time.Now()
	if err := os.Chtimes(a, now, now); err != nil {
		t.Fatal(err)
	}
	if !load().Cached() {
		t.Error("a touched but unchanged file threw the cache away: its contents decide")
	}
}

// TestReadStat: readStat reads what os.ReadFile reads, with the stat os.Stat gives, for
// files of every size around its buffer's, and fails as os.ReadFile does.
func TestReadStat(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 511, 4096, 4097, 1 << 20} {
		path := filepath.Join(dir, "f")
		want := []byte(strings.Repeat("x", size))
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		got, st, err := readStat(path)
		if err != nil || string(got) != string(want) {
			t.Fatalf("size %d: read %d bytes, %v", size, len(got), err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if !st.same(statOf(fi)) {
			t.Errorf("size %d: stat %+v, os.Stat says %+v", size, st, statOf(fi))
		}
	}
	if _, _, err := readStat(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a missing file: %v, want a not-exist error naming it", err)
	}
	if _, _, err := readStat(dir); err == nil {
		t.Error("a folder read as a file")
	}
}
