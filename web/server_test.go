package web_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/scheduler"
	"github.com/stratadata/strata/web"
	"github.com/stratadata/strata/web/api"
)

// serve starts the API on a real loopback server over a real warehouse and scheduler.
func serve(t *testing.T, token string) (*api.Client, string) {
	t.Helper()
	dir := testproj.Write(t, map[string]string{
		"strata.yml":   "name: p\nwarehouse:\n  path: p.duckdb\nschedules:\n  nightly: {select: daily, cron: \"0 2 * * *\"}\n",
		"models/a.sql": "{{ config(materialized='table') }}\nselect 1 as x",
		"models/daily.sql": `{{ config(materialized='partitioned', partition_by={'column': 'day', 'granularity': 'day'}, start='2024-01-01') }}
select {{ partition_start }} as day`,
	})
	p, g := testgraph.Load(t, dir)
	w, err := engine.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	reg := prometheus.NewRegistry()
	s, err := scheduler.New(p, g, w, scheduler.Options{NoCron: true, Metrics: scheduler.NewMetrics(reg)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(time.Minute) })
	srv := httptest.NewServer((&web.Server{Project: p, Graph: g, Warehouse: w, Scheduler: s, Token: token, Gatherer: reg}).Handler())
	t.Cleanup(srv.Close)
	return api.NewClient(srv.URL, token), srv.URL
}

func TestAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, base := serve(t, "")
	if h, err := c.Health(ctx); err != nil || h.Status != "ok" || h.Project != "p" {
		t.Fatalf("health = %+v, %v", h, err)
	}

	// a run: queued (202), its events streamed as --json prints them, then recorded
	j, err := c.Submit(ctx, api.RunRequest{Command: engine.CommandRun, Select: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	if err := c.Events(ctx, j.ID, func(event string, data []byte) error {
		events = append(events, event+" "+string(data))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || !strings.HasPrefix(events[0], `task {"event":"task","run_id":"`+j.ID) || !strings.Contains(events[1], `"status":"success"`) {
		t.Fatalf("events:\n%s", strings.Join(events, "\n"))
	}
	d, err := c.Run(ctx, j.ID)
	if err != nil || d.Run == nil || d.Run.Status != "success" || len(d.Tasks) != 1 {
		t.Fatalf("run detail = %+v, %v", d, err)
	}
	if _, err := c.Run(ctx, "no-such-run"); !isStatus(err, http.StatusNotFound) {
		t.Errorf("an unknown run: %v", err)
	}

	// bad requests: 400 with the CLI's message, by the error's type
	_, err = c.Submit(ctx, api.RunRequest{Command: "frobnicate"})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Kind != "usage" || !strings.Contains(ae.Message, `unknown command "frobnicate"`) {
		t.Errorf("an unknown command: %+v", err)
	}
	_, _, err = c.Backfill(ctx, api.RunRequest{Select: []string{"daily"}, From: "2024-02-01", To: "2024-01-01"})
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Field != "from" {
		t.Errorf("a bad range: %+v", err)
	}
	_, plan, err := c.Backfill(ctx, api.RunRequest{Select: []string{"daily"}, From: "2024-01-01", To: "2024-01-03", DryRun: true})
	if err != nil || plan.Run != 3 || len(plan.Tasks) != 3 || plan.Tasks[0].Key != "daily@2024-01-01T00:00:00Z" {
		t.Errorf("a dry run: %+v, %v", plan, err)
	}
	if _, err := c.Query(ctx, api.QueryRequest{SQL: "drop table a"}); !isStatus(err, 400) {
		t.Errorf("a write as a query: %v", err)
	}
	q, err := c.Query(ctx, api.QueryRequest{SQL: "select x from a"})
	if err != nil || len(q.Rows) != 1 || engine.Cell(q.Rows[0].Values[0]) != "1" {
		t.Errorf("a query: %+v, %v", q, err)
	}
	if _, err := c.ScheduleAction(ctx, "nope", "pause"); !isStatus(err, 404) {
		t.Errorf("pausing an unknown schedule: %v", err)
	}
	if _, err := c.ScheduleAction(ctx, "nightly", "pause"); err != nil {
		t.Errorf("pause: %v", err)
	}
	st, err := c.Status(ctx)
	if err != nil || !st.Server || len(st.Schedules) != 1 || !st.Schedules[0].Paused {
		t.Errorf("status = %+v, %v", st, err)
	}
	fires, err := c.Upcoming(ctx, 48*time.Hour)
	if err != nil || len(fires) < 2 || !fires[len(fires)-1].Paused {
		t.Errorf("upcoming = %+v, %v", fires, err)
	}
	if y, err := c.Why(ctx, "daily@2024-01-02"); err != nil || y.Status != "missing" {
		t.Errorf("why = %+v, %v", y, err)
	}
	if parts, err := c.Partitions(ctx, []string{"daily"}, nil, "2024-01-01", "2024-01-02", true); err != nil || len(parts) != 1 || parts[0].Counts["missing"] != 2 {
		t.Errorf("partitions = %+v, %v", parts, err)
	}
	if r, err := c.Check(ctx); err != nil || !r.OK || r.Models != 2 {
		t.Errorf("check = %+v, %v", r, err)
	}

	// unknown endpoints, and the metrics (two runs: a, and the interval the nightly
	// schedule owed when it started)
	resp, err := http.Get(base + "/api/v1/nope")
	if err != nil || resp.StatusCode != 404 {
		t.Errorf("an unknown endpoint: %v %v", resp.StatusCode, err)
	}
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`strata_runs_total{status="success"} 2`, `strata_tasks_total{status="success"} 2`,
		"strata_queued_to_started_seconds_bucket", `strata_queue_depth{priority="low"} 0`, "strata_task_duration_seconds_count 2"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}

func isStatus(err error, status int) bool {
	var ae *api.Error
	return errors.As(err, &ae) && ae.Status == status
}

// TestToken: with a token set, every write needs it; reads do not.
func TestToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, base := serve(t, "s3cret")
	anon := api.NewClient(base, "")
	if _, err := anon.Submit(ctx, api.RunRequest{Command: engine.CommandRun, Select: []string{"a"}}); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("a write without the token: %v", err)
	}
	if _, err := anon.Status(ctx); err != nil {
		t.Errorf("a read without the token: %v", err)
	}
	if _, err := api.NewClient(base, "wrong").Submit(ctx, api.RunRequest{Command: engine.CommandRun, Select: []string{"a"}}); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("a write with a wrong token: %v", err)
	}
	if _, err := c.Submit(ctx, api.RunRequest{Command: engine.CommandRun, Select: []string{"a"}}); err != nil {
		t.Errorf("a write with the token: %v", err)
	}
}

// TestVerifyEndpoint: POST /verify/{model} refuses a model that is not CDC with 400 and
// says which models are.
func TestVerifyEndpoint(t *testing.T) {
	t.Parallel()
	c, _ := serve(t, "")
	_, err := c.Verify(context.Background(), "a", false)
	if !isStatus(err, http.StatusBadRequest) || !strings.Contains(err.Error(), `"a" is not a CDC model`) {
		t.Fatalf("verify of a table: %v", err)
	}
}
