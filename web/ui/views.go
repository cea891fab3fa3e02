// Package ui holds the web UI's templ components and the view types they render: pages
// are composed of one component per visible part (a graph node, a column row, a
// partition cell). Handlers in package web fetch and fill the views; components only
// render, for the live server and for `strata docs --out` alike.
package ui

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/scheduler"
	"github.com/stratadata/strata/web/api"
)

// Meta is what every page has: its title, the project, and how links are written.
type Meta struct {
	Title   string
	Project string
	Nav     string // the active section: lineage, models, runs, schedules
	CSRF    string // the token every form posts back
	// Static is a `strata docs` export: files linked relatively, no live parts, no forms.
	Static bool
	Root   string // what links start with in an export ("../" from a model page)
	Error  string // an error to show at the top
	Flash  string // what an action did
	// Version is the server's count of changes when the page was made: its event stream
	// tells the page at once when something changed since.
	Version uint64
}

// ModelURL links a model's page.
func (m Meta) ModelURL(name string) string {
	if m.Static {
		return m.Root + "models/" + fileName(name) + ".html"
	}
	return "/models/" + url.PathEscape(name)
}

// LineageURL links the lineage explorer focused on a node.
func (m Meta) LineageURL(focus string) string {
	if m.Static {
		return m.Root + "lineage/" + fileName(focus) + ".html"
	}
	return "/lineage?focus=" + url.QueryEscape(focus)
}

// Asset links a file of web/static.
func (m Meta) Asset(name string) string {
	if m.Static {
		return m.Root + "static/" + name
	}
	return "/static/" + name
}

// Home links the front page.
func (m Meta) Home() string {
	if m.Static {
		return m.Root + "index.html"
	}
	return "/"
}

// fileName is a node's name as a file name in an export.
func fileName(name string) string {
	return strings.NewReplacer("/", "_", ":", "_", "\\", "_").Replace(name)
}

// FileName is fileName for the exporter.
func FileName(name string) string { return fileName(name) }

// Diagram is a laid-out lineage drawing, in pixels, origin top left.
type Diagram struct {
	Width, Height float64
	Nodes         []Node
	Edges         []Edge
	ColumnEdges   []ColumnEdge
}

// Node is one box of the diagram.
type Node struct {
	ID, Name, Type string
	Status         string // ok, failed, stale, running, waiting, or empty
	Focus          bool
	X, Y, W, H     float64 // top-left corner and size
	Expanded       bool
	Columns        []ColumnRow
	MoreColumns    int
	Href           string // where clicking it goes: the explorer focused on it
	ToggleHref     string // expands or folds its columns
}

// ColumnRow is one column of an expanded node.
type ColumnRow struct {
	Name, Type string
	Y          float64 // the row's middle
	Key        string  // MODEL.COLUMN
	Href       string  // highlights its lineage, without JavaScript
	Lit        bool    // on the highlighted column's path
}

// Edge is a model-level edge: To reads From.
type Edge struct {
	From, To string
	Path     string
	Lit      bool
}

// ColumnEdge is a column-level edge between two expanded nodes' rows.
type ColumnEdge struct {
	From, To string // MODEL.COLUMN
	Kind     lineage.EdgeKind
	Path     string
	Lit      bool
}

// Indirect says the edge is drawn dashed: the column is read to filter, join, group or
// order, not copied or computed from.
func (e ColumnEdge) Indirect() bool { return e.Kind.Indirect() }

// LineageView is the lineage explorer.
type LineageView struct {
	Meta
	Focus, Select, Mode, Query string
	Up, Down                   int
	Expand                     []string
	Column                     string // the highlighted column, MODEL.COLUMN
	Diagram                    *Diagram
	Shown, Total               int // nodes drawn, nodes the query reached
	Note                       string
	Matches                    []lineage.NodeRef // search results
	Suggest                    []lineage.NodeRef // where to start, when nothing is focused
	SVGHref                    string
	ModeHref                   string // the other mode
	ColumnError                string
}

// ModelView is a model's page.
type ModelView struct {
	Meta
	Model       *api.Model
	SQL         []Token
	CompiledSQL []Token
	Partitioned bool
	ConfigLines []string
}

// PartitionsView is a partitioned model's heatmap, with a backfill's plan when asked.
type PartitionsView struct {
	Meta
	Model     string
	Summary   *engine.PartitionSummary
	From, To  string
	Days      []PartitionDay
	Plan      *api.BackfillPlan
	PlanRun   []api.PlannedTask
	PlanSkip  []api.PlannedTask
	Launched  string // the job a launch queued
	Reprocess string
	Counts    []Count
	Statuses  []string
}

// PartitionDay is one row of the heatmap: a day's windows (one for daily models, 24 for
// hourly, ...).
type PartitionDay struct {
	Label string
	Cells []engine.PartitionInfo
}

// Count is one status and how many.
type Count struct {
	Status string
	N      int
}

// RunsView is the list of runs, backfills and the queue.
type RunsView struct {
	Meta
	Running, Queued []*scheduler.Job
	Runs            []engine.RunRecord
	Backfills       []engine.BackfillRecord
}

// RunView is one run: its tasks on a timeline.
type RunView struct {
	Meta
	ID     string
	Detail *api.RunDetail
	Bars   []Bar
	Failed []FailedTask
	Span   time.Duration
	Live   bool
	ETA    string
	Done   int
	Total  int
}

// Bar is one task on a run's timeline, in percent of the run's span.
type Bar struct {
	Task        engine.TaskRecord
	Label       string
	Left, Width float64
	Duration    time.Duration
}

// FailedTask is a failed task with where its error is and the SQL that failed.
type FailedTask struct {
	Task     engine.TaskRecord
	Place    string // file:line:col of the error, when known
	Compiled []Token
}

// BackfillView is one backfill's progress.
type BackfillView struct {
	Meta
	Detail  *api.BackfillDetail
	Percent float64
	ETA     string
	Running string // the job running it, if any
	Tasks   []engine.BackfillTask
	More    int
}

// SchedulesView is the schedules, when they fire, and late models.
type SchedulesView struct {
	Meta
	Schedules []scheduler.ScheduleStatus
	Upcoming  []scheduler.Fire
	Late      []scheduler.Late
	Waiting   []engine.Waiting
}

// IndexView is the front page: every model, searchable.
type IndexView struct {
	Meta
	Query   string
	Nodes   []lineage.NodeRef
	Total   int
	Matches bool // Nodes are search results
}

// Token is a piece of highlighted SQL.
type Token struct {
	Class string // kw, str, num, com, jinja, or empty
	Text  string
}

func px(f float64) string { return fmt.Sprintf("%.1f", f) }

func pct(f float64) string { return fmt.Sprintf("%.2f%%", f) }

func itoa(n int) string { return fmt.Sprint(n) }

func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func at(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func taskDur(t engine.TaskRecord) string {
	if t.Started == nil || t.Ended == nil {
		return "—"
	}
	return dur(t.Ended.Sub(*t.Started))
}

func runDur(r engine.RunRecord) string {
	if r.Ended == nil {
		return "running"
	}
	return dur(r.Ended.Sub(r.Started))
}

func cellTitle(p engine.PartitionInfo) string {
	s := p.Name + ": " + string(p.Status)
	if p.Reason != "" {
		s += " — " + p.Reason
	}
	if p.RunID != "" {
		s += " · built by run " + p.RunID
		if p.BuiltAt != nil {
			s += " at " + p.BuiltAt.UTC().Format("2006-01-02 15:04")
		}
		s += fmt.Sprintf(" · %d rows", p.Rows)
	}
	return s
}

// partitionDate is a partition's start as a backfill's range takes it: the day, or
// the hour of windows shorter than a day.
func partitionDate(p engine.PartitionInfo) string {
	if p.End.Sub(p.Start) < 24*time.Hour {
		return p.Start.UTC().Format("2006-01-02T15")
	}
	return p.Start.UTC().Format("2006-01-02")
}
