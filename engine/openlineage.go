package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// OpenLineage run events (spec 2-0-2) for every task a plan runs.
//
// Each task that starts is one OpenLineage run, with its own run ID: a START event when it
// starts, then COMPLETE (success, pass, warn), FAIL (error, fail, waiting_upstream) or
// ABORT (cancelled after it started). A task skipped because something upstream failed
// never started, so it gets no event at all: there is no run to report, and the FAIL of
// the upstream task already says why. Retries inside one task are attempts of the same
// run (the strata_task facet counts them).
//
// The job is the model (or seed, or test), named by its name in the project's namespace;
// a partitioned model's tasks are runs of the same job, with the partition in the
// nominalTime and strata_task run facets. Datasets are DuckDB relations named
// "schema.table" in the namespace "duckdb://<warehouse path>"; seed files and source
// globs are "file" datasets named by their path. Outputs carry the schema and
// columnLineage facets from the shadow catalog's column lineage.

// OpenLineageProducer is the producer URI strata puts in every event and facet.
const OpenLineageProducer = "https://github.com/stratadata/strata"

// The schema URLs of the event and of each facet strata writes.
const (
	olRunEventURL      = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
	olSchemaURL        = "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
	olColumnLineageURL = "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"
	olJobTypeURL       = "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
	olNominalTimeURL   = "https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet"
	olErrorMessageURL  = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
	olStrataTaskURL    = "https://raw.githubusercontent.com/stratadata/strata/main/engine/testdata/openlineage/facets/StrataTaskRunFacet.json#/$defs/StrataTaskRunFacet"
)

// LineageEvent is one OpenLineage RunEvent.
type LineageEvent struct {
	EventType string           `json:"eventType"` // START, COMPLETE, FAIL or ABORT
	EventTime string           `json:"eventTime"`
	Run       LineageRun       `json:"run"`
	Job       LineageJob       `json:"job"`
	Inputs    []LineageDataset `json:"inputs"`
	Outputs   []LineageDataset `json:"outputs"`
	Producer  string           `json:"producer"`
	SchemaURL string           `json:"schemaURL"`
}

// LineageRun is a run: one task attempt, with its facets by name.
type LineageRun struct {
	RunID  string         `json:"runId"`
	Facets map[string]any `json:"facets,omitempty"`
}

// LineageJob is the job a run belongs to: a model, seed or test.
type LineageJob struct {
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Facets    map[string]any `json:"facets,omitempty"`
}

// LineageDataset is a relation or file set a run reads or writes.
type LineageDataset struct {
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Facets    map[string]any `json:"facets,omitempty"`
}

type olFacet struct {
	Producer  string `json:"_producer"`
	SchemaURL string `json:"_schemaURL"`
}

type olSchemaFacet struct {
	olFacet
	Fields []olSchemaField `json:"fields"`
}

type olSchemaField struct {
	Name        string `json:"name"`
	Type        string `json:"type,omitempty"`
	Description string `json:"description,omitempty"`
}

type olColumnLineageFacet struct {
	olFacet
	Fields  map[string]olColumnFields `json:"fields"`
	Dataset []olInputField            `json:"dataset,omitempty"`
}

type olColumnFields struct {
	InputFields []olInputField `json:"inputFields"`
}

type olInputField struct {
	Namespace       string             `json:"namespace"`
	Name            string             `json:"name"`
	Field           string             `json:"field"`
	Transformations []olTransformation `json:"transformations,omitempty"`
}

type olTransformation struct {
	Type        string `json:"type"`
	Subtype     string `json:"subtype,omitempty"`
	Description string `json:"description,omitempty"`
	Masking     bool   `json:"masking"`
}

type olJobTypeFacet struct {
	olFacet
	ProcessingType string `json:"processingType"`
	Integration    string `json:"integration"`
	JobType        string `json:"jobType"`
}

type olNominalTimeFacet struct {
	olFacet
	NominalStartTime string `json:"nominalStartTime"`
	NominalEndTime   string `json:"nominalEndTime,omitempty"`
}

type olErrorMessageFacet struct {
	olFacet
	Message             string `json:"message"`
	ProgrammingLanguage string `json:"programmingLanguage"`
}

type olStrataTaskFacet struct {
	olFacet
	Task         string `json:"task"`
	Resource     string `json:"resource"`
	Materialized string `json:"materialized,omitempty"`
	Partition    string `json:"partition,omitempty"`
	Fingerprint  string `json:"fingerprint,omitempty"`
	Status       string `json:"status"`
	Attempts     int    `json:"attempts,omitempty"`
	Rows         *int64 `json:"rows,omitempty"`
	Message      string `json:"message,omitempty"`
}

// OpenLineage turns the runner's task events into OpenLineage run events and sends them,
// in order, from a goroutine of its own, so a slow or dead endpoint never holds up a run.
// Pass OnEvent to RunOptions.OnEvent (or call it from the callback there) and Close after
// Run returns. A nil *OpenLineage does nothing.
type OpenLineage struct {
	// Warn receives what could not be sent: delivery problems are warnings, never
	// failures of the run. It is called from OpenLineage's own goroutine; nil drops them.
	Warn func(msg string)

	p         *models.Project
	cols      map[string]*lineage.NodeColumns
	namespace string // the warehouse's dataset namespace
	emitters  []LineageEmitter

	mu     sync.Mutex
	cond   *sync.Cond
	runs   map[*Task]string // tasks that started: their run ID
	queue  []*LineageEvent
	closed bool
	done   chan struct{}

	cacheMu  sync.Mutex
	inputs   map[string][]LineageDataset
	outputs  map[string][]LineageDataset
	failures map[int]int // consecutive failures by emitter index
}

// giveUpAfter is how many failures in a row make OpenLineage stop trying an emitter for
// the rest of the run.
const giveUpAfter = 3

// NewOpenLineage returns the project's OpenLineage sender, or nil when strata.yml
// configures none. cols is the shadow catalog's column lineage by node ID (it may be
// nil: events then carry datasets without schema or column lineage). It fails when the
// configured file cannot be written.
func NewOpenLineage(p *models.Project, cols map[string]*lineage.NodeColumns) (*OpenLineage, error) {
	cfg := p.OpenLineage
	if cfg.File == "" && cfg.URL == "" {
		return nil, nil
	}
	var emitters []LineageEmitter
	if cfg.File != "" {
		path := cfg.File
		if !filepath.IsAbs(path) {
			path = filepath.Join(p.Dir, path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("openlineage file: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("openlineage file: %w", err)
		}
		f.Close()
		emitters = append(emitters, &FileEmitter{Path: path})
	}
	if cfg.URL != "" {
		emitters = append(emitters, NewHTTPEmitter(cfg.URL))
	}
	return newOpenLineage(p, cols, emitters), nil
}

func newOpenLineage(p *models.Project, cols map[string]*lineage.NodeColumns, emitters []LineageEmitter) *OpenLineage {
	o := &OpenLineage{p: p, cols: cols, namespace: "duckdb://" + p.Warehouse.Path, emitters: emitters,
		runs: map[*Task]string{}, done: make(chan struct{}),
		inputs: map[string][]LineageDataset{}, outputs: map[string][]LineageDataset{}, failures: map[int]int{}}
	o.cond = sync.NewCond(&o.mu)
	go o.loop()
	return o
}

// OnEvent records a task starting or ending; it only builds the event and queues it.
func (o *OpenLineage) OnEvent(ev Event) {
	if o == nil || ev.Task == nil || ev.Task.Node() == nil {
		return
	}
	t := ev.Task
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	switch t.Status {
	case StatusPending:
		return
	case StatusRunning:
		if _, ok := o.runs[t]; ok {
			return
		}
		id := uuid.Must(uuid.NewV7()).String()
		o.runs[t] = id
		o.queue = append(o.queue, o.event("START", t, id, t.Started))
	default:
		id, ok := o.runs[t]
		if !ok {
			return // never started (skipped because of an upstream failure): no run, no event
		}
		delete(o.runs, t)
		o.queue = append(o.queue, o.event(endEventType(t.Status), t, id, t.Ended))
	}
	o.cond.Signal()
}

// Close sends what is queued and stops; events after it are dropped.
func (o *OpenLineage) Close() error {
	if o == nil {
		return nil
	}
	o.mu.Lock()
	o.closed = true
	o.cond.Broadcast()
	o.mu.Unlock()
	<-o.done
	return nil
}

// endEventType maps a task's final status to the event that ends its run.
func endEventType(s Status) string {
	switch s {
	case StatusSuccess, StatusPass, StatusWarn:
		return "COMPLETE"
	case StatusSkipped:
		return "ABORT"
	}
	return "FAIL" // error, fail, waiting_upstream
}

// jobNamespace is strata.yml's openlineage namespace, the project's name by default.
func (o *OpenLineage) jobNamespace() string {
	if ns := o.p.OpenLineage.Namespace; ns != "" {
		return ns
	}
	return o.p.Name
}

// olTime formats a time as OpenLineage examples do: UTC, milliseconds.
func olTime(t time.Time) string {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func facet(schemaURL string) olFacet {
	return olFacet{Producer: OpenLineageProducer, SchemaURL: schemaURL}
}

// event builds the event of a task's transition.
func (o *OpenLineage) event(typ string, t *Task, runID string, at time.Time) *LineageEvent {
	n := t.Node()
	jobType := strings.ToUpper(string(t.Resource))
	ev := &LineageEvent{
		EventType: typ,
		EventTime: olTime(at),
		Run:       LineageRun{RunID: runID, Facets: map[string]any{}},
		Job: LineageJob{Namespace: o.jobNamespace(), Name: n.Name, Facets: map[string]any{
			"jobType": olJobTypeFacet{olFacet: facet(olJobTypeURL), ProcessingType: "BATCH", Integration: "STRATA", JobType: jobType},
		}},
		Inputs:    o.inputsOf(n),
		Outputs:   o.outputsOf(n),
		Producer:  OpenLineageProducer,
		SchemaURL: olRunEventURL,
	}
	task := olStrataTaskFacet{olFacet: facet(olStrataTaskURL), Task: t.ID, Resource: string(t.Resource),
		Materialized: t.Materialized, Fingerprint: t.Fingerprint, Status: string(t.Status)}
	if t.Window != nil {
		if spec := t.partition(); spec != nil {
			task.Partition = spec.Granularity.Name(t.Window.Start)
		}
		ev.Run.Facets["nominalTime"] = olNominalTimeFacet{olFacet: facet(olNominalTimeURL),
			NominalStartTime: olTime(t.Window.Start), NominalEndTime: olTime(t.Window.End)}
	}
	if typ != "START" {
		task.Attempts = t.Attempts
		task.Message = t.Message
		if t.Resource != ResourceTest && t.Status == StatusSuccess {
			rows := t.Rows
			task.Rows = &rows
		}
	}
	if typ == "FAIL" {
		msg := t.Message
		if msg == "" {
			msg = string(t.Status)
		}
		ev.Run.Facets["errorMessage"] = olErrorMessageFacet{olFacet: facet(olErrorMessageURL), Message: msg, ProgrammingLanguage: "SQL"}
	}
	ev.Run.Facets["strata_task"] = task
	return ev
}
