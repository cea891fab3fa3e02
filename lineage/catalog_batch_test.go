package lineage_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShadowBatchFailure: the shadow catalog creates its tables in batches; one model
// failing inside a batch reports its own error only, its downstream model is skipped
// with a note, and every other model of the batch (before and after it) is checked with
// its columns, as when each ran alone. A model whose text cannot share a batch (a `;` in
// a string, a block comment, a dollar quote) is checked alone.
func TestShadowBatchFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"strata.yml":      "name: p\n",
		"models/a.sql":    "select 1 as id, 'x' as s",
		"models/bad.sql":  "select id, nope from {{ ref('a') }}",
		"models/down.sql": "select * from {{ ref('bad') }}",
		"models/semi.sql": "select id, 'a;b' as t from {{ ref('a') }} /* a comment */",
		"models/dol.sql":  "select id, $$x$$ as d from {{ ref('semi') }}",
	}
	for i := range 150 { // more than a batch, on both sides of the failure
		files[fmt.Sprintf("models/m%03d.sql", i)] = fmt.Sprintf("select id + %d as id, s from {{ ref('a') }}", i)
	}
	for p, c := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, cat := analyzeDir(t, dir)
	if len(cat.Errors) != 1 || !strings.HasPrefix(cat.Errors[0].Error(), `models/bad.sql:1:12: model bad: Binder Error: Referenced column "nope" not found`) {
		t.Fatalf("errors = %v, want bad's alone", cat.Errors)
	}
	if d := describe(cat.Nodes["down"]); !strings.Contains(d, "note: not checked: upstream bad has errors") {
		t.Errorf("down:\n%s", d)
	}
	for _, name := range []string{"a", "semi", "dol", "m000", "m149"} {
		nc := cat.Nodes[name]
		if nc == nil || len(nc.Columns) < 2 {
			t.Errorf("%s: not checked: %+v", name, nc)
		}
	}
}
