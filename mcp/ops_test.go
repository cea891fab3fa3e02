package mcp_test

import (
	"context"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/stratadata/strata/engine"
)

func TestPartitionsRunsDiagnose(t *testing.T) {
	t.Parallel()
	f := load(t, project)
	cs := connect(t, localServer(t, f, false), nil)

	// before anything is built: answers, and no warehouse appears
	if r := call[struct{ Runs []any }](t, cs, "list_runs", nil); len(r.Runs) != 0 {
		t.Errorf("runs before any: %+v", r)
	}
	callErr(t, cs, "query", map[string]any{"sql": "select 1"}, "nothing has been built")
	callErr(t, cs, "diagnose_run", nil, "no failed run")

	f.build(t)
	type parts struct {
		Models []struct {
			Model  string
			Counts map[string]int
			Ranges []struct {
				Status, From, To, Why string
				Count                 int
			}
		}
	}
	p := call[parts](t, cs, "get_partitions", map[string]any{"select": "daily_checked", "from": "2024-01-01", "to": "2024-01-06"})
	if len(p.Models) != 1 {
		t.Fatalf("partitions: %+v", p)
	}
	got := []string{}
	for _, r := range p.Models[0].Ranges {
		got = append(got, r.Status+" "+r.From+".."+r.To)
	}
	if strings.Join(got, ", ") != "done 2024-01-01..2024-01-02, failed 2024-01-03..2024-01-03, done 2024-01-04..2024-01-04, missing 2024-01-05..2024-01-06" {
		t.Errorf("ranges: %v", got)
	}
	if !strings.Contains(p.Models[0].Ranges[1].Why, "Conversion Error") || p.Models[0].Counts["failed"] != 1 {
		t.Errorf("the failed range says why: %+v", p.Models[0])
	}
	if p := call[parts](t, cs, "get_partitions", map[string]any{"status": "failed"}); len(p.Models) != 2 || len(p.Models[0].Ranges)+len(p.Models[1].Ranges) != 1 {
		t.Errorf("status failed: %+v", p)
	}
	callErr(t, cs, "get_partitions", map[string]any{"status": "late"}, "use done, missing")

	type diag struct {
		Run    engine.RunRecord
		Failed []struct {
			Node, Partition, File, Error string
			Line                         int
		}
		Skipped  []string
		Backfill *struct{ Select, From, To, Command string }
		Advice   string
	}
	d := call[diag](t, cs, "diagnose_run", nil)
	if d.Run.Status != "error" || len(d.Failed) != 1 {
		t.Fatalf("diagnose: %+v", d)
	}
	fl := d.Failed[0]
	if fl.Node != "daily_checked" || fl.Partition != "2024-01-03" || fl.File != "models/daily/daily_checked.sql" || fl.Line != 3 {
		t.Errorf("the failure at its file and line: %+v", fl)
	}
	if d.Backfill == nil || d.Backfill.Select != "daily_checked+" || d.Backfill.From != "2024-01-03" || d.Backfill.To != "2024-01-03" ||
		!strings.HasPrefix(d.Backfill.Command, "strata backfill daily_checked+ --from 2024-01-03") {
		t.Errorf("what to backfill: %+v", d.Backfill)
	}
	callErr(t, cs, "diagnose_run", map[string]any{"run_id": "nosuch"}, "nosuch")

	type plan struct {
		PlanID string `json:"plan_id"`
		Run    int
		Skip   int
		Tasks  []struct{ Key, Node, Partition, Action, Reason string }
		Note   string
	}
	pl := call[plan](t, cs, "plan_backfill", map[string]any{"select": d.Backfill.Select, "from": d.Backfill.From, "to": "2024-01-04"})
	if pl.PlanID == "" || pl.Run != 1 || pl.Skip != 1 || pl.Tasks[0].Node != "daily_checked" || pl.Tasks[0].Partition != "2024-01-03" ||
		!strings.Contains(pl.Note, "strata backfill") {
		t.Errorf("plan: %+v", pl)
	}
	if r := call[struct{ Runs []engine.RunRecord }](t, cs, "list_runs", nil); len(r.Runs) != 2 {
		t.Errorf("plan_backfill ran something: %+v", r.Runs)
	}
	callErr(t, cs, "plan_backfill", map[string]any{"select": "daily_checked", "from": "2024-01-05"}, `"to"`)
	callErr(t, cs, "plan_backfill", map[string]any{"select": "daily_checked", "from": "yesterday", "to": "2024-01-05"}, "yesterday")

	if r := call[struct{ Runs []engine.RunRecord }](t, cs, "list_runs", map[string]any{"status": "error", "limit": 5}); len(r.Runs) != 1 || r.Runs[0].Backfill == "" {
		t.Errorf("list_runs status error: %+v", r.Runs)
	}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	f := load(t, project)
	f.build(t)
	cs := connect(t, localServer(t, f, false), nil)

	type result struct {
		Columns   []struct{ Name, Type string }
		Rows      [][]any
		Truncated bool
	}
	r := call[result](t, cs, "query", map[string]any{"sql": "select order_id, revenue from revenue order by order_id"})
	if len(r.Columns) != 2 || r.Columns[1].Name != "revenue" || len(r.Rows) != 1 || r.Rows[0][1].(float64) != 7.5 {
		t.Errorf("query: %+v", r)
	}
	if r := call[result](t, cs, "query", map[string]any{"sql": "select * from range(5000)", "limit": 3}); len(r.Rows) != 3 || !r.Truncated {
		t.Errorf("limit: %+v", r)
	}
	if r := call[result](t, cs, "query", map[string]any{"sql": "select * from range(5000)"}); len(r.Rows) != 100 || !r.Truncated {
		t.Errorf("default limit: %d rows", len(r.Rows))
	}
	if r := call[result](t, cs, "query", map[string]any{"sql": "select repeat('x', 10000) as s"}); len(r.Rows[0][0].(string)) > 600 {
		t.Errorf("a long value is cut: %d", len(r.Rows[0][0].(string)))
	}
	if n := rawSize(t, cs, "query", map[string]any{"sql": "select repeat('x', 400) as a, repeat('y', 400) as b from range(1000)", "limit": 1000}); n > 24000 {
		t.Errorf("a wide result is %d bytes: it must be cut to fit", n)
	}
	if r := call[struct {
		Rows      [][]any
		Truncated bool
		Note      string
	}](t, cs, "query", map[string]any{"sql": "select repeat('x', 400) as a from range(1000)", "limit": 1000}); len(r.Rows) >= 1000 || !r.Truncated || r.Note == "" {
		t.Errorf("cut rows say so: %d rows, truncated %v, note %q", len(r.Rows), r.Truncated, r.Note)
	}
	if r := call[result](t, cs, "query", map[string]any{"sql": "select count(*) from read_csv('seeds/raw_payments.csv')"}); r.Rows[0][0].(float64) != 3 {
		t.Errorf("a file inside the project: %+v", r)
	}

	for _, q := range []string{
		"DROP TABLE revenue",
		"delete from revenue",
		"COPY revenue TO 'out.csv'",
		"ATTACH 'other.duckdb' AS o",
		"INSTALL httpfs",
		"LOAD httpfs",
		"SET threads = 1",
		"PRAGMA threads = 1",
		"select 1; drop table revenue",
		"select 1; select 2",
		"WITH x AS (SELECT 1) DELETE FROM revenue",
		"with d as (delete from revenue returning *) select * from d",
		"CREATE TABLE t AS SELECT 1",
		"select * from read_csv('/etc/passwd')",
		"select * from read_text('../outside.txt')",
		"select * from '/etc/hosts'",
		"select * from query('drop table revenue')",
		"CALL checkpoint()",
		"EXPORT DATABASE 'dump'",
		"select * from revenue; -- nothing after",
	} {
		res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "query", Arguments: map[string]any{"sql": q}})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if !res.IsError {
			if q == "select * from revenue; -- nothing after" {
				continue // one statement with a trailing comment is a read
			}
			t.Errorf("%q was not refused: %s", q, text(res))
		} else if text(res) == "" {
			t.Errorf("%q refused without a message", q)
		}
	}
	if r := call[result](t, cs, "query", map[string]any{"sql": "select count(*) from revenue"}); r.Rows[0][0].(float64) != 1 {
		t.Errorf("the data is not intact: %+v", r)
	}
	callErr(t, cs, "query", map[string]any{"sql": ""}, "sql")
	callErr(t, cs, "query", map[string]any{"sql": "select * from nosuch"}, "nosuch")
	callErr(t, cs, "query", map[string]any{"sql": "select sum(range) from range(100000000000)", "timeout_ms": 50}, "")
}
