package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "p")
	var out, errOut bytes.Buffer
	if code := run([]string{"-n", "20", "-o", dir}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "models", "p000", "m_0020.sql")); err != nil {
		t.Error(err)
	}
	// a second write into the same folder is refused
	errOut.Reset()
	if code := run([]string{"-n", "20", "-o", dir}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "not empty") {
		t.Errorf("second write: exit %d, stderr %q; want 1 and a 'not empty' error", code, errOut.String())
	}
	if code := run([]string{"-n", "20"}, &out, &errOut); code != 2 {
		t.Errorf("no -o: exit %d, want 2", code)
	}
}
