package mcp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/mcp"
	"github.com/stratadata/strata/scheduler"
	"github.com/stratadata/strata/web"
	"github.com/stratadata/strata/web/api"
)

type started struct {
	ID, State string
	RunID     string `json:"run_id"`
	Result    *struct {
		Status   string
		Selector string
		Tasks    int
		Counts   map[string]int
	}
	Note string
}

type planned struct {
	PlanID string `json:"plan_id"`
	Run    int
}

// updates collects the resource-updated notifications a client hears.
func updates() (*sdk.ClientOptions, chan string) {
	ch := make(chan string, 100)
	return &sdk.ClientOptions{ResourceUpdatedHandler: func(_ context.Context, r *sdk.ResourceUpdatedNotificationRequest) {
		ch <- r.Params.URI
	}}, ch
}

func waitFor(t *testing.T, ch chan string, uri string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case got := <-ch:
			if got == uri {
				return
			}
		case <-timeout:
			t.Fatalf("no notification for %s", uri)
		}
	}
}

func TestWriteTools(t *testing.T) {
	t.Parallel()
	f := load(t, project)
	f.build(t)
	copts, notes := updates()
	cs := connect(t, localServer(t, f, true), copts)
	ctx := context.Background()
	if err := cs.Subscribe(ctx, &sdk.SubscribeParams{URI: "strata://models/daily_payments"}); err != nil {
		t.Fatal(err)
	}

	// a plan, then exactly that plan: the two missing days
	pl := call[planned](t, cs, "plan_backfill", map[string]any{"select": "daily_payments", "from": "2024-01-05", "to": "2024-01-06"})
	if pl.Run != 2 {
		t.Fatalf("plan: %+v", pl)
	}
	st := call[started](t, cs, "run_backfill", map[string]any{"plan_id": pl.PlanID})
	if st.State != "finished" || st.Result == nil || st.Result.Status != "success" || st.Result.Counts["success"] != 2 {
		t.Fatalf("run_backfill: %+v", st)
	}
	waitFor(t, notes, "strata://models/daily_payments")
	callErr(t, cs, "run_backfill", map[string]any{"plan_id": pl.PlanID}, "unknown plan_id") // a plan runs once

	// a plan that went stale meanwhile runs nothing
	a := call[planned](t, cs, "plan_backfill", map[string]any{"select": "daily_payments", "from": "2024-01-07", "to": "2024-01-08"})
	b := call[planned](t, cs, "plan_backfill", map[string]any{"select": "daily_payments", "from": "2024-01-07", "to": "2024-01-08"})
	call[started](t, cs, "run_backfill", map[string]any{"plan_id": b.PlanID})
	callErr(t, cs, "run_backfill", map[string]any{"plan_id": a.PlanID}, "the plan changed since plan_backfill: it would now run 0 tasks, not 2")
	callErr(t, cs, "run_backfill", map[string]any{"plan_id": "p1"}, "call plan_backfill first")

	st = call[started](t, cs, "run_models", map[string]any{"select": "revenue"})
	if st.Result == nil || st.Result.Status != "success" || st.Result.Tasks != 1 || st.Result.Selector != "revenue" {
		t.Errorf("run_models: %+v", st)
	}
	callErr(t, cs, "run_models", map[string]any{"select": ""}, "whole project")
	callErr(t, cs, "run_models", map[string]any{"select": "revenue", "command": "backfill"}, "plan_backfill")
	callErr(t, cs, "run_models", map[string]any{"select": "nosuch"}, "nosuch")
}

// served is serve's MCP endpoint on a real loopback HTTP server, over its warehouse and
// scheduler; client is the API client of the same server.
func served(t *testing.T, writes bool) (endpoint string, client *api.Client, f fixture) {
	t.Helper()
	f = load(t, project)
	ctx := context.Background()
	w, err := engine.Open(ctx, f.p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	agents := mcp.New(mcp.Options{Project: f.p, Graph: f.g, AllowWrites: writes,
		Analyze: func(ctx context.Context) (*lineage.Catalog, error) {
			return lineage.Analyze(ctx, f.p, f.g, lineage.AnalyzeOptions{SourceColumns: w.TableColumns})
		}})
	s, err := scheduler.New(f.p, f.g, w, scheduler.Options{NoCron: true, Metrics: scheduler.NewMetrics(prometheus.NewRegistry()),
		Observers: []engine.Observer{agents.Observer()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(time.Minute) })
	agents.SetBackend(mcp.Served{Project: f.p, Graph: f.g, Warehouse: w, Scheduler: s})
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return agents.MCP() }, nil)
	srv := httptest.NewServer((&web.Server{Project: f.p, Graph: f.g, Warehouse: w, Scheduler: s, Gatherer: prometheus.NewRegistry(),
		Mounts: map[string]http.Handler{"/mcp": h}}).Handler())
	t.Cleanup(srv.Close)
	return srv.URL + "/mcp", api.NewClient(srv.URL, ""), f
}

func TestServedOverHTTP(t *testing.T) {
	t.Parallel()
	endpoint, c, _ := served(t, true)
	ctx := context.Background()
	copts, notes := updates()
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "test", Version: "1"}, copts).Connect(ctx, &sdk.StreamableClientTransport{Endpoint: endpoint}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if err := cs.Subscribe(ctx, &sdk.SubscribeParams{URI: "strata://models/revenue"}); err != nil {
		t.Fatal(err)
	}
	st := call[started](t, cs, "run_models", map[string]any{"select": "+revenue", "command": "build"})
	if st.State != "queued" || st.ID == "" {
		t.Fatalf("run_models on a server is queued: %+v", st)
	}
	waitFor(t, notes, "strata://models/revenue") // the scheduler's run, heard through the observer
	if err := c.Events(ctx, st.ID, func(string, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	r := call[struct {
		Rows [][]any
	}](t, cs, "query", map[string]any{"sql": "select revenue from revenue"})
	if len(r.Rows) != 1 || r.Rows[0][0].(float64) != 7.5 {
		t.Errorf("query through serve: %+v", r)
	}
	callErr(t, cs, "query", map[string]any{"sql": "drop table revenue"}, "not allowed")
	if runs := call[struct{ Runs []engine.RunRecord }](t, cs, "list_runs", nil); len(runs.Runs) != 1 || runs.Runs[0].Status != "success" {
		t.Errorf("runs: %+v", runs)
	}
	if l := call[struct{ Model *struct{ Total int } }](t, cs, "get_lineage", map[string]any{"node": "revenue"}); l.Model == nil || l.Model.Total < 3 {
		t.Errorf("get_lineage: %+v", l)
	}
}

// TestRemote is `strata mcp` with a running server: every call goes through its API.
func TestRemote(t *testing.T) {
	t.Parallel()
	_, c, f := served(t, false)
	ctx := context.Background()
	s := mcp.New(mcp.Options{Project: f.p, Graph: f.g, AllowWrites: true, Backend: mcp.Remote{Client: c}, Poll: 50 * time.Millisecond})
	ct, st := sdk.NewInMemoryTransports()
	go s.Run(ctx, st)
	copts, notes := updates()
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "test", Version: "1"}, copts).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if err := cs.Subscribe(ctx, &sdk.SubscribeParams{URI: "strata://models/daily_payments"}); err != nil {
		t.Fatal(err)
	}
	seed := call[started](t, cs, "run_models", map[string]any{"select": "raw_payments", "command": "seed"})
	if err := c.Events(ctx, seed.ID, func(string, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	pl := call[planned](t, cs, "plan_backfill", map[string]any{"select": "+daily_payments", "from": "2024-01-01", "to": "2024-01-02"})
	if pl.Run != 3 { // the view, two days
		t.Fatalf("plan through the API: %+v", pl)
	}
	run := call[started](t, cs, "run_backfill", map[string]any{"plan_id": pl.PlanID})
	// the server may have started it by the time it answers
	if (run.State != "queued" && run.State != "running") || !strings.Contains(run.Note, "queued") {
		t.Fatalf("run_backfill on a server: %+v", run)
	}
	waitFor(t, notes, "strata://models/daily_payments") // heard by following the run history
	type parts struct {
		Models []struct{ Counts map[string]int }
	}
	if p := call[parts](t, cs, "get_partitions", map[string]any{"select": "daily_payments", "from": "2024-01-01", "to": "2024-01-02"}); len(p.Models) != 1 || p.Models[0].Counts["done"] != 2 {
		t.Errorf("partitions through the API: %+v", p)
	}
	d := call[struct{ Advice string }](t, cs, "diagnose_run", map[string]any{"run_id": run.ID})
	if !strings.Contains(d.Advice, "succeeded") {
		t.Errorf("diagnose a good run: %+v", d)
	}
	callErr(t, cs, "query", map[string]any{"sql": "select * from read_csv('/etc/passwd')"}, "outside this project")
}
