package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/internal/testproj"
)

// TestProfileKeys: a dbt-duckdb profile's settings, extensions and attached databases
// are what every connection of the warehouse has; an extension this DuckDB does not
// have is one error naming it.
func TestProfileKeys(t *testing.T) {
	dir := testproj.Write(t, map[string]string{
		"dbt_project.yml": "name: p\nprofile: p\n",
		"profiles.yml": "p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: p.duckdb\n      settings: {preserve_insertion_order: false}\n" +
			"      extensions: [json, {name: parquet}]\n      attach:\n        - path: other.duckdb\n          alias: other\n          read_only: true\n",
		"models/a.sql": "select n, current_setting('preserve_insertion_order') as pio from other.main.t",
	})
	// the attached database, written before
	db, err := sql.Open("duckdb", filepath.Join(dir, "other.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("create table t as select 42 as n"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	res, w := build(t, dir, engine.CommandRun, 2)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	wantRows(t, w, "select n, pio from a", "[[42 false]]")
	w.Close()

	dir = testproj.Write(t, map[string]string{
		"dbt_project.yml": "name: p\nprofile: p\n",
		"profiles.yml":    "p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: p.duckdb\n      extensions: [spatial]\n",
		"models/a.sql":    "select 1",
	})
	p, _ := testgraph.Load(t, dir)
	_, err = engine.Open(context.Background(), p)
	var ie *engine.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "extension spatial is not built into this DuckDB") {
		t.Errorf("an extension DuckDB does not have: %v", err)
	}
}
