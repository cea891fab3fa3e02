package engine_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/internal/testproj"
)

func TestShopBuildsWithThreads(t *testing.T) {
	t.Parallel()
	for _, threads := range []int{1, 4} {
		dir := t.TempDir()
		copyDir(t, "../examples/shop", dir)
		res, w := build(t, dir, engine.CommandBuild, threads)
		if res.Failed() {
			for _, tk := range res.Tasks {
				if tk.Message != "" {
					t.Errorf("%s: %s %s", tk.Name, tk.Status, tk.Message)
				}
			}
			t.Fatalf("threads=%d: build failed", threads)
		}
		for rel, want := range map[string]int64{"orders": 80, "customers": 30, "order_items": 80, "monthly_revenue": 12} {
			if got := queryInt(t, w, "select count(*) from main."+rel); got != want {
				t.Errorf("threads=%d: %s has %d rows, want %d", threads, rel, got, want)
			}
		}
		// every task is recorded with the run
		if got := queryInt(t, w, "select count(*) from _strata.tasks where run_id = '"+res.RunID+"'"); got != int64(len(res.Tasks)) {
			t.Errorf("recorded %d tasks, want %d", got, len(res.Tasks))
		}
		if got := queryInt(t, w, "select count(*) from _strata.runs where status = 'success'"); got != 1 {
			t.Errorf("success runs = %d, want 1", got)
		}
	}
}

func TestFailureSkipsDownstreamOnly(t *testing.T) {
	t.Parallel()
	dir := testproj.Write(t, map[string]string{
		"models/a.sql":     "select 1 as id",
		"models/bad.sql":   "select no_such_column from {{ ref('a') }}",
		"models/child.sql": "select * from {{ ref('bad') }}",
		"models/grand.sql": "select * from {{ ref('child') }}",
		"models/other.sql": "select * from {{ ref('a') }}",
	})
	res, w := build(t, dir, engine.CommandRun, 2)
	want := map[string]engine.Status{"a": "success", "bad": "error", "child": "skipped", "grand": "skipped", "other": "success"}
	if diff := cmp.Diff(want, statuses(res)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	for _, tk := range res.Tasks {
		if tk.Name == "bad" && !strings.Contains(tk.Message, "no_such_column") {
			t.Errorf("error message %q does not name the column", tk.Message)
		}
		if tk.Name == "grand" && !strings.Contains(tk.Message, "bad") {
			t.Errorf("skip message %q does not name the failed upstream", tk.Message)
		}
	}
	if got := queryInt(t, w, "select count(*) from _strata.tasks where status = 'skipped'"); got != 2 {
		t.Errorf("recorded skipped tasks = %d, want 2", got)
	}
}

func TestFailedTableKeepsOldRows(t *testing.T) {
	t.Parallel()
	dir := testproj.Write(t, map[string]string{
		"models/t.sql": "{{ config(materialized='table') }} select * from range(5) r(i)",
	})
	build(t, dir, engine.CommandRun, 1)
	if err := os.WriteFile(filepath.Join(dir, "models/t.sql"), []byte("{{ config(materialized='table') }} select i, 1/0::int as boom from range(3) r(i) where error('boom') is null"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, w := build(t, dir, engine.CommandRun, 1)
	if !res.Failed() {
		t.Fatal("broken table model did not fail")
	}
	if got := queryInt(t, w, "select count(*) from main.t"); got != 5 {
		t.Errorf("after a failed rebuild t has %d rows, want the old 5", got)
	}
	// the failed task left no success row claiming it built
	if got := queryInt(t, w, "select count(*) from _strata.tasks where node = 't' and status = 'success'"); got != 1 {
		t.Errorf("success rows for t = %d, want 1 (the first build)", got)
	}
}

func TestBuildTestFailureBlocksDownstream(t *testing.T) {
	t.Parallel()
	dir := testproj.Write(t, map[string]string{
		"models/a.sql":      "select * from (values (1), (null)) v(id)",
		"models/b.sql":      "select * from {{ ref('a') }}",
		"models/c.sql":      "select 1 as x",
		"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        data_tests: [not_null]\n  - name: c\n    columns:\n      - name: x\n        data_tests:\n          - accepted_values:\n              values: [2]\n              config: {severity: warn}\n",
	})
	res, _ := build(t, dir, engine.CommandBuild, 2)
	want := map[string]engine.Status{"a": "success", "b": "skipped", "c": "success",
		"not_null_a_id": "fail", "accepted_values_c_x__2": "warn"}
	if diff := cmp.Diff(want, statuses(res)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

func TestFingerprintFollowsUpstreamChanges(t *testing.T) {
	t.Parallel()
	dir := testproj.Write(t, map[string]string{
		"models/a.sql": "select 1 as id",
		"models/b.sql": "select * from {{ ref('a') }}",
		"models/c.sql": "select 2 as id",
	})
	fp := func() map[string]string {
		_, g := testgraph.Load(t, dir)
		plan, err := engine.NewPlan(g, engine.PlanOptions{Command: engine.CommandRun})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, tk := range plan.Tasks {
			out[tk.Name] = tk.Fingerprint
		}
		return out
	}
	before := fp()
	if err := os.WriteFile(filepath.Join(dir, "models/a.sql"), []byte("select 1 as id, 2 as extra"), 0o644); err != nil {
		t.Fatal(err)
	}
	after := fp()
	if before["a"] == after["a"] || before["b"] == after["b"] {
		t.Errorf("a or b kept its fingerprint after a changed: %v → %v", before, after)
	}
	if before["c"] != after["c"] {
		t.Errorf("c's fingerprint changed though nothing it reads changed")
	}
}

func TestIncrementalStrategies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		strategy string
		want     int64 // rows after the second run
	}{
		{"append", 5},        // 3 + 2 new rows (the filter picks id > 2... plus the overlap)
		{"merge", 4},         // ids 1..4, id 3 updated in place
		{"delete+insert", 4}, // same rows as merge
	} {
		t.Run(tc.strategy, func(t *testing.T) {
			t.Parallel()
			key := ", unique_key='id'"
			if tc.strategy == "append" {
				key = ""
			}
			model := "{{ config(materialized='incremental', incremental_strategy='" + tc.strategy + "'" + key + ") }}\n" +
				"select * from {{ ref('src') }}\n{% if is_incremental() %}where id >= (select max(id) from {{ this }}){% endif %}"
			dir := testproj.Write(t, map[string]string{
				"seeds/src.csv":  "id,v\n1,a\n2,b\n3,c\n",
				"models/inc.sql": model,
			})
			build(t, dir, engine.CommandBuild, 1)
			if err := os.WriteFile(filepath.Join(dir, "seeds/src.csv"), []byte("id,v\n1,a\n2,b\n3,C\n4,d\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, w := build(t, dir, engine.CommandBuild, 1)
			if got := queryInt(t, w, "select count(*) from main.inc"); got != tc.want {
				t.Errorf("rows = %d, want %d", got, tc.want)
			}
			if tc.strategy != "append" {
				if got := queryInt(t, w, "select count(*) from main.inc where id = 3 and v = 'C'"); got != 1 {
					t.Errorf("row 3 not updated by %s", tc.strategy)
				}
			}
		})
	}
}

// TestHoldDatabase is not a test: TestOpenLockedFile runs it in a child process to hold
// a DuckDB file open, as another strata process would.
func TestHoldDatabase(t *testing.T) {
	path := os.Getenv("STRATA_HOLD_DB")
	if path == "" {
		t.Skip("helper process only")
	}
	w, err := engine.OpenPath(context.Background(), path, filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	os.Stdout.WriteString("holding\n")
	time.Sleep(30 * time.Second)
}

func TestOpenLockedFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "held.duckdb")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldDatabase$", "-test.v")
	cmd.Env = append(os.Environ(), "STRATA_HOLD_DB="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(out)
	for sc.Scan() && !strings.Contains(sc.Text(), "holding") {
	}
	_, err = engine.OpenPath(context.Background(), path, filepath.Dir(path))
	var le *engine.LockedError
	if !errors.As(err, &le) || !errors.Is(err, engine.ErrLocked) {
		t.Fatalf("open of a held file: got %v, want a *LockedError", err)
	}
	if !strings.Contains(err.Error(), "PID") || !strings.Contains(err.Error(), "held.duckdb") {
		t.Errorf("locked error %q should name the file and the holder's PID", err)
	}
}

// A runtime SQL error is placed at the model file's line and column, whatever statement
// strata wrapped the SQL in (a view, or a partition's INSERT).
func TestRuntimeErrorsArePlaced(t *testing.T) {
	t.Parallel()
	dir := testproj.Write(t, map[string]string{
		"models/a.sql": "select 1 as id",
		"models/v.sql": "select\n    id,\n    nope\nfrom {{ ref('a') }}",
		"models/p.sql": "{{ config(materialized='partitioned', partition_by={'column': 'd', 'granularity': 'day'}, start='2024-01-01') }}\n" +
			"select {{ partition_start }} as d,\n       'x'::int as broken",
	})
	res, _ := build(t, dir, engine.CommandRun, 1, "a", "v")
	msgs := map[string]string{}
	for _, tk := range res.Tasks {
		msgs[tk.Name] = tk.Message
	}
	if want := "models/v.sql:3:5: Binder Error: Referenced column \"nope\" not found"; !strings.HasPrefix(msgs["v"], want) {
		t.Errorf("view error = %q, want it to start with %q", msgs["v"], want)
	}
	e := open(t, dir)
	pres := e.backfill("2024-01-01", "2024-01-01", "", false, "p")
	if want := "models/p.sql:3:"; len(pres.Tasks) != 1 || !strings.HasPrefix(pres.Tasks[0].Message, want) || !strings.Contains(pres.Tasks[0].Message, "Conversion Error") {
		t.Errorf("partition error = %q, want a Conversion Error placed at %s…", pres.Tasks[0].Message, want)
	}
}
