package openlineage_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/openlineage"
)

// olProject is a small project that exercises every kind of OpenLineage event: a seed, an
// ephemeral model read through, a table, a partitioned model with two partitions, a
// failing model, one skipped below it, and a test.
func olProject(t *testing.T, openlineage string) string {
	t.Helper()
	return testproj.Write(t, map[string]string{
		"strata.yml":            "name: olshop\nwarehouse:\n  path: wh.duckdb\n" + openlineage,
		"seeds/raw_orders.csv":  "id,amount,status\n1,10.5,placed\n2,3,void\n3,7,shipped\n",
		"models/eph.sql":        "{{ config(materialized='ephemeral') }}\nselect id, amount, status from {{ ref('raw_orders') }} where status <> 'void'",
		"models/stg_orders.sql": "{{ config(materialized='table') }}\nselect id as order_id, amount * 100 as cents, status from {{ ref('eph') }}",
		"models/daily.sql": `{{ config(materialized='partitioned', partition_by={'column': 'day', 'granularity': 'day'}, start='2024-01-01', lookback=1) }}
select cast({{ partition_start }} as timestamp) as day, count(*) as n from {{ ref('stg_orders') }}`,
		"models/bad.sql":       "select no_such_column from {{ ref('stg_orders') }}",
		"models/after_bad.sql": "select * from {{ ref('bad') }}",
		"models/schema.yml": `version: 2
models:
  - name: stg_orders
    columns:
      - name: order_id
        description: The order's key.
        tests: [not_null]
`,
	})
}

// olColumns is the column lineage the shadow catalog would find, written by hand.
func olColumns() map[string]*lineage.NodeColumns {
	in := func(node, col string, k lineage.EdgeKind) lineage.ColumnInput {
		return lineage.ColumnInput{From: lineage.ColumnRef{Node: node, Column: col}, Kind: k}
	}
	return map[string]*lineage.NodeColumns{
		"raw_orders": {Node: "raw_orders", Columns: []lineage.Column{{Name: "id", Type: "BIGINT"}, {Name: "amount", Type: "DOUBLE"}, {Name: "status", Type: "VARCHAR"}}},
		"eph": {Node: "eph", Columns: []lineage.Column{
			{Name: "id", Type: "BIGINT", Inputs: []lineage.ColumnInput{in("raw_orders", "id", lineage.Identity), in("raw_orders", "status", lineage.Filter)}},
			{Name: "amount", Type: "DOUBLE", Inputs: []lineage.ColumnInput{in("raw_orders", "amount", lineage.Identity), in("raw_orders", "status", lineage.Filter)}},
			{Name: "status", Type: "VARCHAR", Inputs: []lineage.ColumnInput{in("raw_orders", "status", lineage.Identity), in("raw_orders", "status", lineage.Filter)}},
		}},
		"stg_orders": {Node: "stg_orders", Columns: []lineage.Column{
			{Name: "order_id", Type: "BIGINT", Inputs: []lineage.ColumnInput{in("eph", "id", lineage.Identity)}},
			{Name: "cents", Type: "DOUBLE", Inputs: []lineage.ColumnInput{in("eph", "amount", lineage.Transformation)}},
			{Name: "status", Type: "VARCHAR", Inputs: []lineage.ColumnInput{in("eph", "status", lineage.Identity)}},
		}},
		"daily": {Node: "daily", Columns: []lineage.Column{
			{Name: "day", Type: "TIMESTAMP"},
			{Name: "n", Type: "BIGINT", Inputs: []lineage.ColumnInput{in("stg_orders", "order_id", lineage.Aggregation)}},
		}},
	}
}

// collector is an OpenLineage HTTP endpoint that keeps what it receives.
type collector struct {
	mu     sync.Mutex
	events []map[string]any
	raw    [][]byte
	fail   bool
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/v1/lineage" || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "want POST /api/v1/lineage with JSON, got "+r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"), http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		http.Error(w, "marquez is having a bad day", http.StatusInternalServerError)
		return
	}
	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.events = append(c.events, ev)
	c.raw = append(c.raw, body)
	w.WriteHeader(http.StatusCreated)
}

// withCatalog hands a sender a column lineage written by hand instead of the shadow
// catalog's.
type withCatalog struct {
	ol   *openlineage.Sender
	cols map[string]*lineage.NodeColumns
}

func (w withCatalog) Observe(e engine.Event) {
	if e.Kind == engine.EventRunStarted {
		e.Catalog = &lineage.Catalog{Nodes: w.cols}
	}
	w.ol.Observe(e)
}

// runWithOpenLineage builds the project with OpenLineage events on, and returns the result.
func runWithOpenLineage(t *testing.T, dir string, cols map[string]*lineage.NodeColumns) (*engine.Result, *models.Project, []string) {
	t.Helper()
	ctx := context.Background()
	p, g := testgraph.Load(t, dir)
	plan, err := engine.NewPlan(g, engine.PlanOptions{Command: engine.CommandBuild, Now: time.Date(2024, 1, 3, 0, 30, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	w, err := engine.Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	ol, err := openlineage.New(p)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var warnings []string
	ol.Warn = func(msg string) {
		mu.Lock()
		warnings = append(warnings, msg)
		mu.Unlock()
	}
	var obs engine.Observer = ol // the run builds the shadow catalog for it
	if cols != nil {
		obs = withCatalog{ol, cols} // or the test gives the column lineage by hand
	}
	res, err := engine.Run(ctx, w, plan, engine.RunOptions{Threads: 1, Observers: []engine.Observer{obs}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ol.Close(); err != nil {
		t.Fatal(err)
	}
	return res, p, warnings
}

func TestOpenLineageEvents(t *testing.T) {
	t.Parallel()
	col := &collector{}
	srv := httptest.NewServer(col)
	defer srv.Close()
	dir := olProject(t, "openlineage:\n  url: "+srv.URL+"/\n  file: lineage/events.jsonl\n  namespace: analytics\n")
	res, p, warnings := runWithOpenLineage(t, dir, olColumns())
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
	statuses := map[string]engine.Status{}
	for _, tk := range res.Tasks {
		statuses[tk.Key()] = tk.Status
	}
	wantStatus := map[string]engine.Status{"raw_orders": "success", "stg_orders": "success", "daily@2024-01-01T00:00:00Z": "success",
		"daily@2024-01-02T00:00:00Z": "success", "bad": "error", "after_bad": "skipped", "not_null_stg_orders_order_id": "pass"}
	if diff := cmp.Diff(wantStatus, statuses); diff != "" {
		for _, tk := range res.Tasks {
			t.Logf("%s %s %s", tk.Key(), tk.Status, tk.Message)
		}
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}

	// The file holds the same events, in the same order, as the server received.
	f, err := os.Open(filepath.Join(dir, "lineage", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	if len(lines) != len(col.raw) {
		t.Fatalf("file has %d events, server got %d", len(lines), len(col.raw))
	}
	for i := range lines {
		if !bytes.Equal(lines[i], col.raw[i]) {
			t.Errorf("event %d differs between file and server:\n%s\n%s", i, lines[i], col.raw[i])
		}
	}

	schemas := olSchemas(t)
	for _, raw := range col.raw {
		validateEvent(t, schemas, raw)
	}

	// One START and one end event per task that ran, sharing a run ID; none for the
	// skipped task.
	type run struct {
		job    string
		types  []string
		facets map[string]any
		ev     map[string]any
	}
	runs := map[string]*run{}
	var order []string
	for _, ev := range col.events {
		r := ev["run"].(map[string]any)
		id := r["runId"].(string)
		if _, err := uuid.Parse(id); err != nil {
			t.Errorf("runId %q: %v", id, err)
		}
		job := ev["job"].(map[string]any)
		if job["namespace"] != "analytics" {
			t.Errorf("job namespace = %v", job["namespace"])
		}
		if ev["producer"] != openlineage.Producer || ev["schemaURL"] != "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent" {
			t.Errorf("producer, schemaURL = %v, %v", ev["producer"], ev["schemaURL"])
		}
		if runs[id] == nil {
			runs[id] = &run{job: job["name"].(string)}
			order = append(order, id)
		}
		runs[id].types = append(runs[id].types, ev["eventType"].(string))
		runs[id].facets, _ = r["facets"].(map[string]any)
		runs[id].ev = ev
	}
	got := map[string][]string{}
	byTask := map[string]*run{}
	for _, id := range order {
		r := runs[id]
		task := r.facets["strata_task"].(map[string]any)["task"].(string)
		got[task] = r.types
		byTask[task] = r
	}
	want := map[string][]string{"raw_orders": {"START", "COMPLETE"}, "stg_orders": {"START", "COMPLETE"},
		"daily@2024-01-01T00:00:00Z": {"START", "COMPLETE"}, "daily@2024-01-02T00:00:00Z": {"START", "COMPLETE"}, "bad": {"START", "FAIL"},
		"not_null_stg_orders_order_id": {"START", "COMPLETE"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events per task (-want +got):\n%s", diff)
	}

	ns := "duckdb://" + p.Warehouse.Path
	ds := func(r *run, list string) []string {
		var out []string
		items, _ := r.ev[list].([]any)
		for _, d := range items {
			m := d.(map[string]any)
			out = append(out, m["namespace"].(string)+" "+m["name"].(string))
		}
		return out
	}
	// The seed reads its CSV file; stg_orders reads the seed through the ephemeral model.
	if diff := cmp.Diff([]string{"file " + filepath.ToSlash(filepath.Join(dir, "seeds", "raw_orders.csv"))}, ds(byTask["raw_orders"], "inputs")); diff != "" {
		t.Errorf("seed inputs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{ns + " main.raw_orders"}, ds(byTask["stg_orders"], "inputs")); diff != "" {
		t.Errorf("stg_orders inputs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{ns + " main.stg_orders"}, ds(byTask["stg_orders"], "outputs")); diff != "" {
		t.Errorf("stg_orders outputs (-want +got):\n%s", diff)
	}
	if out := ds(byTask["not_null_stg_orders_order_id"], "outputs"); len(out) != 0 {
		t.Errorf("test outputs = %v, want none", out)
	}

	// Column lineage reads through the ephemeral model: the filter on status reaches every
	// column, and is listed once more as dataset-wide.
	out := byTask["stg_orders"].ev["outputs"].([]any)[0].(map[string]any)["facets"].(map[string]any)
	var cl struct {
		Fields map[string]struct {
			InputFields []struct {
				Namespace, Name, Field string
				Transformations        []struct{ Type, Subtype string }
			}
		}
		Dataset []struct {
			Field           string
			Transformations []struct{ Type, Subtype string }
		}
	}
	b, _ := json.Marshal(out["columnLineage"])
	if err := json.Unmarshal(b, &cl); err != nil {
		t.Fatal(err)
	}
	flat := map[string][]string{}
	for name, f := range cl.Fields {
		for _, in := range f.InputFields {
			if in.Namespace != ns || in.Name != "main.raw_orders" {
				t.Errorf("%s reads %s %s, want the seed's table", name, in.Namespace, in.Name)
			}
			for _, tr := range in.Transformations {
				flat[name] = append(flat[name], in.Field+":"+tr.Type+"/"+tr.Subtype)
			}
		}
	}
	wantCL := map[string][]string{
		"order_id": {"id:DIRECT/IDENTITY", "status:INDIRECT/FILTER"},
		"cents":    {"amount:DIRECT/TRANSFORMATION", "status:INDIRECT/FILTER"},
		"status":   {"status:DIRECT/IDENTITY", "status:INDIRECT/FILTER"},
	}
	if diff := cmp.Diff(wantCL, flat); diff != "" {
		t.Errorf("stg_orders column lineage (-want +got):\n%s", diff)
	}
	if len(cl.Dataset) != 1 || cl.Dataset[0].Field != "status" || cl.Dataset[0].Transformations[0].Subtype != "FILTER" {
		t.Errorf("dataset-wide lineage = %+v", cl.Dataset)
	}
	var schema struct {
		Fields []struct{ Name, Type, Description string }
	}
	b, _ = json.Marshal(out["schema"])
	_ = json.Unmarshal(b, &schema)
	if len(schema.Fields) != 3 || schema.Fields[0].Name != "order_id" || schema.Fields[0].Type != "BIGINT" || schema.Fields[0].Description != "The order's key." {
		t.Errorf("stg_orders schema facet = %+v", schema)
	}

	// A partition's window is its nominal time; a failure carries its error message.
	nominal := byTask["daily@2024-01-02T00:00:00Z"].facets["nominalTime"].(map[string]any)
	if nominal["nominalStartTime"] != "2024-01-02T00:00:00.000Z" || nominal["nominalEndTime"] != "2024-01-03T00:00:00.000Z" {
		t.Errorf("nominalTime = %v", nominal)
	}
	if byTask["daily@2024-01-02T00:00:00Z"].job != "daily" {
		t.Errorf("partition job name = %q, want the model's", byTask["daily@2024-01-02T00:00:00Z"].job)
	}
	if p := byTask["daily@2024-01-02T00:00:00Z"].facets["strata_task"].(map[string]any)["partition"]; p != "2024-01-02" {
		t.Errorf("strata_task partition = %v", p)
	}
	msg, _ := byTask["bad"].facets["errorMessage"].(map[string]any)["message"].(string)
	if !strings.Contains(msg, "no_such_column") {
		t.Errorf("errorMessage = %q, want the SQL error", msg)
	}
	if rows := byTask["stg_orders"].facets["strata_task"].(map[string]any)["rows"]; rows != float64(2) {
		t.Errorf("stg_orders rows = %v, want 2", rows)
	}
}
