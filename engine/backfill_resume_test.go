package engine_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/internal/testproj"
)

// TestUnfinishedBackfillFoundByMeaning: rerunning a backfill continues the unfinished one
// that asks for the same thing, whatever order the selection was written in and however
// its stored options' JSON is spelt.
func TestUnfinishedBackfillFoundByMeaning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := testproj.Write(t, map[string]string{
		"strata.yml": "name: p\nwarehouse:\n  path: p.duckdb\n",
		"models/a.sql": `{{ config(materialized='partitioned', partition_by={'column': 'day', 'granularity': 'day'}, start='2024-01-01') }}
select {{ partition_start }} as day`,
		"models/b.sql": `{{ config(materialized='partitioned', partition_by={'column': 'day', 'granularity': 'day'}, start='2024-01-01') }}
select {{ partition_start }} as day`,
	})
	p, g := testgraph.Load(t, dir)
	from, to, end, _ := engine.ParseRange("2024-01-01", "2024-01-03")
	opts := func(sel ...string) engine.BackfillOptions {
		return engine.BackfillOptions{Select: sel, From: from, To: to, ToEnd: end}
	}
	w, err := engine.Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.PlanBackfill(ctx, w, g, opts("b", "a"), "")
	if err != nil {
		t.Fatal(err)
	}
	first := plan.Backfill.ID
	drain := make(chan struct{})
	close(drain) // stopped before its first task: the backfill is left unfinished
	if _, err := engine.Run(ctx, w, plan, engine.RunOptions{Drain: drain}); err != nil {
		t.Fatal(err)
	}
	w.Close()

	// the stored JSON rewritten with other spacing and key order means the same
	db, err := sql.Open("duckdb", p.Warehouse.Path)
	if err != nil {
		t.Fatal(err)
	}
	var raw string
	if err := db.QueryRow(`SELECT options FROM _strata.backfills`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	respelt := `{ "to_end": "` + end.Format(time.RFC3339) + `", "to": "` + to.Format(time.RFC3339) + `",  "from": "` + from.Format(time.RFC3339) + `", "select": ["b", "a"] }`
	if _, err := db.Exec(`UPDATE _strata.backfills SET options = ?`, respelt); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if raw == respelt {
		t.Fatal("the respelt options are not different text")
	}

	w, err = engine.Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	plan, err = engine.PlanBackfill(ctx, w, g, opts("a", "b", "a"), "")
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Backfill.Resumed || plan.Backfill.ID != first || len(plan.Tasks) != 6 {
		t.Fatalf("backfill %s resumed=%v with %d tasks; want %s resumed with all 6", plan.Backfill.ID, plan.Backfill.Resumed, len(plan.Tasks), first)
	}
	// a different range is a different backfill
	from2, to2, end2, _ := engine.ParseRange("2024-01-02", "2024-01-03")
	other, err := engine.PlanBackfill(ctx, w, g, engine.BackfillOptions{Select: []string{"a", "b"}, From: from2, To: to2, ToEnd: end2}, "")
	if err != nil || other.Backfill.Resumed || strings.EqualFold(other.Backfill.ID, first) {
		t.Fatalf("another range continued %s: %v", first, err)
	}
}
