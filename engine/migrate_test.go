package engine_test

import (
	"compress/gzip"
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testgraph"
)

// testdata/state-v0 is a project and the warehouse the release before versioned state
// wrote for it (gzipped): a build, two backfills, a failed run, a run killed mid-build,
// and a backfill killed after 6 of its 15 days.

// openV0 copies the old project and its warehouse into a temp folder.
func openV0(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	copyDir(t, filepath.Join("testdata", "state-v0"), dir)
	in, err := os.Open(filepath.Join(dir, "v0.duckdb.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "v0.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	out.Close()
	os.Remove(filepath.Join(dir, "v0.duckdb.gz"))
	return dir
}

func TestMigrateFromUnversionedState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := openV0(t)
	p, g := testgraph.Load(t, dir)
	w, err := engine.Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	got := queryRows(t, w, "select version, name like '%(found)' from _strata.migrations order by version")
	want := [][]any{{int32(1), true}, {int32(2), false}, {int32(3), false}, {int32(4), false}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("migrations recorded (-want +got):\n%s", diff)
	}
	if engine.SchemaVersion != 4 {
		t.Errorf("SchemaVersion = %d: add the new version to this test's expectations", engine.SchemaVersion)
	}

	// the history reads as it was; the runs a killed process left running are aborted
	runs, err := w.Runs(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[string]int{}
	for _, r := range runs {
		statuses[r.Status]++
	}
	if diff := cmp.Diff(map[string]int{"success": 3, "error": 1, "aborted": 2}, statuses); diff != "" {
		t.Errorf("run statuses after migration (-want +got):\n%s", diff)
	}
	bfs, err := w.Backfills(ctx, "")
	if err != nil || len(bfs) != 3 || bfs[0].Status != "interrupted" {
		t.Fatalf("backfills = %+v, %v; want 3, the newest interrupted", bfs, err)
	}

	// the same command as before finds the interrupted backfill by what it asks for,
	// and finishes only what is left
	from, to, end, err := engine.ParseRange("2024-01-06", "2024-01-20")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.PlanBackfill(ctx, w, g, engine.BackfillOptions{Select: []string{"daily"}, From: from, To: to, ToEnd: end}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Backfill.Resumed || plan.Backfill.ID != bfs[0].ID || len(plan.Tasks) != 9 || len(plan.Skipped) != 6 {
		t.Fatalf("resume of %s: %s resumed=%v, %d to run, %d skipped; want 9 and 6", bfs[0].ID, plan.Backfill.ID, plan.Backfill.Resumed, len(plan.Tasks), len(plan.Skipped))
	}
	res, err := engine.Run(ctx, w, plan, engine.RunOptions{Threads: 2})
	if err != nil || res.Failed() {
		t.Fatalf("resume: %v %v", err, res.Err)
	}
	if got := queryRows(t, w, "select count(*)::INT, count(distinct day)::INT from daily"); !cmp.Equal(got, [][]any{{int32(60), int32(20)}}) {
		t.Errorf("daily after the resume = %v, want 60 rows over 20 days (the build also made the day it ran)", got)
	}
	if got := queryRows(t, w, "select pid is not null and host is not null from _strata.runs order by started_at desc limit 1"); !cmp.Equal(got, [][]any{{true}}) {
		t.Errorf("the new run does not record its process: %v", got)
	}
	w.Close()

	// opening again applies nothing twice
	w, err = engine.Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, w, "select count(*) from _strata.migrations"); n != int64(engine.SchemaVersion) {
		t.Errorf("%d migrations recorded after a second open, want %d", n, engine.SchemaVersion)
	}
	w.Close()
}

func TestNewerStateIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := openV0(t)
	p, _ := testgraph.Load(t, dir)
	w, err := engine.Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	db, err := sql.Open("duckdb", p.Warehouse.Path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO _strata.migrations (version, name, applied_at) VALUES (99, 'from the future', ?)`, time.Now()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := engine.Open(ctx, p); err == nil || !strings.Contains(err.Error(), "written by a newer strata (state version 99") {
		t.Fatalf("open of a newer warehouse = %v, want a clear refusal", err)
	}
}

func TestFreshWarehouseIsAtTheLatestVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := engine.OpenPath(context.Background(), filepath.Join(dir, "new.duckdb"), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if v := queryInt(t, w, "select max(version) from _strata.migrations"); v != int64(engine.SchemaVersion) {
		t.Errorf("a new warehouse is at version %d, want %d", v, engine.SchemaVersion)
	}
}
