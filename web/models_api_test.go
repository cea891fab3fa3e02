package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/scheduler"
	"github.com/stratadata/strata/web"
	"github.com/stratadata/strata/web/api"
)

// serveShop starts a real server on loopback over a copy of examples/shop, its own DuckDB
// warehouse and a scheduler; analyze, when set, replaces the column catalog's builder.
func serveShop(t *testing.T, analyze func(context.Context) (*lineage.Catalog, error)) (*api.Client, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "examples", "shop"))); err != nil {
		t.Fatal(err)
	}
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
	srv := &web.Server{Project: p, Graph: g, Warehouse: w, Scheduler: s, Gatherer: reg, Analyze: analyze}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(context.Background()) })
	return api.NewClient(base, ""), base
}

// getJSON is a raw GET: its status and body.
func getJSON(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func apiError(err error) *api.Error {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae
	}
	return &api.Error{Message: "not an API error: " + err.Error()}
}

func modelNames(l *api.ModelList) []string {
	out := []string{}
	for _, m := range l.Models {
		out = append(out, m.Name)
	}
	return out
}

// TestModelsList: GET /models lists what a selector, a tag or a kind picks, tests aside,
// in dependency order, page by page; a selector that matches nothing is a 400.
func TestModelsList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, base := serveShop(t, nil)

	all, err := c.Models(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if all.Total != 12 || len(all.Models) != 12 || all.NextCursor != "" {
		t.Errorf("every node: total %d, %d listed, next %q; want the 12 seeds and models", all.Total, len(all.Models), all.NextCursor)
	}
	for _, m := range all.Models {
		if m.Type == "test" {
			t.Errorf("a test is listed: %+v", m)
		}
	}

	want := []string{"raw_orders", "raw_payments", "stg_orders", "stg_payments", "orders"}
	l, err := c.Models(ctx, "+orders", 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, modelNames(l)); diff != "" || l.Total != 5 {
		t.Errorf("+orders (total %d) (-want +got):\n%s", l.Total, diff)
	}
	if o := l.Models[4]; o.Type != "model" || o.Materialized != "table" || o.Path != "models/marts/orders.sql" ||
		!strings.HasPrefix(o.Description, "One row per order") || !slices.Equal(o.Tags, []string{"finance"}) {
		t.Errorf("orders = %+v", o)
	}

	// pages of two, following the cursor
	var paged []string
	q := api.ModelQuery{Select: "+orders", Limit: 2}
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("the cursor never ends")
		}
		p, err := c.ListModels(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 5 || len(p.Models) > 2 {
			t.Fatalf("page at %q: total %d, %d listed", q.Cursor, p.Total, len(p.Models))
		}
		paged = append(paged, modelNames(p)...)
		if p.NextCursor == "" {
			break
		}
		q.Cursor = p.NextCursor
	}
	if diff := cmp.Diff(want, paged); diff != "" {
		t.Errorf("paged (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		q    api.ModelQuery
		want []string
	}{
		{api.ModelQuery{Tag: "finance"}, []string{"orders", "monthly_revenue"}},
		{api.ModelQuery{Kind: "incremental"}, []string{"order_items"}},
		{api.ModelQuery{Kind: "seed", Select: "raw_orders+"}, []string{"raw_orders"}},
		{api.ModelQuery{Select: "stg_orders", Kind: "table"}, []string{}},
	} {
		l, err := c.ListModels(ctx, tc.q)
		if err != nil {
			t.Errorf("%+v: %v", tc.q, err)
			continue
		}
		if diff := cmp.Diff(tc.want, modelNames(l)); diff != "" {
			t.Errorf("%+v (-want +got):\n%s", tc.q, diff)
		}
	}
	if status, body := getJSON(t, base+"/api/v1/models?select=stg_orders&kind=table"); status != 200 || !strings.Contains(body, `"models":[]`) {
		t.Errorf("an empty list: %d %s", status, body)
	}

	_, err = c.Models(ctx, "ordrs", 0)
	if ae := apiError(err); ae.Status != 400 || ae.Kind != "usage" || !strings.Contains(ae.Message, `did you mean "orders"`) {
		t.Errorf("a selector that matches nothing: %+v", ae)
	}
	if _, err := c.ListModels(ctx, api.ModelQuery{Cursor: "x"}); apiError(err).Status != 400 {
		t.Errorf("a bad cursor: %v", err)
	}
	for _, path := range []string{"/models?limit=abc", "/models?limit=-1", "/models?select=%2B%2B"} {
		if status, body := getJSON(t, base+"/api/v1"+path); status != 400 {
			t.Errorf("%s: %d %s, want 400", path, status, body)
		}
	}
}

// TestModelsDetail: GET /models/{name} merges the catalog's columns (with their types and
// direct inputs) with the documented ones, and lists the model's tasks after a build.
func TestModelsDetail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _ := serveShop(t, nil)
	j, err := c.Submit(ctx, api.RunRequest{Command: engine.CommandBuild})
	if err != nil {
		t.Fatal(err)
	}
	var status string
	if err := c.Events(ctx, j.ID, func(event string, data []byte) error {
		if event == "done" {
			var done struct{ Status string }
			_ = json.Unmarshal(data, &done)
			status = done.Status
		}
		return nil
	}); err != nil || status != "success" {
		t.Fatalf("build: %q %v", status, err)
	}

	m, err := c.Model(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "orders" || m.Type != "model" || m.Materialized != "table" || m.Relation != `"main"."orders"` ||
		m.Path != "models/marts/orders.sql" || m.ColumnsError != "" || m.Config["materialized"] != "table" {
		t.Errorf("orders = %+v", m)
	}
	type col struct{ Name, Type string }
	var cols []col
	for _, c := range m.Columns {
		cols = append(cols, col{c.Name, c.Type})
	}
	wantCols := []col{{"order_id", "BIGINT"}, {"customer_id", "BIGINT"}, {"order_date", "DATE"}, {"status", "VARCHAR"},
		{"credit_card_amount", "DOUBLE"}, {"coupon_amount", "DOUBLE"}, {"bank_transfer_amount", "DOUBLE"}, {"gift_card_amount", "DOUBLE"}, {"amount", "DOUBLE"}}
	if diff := cmp.Diff(wantCols, cols); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	amount := m.Columns[len(m.Columns)-1]
	if amount.Description != "Total amount paid for the order, in dollars." || !slices.Equal(amount.Tests, []string{"not_null"}) ||
		!slices.Contains(amount.Inputs, lineage.ColumnInput{From: lineage.ColumnRef{Node: "stg_payments", Column: "amount"}, Kind: lineage.Aggregation}) {
		t.Errorf("orders.amount = %+v", amount)
	}
	if diff := cmp.Diff([]string{"stg_orders", "stg_payments"}, m.Upstream); diff != "" {
		t.Errorf("upstream (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"customers", "monthly_revenue"}, m.Downstream); diff != "" {
		t.Errorf("downstream, tests aside (-want +got):\n%s", diff)
	}
	if !slices.Contains(m.Tests, "not_null_orders_amount") || len(m.Tests) != 7 {
		t.Errorf("tests = %v", m.Tests)
	}
	if !strings.Contains(m.SQL, "{{ ref('stg_orders') }}") || !strings.Contains(m.CompiledSQL, `select * from "main"."stg_orders"`) ||
		strings.Contains(m.CompiledSQL, "{{") || m.CompileError != "" {
		t.Errorf("sql:\n%s\ncompiled:\n%s\n%s", m.SQL, m.CompiledSQL, m.CompileError)
	}
	if len(m.RecentRuns) != 1 || m.RecentRuns[0].RunID != j.ID || m.RecentRuns[0].Node != "orders" || m.RecentRuns[0].Status != "success" {
		t.Errorf("recent runs = %+v, want the build %s", m.RecentRuns, j.ID)
	}

	// a column only the catalog knows: customers' first_name is not documented
	cu, err := c.Model(ctx, "customers")
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(cu.Columns, func(c api.ModelColumn) bool { return c.Name == "first_name" }); i < 0 || cu.Columns[i].Type != "VARCHAR" ||
		cu.Columns[i].Description != "" || len(cu.Columns[i].Inputs) == 0 {
		t.Errorf("customers' columns = %+v", cu.Columns)
	}
	seed, err := c.Model(ctx, "raw_orders")
	if err != nil || seed.Type != "seed" || seed.CompiledSQL != "" || len(seed.RecentRuns) != 1 || seed.RecentRuns[0].Resource != "seed" {
		t.Errorf("a seed = %+v, %v", seed, err)
	}

	for name, says := range map[string]string{"ordrs": `did you mean "orders"`, "orders.amount": `column "amount" of orders`} {
		_, err := c.Model(ctx, name)
		if ae := apiError(err); ae.Status != 404 || ae.Kind != "not_found" || !strings.Contains(ae.Message, says) {
			t.Errorf("%s: %+v, want a 404 saying %s", name, ae, says)
		}
	}
}

// TestModelsPartitions: a partitioned model's detail counts its partitions and lists none.
func TestModelsPartitions(t *testing.T) {
	t.Parallel()
	c, _ := serve(t, "")
	m, err := c.Model(context.Background(), "daily")
	if err != nil {
		t.Fatal(err)
	}
	if m.Partitions == nil || m.Partitions.Counts["missing"] == 0 || m.Partitions.Partitions == nil || len(m.Partitions.Partitions) != 0 {
		t.Errorf("partitions = %+v", m.Partitions)
	}
	if m.Materialized != "partitioned" || len(m.Columns) != 1 || m.Columns[0].Name != "day" {
		t.Errorf("daily = %+v", m)
	}
}

// TestModelsColumnsError: without a column catalog a model's detail still answers, with
// its documented columns and why; column lineage is an error, model lineage is not.
func TestModelsColumnsError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _ := serveShop(t, func(context.Context) (*lineage.Catalog, error) { return nil, errors.New("the catalog is down") })
	m, err := c.Model(ctx, "customers")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range m.Columns {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"customer_id", "first_order", "most_recent_order", "number_of_orders", "lifetime_value"}, names); diff != "" {
		t.Errorf("documented columns (-want +got):\n%s", diff)
	}
	if !strings.Contains(m.ColumnsError, "the catalog is down") || !slices.Equal(m.Columns[0].Tests, []string{"not_null", "unique"}) {
		t.Errorf("columns_error %q, customer_id = %+v", m.ColumnsError, m.Columns[0])
	}
	if _, err := c.Lineage(ctx, "customers.customer_id", 1, 1); err == nil || !strings.Contains(err.Error(), "the catalog is down") {
		t.Errorf("column lineage without a catalog: %v", err)
	}
	if l, err := c.Lineage(ctx, "customers", 1, 1); err != nil || l.Model == nil {
		t.Errorf("model lineage without a catalog: %+v, %v", l, err)
	}
}

// depths is a model lineage's nodes by depth.
func depths(r *lineage.Result) map[string]int {
	out := map[string]int{}
	for _, n := range r.Nodes {
		out[n.ID] = n.Depth
	}
	return out
}

// TestLineageAPI: GET /lineage/{node} walks a model's lineage to a depth each way, or a
// column's with its edges; bad depths are 400, unknown names 404.
func TestLineageAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, base := serveShop(t, nil)

	l, err := c.Lineage(ctx, "orders", 1, 1)
	if err != nil || l.Model == nil || l.Column != nil {
		t.Fatalf("orders: %+v, %v", l, err)
	}
	d := depths(l.Model)
	if d["orders"] != 0 || d["stg_orders"] != -1 || d["stg_payments"] != -1 || d["customers"] != 1 || d["monthly_revenue"] != 1 {
		t.Errorf("orders at depth 1: %v", d)
	}
	if _, ok := d["raw_orders"]; ok {
		t.Errorf("raw_orders is two up, listed at depth 1: %v", d)
	}
	if !slices.Contains(l.Model.Edges, [2]string{"stg_orders", "orders"}) {
		t.Errorf("edges = %v", l.Model.Edges)
	}
	if l, err = c.Lineage(ctx, "orders", 2, 0); err != nil {
		t.Fatal(err)
	}
	d = depths(l.Model)
	if d["raw_orders"] != -2 || d["raw_payments"] != -2 {
		t.Errorf("orders two up: %v", d)
	}
	for id, depth := range d {
		if depth > 0 {
			t.Errorf("down=0 lists %s at depth %d", id, depth)
		}
	}
	var up api.Lineage
	status, body := getJSON(t, base+"/api/v1/lineage/orders?direction=up&up=-1")
	if err := json.Unmarshal([]byte(body), &up); status != 200 || err != nil || up.Model == nil {
		t.Fatalf("direction=up: %d %s", status, body)
	}
	if d := depths(up.Model); d["raw_orders"] != -2 || len(d) != 5 {
		t.Errorf("direction=up, all of it: %v", d)
	}
	var cut api.Lineage
	if status, body := getJSON(t, base+"/api/v1/lineage/orders?up=-1&down=-1&limit=1"); json.Unmarshal([]byte(body), &cut) != nil || status != 200 || !cut.Model.Truncated {
		t.Errorf("limit=1: %d %s", status, body)
	}

	// a column: its edges, either way
	l, err = c.Lineage(ctx, "orders.AMOUNT", 1, 1)
	if err != nil || l.Column == nil || l.Model != nil {
		t.Fatalf("orders.amount: %+v, %v", l, err)
	}
	amount := lineage.ColumnRef{Node: "orders", Column: "amount"}
	if l.Column.Root != amount {
		t.Errorf("root = %v", l.Column.Root)
	}
	for _, want := range []lineage.ColumnEdge{
		{From: lineage.ColumnRef{Node: "stg_payments", Column: "amount"}, To: amount, Kind: lineage.Aggregation},
		{From: amount, To: lineage.ColumnRef{Node: "customers", Column: "lifetime_value"}, Kind: lineage.Aggregation},
	} {
		if !slices.Contains(l.Column.Edges, want) {
			t.Errorf("no edge %v in %v", want, l.Column.Edges)
		}
	}

	for _, tc := range []struct {
		path   string
		status int
		says   string
	}{
		{"/lineage/orders?up=-5", 400, "up -5"},
		{"/lineage/orders?down=deep", 400, `down "deep"`},
		{"/lineage/orders?direction=sideways", 400, "direction"},
		{"/lineage/orders?limit=-2", 400, "limit"},
		{"/lineage/ordrs", 404, `did you mean "orders"`},
		{"/lineage/orders.amout", 404, `did you mean "amount"`},
	} {
		status, body := getJSON(t, base+"/api/v1"+tc.path)
		var e struct{ Error api.Error }
		if err := json.Unmarshal([]byte(body), &e); err != nil || status != tc.status || !strings.Contains(e.Error.Message, tc.says) {
			t.Errorf("%s: %d %s, want %d saying %s", tc.path, status, body, tc.status, tc.says)
		}
	}
	if _, err := c.Lineage(ctx, "orders", -3, 1); apiError(err).Status != 400 {
		t.Errorf("a bad depth through the client: %v", err)
	}
}

// TestImpactAPI: GET /impact/{target} reports the columns, models and tests downstream
// of a column, or the nodes downstream of a model.
func TestImpactAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, base := serveShop(t, nil)

	rep, err := c.Impact(ctx, "stg_payments.amount")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Column != (lineage.ColumnRef{Node: "stg_payments", Column: "amount"}) || rep.ColumnsTotal != len(rep.Columns) || rep.ColumnsTotal < 5 {
		t.Errorf("column %v, %d of %d columns", rep.Column, len(rep.Columns), rep.ColumnsTotal)
	}
	find := func(node, column string) *lineage.ImpactColumn {
		for i, c := range rep.Columns {
			if c.Node == node && c.Column == column {
				return &rep.Columns[i]
			}
		}
		return nil
	}
	if a := find("orders", "amount"); a == nil || !a.Direct || a.Depth != 1 {
		t.Errorf("orders.amount = %+v", a)
	}
	if lv := find("customers", "lifetime_value"); lv == nil || lv.Direct || lv.Depth != 2 || len(lv.Via) != 1 || lv.Via[0].String() != "orders.amount" {
		t.Errorf("customers.lifetime_value = %+v", lv)
	}
	var models []string
	for _, m := range rep.Models {
		models = append(models, m.Name)
	}
	if diff := cmp.Diff([]string{"orders", "customers", "monthly_revenue"}, models); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
	if i := slices.IndexFunc(rep.Tests, func(t lineage.ImpactTest) bool { return t.Name == "not_null_orders_amount" }); i < 0 || rep.Tests[i].Reason != "column" {
		t.Errorf("tests = %+v", rep.Tests)
	}

	var cut api.Impact
	status, body := getJSON(t, base+"/api/v1/impact/stg_payments.amount?limit=2")
	if json.Unmarshal([]byte(body), &cut) != nil || status != 200 || len(cut.Columns) != 2 || cut.ColumnsTotal != rep.ColumnsTotal || len(cut.Models) != 3 {
		t.Errorf("limit=2: %d %s", status, body)
	}

	// a whole model: everything downstream
	rep, err = c.Impact(ctx, "stg_payments")
	if err != nil {
		t.Fatal(err)
	}
	models = nil
	for _, m := range rep.Models {
		models = append(models, m.Name)
	}
	if diff := cmp.Diff([]string{"orders", "customers", "monthly_revenue"}, models); diff != "" || len(rep.Columns) != 0 || rep.Column.Node != "stg_payments" {
		t.Errorf("stg_payments: %+v (-want +got):\n%s", rep, diff)
	}
	if i := slices.IndexFunc(rep.Tests, func(t lineage.ImpactTest) bool { return t.Name == "not_null_stg_payments_order_id" }); i < 0 ||
		rep.Tests[i].Model != "stg_payments" || rep.Tests[i].Column != "order_id" {
		t.Errorf("a test of the model itself: %+v", rep.Tests)
	}

	for _, target := range []string{"stg_paymnts.amount", "stg_payments.amout"} {
		if _, err := c.Impact(ctx, target); apiError(err).Status != 404 {
			t.Errorf("%s: %v, want 404", target, err)
		}
	}
	if status, body := getJSON(t, base+"/api/v1/impact/stg_payments.amount?limit=-1"); status != 400 {
		t.Errorf("limit=-1: %d %s", status, body)
	}
}
