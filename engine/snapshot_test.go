package engine_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// snapshotRun writes the source's state as a seed and builds the seed and the snapshot.
func snapshotRun(t *testing.T, dir, csv string) *engine.Result {
	t.Helper()
	testproj.WriteFiles(t, dir, map[string]string{"seeds/src.csv": csv})
	res, w := build(t, dir, engine.CommandBuild, 1)
	w.Close()
	if res.Failed() {
		for _, tk := range res.Tasks {
			t.Logf("%s %s %s", tk.Name, tk.Status, tk.Message)
		}
		t.Fatal("build failed")
	}
	return res
}

func history(t *testing.T, dir, q string) string {
	t.Helper()
	e := open(t, dir)
	defer e.w.Close()
	var b strings.Builder
	for _, r := range queryRows(t, e.w, q) {
		fmt.Fprintln(&b, r...)
	}
	return b.String()
}

// The source's states, five runs: inserts, an update and a delete, a no-op, a re-insert
// with a change of a column only check_cols: all watches, and a no-op in another order.
var snapshotStates = []string{
	"id,status,note,updated_at\n1,new,x,2024-01-01 00:00:00\n2,new,x,2024-01-01 00:00:00\n3,new,x,2024-01-01 00:00:00\n",
	"id,status,note,updated_at\n1,paid,x,2024-01-02 00:00:00\n3,new,x,2024-01-01 00:00:00\n4,new,x,2024-01-02 00:00:00\n",
	"id,status,note,updated_at\n1,paid,x,2024-01-02 00:00:00\n3,new,x,2024-01-01 00:00:00\n4,new,x,2024-01-02 00:00:00\n",
	"id,status,note,updated_at\n1,paid,y,2024-01-02 00:00:00\n2,back,x,2024-01-04 00:00:00\n4,new,x,2024-01-02 00:00:00\n",
	"id,status,note,updated_at\n4,new,x,2024-01-02 00:00:00\n1,paid,y,2024-01-02 00:00:00\n2,back,x,2024-01-04 00:00:00\n", // the same rows, reordered: a no-op
}

// TestSnapshotTimestamp checks the history dbt writes for the timestamp strategy, with
// each hard_deletes mode, against the history worked out by hand.
func TestSnapshotTimestamp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ deletes, want string }{
		{"ignore", `1 new 2024-01-01 2024-01-02
1 paid 2024-01-02 current
2 new 2024-01-01 2024-01-04
2 back 2024-01-04 current
3 new 2024-01-01 current
4 new 2024-01-02 current
`},
		{"invalidate", `1 new 2024-01-01 2024-01-02
1 paid 2024-01-02 current
2 new 2024-01-01 closed
2 back 2024-01-04 current
3 new 2024-01-01 closed
4 new 2024-01-02 current
`},
		{"new_record", `1 new 2024-01-01 2024-01-02 False
1 paid 2024-01-02 current False
2 new 2024-01-01 closed False
2 back 2024-01-04 current False
2 new now closed True
3 new 2024-01-01 closed False
3 new now current True
4 new 2024-01-02 current False
`},
	} {
		t.Run(tc.deletes, func(t *testing.T) {
			t.Parallel()
			dir := testproj.Write(t, map[string]string{"snapshots/snap.sql": `{% snapshot snap %}
{{ config(unique_key='id', strategy='timestamp', updated_at='updated_at', hard_deletes='` + tc.deletes + `') }}
select * from {{ ref('src') }}
{% endsnapshot %}`})
			for _, st := range snapshotStates {
				snapshotRun(t, dir, st)
			}
			deleted := ""
			if tc.deletes == "new_record" {
				deleted = ", dbt_is_deleted"
			}
			got := history(t, dir, `SELECT id, status,
  CASE WHEN dbt_valid_from > TIMESTAMP '2025-01-01' THEN 'now' ELSE strftime(dbt_valid_from, '%Y-%m-%d') END,
  CASE WHEN dbt_valid_to IS NULL THEN 'current' WHEN dbt_valid_to > TIMESTAMP '2025-01-01' THEN 'closed' ELSE strftime(dbt_valid_to, '%Y-%m-%d') END`+deleted+`
FROM snap ORDER BY id, dbt_valid_from`)
			if got != tc.want {
				t.Errorf("history\n%s\nwant\n%s", got, tc.want)
			}
			// dbt's dbt_scd_id and dbt_updated_at
			if n := history(t, dir, `SELECT count(*) FROM snap WHERE dbt_scd_id <> md5(coalesce(CAST(id AS VARCHAR), '') || '|' || coalesce(CAST(dbt_updated_at AS VARCHAR), ''))`); n != "0\n" {
				t.Errorf("%s rows whose dbt_scd_id is not dbt's", n)
			}
		})
	}
}

// TestSnapshotCheck: the check strategy versions a row when a checked column changes
// (and with check_cols: all, any column); meta column names and dbt_valid_to_current are
// honoured; a list unique_key works.
func TestSnapshotCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ cols, want string }{
		{"['status']", "1 new current:0\n1 paid current:1\n2 new current:0\n2 back current:1\n3 new current:1\n4 new current:1\n"},
		{"'all'", "1 new current:0\n1 paid current:0\n1 paid current:1\n2 new current:0\n2 back current:1\n3 new current:1\n4 new current:1\n"},
	} {
		t.Run(tc.cols, func(t *testing.T) {
			t.Parallel()
			dir := testproj.Write(t, map[string]string{"snapshots/snap.yml": `snapshots:
  - name: snap
    relation: ref('src')
    config:
      unique_key: [id, k]
      strategy: check
      check_cols: ` + tc.cols + `
      dbt_valid_to_current: "TIMESTAMP '9999-12-31'"
      snapshot_meta_column_names: {dbt_valid_from: valid_from, dbt_valid_to: valid_to}
`, "models/k.sql": "select 1 as k"})
			for _, st := range snapshotStates {
				st = strings.ReplaceAll(st, "\n", ",7\n")
				st = strings.Replace(st, "updated_at,7", "updated_at,k", 1)
				snapshotRun(t, dir, st)
			}
			got := history(t, dir, `SELECT id, status, 'current:' || (valid_to = TIMESTAMP '9999-12-31')::INT FROM snap ORDER BY id, valid_from, status`)
			if got != tc.want {
				t.Errorf("history\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

const snapKillSource = `select i as id,
  case when i % 3 = 0 and {{ var('round') }} = 2 then 'changed' else 'same' end as status,
  case when i % 3 = 0 and {{ var('round') }} = 2 then timestamp '2024-01-02' else timestamp '2024-01-01' end as updated_at
from range(1000000) r(i)`

// snapshotOnce runs the snapshot of the kill project with var round.
func snapshotOnce(ctx context.Context, dir string, round int) (*engine.Result, error) {
	p, err := models.Load(dir, models.Options{Vars: map[string]any{"round": round}})
	if err != nil {
		return nil, err
	}
	g, err := lineage.Build(p)
	if err != nil {
		return nil, err
	}
	w, err := engine.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	plan, err := engine.NewPlan(g, engine.PlanOptions{Command: engine.CommandBuild})
	if err != nil {
		return nil, err
	}
	return engine.Run(ctx, w, plan, engine.RunOptions{Threads: 1})
}

// TestSnapshotWorker is not a test: TestSnapshotSurvivesKill runs it as the process it kills.
func TestSnapshotWorker(t *testing.T) {
	dir := os.Getenv("STRATA_SNAPSHOT_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	if res, err := snapshotOnce(context.Background(), dir, 2); err != nil || res.Failed() {
		t.Fatalf("snapshot: %v %v", err, res)
	}
}

// TestSnapshotSurvivesKill kills a snapshot run with SIGKILL at random moments: the
// history is either as it was or fully updated, and a rerun ends as a clean run does.
func TestSnapshotSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills subprocesses")
	}
	ctx := context.Background()
	project := func() string {
		dir := testproj.Write(t, map[string]string{"models/src.sql": snapKillSource, "snapshots/snap.sql": `{% snapshot snap %}
{{ config(unique_key='id', strategy='timestamp', updated_at='updated_at') }}
select * from {{ ref('src') }}
{% endsnapshot %}`})
		if res, err := snapshotOnce(ctx, dir, 1); err != nil || res.Failed() {
			t.Fatalf("first snapshot: %v %v", err, res)
		}
		return dir
	}
	digest := func(dir string) string {
		w, err := engine.OpenPath(ctx, filepath.Join(dir, "test.duckdb"), dir)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		return fmt.Sprint(queryRows(t, w, `SELECT count(*), count(*) FILTER (WHERE dbt_valid_to IS NULL), bit_xor(hash(id, status, dbt_valid_from, dbt_valid_to, dbt_scd_id)) FROM snap`))
	}
	ref := project()
	began := time.Now()
	if res, err := snapshotOnce(ctx, ref, 2); err != nil || res.Failed() {
		t.Fatalf("reference: %v %v", err, res)
	}
	life := time.Since(began) + 500*time.Millisecond // and the process's start
	want := digest(ref)
	before := ""
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for trial := 0; trial < 4; trial++ {
		dir := project()
		if before == "" {
			before = digest(dir)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestSnapshotWorker$")
		cmd.Env = append(os.Environ(), "STRATA_SNAPSHOT_DIR="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(time.Duration(rng.Int63n(int64(life)))):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
		}
		if got := digest(dir); got != before && got != want {
			t.Fatalf("trial %d: after the kill the history is neither the old nor the new one:\n%s", trial, got)
		}
		if res, err := snapshotOnce(ctx, dir, 2); err != nil || res.Failed() {
			t.Fatalf("trial %d: rerun: %v %v", trial, err, res)
		}
		if got := digest(dir); got != want {
			t.Fatalf("trial %d: after kill and rerun\n%s\nwant\n%s", trial, got, want)
		}
	}
}

// TestSnapshotChanges: a column the source gains versions every row under check_cols:
// all (and a rerun changes nothing); a snapshot switched to hard_deletes: new_record
// gains dbt_is_deleted; the check strategy with updated_at takes its times from it; a
// unique_key expression may hold commas.
func TestSnapshotChanges(t *testing.T) {
	t.Parallel()
	dir := testproj.Write(t, map[string]string{"snapshots/snap.sql": `{% snapshot snap %}
{{ config(unique_key="concat(id, '-', 'x')", strategy='check', check_cols='all', updated_at='updated_at') }}
select * from {{ ref('src') }}
{% endsnapshot %}`})
	snapshotRun(t, dir, "id,status,updated_at\n1,new,2024-01-01 00:00:00\n2,new,2024-01-01 00:00:00\n")
	snapshotRun(t, dir, "id,status,email,updated_at\n1,new,a@x,2024-01-05 00:00:00\n2,new,b@x,2024-01-05 00:00:00\n")
	snapshotRun(t, dir, "id,status,email,updated_at\n1,new,a@x,2024-01-05 00:00:00\n2,new,b@x,2024-01-05 00:00:00\n")
	got := history(t, dir, `SELECT id, email, strftime(dbt_valid_from, '%Y-%m-%d'), coalesce(strftime(dbt_valid_to, '%Y-%m-%d'), 'current') FROM snap ORDER BY id, dbt_valid_from`)
	want := "1 <nil> 2024-01-01 2024-01-05\n1 a@x 2024-01-05 current\n2 <nil> 2024-01-01 2024-01-05\n2 b@x 2024-01-05 current\n"
	if got != want {
		t.Errorf("history\n%s\nwant\n%s", got, want)
	}
	testproj.WriteFiles(t, dir, map[string]string{"snapshots/snap.sql": `{% snapshot snap %}
{{ config(unique_key="concat(id, '-', 'x')", strategy='check', check_cols='all', updated_at='updated_at', hard_deletes='new_record') }}
select * from {{ ref('src') }}
{% endsnapshot %}`})
	snapshotRun(t, dir, "id,status,email,updated_at\n1,new,a@x,2024-01-05 00:00:00\n")
	if got := history(t, dir, `SELECT id, dbt_is_deleted FROM snap WHERE dbt_valid_to IS NULL ORDER BY id`); got != "1 <nil>\n2 True\n" {
		t.Errorf("after switching to new_record, current rows:\n%s", got)
	}
}
