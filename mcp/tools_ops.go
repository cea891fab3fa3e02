package mcp

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/scheduler"
	"github.com/stratadata/strata/web/api"
)

type partitionsIn struct {
	Select string `json:"select,omitempty" jsonschema:"a model or a dbt selector (events_daily, tag:hourly+); every partitioned model when empty"`
	From   string `json:"from,omitempty" jsonschema:"first partition, e.g. 2024-01-01 or 2024-01-01T05; the model's start when empty"`
	To     string `json:"to,omitempty" jsonschema:"last partition, inclusive; the latest complete one when empty"`
	Status string `json:"status,omitempty" jsonschema:"only ranges in this status: done, missing, stale, failed or waiting"`
	Limit  int    `json:"limit,omitempty" jsonschema:"ranges per model at most, 50 by default"`
}

// Range is a run of consecutive partitions in one status.
type Range struct {
	Status string `json:"status"`
	From   string `json:"from"`
	To     string `json:"to"`
	Count  int    `json:"count"`
	Why    string `json:"why,omitempty"`    // the first partition's reason
	RunID  string `json:"run_id,omitempty"` // the run that built the last partition of a done range
}

// ModelPartitions is where one partitioned model stands.
type ModelPartitions struct {
	Model       string         `json:"model"`
	Granularity string         `json:"granularity"`
	From        string         `json:"from"`
	To          string         `json:"to"`
	Counts      map[string]int `json:"counts"`
	Ranges      []Range        `json:"ranges"`
	Truncated   bool           `json:"truncated,omitempty"`
}

type partitionsOut struct {
	Models    []ModelPartitions `json:"models"`
	Total     int               `json:"total"`
	Truncated bool              `json:"truncated"`
}

type listRunsIn struct {
	Limit  int    `json:"limit,omitempty" jsonschema:"newest runs, 20 by default, 200 at most"`
	Status string `json:"status,omitempty" jsonschema:"only runs in this status: success, error, running, cancelled, aborted"`
}

type listRunsOut struct {
	Runs []engine.RunRecord `json:"runs"`
}

type diagnoseIn struct {
	RunID string `json:"run_id,omitempty" jsonschema:"the run (or a unique prefix of its id); the latest run that did not succeed when empty"`
}

// Failure is a failed task with where its error points.
type Failure struct {
	Node      string `json:"node"`
	Partition string `json:"partition,omitempty"`
	Status    string `json:"status"`
	File      string `json:"file,omitempty"`
	Line      int    `json:"line,omitempty"`
	Error     string `json:"error"`
	Attempts  int    `json:"attempts"`
}

type diagnoseOut struct {
	Run      engine.RunRecord `json:"run"`
	Failed   []Failure        `json:"failed"`
	Waited   []Failure        `json:"waited"`  // partition checks that did not pass: upstream data was not there
	Skipped  []string         `json:"skipped"` // what did not run because something upstream failed
	Backfill *BackfillAdvice  `json:"backfill,omitempty"`
	Advice   string           `json:"advice"`
	// Truncated says a list was cut (at 50 items, or to fit the answer's size).
	Truncated bool `json:"truncated"`
}

// BackfillAdvice is what to backfill after fixing a run: plan_backfill's arguments and
// the command.
type BackfillAdvice struct {
	Select  string `json:"select"`
	From    string `json:"from"`
	To      string `json:"to"`
	Command string `json:"command"`
}

type planBackfillIn struct {
	Select    string `json:"select" jsonschema:"the models: a name or a dbt selector, e.g. events_hourly+"`
	From      string `json:"from" jsonschema:"first partition, e.g. 2024-01-01"`
	To        string `json:"to" jsonschema:"last partition, inclusive"`
	Reprocess string `json:"reprocess,omitempty" jsonschema:"which partitions to rebuild: missing, or stale (the default: missing, failed and stale), or all"`
	Limit     int    `json:"limit,omitempty" jsonschema:"tasks listed at most, 100 by default; the counts are always whole"`
}

type planBackfillOut struct {
	PlanID     string            `json:"plan_id"`
	BackfillID string            `json:"backfill_id"`
	Resumed    bool              `json:"resumed"`
	Run        int               `json:"run"`
	Skip       int               `json:"skip"`
	Tasks      []api.PlannedTask `json:"tasks"`
	Truncated  bool              `json:"truncated"`
	Note       string            `json:"note"`
}

type queryIn struct {
	SQL       string `json:"sql" jsonschema:"one read-only SELECT (WITH … SELECT, VALUES, DESCRIBE and SUMMARIZE too) against the warehouse"`
	Limit     int    `json:"limit,omitempty" jsonschema:"rows at most, 100 by default, 1000 at most"`
	TimeoutMS int    `json:"timeout_ms,omitempty" jsonschema:"milliseconds before the query is interrupted, 10000 by default"`
}

func (s *Server) addOpsTools() {
	tool(s, &sdk.Tool{Name: "get_partitions", Annotations: readOnly("Partition status"),
		Description: "Where partitioned models stand: counts by status and the ranges of partitions done, missing, stale, failed or waiting, with why."},
		s.partitions)
	tool(s, &sdk.Tool{Name: "list_runs", Annotations: readOnly("Recent runs"),
		Description: "The newest runs (scheduled, backfills, CLI and agent runs) with their status and task counts."},
		s.listRuns)
	tool(s, &sdk.Tool{Name: "diagnose_run", Annotations: readOnly("Why a run failed"),
		Description: "A run's failed tasks with their errors at file:line, the partition checks that waited, what was skipped because of them, and what to backfill once fixed."},
		s.diagnose)
	tool(s, &sdk.Tool{Name: "plan_backfill", Annotations: readOnly("Plan a backfill"),
		Description: "The exact tasks a backfill of these models over these partitions would run and skip (and why), without running anything. Returns a plan_id, which run_backfill takes when the server allows writes."},
		s.planBackfill)
	tool(s, &sdk.Tool{Name: "query", Annotations: readOnly("Read-only SQL"),
		Description: "Run one read-only SELECT against the warehouse, with a row limit and a timeout. Writes, COPY, ATTACH, INSTALL/LOAD, SET, PRAGMA and files outside the project are refused."},
		s.query)
}

func (s *Server) partitions(ctx context.Context, in partitionsIn) (partitionsOut, error) {
	sel, err := s.selection(in.Select)
	if err != nil {
		return partitionsOut{}, err
	}
	switch in.Status {
	case "", "done", "missing", "stale", "failed", "waiting":
	default:
		return partitionsOut{}, fmt.Errorf("status %q: use done, missing, stale, failed or waiting", in.Status)
	}
	sums, err := s.opts.Backend.Partitions(ctx, sel, in.From, in.To)
	if err != nil {
		return partitionsOut{}, err
	}
	out, _, err := shrink(clampLimit(in.Limit, defaultLimit), func(limit int) (partitionsOut, error) {
		return partitionRanges(sums, in.Status, limit), nil
	})
	return out, err
}

// partitionRanges lists each model's ranges, at most limit of them (and limit models).
func partitionRanges(sums []engine.PartitionSummary, status string, limit int) partitionsOut {
	out := partitionsOut{Models: []ModelPartitions{}, Total: len(sums)}
	for i, sum := range sums {
		if i == limit {
			out.Truncated = true
			break
		}
		mp := ModelPartitions{Model: sum.Model, Granularity: sum.Granularity, From: sum.From, To: sum.To, Counts: sum.Counts, Ranges: []Range{}}
		for _, r := range ranges(sum.Partitions) {
			if status != "" && r.Status != status {
				continue
			}
			if len(mp.Ranges) == limit {
				mp.Truncated, out.Truncated = true, true
				break
			}
			mp.Ranges = append(mp.Ranges, r)
		}
		out.Models = append(out.Models, mp)
	}
	return out
}

// ranges folds consecutive partitions of one status (and, when not done, one reason)
// into a range.
func ranges(parts []engine.PartitionInfo) []Range {
	var out []Range
	for _, p := range parts {
		st := string(p.Status)
		if n := len(out); n > 0 && out[n-1].Status == st && (st == "done" || out[n-1].Why == p.Reason) {
			out[n-1].To, out[n-1].Count, out[n-1].RunID = p.Name, out[n-1].Count+1, p.RunID
			continue
		}
		r := Range{Status: st, From: p.Name, To: p.Name, Count: 1, Why: clip(p.Reason, maxText)}
		if st == "done" {
			r.RunID = p.RunID
		}
		out = append(out, r)
	}
	return out
}

func (s *Server) listRuns(ctx context.Context, in listRunsIn) (listRunsOut, error) {
	limit := clampLimit(in.Limit, 20)
	fetch := limit
	if in.Status != "" {
		fetch = 1000
	}
	runs, err := s.opts.Backend.Runs(ctx, fetch)
	if err != nil {
		return listRunsOut{}, err
	}
	var match []engine.RunRecord
	for _, r := range runs {
		if in.Status != "" && r.Status != in.Status {
			continue
		}
		r.Error = clip(r.Error, maxText)
		if match = append(match, r); len(match) == limit {
			break
		}
	}
	out, _, err := shrink(limit, func(limit int) (listRunsOut, error) {
		items, _ := capList(match, limit, false)
		return listRunsOut{Runs: items}, nil
	})
	return out, err
}

// wherePattern finds the file:line an error starts with (models/x.sql:3:7: ...).
var wherePattern = regexp.MustCompile(`^([^\s:]+\.(?:sql|ya?ml|csv|md)):(\d+)(?::\d+)?: `)

func (s *Server) diagnose(ctx context.Context, in diagnoseIn) (diagnoseOut, error) {
	id := in.RunID
	if id == "" {
		runs, err := s.opts.Backend.Runs(ctx, 200)
		if err != nil {
			return diagnoseOut{}, err
		}
		for _, r := range runs {
			if r.Status != "success" && r.Status != "running" {
				id = r.RunID
				break
			}
		}
		if id == "" {
			return diagnoseOut{}, fmt.Errorf("no failed run among the last %d: give a run_id (list_runs)", len(runs))
		}
	}
	d, err := s.opts.Backend.Run(ctx, id)
	if err != nil {
		return diagnoseOut{}, err
	}
	if d.Run == nil {
		return diagnoseOut{}, fmt.Errorf("run %s is queued and has not started", id)
	}
	out := diagnoseOut{Run: *d.Run, Failed: []Failure{}, Waited: []Failure{}, Skipped: []string{}}
	out.Run.Error = clip(out.Run.Error, maxText)
	var first, last time.Time
	roots := map[string]bool{}
	for _, t := range d.Tasks {
		f := Failure{Node: t.Node, Status: t.Status, Error: clip(t.Message, maxText), Attempts: t.Attempts}
		if t.Partition != nil {
			f.Partition = s.partitionName(t.Node, *t.Partition)
		}
		if m := wherePattern.FindStringSubmatch(t.Message); m != nil {
			f.File = m[1]
			f.Line, _ = strconv.Atoi(m[2])
		} else if n := s.opts.Graph.Node(t.Node); n != nil {
			f.File = n.Path
		}
		switch engine.Status(t.Status) {
		case engine.StatusError, engine.StatusFail:
			if out.Failed = append(out.Failed, f); len(out.Failed) > defaultLimit {
				out.Failed, out.Truncated = out.Failed[:defaultLimit], true
			}
		case engine.StatusWaiting:
			if out.Waited = append(out.Waited, f); len(out.Waited) > defaultLimit {
				out.Waited, out.Truncated = out.Waited[:defaultLimit], true
			}
		case engine.StatusSkipped, engine.StatusCancelled:
			if out.Skipped = append(out.Skipped, t.Node+partSuffix(f.Partition)); len(out.Skipped) > defaultLimit {
				out.Skipped, out.Truncated = out.Skipped[:defaultLimit], true
			}
			continue
		default:
			continue
		}
		if n := s.opts.Graph.Node(t.Node); n != nil && n.Model != nil {
			roots[t.Node] = true
		}
		if t.Partition != nil {
			if first.IsZero() || t.Partition.Before(first) {
				first = *t.Partition
			}
			if t.Partition.After(last) {
				last = *t.Partition
			}
		}
	}
	out.Advice = s.advise(&out, roots, first, last)
	var cut [3]bool
	out.Failed, cut[0] = fit(out.Failed, budget/2)
	out.Waited, cut[1] = fit(out.Waited, budget/4)
	out.Skipped, cut[2] = fit(out.Skipped, budget/8)
	out.Truncated = cut[0] || cut[1] || cut[2] || out.Truncated
	return out, nil
}

func partSuffix(p string) string {
	if p == "" {
		return ""
	}
	return "@" + p
}

func (s *Server) partitionName(model string, start time.Time) string {
	if n := s.opts.Graph.Node(model); n != nil && n.Model != nil && n.Model.Partition() != nil {
		return n.Model.Partition().Granularity.Name(start)
	}
	return start.UTC().Format(time.RFC3339)
}

// advise says what to do next, and what to backfill when partitions failed.
func (s *Server) advise(out *diagnoseOut, roots map[string]bool, first, last time.Time) string {
	if len(out.Failed) == 0 && len(out.Waited) == 0 {
		if out.Run.Status == "success" {
			return "the run succeeded: nothing to fix"
		}
		return "no task failed: the run was " + out.Run.Status + " (" + out.Run.Error + "); rerun it, finished work is kept"
	}
	names := make([]string, 0, len(roots))
	for n := range roots {
		names = append(names, n)
	}
	sort.Strings(names)
	sel := make([]string, len(names))
	for i, n := range names {
		sel[i] = n + "+"
	}
	advice := "fix the errors at the files and lines given (get_model shows the SQL), then "
	if len(out.Waited) > 0 && len(out.Failed) == 0 {
		advice = "the upstream partitions were not there: find why with get_partitions on the upstream models, then "
	}
	if first.IsZero() {
		return advice + "rerun: strata run -s " + strings.Join(sel, " ")
	}
	spec := s.opts.Graph.Node(names[0]).Model.Partition()
	from, to := spec.Granularity.Name(first), spec.Granularity.Name(last)
	out.Backfill = &BackfillAdvice{Select: strings.Join(sel, " "), From: from, To: to,
		Command: fmt.Sprintf("strata backfill %s --from %s --to %s", strings.Join(sel, " "), from, to)}
	return advice + "backfill what failed and what reads it (plan_backfill with the backfill arguments shows the exact tasks)"
}

// storedPlan is a plan_backfill answer kept for run_backfill: the request and the keys
// of the tasks it would run.
type storedPlan struct {
	req     api.RunRequest
	keys    []string
	created time.Time
}

const maxPlans = 100

func (s *Server) planBackfill(ctx context.Context, in planBackfillIn) (planBackfillOut, error) {
	req, err := backfillRequest(in)
	if err != nil {
		return planBackfillOut{}, err
	}
	if req.Select, err = s.selection(in.Select); err != nil {
		return planBackfillOut{}, err
	}
	plan, err := s.opts.Backend.PlanBackfill(ctx, req)
	if err != nil {
		return planBackfillOut{}, err
	}
	keys := runKeys(plan)
	id := fmt.Sprintf("p%d", time.Now().UnixNano())
	s.mu.Lock()
	if len(s.plans) >= maxPlans {
		oldest := ""
		for k, p := range s.plans {
			if oldest == "" || p.created.Before(s.plans[oldest].created) {
				oldest = k
			}
		}
		delete(s.plans, oldest)
	}
	s.plans[id] = storedPlan{req: req, keys: keys, created: time.Now()}
	s.mu.Unlock()
	note := "nothing has run. "
	if s.opts.AllowWrites {
		note += "run_backfill with this plan_id runs exactly these tasks."
	} else {
		note += "To run it: " + fmt.Sprintf("strata backfill %s --from %s --to %s", in.Select, in.From, in.To) + " (this server has no write tools)."
	}
	out, _, err := shrink(nodeLimit(in.Limit), func(limit int) (planBackfillOut, error) {
		out := planBackfillOut{PlanID: id, BackfillID: plan.BackfillID, Resumed: plan.Resumed, Run: plan.Run, Skip: plan.Skip, Note: note}
		out.Tasks, out.Truncated = capList(plan.Tasks, limit, false)
		return out, nil
	})
	return out, err
}

func backfillRequest(in planBackfillIn) (api.RunRequest, error) {
	if strings.TrimSpace(in.Select) == "" {
		return api.RunRequest{}, fmt.Errorf("select: name the models to backfill, e.g. events_hourly+")
	}
	if in.From == "" || in.To == "" {
		return api.RunRequest{}, fmt.Errorf("from and to: give the first and last partition, e.g. 2024-01-01 and 2024-01-31")
	}
	for _, v := range []string{in.From, in.To} {
		if _, err := models.ParseTime(v); err != nil {
			return api.RunRequest{}, fmt.Errorf("%q: %v", v, err)
		}
	}
	return api.RunRequest{Command: scheduler.CommandBackfill, Select: strings.Fields(in.Select), From: in.From, To: in.To, Reprocess: in.Reprocess}, nil
}

func runKeys(p *api.BackfillPlan) []string {
	var keys []string
	for _, t := range p.Tasks {
		if t.Action == "run" {
			keys = append(keys, t.Key)
		}
	}
	sort.Strings(keys)
	return keys
}

const (
	defaultRows    = 100
	maxRows        = 1000
	defaultTimeout = 10 * time.Second
	maxCell        = 500 // characters of one value
)

// queryOut is a query's answer: rows as arrays in column order, the compact form.
type queryOut struct {
	Columns   []engine.QueryColumn `json:"columns"`
	Rows      [][]any              `json:"rows"`
	Truncated bool                 `json:"truncated"` // more rows than the limit
	Note      string               `json:"note,omitempty"`
}

func (s *Server) query(ctx context.Context, in queryIn) (queryOut, error) {
	if strings.TrimSpace(in.SQL) == "" {
		return queryOut{}, fmt.Errorf("sql: give one SELECT statement")
	}
	limit := defaultRows
	if in.Limit > 0 {
		limit = min(in.Limit, maxRows)
	}
	timeout := defaultTimeout
	if in.TimeoutMS > 0 {
		timeout = min(time.Duration(in.TimeoutMS)*time.Millisecond, time.Minute)
	}
	res, err := s.opts.Backend.Query(ctx, in.SQL, limit, timeout)
	if err != nil {
		return queryOut{}, err
	}
	out := queryOut{Columns: res.Columns, Rows: make([][]any, 0, len(res.Rows)), Truncated: res.Truncated}
	if out.Columns == nil {
		out.Columns = []engine.QueryColumn{}
	}
	for _, row := range res.Rows {
		vals := make([]any, len(row.Values))
		for i, v := range row.Values {
			v = engine.JSONValue(v)
			if str, ok := v.(string); ok && len(str) > maxCell {
				v = clip(str, maxCell)
			}
			vals[i] = v
		}
		out.Rows = append(out.Rows, vals)
	}
	var cut bool
	if out.Rows, cut = fit(out.Rows, budget); cut {
		out.Truncated = true
		out.Note = "rows cut to fit the answer's size: select fewer columns, or page with LIMIT and OFFSET"
	}
	return out, nil
}
