package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// Command is what a plan does with the nodes it selects.
type Command string

// The commands, as dbt names them.
const (
	CommandRun      Command = "run"      // models
	CommandSeed     Command = "seed"     // seeds
	CommandTest     Command = "test"     // tests
	CommandBuild    Command = "build"    // seeds, models, snapshots and tests, each node's tests right after it
	CommandSnapshot Command = "snapshot" // snapshots
)

// Resource is what a task builds or checks.
type Resource string

// The task resources.
const (
	ResourceModel Resource = "model"
	ResourceSeed  Resource = "seed"
	ResourceTest  Resource = "test"
	ResourceSnap  Resource = "snapshot"
	ResourceUnit  Resource = "unit_test"
)

// Status is a task's state.
type Status string

// Task states. Models and seeds end success, error or skipped; tests pass, fail, warn,
// error or skipped.
const (
	StatusPending   Status = "pending"
	StatusRunning   Status = "running"
	StatusSuccess   Status = "success"
	StatusError     Status = "error"
	StatusSkipped   Status = "skipped"
	StatusPass      Status = "pass"
	StatusFail      Status = "fail"
	StatusWarn      Status = "warn"
	StatusWaiting   Status = "waiting_upstream" // a partition check did not pass in time
	StatusCancelled Status = "cancelled"        // cut short when the run was cancelled
)

// OK reports whether a task's outcome lets what is downstream of it run.
func (s Status) OK() bool { return s == StatusSuccess || s == StatusPass || s == StatusWarn }

// Failed reports whether a task's outcome is a failure: an error, a failing test, or a
// partition whose checks did not pass.
func (s Status) Failed() bool { return s == StatusError || s == StatusFail || s == StatusWaiting }

// Task is one unit of work: building a model or seed, or running a test.
type Task struct {
	Name         string
	Resource     Resource
	Materialized string
	Path         string
	Relation     string
	Fingerprint  string
	Deps         []*Task // tasks of this plan that must succeed first

	Status  Status
	Message string // the error, or why it was skipped, or the failing row count
	Rows    int64
	Started time.Time
	Ended   time.Time

	Window   *models.Window // the partition, for partitioned models
	Attempts int
	Err      error  // the error of a task that ended in error, with its class
	Skip     string // for plans listed by --dry-run: why the task will not run

	node *lineage.Node
	kids []*Task
}

// Key is the task's one identity, used by the planner, backfills and state alike: the
// node's name, and for a partition "@" and its start in RFC 3339
// (events_daily@2024-01-05T00:00:00Z).
func (t *Task) Key() string {
	if t.Window == nil {
		return t.Name
	}
	return TaskKey(t.Name, t.Window.Start)
}

// TaskKey is the key of a node's task, for the partition starting at start (none when
// start is zero).
func TaskKey(node string, start time.Time) string {
	if start.IsZero() {
		return node
	}
	return node + "@" + start.UTC().Format(time.RFC3339)
}

// Duration is how long the task ran.
func (t *Task) Duration() time.Duration {
	if t.Ended.IsZero() || t.Started.IsZero() {
		return 0
	}
	return t.Ended.Sub(t.Started)
}

// PlanOptions say what to plan.
type PlanOptions struct {
	Command     Command
	Select      []string
	Exclude     []string
	FullRefresh bool
	Now         time.Time // when partitions are due; time.Now() when zero

	// Interval, when set, plans the partitions that closed during it (a schedule's
	// interval) instead of those due at Now: windows whose end lies in (start, end], with
	// their lookback. Unpartitioned models run as usual.
	Interval *models.Window
	// Windows, when set, says exactly which partitions of a partitioned model to plan.
	Windows func(*models.Model) []models.Window
}

// Plan is the ordered set of tasks a command will run.
type Plan struct {
	Command     Command
	Selector    string
	FullRefresh bool
	Tasks       []*Task // to run, in dependency and time order
	Skipped     []*Task // not to run, with Skip saying why (backfills)
	Project     *models.Project
	Graph       *lineage.Graph
	Backfill    *Backfill // set when the plan is a backfill's

	fps   map[string]string
	parts *PartitionState
}

// NewPlan selects nodes and orders their tasks. Unselected upstream models are assumed
// built; ephemeral models are inlined where used and get no task; a partitioned model
// gets a task for each due window (the latest complete one and its lookback).
func NewPlan(g *lineage.Graph, opts PlanOptions) (*Plan, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	windows := func(m *models.Model) []models.Window { return m.Partition().Due(now) }
	switch {
	case opts.Windows != nil:
		windows = opts.Windows
	case opts.Interval != nil:
		iv := *opts.Interval
		windows = func(m *models.Model) []models.Window { return m.Partition().Closed(iv.Start, iv.End) }
	}
	return newPlan(g, opts, windows, nil)
}

// newPlan builds a plan; windows says which partitions of a partitioned model to plan,
// and keep, when set, may drop a task (returning why) before dependencies are linked.
func newPlan(g *lineage.Graph, opts PlanOptions, windows func(*models.Model) []models.Window, keep func(*Task) string) (*Plan, error) {
	ids, err := g.Select(opts.Select, opts.Exclude)
	if err != nil {
		return nil, err
	}
	ids = withCDCStages(g, ids)
	p := &Plan{Command: opts.Command, FullRefresh: opts.FullRefresh, Project: g.Project, Graph: g,
		Selector: strings.TrimSpace(strings.Join(opts.Select, " ") + excludeText(opts.Exclude))}
	p.fps = fingerprints(g)
	byNode := map[string][]*Task{}
	byWindow := map[string]map[int64]*Task{}
	for _, id := range g.Sorted(ids) {
		n := g.Node(id)
		var proto Task
		switch n.Type {
		case lineage.TypeModel:
			if n.Model.Kind == models.KindEphemeral || (opts.Command != CommandRun && opts.Command != CommandBuild) {
				continue
			}
			proto = Task{Resource: ResourceModel, Materialized: string(n.Model.Kind), Relation: g.Project.Relation(n.Model)}
		case lineage.TypeSeed:
			if opts.Command != CommandSeed && opts.Command != CommandBuild {
				continue
			}
			proto = Task{Resource: ResourceSeed, Materialized: "seed", Relation: g.Project.Relation(n.Model)}
		case lineage.TypeSnapshot:
			if opts.Command != CommandSnapshot && opts.Command != CommandBuild {
				continue
			}
			proto = Task{Resource: ResourceSnap, Materialized: "snapshot", Relation: g.Project.Relation(n.Model)}
		case lineage.TypeTest:
			if opts.Command != CommandTest && opts.Command != CommandBuild {
				continue
			}
			proto = Task{Resource: ResourceTest}
		case lineage.TypeUnitTest:
			if opts.Command != CommandTest && opts.Command != CommandBuild {
				continue
			}
			proto = Task{Resource: ResourceUnit, Materialized: "unit_test"}
		default:
			continue
		}
		proto.Name, proto.Path, proto.node, proto.Status = n.Name, n.Path, n, StatusPending
		proto.Fingerprint = p.fps[id]
		var tasks []*Task
		if n.Model != nil && n.Model.Partition() != nil {
			byWindow[id] = map[int64]*Task{}
			for _, w := range windows(n.Model) {
				t := proto
				w := w
				t.Window = &w
				tasks = append(tasks, &t)
			}
		} else {
			t := proto
			tasks = append(tasks, &t)
		}
		for _, t := range tasks {
			if keep != nil {
				if why := keep(t); why != "" {
					t.Skip, t.Status = why, StatusSkipped
					p.Skipped = append(p.Skipped, t)
					continue
				}
			}
			if t.Window != nil {
				byWindow[id][t.Window.Start.Unix()] = t
			}
			byNode[id] = append(byNode[id], t)
			p.Tasks = append(p.Tasks, t)
		}
	}
	for _, t := range p.Tasks {
		if t.Resource == ResourceUnit {
			// a unit test runs on given rows, before its model: it waits for nothing, and
			// in build its model waits for it
			if opts.Command == CommandBuild {
				for _, mt := range byNode[t.node.Unit.Model] {
					mt.Deps = append(mt.Deps, t)
				}
			}
			continue
		}
		spec := t.partition()
		for _, pid := range g.Inputs(t.node.ID) {
			parents := byNode[pid]
			if len(parents) == 0 {
				continue
			}
			pn := g.Node(pid)
			if spec != nil && pn.Model != nil && pn.Model.Partition() != nil {
				for _, uw := range upstreamWindows(spec, pn.Model.Partition(), *t.Window) {
					if d, ok := byWindow[pid][uw.Start.Unix()]; ok {
						t.Deps = append(t.Deps, d)
					}
				}
				continue
			}
			t.Deps = append(t.Deps, parents...)
		}
		if opts.Command == CommandBuild && t.Resource != ResourceTest {
			for _, tt := range gatingTests(g, t, byNode) {
				if !slices.Contains(t.Deps, tt) {
					t.Deps = append(t.Deps, tt)
				}
			}
		}
	}
	// a CDC model's windows go through merge and materialize in time order, each window's
	// merge after the window before it is materialized: a partial event (a TOAST
	// placeholder, a MongoDB updateDescription) patches the document the windows before it
	// left, and the typed table, its schema included, evolves as the events did
	for id, tasks := range byNode {
		n := g.Node(id)
		if n.Model == nil || n.Model.Kind != models.KindCDCMerge {
			continue
		}
		typed := byNode[n.Model.CDC().Model]
		for i := 1; i < len(tasks); i++ {
			prev := tasks[i-1]
			for _, tt := range typed {
				if tt.Window.Start.Equal(prev.Window.Start) {
					prev = tt
				}
			}
			tasks[i].Deps = append(tasks[i].Deps, prev)
		}
	}
	for _, t := range p.Tasks {
		for _, d := range t.Deps {
			d.kids = append(d.kids, t)
		}
	}
	return p, nil
}

// partition returns the task's model's partition spec, or nil.
func (t *Task) partition() *models.PartitionSpec {
	if t.Window == nil || t.node.Model == nil {
		return nil
	}
	return t.node.Model.Partition()
}

// Node returns the graph node the task is for.
func (t *Task) Node() *lineage.Node { return t.node }

func excludeText(ex []string) string {
	if len(ex) == 0 {
		return ""
	}
	return " --exclude " + strings.Join(ex, " ")
}

// gatingTests are the tests a model waits for in build: the tests of its parents whose
// every dependency comes before the model in topological order (so no wait can loop).
func gatingTests(g *lineage.Graph, t *Task, byNode map[string][]*Task) []*Task {
	var out []*Task
	rank := g.Rank(t.node.ID)
	for _, pid := range g.Parents(t.node.ID) {
		for _, kid := range g.Children(pid) {
			tts := byNode[kid]
			if len(tts) != 1 || tts[0].Resource != ResourceTest {
				continue
			}
			tt := tts[0]
			ok := true
			for _, dep := range g.Parents(kid) {
				if dep == t.node.ID || g.Rank(dep) >= rank {
					ok = false
					break
				}
			}
			if ok && !slices.Contains(out, tt) {
				out = append(out, tt)
			}
		}
	}
	return out
}

// fingerprints hashes every model's compiled SQL, config and other inputs (a seed's CSV,
// the macros, vars and env vars it reads) with its parents' fingerprints, in
// topological order: a change anywhere upstream changes everything below it.
func fingerprints(g *lineage.Graph) map[string]string {
	out := map[string]string{}
	for _, n := range g.Nodes() {
		if n.Model == nil {
			continue
		}
		h := sha256.New()
		sql, _ := g.Project.Compile(n.Model, models.CompileOptions{})
		h.Write([]byte(sql))
		h.Write([]byte{0})
		h.Write([]byte(n.Model.Raw()))
		cfg, _ := json.Marshal(n.Model.Config.Raw) // map keys are sorted by encoding/json
		h.Write(cfg)
		h.Write(g.Project.Inputs(n.Model)) // a seed's file; macros, vars and env vars read
		parents := append([]string(nil), g.Parents(n.ID)...)
		sort.Strings(parents)
		for _, p := range parents {
			h.Write([]byte(out[p]))
		}
		out[n.ID] = hex.EncodeToString(h.Sum(nil))[:16]
	}
	return out
}

// Schemas returns the schemas the plan's models write to.
func (p *Plan) Schemas() []string {
	set := map[string]bool{}
	for _, t := range p.Tasks {
		if t.node.Model != nil {
			set[p.Project.Schema(t.node.Model)] = true
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Label names a task for people: the node, and its partition when it has one.
func (t *Task) Label() string {
	if t.Window != nil {
		return t.Name + " " + t.partition().Granularity.Name(t.Window.Start)
	}
	return t.Name
}

// Fingerprints returns every model's current fingerprint.
func (p *Plan) Fingerprints() map[string]string { return p.fps }

// withCDCStages adds to a selection the extract and merge stages of each CDC model it
// names: `strata run orders` runs the whole pipeline for the due windows.
func withCDCStages(g *lineage.Graph, ids map[string]bool) map[string]bool {
	for id := range ids {
		n := g.Node(id)
		if n == nil || n.Model == nil || n.Model.Kind != models.KindCDC {
			continue
		}
		for _, stage := range []string{n.Model.CDC().ExtractName(), n.Model.CDC().RawName()} {
			if g.Node(stage) != nil {
				ids[stage] = true
			}
		}
	}
	return ids
}
