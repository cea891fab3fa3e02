package engine

import (
	"time"

	"github.com/stratadata/strata/lineage"
)

// EventKind says what happened in a run.
type EventKind string

// The events of a run, in the order they happen: one RunStarted, a TaskStarted and a
// TaskFinished for each task that runs (a task skipped because of an upstream failure
// only finishes), one RunFinished.
const (
	EventRunStarted   EventKind = "run_started"
	EventTaskStarted  EventKind = "task_started"
	EventTaskFinished EventKind = "task_finished"
	EventRunFinished  EventKind = "run_finished"
)

// Event is one thing that happened in a run.
type Event struct {
	Kind   EventKind
	RunID  string
	Plan   *Plan
	Task   *Task // task events
	Done   int   // tasks finished so far
	Total  int
	Result *Result // EventRunFinished

	// Catalog is the shadow catalog, on EventRunStarted, when the run built one (for a
	// check before it, or because an observer asked for column lineage).
	Catalog *lineage.Catalog
}

// Observer watches runs: the CLI's progress lines, OpenLineage events, the server's live
// stream. Observe is called from one goroutine at a time, in event order, and must not
// block for long: a slow observer slows the run.
type Observer interface {
	Observe(Event)
}

// ObserverFunc is a function that observes.
type ObserverFunc func(Event)

// Observe calls f.
func (f ObserverFunc) Observe(e Event) { f(e) }

// CatalogObserver is an observer that needs the shadow catalog (OpenLineage's column
// lineage): Run builds it once before the first task, for every observer that asks.
type CatalogObserver interface {
	Observer
	NeedsCatalog() bool
}

// TaskJSON is a finished task as --json prints it, the API serves it and MCP returns it.
type TaskJSON struct {
	Event        string     `json:"event"` // "task"
	RunID        string     `json:"run_id"`
	Key          string     `json:"key"`
	Node         string     `json:"node"`
	Path         string     `json:"path"`
	Resource     Resource   `json:"resource"`
	Materialized string     `json:"materialized,omitempty"`
	Relation     string     `json:"relation,omitempty"`
	Partition    string     `json:"partition,omitempty"`
	Status       Status     `json:"status"`
	Rows         *int64     `json:"rows,omitempty"`
	Attempts     int        `json:"attempts"`
	Message      string     `json:"message,omitempty"`
	Started      *time.Time `json:"started_at,omitempty"`
	Ended        *time.Time `json:"ended_at,omitempty"`
	DurationS    float64    `json:"duration_s"`
	Done         int        `json:"done"`
	Total        int        `json:"total"`
}

// NewTaskJSON is a task event's wire shape.
func NewTaskJSON(e Event) TaskJSON {
	t := e.Task
	j := TaskJSON{Event: "task", RunID: e.RunID, Key: t.Key(), Node: t.Name, Path: t.Path, Resource: t.Resource,
		Materialized: t.Materialized, Relation: t.Relation, Partition: t.PartitionName(), Status: t.Status,
		Attempts: t.Attempts, Message: t.Message, DurationS: t.Duration().Seconds(), Done: e.Done, Total: e.Total}
	if t.Resource != ResourceTest || t.Status != StatusSkipped {
		rows := t.Rows
		j.Rows = &rows
	}
	if !t.Started.IsZero() {
		s := t.Started
		j.Started = &s
	}
	if !t.Ended.IsZero() {
		e := t.Ended
		j.Ended = &e
	}
	return j
}

// RunJSON is a finished run's summary, the last line of --json output.
type RunJSON struct {
	Event     string         `json:"event"` // "done"
	RunID     string         `json:"run_id,omitempty"`
	Command   Command        `json:"command"`
	Selector  string         `json:"selector"`
	Status    string         `json:"status"`
	Tasks     int            `json:"tasks"`
	Counts    map[string]int `json:"counts"`
	DurationS float64        `json:"duration_s"`
	Backfill  string         `json:"backfill_id,omitempty"`
	Error     string         `json:"error,omitempty"`
}

// countedStatuses are the statuses a run's summary counts, in the order it lists them.
var countedStatuses = []Status{StatusSuccess, StatusPass, StatusWarn, StatusError, StatusFail, StatusSkipped,
	StatusWaiting, StatusCancelled, StatusPending}

// NewRunJSON is a run result's wire shape.
func NewRunJSON(r *Result) RunJSON {
	j := RunJSON{Event: "done", RunID: r.RunID, Command: r.Command, Selector: r.Selector, Status: r.Status,
		Tasks: len(r.Tasks), Counts: map[string]int{}, Backfill: r.Backfill}
	for _, s := range countedStatuses {
		j.Counts[string(s)] = r.Count(s)
	}
	if !r.Ended.IsZero() {
		j.DurationS = r.Ended.Sub(r.Started).Seconds()
	}
	if r.Err != nil {
		j.Error = r.Err.Error()
	}
	return j
}

// PartitionName is the task's partition as people read it (2024-01-05, 2024-01-05T03),
// or "" for a task without one.
func (t *Task) PartitionName() string {
	if spec := t.partition(); spec != nil {
		return spec.Granularity.Name(t.Window.Start)
	}
	return ""
}
