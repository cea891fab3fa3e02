package openlineage

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// Producer is the producer URI strata puts in every event and facet.
const Producer = "https://github.com/stratadata/strata"

// The schema URLs of the event and of each facet strata writes. strata_task's schema is
// published in this repository, in openlineage/schema.
const (
	runEventURL      = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
	schemaURL        = "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
	columnLineageURL = "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"
	jobTypeURL       = "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
	nominalTimeURL   = "https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet"
	errorMessageURL  = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
	strataTaskURL    = "https://raw.githubusercontent.com/stratadata/strata/main/openlineage/schema/StrataTaskRunFacet.json#/$defs/StrataTaskRunFacet"
)

// RunEvent is one OpenLineage RunEvent.
type RunEvent struct {
	EventType string    `json:"eventType"` // START, COMPLETE, FAIL or ABORT
	EventTime string    `json:"eventTime"`
	Run       Run       `json:"run"`
	Job       Job       `json:"job"`
	Inputs    []Dataset `json:"inputs"`
	Outputs   []Dataset `json:"outputs"`
	Producer  string    `json:"producer"`
	SchemaURL string    `json:"schemaURL"`
}

// Run is a run: one task attempt, with its facets by name.
type Run struct {
	RunID  string         `json:"runId"`
	Facets map[string]any `json:"facets,omitempty"`
}

// Job is the job a run belongs to: a model, seed or test.
type Job struct {
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Facets    map[string]any `json:"facets,omitempty"`
}

// Dataset is a relation or file set a run reads or writes.
type Dataset struct {
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

// Sender turns a run's task events into OpenLineage run events and sends them, in order,
// from a goroutine of its own, so a slow or dead endpoint never holds up a run. Give it
// to engine.RunOptions.Observers and Close it when the run is over. A nil *Sender does
// nothing.
type Sender struct {
	// Warn receives what could not be sent: delivery problems are warnings, never
	// failures of the run. It is called from the Sender's own goroutine; nil drops them.
	Warn func(msg string)

	p         *models.Project
	namespace string // the warehouse's dataset namespace
	emitters  []Emitter

	mu     sync.Mutex
	cond   *sync.Cond
	g      *lineage.Graph                  // the run's graph
	cols   map[string]*lineage.NodeColumns // the shadow catalog's column lineage, from the run
	runs   map[*engine.Task]string         // tasks that started: their run ID
	queue  []*RunEvent
	closed bool
	done   chan struct{}

	cacheMu  sync.Mutex
	inputs   map[string][]Dataset
	outputs  map[string][]Dataset
	failures map[int]int // consecutive failures by emitter index
}

// giveUpAfter is how many failures in a row make a Sender stop trying an emitter for
// the rest of the run.
const giveUpAfter = 3

// New returns the project's OpenLineage sender, or nil when strata.yml configures none.
// It fails when the configured file cannot be written.
func New(p *models.Project) (*Sender, error) {
	cfg := p.OpenLineage
	if cfg.File == "" && cfg.URL == "" {
		return nil, nil
	}
	var emitters []Emitter
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
	return NewSender(p, emitters...), nil
}

// NewSender returns a sender to the given emitters.
func NewSender(p *models.Project, emitters ...Emitter) *Sender {
	o := &Sender{p: p, namespace: "duckdb://" + p.Warehouse.Path, emitters: emitters,
		runs: map[*engine.Task]string{}, done: make(chan struct{}),
		inputs: map[string][]Dataset{}, outputs: map[string][]Dataset{}, failures: map[int]int{}}
	o.cond = sync.NewCond(&o.mu)
	go o.loop()
	return o
}

// NeedsCatalog asks the run for the shadow catalog: outputs carry its column lineage.
func (o *Sender) NeedsCatalog() bool { return o != nil }

// Observe records a task starting or ending; it only builds the event and queues it.
func (o *Sender) Observe(ev engine.Event) {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	if ev.Kind == engine.EventRunStarted {
		o.cacheMu.Lock()
		o.g = ev.Plan.Graph
		if ev.Catalog != nil {
			o.cols = ev.Catalog.Nodes
		}
		o.inputs, o.outputs = map[string][]Dataset{}, map[string][]Dataset{}
		o.cacheMu.Unlock()
		return
	}
	t := ev.Task
	if t == nil || t.Node() == nil {
		return
	}
	switch ev.Kind {
	case engine.EventTaskStarted:
		if _, ok := o.runs[t]; ok {
			return
		}
		id := uuid.Must(uuid.NewV7()).String()
		o.runs[t] = id
		o.queue = append(o.queue, o.event("START", t, id, t.Started))
	case engine.EventTaskFinished:
		id, ok := o.runs[t]
		if !ok {
			return // never started (skipped because of an upstream failure): no run, no event
		}
		delete(o.runs, t)
		o.queue = append(o.queue, o.event(endEventType(t.Status), t, id, t.Ended))
	default:
		return
	}
	o.cond.Signal()
}

// Close sends what is queued and stops; events after it are dropped.
func (o *Sender) Close() error {
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
func endEventType(s engine.Status) string {
	switch s {
	case engine.StatusSuccess, engine.StatusPass, engine.StatusWarn:
		return "COMPLETE"
	case engine.StatusSkipped, engine.StatusCancelled:
		return "ABORT"
	}
	return "FAIL" // error, fail, waiting_upstream
}

// jobNamespace is strata.yml's openlineage namespace, the project's name by default.
func (o *Sender) jobNamespace() string {
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
	return olFacet{Producer: Producer, SchemaURL: schemaURL}
}

// event builds the event of a task's transition.
func (o *Sender) event(typ string, t *engine.Task, runID string, at time.Time) *RunEvent {
	n := t.Node()
	jobType := strings.ToUpper(string(t.Resource))
	ev := &RunEvent{
		EventType: typ,
		EventTime: olTime(at),
		Run:       Run{RunID: runID, Facets: map[string]any{}},
		Job: Job{Namespace: o.jobNamespace(), Name: n.Name, Facets: map[string]any{
			"jobType": olJobTypeFacet{olFacet: facet(jobTypeURL), ProcessingType: "BATCH", Integration: "STRATA", JobType: jobType},
		}},
		Inputs:    o.inputsOf(n),
		Outputs:   o.outputsOf(n),
		Producer:  Producer,
		SchemaURL: runEventURL,
	}
	task := olStrataTaskFacet{olFacet: facet(strataTaskURL), Task: t.Key(), Resource: string(t.Resource),
		Materialized: t.Materialized, Fingerprint: t.Fingerprint, Status: string(t.Status), Partition: t.PartitionName()}
	if t.Window != nil {
		ev.Run.Facets["nominalTime"] = olNominalTimeFacet{olFacet: facet(nominalTimeURL),
			NominalStartTime: olTime(t.Window.Start), NominalEndTime: olTime(t.Window.End)}
	}
	if typ != "START" {
		task.Attempts = t.Attempts
		task.Message = t.Message
		if t.Resource != engine.ResourceTest && t.Status == engine.StatusSuccess {
			rows := t.Rows
			task.Rows = &rows
		}
	}
	if typ == "FAIL" {
		msg := t.Message
		if msg == "" {
			msg = string(t.Status)
		}
		ev.Run.Facets["errorMessage"] = olErrorMessageFacet{olFacet: facet(errorMessageURL), Message: msg, ProgrammingLanguage: "SQL"}
	}
	ev.Run.Facets["strata_task"] = task
	return ev
}
