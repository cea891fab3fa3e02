//go:build linux

package models

import (
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
