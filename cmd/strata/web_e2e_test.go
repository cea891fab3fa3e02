package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/stratadata/strata/internal/gen"
	"github.com/stratadata/strata/web/api"
)

// TestWebLineage opens the lineage explorer on the shop example in Chromium: the focused
// neighbourhood's nodes and edges, refocusing by a click, a node's columns, and a
// column's highlighted path.
func TestWebLineage(t *testing.T) {
	b := newBrowser(t)
	dir := shopCopy(t)
	if out, errOut, code := cli(t, "-C", dir, "build"); code != 0 {
		t.Fatalf("build: %d\n%s%s", code, out, errOut)
	}
	s := startServe(t, dir)

	b.open(s.url + "/lineage?focus=orders&up=1&down=1")
	nodes := b.strings(`[...document.querySelectorAll("svg.lineage [data-node]")].map(e => e.dataset.node).sort()`)
	if want := []string{"customers", "monthly_revenue", "orders", "stg_orders", "stg_payments"}; !slices.Equal(nodes, want) {
		t.Errorf("nodes around orders at depth 1: %v, want %v", nodes, want)
	}
	edges := b.strings(`[...document.querySelectorAll("svg.lineage path.edge")].map(e => e.dataset.edge).sort()`)
	if want := []string{"orders->customers", "orders->monthly_revenue", "stg_orders->orders", "stg_payments->orders"}; !slices.Equal(edges, want) {
		t.Errorf("edges: %v, want %v", edges, want)
	}
	if st := eval[string](b, `document.querySelector('[data-node="orders"]').dataset.status`); st != "ok" {
		t.Errorf("orders was built: its status is %q, want ok", st)
	}
	b.screenshot("lineage")

	// a click on a node focuses the explorer on it
	b.do("click customers", chromedp.Click(`[data-node="customers"] a.refocus`), chromedp.WaitVisible(`[data-node="customers"].focus`))
	if loc := eval[string](b, "location.search"); !strings.Contains(loc, "focus=customers") {
		t.Errorf("after the click the URL is %q, want focus=customers", loc)
	}

	// expand orders and stg_payments, then click orders.amount
	b.open(s.url + "/lineage?focus=orders&up=2&down=1")
	b.do("expand orders", chromedp.Click(`[data-toggle="orders"]`), chromedp.WaitVisible(`[data-column="orders.amount"]`))
	b.do("expand stg_payments", chromedp.Click(`[data-toggle="stg_payments"]`), chromedp.WaitVisible(`[data-column="stg_payments.amount"]`))
	b.do("expand raw_payments", chromedp.Click(`[data-toggle="raw_payments"]`), chromedp.WaitVisible(`[data-column="raw_payments.amount_cents"]`))
	b.do("click orders.amount", chromedp.Click(`[data-column="orders.amount"]`), chromedp.WaitVisible(`[data-column="orders.amount"].lit`))
	lit := b.strings(`[...document.querySelectorAll("svg.lineage [data-column].lit")].map(e => e.dataset.column).sort()`)
	// what the highlight must be: the column and its upstream columns among those shown,
	// as the API's column lineage gives them
	shown := b.strings(`[...document.querySelectorAll("svg.lineage [data-column]")].map(e => e.dataset.column)`)
	want := []string{"orders.amount"}
	for _, c := range upstreamColumns(t, s.url, "orders.amount") {
		if slices.Contains(shown, c) {
			want = append(want, c)
		}
	}
	slices.Sort(want)
	if !slices.Equal(lit, want) {
		t.Errorf("lit columns after clicking orders.amount: %v, want %v", lit, want)
	}
	if !slices.Contains(lit, "stg_payments.amount") || !slices.Contains(lit, "raw_payments.amount_cents") {
		t.Errorf("orders.amount comes from stg_payments.amount and raw_payments.amount_cents: lit %v", lit)
	}
	if slices.Contains(lit, "orders.order_date") {
		t.Errorf("orders.order_date is not on orders.amount's path: lit %v", lit)
	}
	if n := eval[int](b, `document.querySelectorAll("svg.lineage path.cedge.lit").length`); n == 0 {
		t.Error("no column edge is lit")
	}
	b.screenshot("lineage-columns")

	// a page loaded with the column in its URL lights the same columns, without a click
	loc := eval[string](b, "location.href")
	b.open(loc)
	if again := b.strings(`[...document.querySelectorAll("svg.lineage [data-column].lit")].map(e => e.dataset.column).sort()`); !slices.Equal(again, lit) {
		t.Errorf("reloading %s lights %v, the click lit %v", loc, again, lit)
	}

	// column mode draws every node's columns
	b.open(s.url + "/lineage?focus=orders&mode=column")
	if n := eval[int](b, `document.querySelectorAll('[data-column^="customers."]').length`); n == 0 {
		t.Error("column mode shows no column of customers")
	}
	// a selector draws what it selects
	b.open(s.url + "/lineage?select=%2Borders")
	nodes = b.strings(`[...document.querySelectorAll("svg.lineage [data-node]")].map(e => e.dataset.node).sort()`)
	if want := []string{"orders", "raw_orders", "raw_payments", "stg_orders", "stg_payments"}; !slices.Equal(nodes, want) {
		t.Errorf("+orders draws %v, want %v", nodes, want)
	}
	// the SVG export is the same drawing
	resp, err := http.Get(s.url + "/lineage.svg?focus=orders")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("lineage.svg: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// the model page
	b.open(s.url + "/models/orders")
	text := eval[string](b, "document.querySelector('main').innerText")
	for _, want := range []string{"One row per order", "credit_card_amount", "DOUBLE", "stg_payments", "Compiled SQL", "success"} {
		if !strings.Contains(text, want) {
			t.Errorf("the model page of orders lacks %q", want)
		}
	}
	b.screenshot("model")
	for _, page := range []string{"/", "/?q=amount", "/runs", "/schedules", "/lineage"} {
		b.open(s.url + page)
	}
	b.noErrors()
}

// upstreamColumns is every column a column comes from, through the API.
func upstreamColumns(t *testing.T, base, col string) []string {
	t.Helper()
	l, err := api.NewClient(base, "").Lineage(context.Background(), col, -1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range l.Column.Columns {
		name := strings.TrimPrefix(c.Node, "source:") + "." + c.Column
		if name != col {
			out = append(out, name)
		}
	}
	return out
}

// partitionProject is a daily model whose 2024-01-03 partition fails, and a model that
// reads it.
func partitionProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"strata.yml": "name: daily_shop\nwarehouse:\n  path: warehouse.duckdb\n",
		"models/daily.sql": `{{ config(materialized='partitioned', partition_by={'column': 'day', 'granularity': 'day'}, start='2024-01-01') }}
select {{ partition_start }} as day,
  case when {{ partition_start }} = timestamp '2024-01-03' then error('the 3rd has no data') else 1 end as orders
`,
		"models/weekly.sql": "select count(*) as days, sum(orders) as orders from {{ ref('daily') }}\n",
	}
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestWebPartitions opens a partitioned model's heatmap: a failed partition says why and
// which run tried it, a range picked on the heatmap shows its backfill's plan, and the
// launched backfill builds those partitions; the failed run's page shows the error.
func TestWebPartitions(t *testing.T) {
	b := newBrowser(t)
	dir := partitionProject(t)
	if _, _, code := cli(t, "-C", dir, "backfill", "daily", "--from", "2024-01-01", "--to", "2024-01-05"); code == 0 {
		t.Fatal("the backfill should fail on 2024-01-03")
	}
	s := startServe(t, dir)

	b.open(s.url + "/models/daily/partitions")
	title := eval[string](b, `document.querySelector('[data-partition="2024-01-03"]').title`)
	if !strings.Contains(title, "failed") || !strings.Contains(title, "the 3rd has no data") {
		t.Errorf("the failed partition's title is %q: want its status and its error", title)
	}
	if st := eval[string](b, `document.querySelector('[data-partition="2024-01-02"]').dataset.status`); st != "done" {
		t.Errorf("2024-01-02 is %q, want done", st)
	}
	b.screenshot("partitions")

	// pick 2024-01-06 → 2024-01-08 on the heatmap and ask for the plan
	b.do("pick the range",
		chromedp.Click(`[data-partition="2024-01-06"]`),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
				const c = document.querySelector('[data-partition="2024-01-08"]');
				c.dispatchEvent(new MouseEvent("click", {bubbles: true, shiftKey: true}));
				return true })()`))
			return err
		}))
	if from, to := eval[string](b, `document.querySelector('[data-range-from]').value`), eval[string](b, `document.querySelector('[data-range-to]').value`); from != "2024-01-06" || to != "2024-01-08" {
		t.Fatalf("the picked range is %q → %q", from, to)
	}
	b.do("plan", chromedp.Click(`button[name="plan"]`), chromedp.WaitVisible(`[data-plan]`))
	if run := eval[string](b, `document.querySelector('[data-plan-run]').textContent`); run != "3" {
		t.Errorf("the plan runs %s tasks, want 3 (the 6th, 7th and 8th)", run)
	}
	b.screenshot("backfill-plan")
	b.do("launch", chromedp.Click(`[data-launch]`), chromedp.WaitReady(`main`))
	b.waitFor("the backfill to finish", `!!document.querySelector('[data-run-status="success"]')`)
	b.screenshot("backfill-run")

	b.open(s.url + "/models/daily/partitions")
	for _, day := range []string{"2024-01-06", "2024-01-07", "2024-01-08"} {
		if st := eval[string](b, fmt.Sprintf(`document.querySelector('[data-partition=%q]').dataset.status`, day)); st != "done" {
			t.Errorf("after the backfill %s is %q, want done", day, st)
		}
	}

	// the failed run's page shows the error, the model's file and its compiled SQL
	var runs []struct {
		RunID  string `json:"run_id"`
		Status string `json:"status"`
	}
	getJSON(t, s.url+"/api/v1/runs", &runs)
	failed := ""
	for _, r := range runs {
		if r.Status == "error" {
			failed = r.RunID
		}
	}
	if failed == "" {
		t.Fatalf("no failed run in %+v", runs)
	}
	b.open(s.url + "/runs/" + failed)
	text := eval[string](b, "document.querySelector('main').innerText")
	for _, want := range []string{"the 3rd has no data", "models/daily.sql", "Timeline"} {
		if !strings.Contains(text, want) {
			t.Errorf("the failed run's page lacks %q:\n%s", want, text)
		}
	}
	if n := eval[int](b, `document.querySelectorAll('[data-failed="daily"] pre.sql').length`); n != 1 {
		t.Errorf("the failed task shows %d compiled SQL blocks, want 1", n)
	}
	b.screenshot("run-failed")

	// the launched backfill's own page: its progress, done
	var bfs []struct {
		ID   string `json:"backfill_id"`
		From string `json:"from"`
	}
	getJSON(t, s.url+"/api/v1/backfills", &bfs)
	launched := ""
	for _, bf := range bfs {
		if strings.HasPrefix(bf.From, "2024-01-06") {
			launched = bf.ID
		}
	}
	if launched == "" {
		t.Fatalf("no backfill from 2024-01-06 in %+v", bfs)
	}
	b.open(s.url + "/backfills/" + launched)
	if text := eval[string](b, "document.querySelector('main').innerText"); !strings.Contains(text, "3 of 3 done") {
		t.Errorf("the backfill's page says:\n%s", text)
	}
	for _, page := range []string{"/runs", "/schedules", "/models/daily", "/models/weekly", "/lineage?focus=daily&mode=column"} {
		b.open(s.url + page)
	}
	b.noErrors()
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// TestWebTimeToInteractive measures the lineage page of a 10,000-model project in
// Chromium (STRATA_WEB_BENCH=1; a figure, not a pass/fail threshold): when its document
// is interactive and when it has loaded, on a first layout and on a warm one.
func TestWebTimeToInteractive(t *testing.T) {
	if os.Getenv("STRATA_WEB_BENCH") == "" {
		t.Skip("a measurement: set STRATA_WEB_BENCH=1")
	}
	b := newBrowser(t)
	dir := t.TempDir()
	if err := gen.Write(dir, gen.Options{Models: 10000, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, dir)
	for _, depth := range []string{"2", "6", "50"} {
		for _, round := range []string{"first", "warm"} {
			b.open(s.url + "/lineage?focus=" + gen.Name(5000) + "&up=" + depth + "&down=" + depth)
			timing := eval[map[string]float64](b, `(() => { const n = performance.getEntriesByType("navigation")[0];
				return {interactive: n.domInteractive, loaded: n.loadEventEnd, bytes: n.transferSize,
					nodes: document.querySelectorAll("[data-node]").length} })()`)
			t.Logf("depth %s, %s layout: interactive at %.0f ms, loaded at %.0f ms, %.0f bytes over the wire, %.0f nodes",
				depth, round, timing["interactive"], timing["loaded"], timing["bytes"], timing["nodes"])
		}
	}
}
