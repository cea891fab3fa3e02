package engine_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/internal/testproj"
)

// groupProject is a chain with a failing model in its middle, a branch beside it and a
// test: what a one-connection run (grouped commits) must end exactly as a run of one
// transaction per task does.
var groupProject = map[string]string{
	"models/a.sql":      "select 1 as id",
	"models/b.sql":      "select id from {{ ref('a') }}",
	"models/c.sql":      "select id, no_such_column from {{ ref('b') }}",
	"models/d.sql":      "select id from {{ ref('c') }}",
	"models/e.sql":      "select id from {{ ref('a') }}",
	"models/f.sql":      "select id from {{ ref('e') }}",
	"models/schema.yml": "version: 2\nmodels:\n  - name: f\n    columns:\n      - name: id\n        data_tests: [unique, not_null]\n",
}

// outcome is what a run left: each task's status and message, its rows in the task
// log, and the relations in the warehouse.
func outcome(t *testing.T, threads int) string {
	t.Helper()
	dir := testproj.Write(t, groupProject)
	res, w := build(t, dir, engine.CommandBuild, threads)
	var lines []string
	for _, task := range res.Tasks {
		lines = append(lines, fmt.Sprintf("%s %s %s", task.Name, task.Status, task.Message))
	}
	slices.Sort(lines)
	lines = append(lines, fmt.Sprint(queryRows(t, w, "SELECT node, status, count(*) FROM _strata.tasks GROUP BY ALL ORDER BY ALL")))
	lines = append(lines, fmt.Sprint(queryRows(t, w, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1")))
	return strings.Join(lines, "\n")
}

// TestGroupFailureRedo: a statement failing inside a group rolls it back and runs its
// tasks again one by one: the error (with its file and line), the skips below it, the
// branch beside it, the task log (one row per task) and the tables are those of an
// ungrouped run.
func TestGroupFailureRedo(t *testing.T) {
	t.Parallel()
	grouped, ungrouped := outcome(t, 1), outcome(t, 3)
	if grouped != ungrouped {
		t.Errorf("one connection:\n%s\n\nthree:\n%s", grouped, ungrouped)
	}
	for _, want := range []string{"c error models/c.sql:1", "d skipped skipped: upstream", "f success", "[[a success 1] [b success 1] [c error 1] [d skipped 1] [e success 1] [f success 1]"} {
		if !strings.Contains(grouped, want) {
			t.Errorf("want %q in\n%s", want, grouped)
		}
	}
}

// TestGroupAnnouncedIsDurable: when a task is announced finished, its row and its data
// are committed: another connection sees them.
func TestGroupAnnouncedIsDurable(t *testing.T) {
	t.Parallel()
	files := map[string]string{"models/m0.sql": "select 1 as id"}
	for i := 1; i < 30; i++ {
		files[fmt.Sprintf("models/m%d.sql", i)] = fmt.Sprintf("select id from {{ ref('m%d') }}", i-1)
	}
	dir := testproj.Write(t, files)
	ctx := context.Background()
	p, g := testgraph.Load(t, dir)
	plan, err := engine.NewPlan(g, engine.PlanOptions{Command: engine.CommandRun})
	if err != nil {
		t.Fatal(err)
	}
	w, err := engine.Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var problems []string
	seen := 0
	obs := engine.ObserverFunc(func(e engine.Event) {
		if e.Kind != engine.EventTaskFinished {
			return
		}
		seen++
		n, err := w.ReadQuery(ctx, fmt.Sprintf("SELECT count(*) FROM _strata.tasks WHERE run_id = '%s' AND node = '%s' AND status = 'success'", e.RunID, e.Task.Name), engine.QueryOptions{Limit: 1})
		if err != nil || len(n.Rows) != 1 || fmt.Sprint(n.Rows[0].Values[0]) != "1" {
			problems = append(problems, fmt.Sprintf("%s announced before its row committed (%v, %v)", e.Task.Name, n, err))
			return
		}
		if _, err := w.ReadQuery(ctx, "SELECT id FROM main."+e.Task.Name, engine.QueryOptions{Limit: 1}); err != nil {
			problems = append(problems, fmt.Sprintf("%s announced before its data committed: %v", e.Task.Name, err))
		}
	})
	res, err := engine.Run(ctx, w, plan, engine.RunOptions{Threads: 1, Observers: []engine.Observer{obs}})
	if err != nil || res.Failed() {
		t.Fatalf("run: %v %s", err, res.Summary())
	}
	if seen != 30 {
		t.Errorf("%d tasks announced, want 30", seen)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestGroupBackfillFailure: a backfill on one connection with a window that fails in
// the middle ends as it does on two: the failing window's error, what is below it
// skipped, every other window built, and the partition state read back the same.
func TestGroupBackfillFailure(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"models/d0.sql": "{{ config(materialized='partitioned', partition_by={'column': 'd', 'granularity': 'day'}, start='2023-01-01') }}\nselect {{ partition_start }} as d, 1 as v",
		"models/d1.sql": "{{ config(materialized='partitioned', partition_by={'column': 'd', 'granularity': 'day'}, start='2023-01-01') }}\n" +
			"select d, case when d = TIMESTAMP '2023-01-04' then error('boom on the 4th') else v + 1 end as v from {{ ref('d0') }} where d >= {{ partition_start }} and d < {{ partition_end }}",
		"models/d2.sql": "{{ config(materialized='partitioned', partition_by={'column': 'd', 'granularity': 'day'}, start='2023-01-01') }}\nselect d, v + 1 as v from {{ ref('d1') }} where d >= {{ partition_start }} and d < {{ partition_end }}",
	}
	run := func(parallel int) string {
		dir := testproj.Write(t, files)
		ctx := context.Background()
		p, g := testgraph.Load(t, dir)
		w, err := engine.Open(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		from, to, end, _ := engine.ParseRange("2023-01-01", "2023-01-08")
		plan, err := engine.PlanBackfill(ctx, w, g, engine.BackfillOptions{Select: []string{"d0+"}, From: from, To: to, ToEnd: end}, "")
		if err != nil {
			t.Fatal(err)
		}
		res, err := engine.Run(ctx, w, plan, engine.RunOptions{Threads: parallel})
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, task := range res.Tasks {
			lines = append(lines, fmt.Sprintf("%s %s %s", task.Label(), task.Status, task.Message))
		}
		slices.Sort(lines)
		lines = append(lines, fmt.Sprint(queryRows(t, w, "SELECT model, count(*) FROM _strata.partitions GROUP BY ALL ORDER BY ALL")))
		lines = append(lines, fmt.Sprint(queryRows(t, w, "SELECT status, count(*) FROM _strata.tasks GROUP BY ALL ORDER BY ALL")))
		return strings.Join(lines, "\n")
	}
	one, two := run(1), run(2)
	if one != two {
		t.Errorf("one connection:\n%s\n\ntwo:\n%s", one, two)
	}
	if !strings.Contains(one, "boom on the 4th") || !strings.Contains(one, "[[d0 8] [d1 7] [d2 7]]") {
		t.Errorf("want the 4th's error and the other windows built:\n%s", one)
	}
}
