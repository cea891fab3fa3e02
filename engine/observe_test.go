package engine_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/internal/testproj"
)

// TestWireShapes pins the JSON of a task event, a run summary and a query result: the
// one definition --json, the API and MCP all print.
func TestWireShapes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := testproj.Write(t, map[string]string{
		"strata.yml": "name: p\nwarehouse:\n  path: p.duckdb\n",
		"models/daily.sql": `{{ config(materialized='partitioned', partition_by={'column': 'day', 'granularity': 'day'}, start='2024-01-01') }}
select {{ partition_start }} as day, 7 as n`,
	})
	_, g := testgraph.Load(t, dir)
	plan, err := engine.NewPlan(g, engine.PlanOptions{Command: engine.CommandRun, Now: time.Date(2024, 1, 2, 1, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var events []engine.Event
	res, err := engine.Run(ctx, nil, plan, engine.RunOptions{Observers: []engine.Observer{engine.ObserverFunc(func(e engine.Event) {
		events = append(events, e)
	})}})
	if err != nil || res.Failed() {
		t.Fatalf("run: %v %v", err, res)
	}
	var kinds []engine.EventKind
	for _, e := range events {
		kinds = append(kinds, e.Kind)
	}
	if diff := cmp.Diff([]engine.EventKind{engine.EventRunStarted, engine.EventTaskStarted, engine.EventTaskFinished, engine.EventRunFinished}, kinds); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}

	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tk := plan.Tasks[0]
	tk.Started, tk.Ended = at, at.Add(1500*time.Millisecond)
	got, _ := json.Marshal(engine.NewTaskJSON(engine.Event{Kind: engine.EventTaskFinished, RunID: "r1", Task: tk, Done: 1, Total: 1}))
	want := `{"event":"task","run_id":"r1","key":"daily@2024-01-01T00:00:00Z","node":"daily","path":"models/daily.sql","resource":"model","materialized":"partitioned",` +
		`"relation":"\"main\".\"daily\"","partition":"2024-01-01","status":"success","rows":1,"attempts":1,` +
		`"started_at":"2024-01-02T03:04:05Z","ended_at":"2024-01-02T03:04:06.5Z","duration_s":1.5,"done":1,"total":1}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("task JSON (-want +got):\n%s", diff)
	}

	res.RunID, res.Started, res.Ended = "r1", at, at.Add(2*time.Second)
	got, _ = json.Marshal(engine.NewRunJSON(res))
	want = `{"event":"done","run_id":"r1","command":"run","selector":"","status":"success","tasks":1,` +
		`"counts":{"cancelled":0,"error":0,"fail":0,"pass":0,"pending":0,"skipped":0,"success":1,"waiting_upstream":0,"warn":0},"duration_s":2}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("run JSON (-want +got):\n%s", diff)
	}

	p, _ := testgraph.Load(t, dir)
	w, err := engine.Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	q, err := w.ReadQuery(ctx, "select day, n, null as nothing, [1, 2] as list from daily", engine.QueryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = json.Marshal(q)
	want = `{"columns":[{"name":"day","type":"TIMESTAMP"},{"name":"n","type":"INTEGER"},{"name":"nothing","type":"INTEGER"},{"name":"list","type":"INTEGER[]"}],` +
		`"rows":[{"day":"2024-01-01","n":7,"nothing":null,"list":[1,2]}],"truncated":false}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("query JSON (-want +got):\n%s", diff)
	}
	empty, err := w.ReadQuery(ctx, "select 1 as x where false", engine.QueryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(empty); string(got) != `{"columns":[{"name":"x","type":"INTEGER"}],"rows":[],"truncated":false}` {
		t.Errorf("an empty result: %s (rows must be [], never null)", got)
	}
	for _, f := range []func() (any, error){
		func() (any, error) { return w.Runs(ctx, 0) },
		func() (any, error) { return w.RunTasks(ctx, "none") },
		func() (any, error) { return w.Backfills(ctx, "none") },
		func() (any, error) { return w.BackfillTasks(ctx, "none") },
	} {
		v, err := f()
		if got, _ := json.Marshal(v); err != nil || string(got) != "[]" {
			t.Errorf("an empty list is %s (%v), want []", got, err)
		}
	}
}

// TestInMemoryWarehouse: a project whose warehouse is in memory (a dbt profile without a
// path) runs on several threads: its connections share one database.
func TestInMemoryWarehouse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := testproj.Write(t, map[string]string{
		"strata.yml":   "name: p\nwarehouse:\n  path: ':memory:'\n",
		"models/a.sql": "{{ config(materialized='table') }}\nselect 1 as x",
		"models/b.sql": "{{ config(materialized='table') }}\nselect 2 as x",
		"models/c.sql": "select * from {{ ref('a') }} union all select * from {{ ref('b') }}",
	})
	p, g := testgraph.Load(t, dir)
	w, err := engine.Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	plan, err := engine.NewPlan(g, engine.PlanOptions{Command: engine.CommandRun})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, err := engine.Run(ctx, w, plan, engine.RunOptions{Threads: 4})
		if err != nil || res.Failed() {
			t.Errorf("run: %v %v", err, res)
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("a run on an in-memory warehouse did not finish: its connections wait on each other")
	}
	if n := queryInt(t, w, "select count(*) from c"); n != 2 {
		t.Errorf("c has %d rows, want 2", n)
	}
}
