package openlineage_test

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/openlineage"
)

func TestOpenLineageDeliveryFailuresAreWarnings(t *testing.T) {
	t.Parallel()
	col := &collector{fail: true}
	srv := httptest.NewServer(col)
	defer srv.Close()
	dir := olProject(t, "openlineage:\n  url: "+srv.URL+"\n  file: events.jsonl\n")
	res, _, warnings := runWithOpenLineage(t, dir, nil)
	if got := len(res.Tasks); got != 7 {
		t.Fatalf("tasks = %d", got)
	}
	// Three failures in a row and the endpoint is dropped for the rest of the run; the
	// file still gets every event.
	if len(warnings) != 3 {
		t.Fatalf("warnings = %d, want 3:\n%s", len(warnings), strings.Join(warnings, "\n"))
	}
	for _, w := range warnings {
		if !strings.Contains(w, "500 Internal Server Error") || !strings.Contains(w, "marquez is having a bad day") || !strings.Contains(w, "/api/v1/lineage") {
			t.Errorf("warning %q does not say what the server answered", w)
		}
	}
	if !strings.Contains(warnings[2], "no more events go there") {
		t.Errorf("last warning %q does not say the endpoint is dropped", warnings[2])
	}
	data, err := os.ReadFile(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n != 12 {
		t.Errorf("file has %d events, want 12 (6 runs × START and end)", n)
	}
	// The namespace defaults to the project name; without column lineage the datasets
	// carry no facets but are still named.
	first := strings.SplitN(string(data), "\n", 2)[0]
	if !strings.Contains(first, `"namespace":"olshop"`) || strings.Contains(first, "columnLineage") {
		t.Errorf("first event = %s", first)
	}

	// A server that is not there at all fails fast and the same way.
	srv.Close()
	dir = olProject(t, "openlineage:\n  url: "+srv.URL+"\n")
	_, _, warnings = runWithOpenLineage(t, dir, nil)
	if len(warnings) != 3 || !strings.Contains(warnings[0], "connect") {
		t.Errorf("warnings for a closed server = %q", warnings)
	}
}

func TestOpenLineageNotConfigured(t *testing.T) {
	t.Parallel()
	p, err := models.Load(olProject(t, ""), models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ol, err := openlineage.New(p)
	if err != nil || ol != nil {
		t.Fatalf("New = %v, %v; want nil, nil", ol, err)
	}
	ol.Observe(engine.Event{}) // a nil sender does nothing
	if err := ol.Close(); err != nil {
		t.Fatal(err)
	}

	p.OpenLineage.File = filepath.Join(p.Dir, "strata.yml", "events.jsonl") // under a file: cannot be created
	if _, err := openlineage.New(p); err == nil || !strings.Contains(err.Error(), "openlineage file") {
		t.Errorf("unwritable file error = %v", err)
	}
}

// TestOpenLineageCancelledTaskAborts drives OnEvent by hand with a planned task: a task
// that started and then was cancelled ends its run with ABORT; one skipped before it
// started sends nothing.
func TestOpenLineageCancelledTaskAborts(t *testing.T) {
	t.Parallel()
	dir := olProject(t, "openlineage:\n  file: events.jsonl\n")
	p, g := testgraph.Load(t, dir)
	plan, err := engine.NewPlan(g, engine.PlanOptions{Command: engine.CommandRun, Select: []string{"stg_orders", "bad"}})
	if err != nil {
		t.Fatal(err)
	}
	ol, err := openlineage.New(p)
	if err != nil {
		t.Fatal(err)
	}
	ol.Observe(engine.Event{Kind: engine.EventRunStarted, Plan: plan, Catalog: &lineage.Catalog{Nodes: olColumns()}})
	started, never := plan.Tasks[0], plan.Tasks[1]
	started.Status, started.Started = engine.StatusRunning, time.Now()
	ol.Observe(engine.Event{Kind: engine.EventTaskStarted, Task: started, Total: 2})
	started.Status, started.Message, started.Ended = engine.StatusCancelled, "cancelled while running", time.Now()
	ol.Observe(engine.Event{Kind: engine.EventTaskFinished, Task: started, Done: 1, Total: 2})
	never.Status, never.Message = engine.StatusSkipped, "skipped: upstream stg_orders skipped"
	ol.Observe(engine.Event{Kind: engine.EventTaskFinished, Task: never, Done: 2, Total: 2})
	if err := ol.Close(); err != nil {
		t.Fatal(err)
	}
	ol.Observe(engine.Event{Kind: engine.EventTaskStarted, Task: started}) // after Close: dropped

	data, err := os.ReadFile(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 {
		t.Fatalf("events = %d, want 2:\n%s", len(lines), data)
	}
	var types []string
	schemas := olSchemas(t)
	for _, l := range lines {
		validateEvent(t, schemas, []byte(l))
		var ev struct {
			EventType string
			Job       struct{ Name string }
		}
		_ = json.Unmarshal([]byte(l), &ev)
		types = append(types, ev.Job.Name+" "+ev.EventType)
	}
	if diff := cmp.Diff([]string{started.Name + " START", started.Name + " ABORT"}, types); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
