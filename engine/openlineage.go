package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
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

// LineageEmitter sends OpenLineage events somewhere.
type LineageEmitter interface {
	Emit(ctx context.Context, ev *LineageEvent) error
}

// FileEmitter appends events to a file, one JSON document per line.
type FileEmitter struct {
	Path string
	mu   sync.Mutex
}

// Emit appends one event as a line; the line is written in one call, so readers never
// see half an event.
func (f *FileEmitter) Emit(_ context.Context, ev *LineageEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	file, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := file.Write(append(b, '\n')); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}

// HTTPEmitter POSTs events to an OpenLineage endpoint (Marquez and others):
// <URL>/api/v1/lineage, one JSON event per request.
type HTTPEmitter struct {
	URL    string // the endpoint, /api/v1/lineage included
	Client *http.Client
}

// NewHTTPEmitter returns an emitter for a server's base URL, with a 5-second timeout.
func NewHTTPEmitter(base string) *HTTPEmitter {
	return &HTTPEmitter{URL: strings.TrimSuffix(base, "/") + "/api/v1/lineage", Client: &http.Client{Timeout: 5 * time.Second}}
}

// Emit posts one event; any answer but 2xx is an error carrying the start of the body.
func (h *HTTPEmitter) Emit(ctx context.Context, ev *LineageEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s: %s", h.URL, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
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

func (o *OpenLineage) loop() {
	defer close(o.done)
	for {
		o.mu.Lock()
		for len(o.queue) == 0 && !o.closed {
			o.cond.Wait()
		}
		batch := o.queue
		o.queue = nil
		closed := o.closed
		o.mu.Unlock()
		for _, ev := range batch {
			o.send(ev)
		}
		if closed && len(batch) == 0 {
			return
		}
	}
}

// send gives an event to every emitter still worth trying.
func (o *OpenLineage) send(ev *LineageEvent) {
	for i, e := range o.emitters {
		if o.failures[i] >= giveUpAfter {
			continue
		}
		if err := e.Emit(context.Background(), ev); err != nil {
			o.failures[i]++
			msg := fmt.Sprintf("openlineage: %s %s event for %s not sent: %v", strings.ToLower(ev.EventType), ev.Job.Name, emitterName(e), err)
			if o.failures[i] == giveUpAfter {
				msg += fmt.Sprintf(" (%d failures in a row: no more events go there in this run)", giveUpAfter)
			}
			o.warn(msg)
			continue
		}
		o.failures[i] = 0
	}
}

func (o *OpenLineage) warn(msg string) {
	if o.Warn != nil {
		o.Warn(msg)
	}
}

func emitterName(e LineageEmitter) string {
	switch e := e.(type) {
	case *FileEmitter:
		return e.Path
	case *HTTPEmitter:
		return e.URL
	}
	return fmt.Sprintf("%T", e)
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

// inputsOf returns the datasets a node reads, reading through ephemeral models (they
// are inlined, so their own inputs are what the query reads).
func (o *OpenLineage) inputsOf(n *lineage.Node) []LineageDataset {
	o.cacheMu.Lock()
	defer o.cacheMu.Unlock()
	if ds, ok := o.inputs[n.ID]; ok {
		return ds
	}
	ds := []LineageDataset{}
	if n.Type == lineage.TypeSeed {
		ds = append(ds, LineageDataset{Namespace: "file", Name: o.absPath(n.Model.Path)})
	}
	seen := map[string]bool{}
	for _, id := range o.readIDs(n, map[string]bool{}) {
		d, ok := o.dataset(id)
		if !ok || seen[d.Namespace+" "+d.Name] {
			continue
		}
		seen[d.Namespace+" "+d.Name] = true
		if f := o.schemaFacet(id); f != nil {
			d.Facets = map[string]any{"schema": f}
		}
		ds = append(ds, d)
	}
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].Namespace != ds[j].Namespace {
			return ds[i].Namespace < ds[j].Namespace
		}
		return ds[i].Name < ds[j].Name
	})
	o.inputs[n.ID] = ds
	return ds
}

// readIDs returns the node IDs a node reads, with ephemeral models replaced by theirs.
func (o *OpenLineage) readIDs(n *lineage.Node, visiting map[string]bool) []string {
	var deps, srcs []string
	switch {
	case n.Model != nil:
		deps, srcs = n.Model.DependsOn, n.Model.SourceDeps
	case n.Test != nil:
		deps, srcs = n.Test.DependsOn, n.Test.SourceDeps
	}
	var out []string
	for _, d := range deps {
		m := o.p.Models[d]
		if m != nil && m.Kind == models.KindEphemeral {
			if !visiting[d] {
				visiting[d] = true
				out = append(out, o.readIDs(&lineage.Node{ID: d, Name: d, Model: m}, visiting)...)
			}
			continue
		}
		out = append(out, d)
	}
	for _, s := range srcs {
		out = append(out, lineage.SourceID(s))
	}
	return out
}

// outputsOf returns what a model or seed writes: its relation, with its schema and
// column lineage. Tests write nothing.
func (o *OpenLineage) outputsOf(n *lineage.Node) []LineageDataset {
	o.cacheMu.Lock()
	defer o.cacheMu.Unlock()
	if ds, ok := o.outputs[n.ID]; ok {
		return ds
	}
	ds := []LineageDataset{}
	if n.Model != nil {
		if d, ok := o.dataset(n.ID); ok {
			facets := map[string]any{}
			if f := o.schemaFacet(n.ID); f != nil {
				facets["schema"] = f
			}
			if f := o.columnLineage(n.ID); f != nil {
				facets["columnLineage"] = f
			}
			if len(facets) > 0 {
				d.Facets = facets
			}
			ds = append(ds, d)
		}
	}
	o.outputs[n.ID] = ds
	return ds
}

// dataset names a node's relation or files as OpenLineage does.
func (o *OpenLineage) dataset(id string) (LineageDataset, bool) {
	if m := o.p.Models[id]; m != nil {
		return LineageDataset{Namespace: o.namespace, Name: o.p.Schema(m) + "." + m.Identifier()}, true
	}
	table, ok := strings.CutPrefix(id, "source:")
	if !ok {
		return LineageDataset{}, false
	}
	src, name, _ := strings.Cut(table, ".")
	s := o.p.Sources[src]
	if s == nil || s.Tables[name] == nil {
		return LineageDataset{}, false
	}
	t := s.Tables[name]
	if t.Location == "" {
		return LineageDataset{Namespace: o.namespace, Name: s.Schema + "." + t.Identifier}, true
	}
	if u, err := url.Parse(t.Location); err == nil && u.Scheme != "" && u.Host != "" {
		return LineageDataset{Namespace: u.Scheme + "://" + u.Host, Name: strings.TrimPrefix(u.Path, "/")}, true
	}
	return LineageDataset{Namespace: "file", Name: o.absPath(t.Location)}, true
}

func (o *OpenLineage) absPath(p string) string {
	if filepath.IsAbs(p) {
		return filepath.ToSlash(p)
	}
	return filepath.ToSlash(filepath.Join(o.p.Dir, p))
}

// schemaFacet lists a node's columns and types, with documented descriptions.
func (o *OpenLineage) schemaFacet(id string) *olSchemaFacet {
	nc := o.cols[id]
	if nc == nil || len(nc.Columns) == 0 {
		return nil
	}
	docs := map[string]string{}
	var documented []*models.Column
	if m := o.p.Models[id]; m != nil {
		documented = m.Columns
	} else if table, ok := strings.CutPrefix(id, "source:"); ok {
		src, name, _ := strings.Cut(table, ".")
		if s := o.p.Sources[src]; s != nil && s.Tables[name] != nil {
			documented = s.Tables[name].Columns
		}
	}
	for _, c := range documented {
		docs[strings.ToLower(c.Name)] = c.Description
	}
	f := &olSchemaFacet{olFacet: facet(olSchemaURL), Fields: make([]olSchemaField, 0, len(nc.Columns))}
	for _, c := range nc.Columns {
		f.Fields = append(f.Fields, olSchemaField{Name: c.Name, Type: c.Type, Description: docs[strings.ToLower(c.Name)]})
	}
	return f
}

// olKind maps an edge kind to its OpenLineage transformation.
func olKind(k lineage.EdgeKind) olTransformation {
	switch k {
	case lineage.Identity:
		return olTransformation{Type: "DIRECT", Subtype: "IDENTITY"}
	case lineage.Transformation:
		return olTransformation{Type: "DIRECT", Subtype: "TRANSFORMATION"}
	case lineage.Aggregation:
		return olTransformation{Type: "DIRECT", Subtype: "AGGREGATION"}
	case lineage.Filter:
		return olTransformation{Type: "INDIRECT", Subtype: "FILTER"}
	case lineage.Join:
		return olTransformation{Type: "INDIRECT", Subtype: "JOIN"}
	case lineage.GroupBy:
		return olTransformation{Type: "INDIRECT", Subtype: "GROUP_BY"}
	case lineage.Window:
		return olTransformation{Type: "INDIRECT", Subtype: "WINDOW"}
	}
	return olTransformation{Type: "DIRECT", Subtype: "TRANSFORMATION",
		Description: "strata could not trace this column exactly: it may depend on any column of this input"}
}

// compose is the kind of a two-hop edge (outer reads inner's column through an
// ephemeral model): a row-deciding hop decides rows, else the stronger value hop wins.
func compose(outer, inner lineage.EdgeKind) lineage.EdgeKind {
	switch {
	case outer.Indirect():
		return outer
	case inner.Indirect():
		return inner
	case outer == lineage.AllColumns || inner == lineage.AllColumns:
		return lineage.AllColumns
	case outer == lineage.Aggregation || inner == lineage.Aggregation:
		return lineage.Aggregation
	case outer == lineage.Transformation || inner == lineage.Transformation:
		return lineage.Transformation
	}
	return lineage.Identity
}

// physicalInputs replaces inputs from ephemeral models with what those read.
func (o *OpenLineage) physicalInputs(ins []lineage.ColumnInput, depth int) []lineage.ColumnInput {
	var out []lineage.ColumnInput
	for _, in := range ins {
		m := o.p.Models[in.From.Node]
		if m == nil || m.Kind != models.KindEphemeral || depth > 32 {
			out = append(out, in)
			continue
		}
		nc := o.cols[in.From.Node]
		if nc == nil {
			continue
		}
		col := nc.Column(in.From.Column)
		if col == nil {
			continue
		}
		for _, inner := range o.physicalInputs(col.Inputs, depth+1) {
			out = append(out, lineage.ColumnInput{From: inner.From, Kind: compose(in.Kind, inner.Kind)})
		}
	}
	return out
}

// columnLineage builds a node's columnLineage facet: each output column's input fields
// with their transformations, and, in dataset, the row-deciding inputs every output
// column shares (a WHERE, a join key, a GROUP BY key).
func (o *OpenLineage) columnLineage(id string) *olColumnLineageFacet {
	nc := o.cols[id]
	if nc == nil || len(nc.Columns) == 0 {
		return nil
	}
	type key struct{ ns, name, field string }
	f := &olColumnLineageFacet{olFacet: facet(olColumnLineageURL), Fields: map[string]olColumnFields{}}
	shared := map[key]map[olTransformation]int{} // indirect inputs: in how many columns
	found := false
	for _, c := range nc.Columns {
		byField := map[key][]olTransformation{}
		var keys []key
		for _, in := range o.physicalInputs(c.Inputs, 0) {
			d, ok := o.dataset(in.From.Node)
			if !ok {
				continue
			}
			k := key{d.Namespace, d.Name, in.From.Column}
			tr := olKind(in.Kind)
			if _, seen := byField[k]; !seen {
				keys = append(keys, k)
			}
			dup := false
			for _, x := range byField[k] {
				dup = dup || x == tr
			}
			if !dup {
				byField[k] = append(byField[k], tr)
			}
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].ns != keys[j].ns {
				return keys[i].ns < keys[j].ns
			}
			if keys[i].name != keys[j].name {
				return keys[i].name < keys[j].name
			}
			return keys[i].field < keys[j].field
		})
		fields := olColumnFields{InputFields: make([]olInputField, 0, len(keys))}
		for _, k := range keys {
			trs := byField[k]
			sortTransformations(trs)
			fields.InputFields = append(fields.InputFields, olInputField{Namespace: k.ns, Name: k.name, Field: k.field, Transformations: trs})
			for _, tr := range trs {
				if tr.Type == "INDIRECT" {
					if shared[k] == nil {
						shared[k] = map[olTransformation]int{}
					}
					shared[k][tr]++
				}
			}
		}
		found = found || len(keys) > 0
		f.Fields[c.Name] = fields
	}
	if !found {
		return nil
	}
	var dataset []olInputField
	for k, trs := range shared {
		var all []olTransformation
		for tr, count := range trs {
			if count == len(nc.Columns) {
				all = append(all, tr)
			}
		}
		if len(all) > 0 {
			sortTransformations(all)
			dataset = append(dataset, olInputField{Namespace: k.ns, Name: k.name, Field: k.field, Transformations: all})
		}
	}
	sort.Slice(dataset, func(i, j int) bool {
		a, b := dataset[i], dataset[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Field < b.Field
	})
	f.Dataset = dataset
	return f
}

func sortTransformations(trs []olTransformation) {
	sort.Slice(trs, func(i, j int) bool {
		if trs[i].Type != trs[j].Type {
			return trs[i].Type < trs[j].Type
		}
		return trs[i].Subtype < trs[j].Subtype
	})
}
