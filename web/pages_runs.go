package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/scheduler"
	"github.com/stratadata/strata/web/api"
	"github.com/stratadata/strata/web/ui"
)

const (
	heatRows  = 120 // rows of the heatmap, the latest
	planShown = 500 // tasks a plan lists of each kind
)

func (s *Server) partitionsPage(w http.ResponseWriter, r *http.Request, m ui.Meta) (templ.Component, error) {
	name := r.PathValue("name")
	mm := s.Project.Models[name]
	if mm == nil || mm.Partition() == nil {
		return nil, &httpError{status: http.StatusNotFound, kind: "not_found", msg: fmt.Sprintf("%q is not a partitioned model", name)}
	}
	q := r.URL.Query()
	m.Title, m.Nav = "Partitions of "+name, "models"
	v := ui.PartitionsView{Meta: m, Model: name, From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")), Reprocess: q.Get("reprocess"),
		Statuses: []string{"done", "missing", "stale", "failed", "waiting", "running"}}
	sums, err := engine.Partitions(r.Context(), s.Graph, s.Warehouse, []string{name}, nil, "", "", true, time.Now())
	if err != nil {
		return nil, err
	}
	if len(sums) == 1 {
		sum := sums[0]
		v.Summary = &sum
		for _, st := range v.Statuses {
			if n := sum.Counts[st]; n > 0 {
				v.Counts = append(v.Counts, ui.Count{Status: st, N: n})
			}
		}
		v.Days = s.heatDays(sum)
	}
	if q.Get("plan") != "" {
		if v.From == "" || v.To == "" {
			m.Error = "Pick the range to backfill: from and to."
			v.Meta = m
			return ui.PartitionsPage(v), nil
		}
		plan, err := s.planBackfill(r, s.backfillRequest(name, v.From, v.To, v.Reprocess, true))
		if err != nil {
			return nil, err
		}
		v.Plan = plan
		for _, t := range plan.Tasks {
			switch {
			case t.Action == "run" && len(v.PlanRun) < planShown:
				v.PlanRun = append(v.PlanRun, t)
			case t.Action != "run" && len(v.PlanSkip) < planShown:
				v.PlanSkip = append(v.PlanSkip, t)
			}
		}
	}
	return ui.PartitionsPage(v), nil
}

// heatDays groups a model's partitions into the heatmap's rows: a day of hours, a month
// of days, a year of anything wider; the latest rows only.
func (s *Server) heatDays(sum engine.PartitionSummary) []ui.PartitionDay {
	label := func(t time.Time) string { return t.Format("2006") }
	switch models.Granularity(sum.Granularity) {
	case models.Hour:
		label = func(t time.Time) string { return t.Format("2006-01-02") }
	case models.Day:
		label = func(t time.Time) string { return t.Format("2006-01") }
	}
	var days []ui.PartitionDay
	for _, p := range sum.Partitions {
		if s.Live.runningKey(p.Key) {
			p.Status, p.Reason = "running", "a run builds it now"
		}
		l := label(p.Start.UTC())
		if n := len(days); n == 0 || days[n-1].Label != l {
			days = append(days, ui.PartitionDay{Label: l})
		}
		days[len(days)-1].Cells = append(days[len(days)-1].Cells, p)
	}
	if len(days) > heatRows {
		days = days[len(days)-heatRows:]
	}
	return days
}

func (s *Server) backfillRequest(model, from, to, reprocess string, dry bool) api.RunRequest {
	return api.RunRequest{Command: scheduler.CommandBackfill, Select: []string{model}, From: from, To: to, Reprocess: reprocess, DryRun: dry}
}

// planBackfill is what POST /api/v1/backfills answers with dry_run.
func (s *Server) planBackfill(r *http.Request, req api.RunRequest) (*api.BackfillPlan, error) {
	opts, err := scheduler.BackfillOptions(req)
	if err != nil {
		return nil, err
	}
	plan, err := engine.PlanBackfill(r.Context(), s.Warehouse, s.Graph, opts, req.Resume)
	if err != nil {
		return nil, err
	}
	bp := api.NewBackfillPlan(plan)
	return &bp, nil
}

// launchBackfill queues the backfill the plan showed, through the scheduler's queue like
// every other run, and goes to its page.
func (s *Server) launchBackfill(r *http.Request) (string, error) {
	req := s.backfillRequest(r.PathValue("name"), r.PostFormValue("from"), r.PostFormValue("to"), r.PostFormValue("reprocess"), false)
	if _, err := s.planBackfill(r, req); err != nil {
		return "", err
	}
	j, err := s.Scheduler.Submit(req)
	if err != nil {
		return "", err
	}
	s.Live.Poke()
	return "/runs/" + url.PathEscape(j.ID) + "?flash=" + url.QueryEscape("backfill queued as "+j.ID), nil
}

func (s *Server) runsView(r *http.Request, m ui.Meta) (ui.RunsView, error) {
	v := ui.RunsView{Meta: m}
	st, err := s.Scheduler.Status(r.Context())
	if err != nil {
		return v, err
	}
	v.Running, v.Queued = st.Running, st.Queued
	if v.Runs, err = s.Warehouse.Runs(r.Context(), 50); err != nil {
		return v, err
	}
	if v.Backfills, err = s.Warehouse.Backfills(r.Context(), ""); err != nil {
		return v, err
	}
	if len(v.Backfills) > 30 {
		v.Backfills = v.Backfills[:30]
	}
	return v, nil
}

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request, m ui.Meta) (templ.Component, error) {
	m.Title, m.Nav = "Runs", "runs"
	v, err := s.runsView(r, m)
	if err != nil {
		return nil, err
	}
	if r.URL.Query().Get("fragment") != "" {
		return ui.RunsTables(v), nil
	}
	return ui.RunsPage(v), nil
}

func (s *Server) runPage(w http.ResponseWriter, r *http.Request, m ui.Meta) (templ.Component, error) {
	id := r.PathValue("id")
	d, err := s.run(r)
	if err != nil {
		return nil, err
	}
	detail := d.(api.RunDetail)
	m.Title, m.Nav = "Run "+id, "runs"
	v := ui.RunView{Meta: m, ID: id, Detail: &detail}
	s.timeline(&v)
	if r.URL.Query().Get("fragment") != "" {
		return ui.RunBody(v), nil
	}
	return ui.RunPage(v), nil
}

// timeline places a run's tasks on its span, and finds its failed tasks' places and SQL.
func (s *Server) timeline(v *ui.RunView) {
	d := v.Detail
	var start, end time.Time
	for _, t := range d.Tasks {
		if t.Started != nil && (start.IsZero() || t.Started.Before(start)) {
			start = *t.Started
		}
		if t.Ended != nil && t.Ended.After(end) {
			end = *t.Ended
		}
	}
	if d.Run != nil {
		v.Total = d.Run.Total
		start = d.Run.Started
		if d.Run.Ended != nil {
			end = *d.Run.Ended
		} else {
			end = time.Now()
			v.Live = true
		}
	}
	if d.Job != nil && (d.Job.State == "running" || d.Job.State == "queued") {
		v.Live = true
	}
	v.Span = end.Sub(start)
	for _, t := range d.Tasks {
		if t.Status != string(engine.StatusSkipped) && t.Ended != nil {
			v.Done++
		}
		label := t.Node
		if t.Partition != nil {
			label += " @ " + t.Partition.UTC().Format("2006-01-02 15:04")
		}
		b := ui.Bar{Task: t, Label: label}
		if t.Started != nil && t.Ended != nil && v.Span > 0 {
			b.Duration = t.Ended.Sub(*t.Started)
			b.Left = 100 * float64(t.Started.Sub(start)) / float64(v.Span)
			b.Width = max(0.3, 100*float64(b.Duration)/float64(v.Span))
		}
		if len(v.Bars) < 2000 {
			v.Bars = append(v.Bars, b)
		}
		if t.Status == string(engine.StatusError) || t.Status == string(engine.StatusFail) {
			v.Failed = append(v.Failed, s.failedTask(t))
		}
	}
	slices.SortStableFunc(v.Bars, func(a, b ui.Bar) int {
		if a.Task.Started == nil || b.Task.Started == nil {
			return 0
		}
		return a.Task.Started.Compare(*b.Task.Started)
	})
	if v.Live && v.Done > 0 && v.Total > v.Done {
		per := time.Since(start) / time.Duration(v.Done)
		v.ETA = (per * time.Duration(v.Total-v.Done)).Round(time.Second).String()
	}
}

// failedTask finds where a failed task's error points: the file:line:col its message
// starts with, else the model's file, and the model's compiled SQL.
func (s *Server) failedTask(t engine.TaskRecord) ui.FailedTask {
	f := ui.FailedTask{Task: t}
	if m := s.Project.Models[t.Node]; m != nil {
		f.Place = m.Path
		if i := strings.Index(t.Message, ": "); i > 0 && strings.HasPrefix(t.Message, m.Path+":") {
			f.Place = t.Message[:i]
		}
		if m.Kind != models.KindSeed {
			if q, err := s.Project.Compile(m, models.CompileOptions{}); err == nil {
				f.Compiled = ui.Highlight(q)
			}
		}
	}
	return f
}

func (s *Server) cancelAction(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if err := s.Scheduler.Cancel(id); err != nil {
		return "", err
	}
	s.Live.Poke()
	return "/runs/" + url.PathEscape(id) + "?flash=cancelling", nil
}

func (s *Server) backfillPage(w http.ResponseWriter, r *http.Request, m ui.Meta) (templ.Component, error) {
	d, err := s.backfillDetail(r)
	if err != nil {
		return nil, err
	}
	detail := d.(api.BackfillDetail)
	m.Title, m.Nav = "Backfill "+detail.Backfill.ID, "runs"
	v := ui.BackfillView{Meta: m, Detail: &detail}
	b := detail.Backfill
	if b.Total > 0 {
		v.Percent = 100 * float64(b.Done) / float64(b.Total)
	}
	if st, err := s.Scheduler.Status(r.Context()); err == nil {
		for _, j := range append(st.Running, st.Queued...) {
			if j.Backfill == b.ID || j.Request.Resume == b.ID {
				v.Running = j.ID
			}
		}
	}
	if v.Running != "" && b.Done > 0 && b.Done < b.Total {
		per := time.Since(b.Created) / time.Duration(b.Done)
		v.ETA = (per * time.Duration(b.Total-b.Done)).Round(time.Second).String()
	}
	// the tasks that did not finish first, then the latest done
	for _, t := range detail.Tasks {
		if t.Status != "success" {
			v.Tasks = append(v.Tasks, t)
		}
	}
	for _, t := range detail.Tasks {
		if t.Status == "success" {
			if len(v.Tasks) < 300 {
				v.Tasks = append(v.Tasks, t)
			} else {
				v.More++
			}
		}
	}
	if r.URL.Query().Get("fragment") != "" {
		return ui.BackfillBody(v), nil
	}
	return ui.BackfillPage(v), nil
}

func (s *Server) backfillAction(r *http.Request) (string, error) {
	id := r.PathValue("id")
	var err error
	switch r.PathValue("action") {
	case "cancel":
		_, err = s.backfillCancel(r)
	case "resume":
		_, err = s.backfillResume(r)
	default:
		err = &httpError{status: http.StatusNotFound, kind: "not_found", msg: "use cancel or resume"}
	}
	if err != nil {
		return "", err
	}
	s.Live.Poke()
	return "/backfills/" + url.PathEscape(id) + "?flash=" + url.QueryEscape(r.PathValue("action")+" asked"), nil
}

func (s *Server) schedulesPage(w http.ResponseWriter, r *http.Request, m ui.Meta) (templ.Component, error) {
	m.Title, m.Nav = "Schedules", "schedules"
	st, err := s.Scheduler.Status(r.Context())
	if err != nil {
		return nil, err
	}
	v := ui.SchedulesView{Meta: m, Schedules: st.Schedules, Late: st.Late, Waiting: st.Waiting}
	up, err := s.upcoming(r)
	if err != nil {
		return nil, err
	}
	v.Upcoming = up.([]scheduler.Fire)
	if len(v.Upcoming) > 50 {
		v.Upcoming = v.Upcoming[:50]
	}
	return ui.SchedulesPage(v), nil
}

func (s *Server) scheduleFormAction(r *http.Request) (string, error) {
	v, err := s.scheduleAction(r)
	if err != nil {
		return "", err
	}
	s.Live.Poke()
	msg := r.PathValue("action") + " " + r.PathValue("name")
	if a, ok := v.(accepted); ok {
		if j, ok := a.v.(*scheduler.Job); ok {
			msg = "triggered " + r.PathValue("name") + " as " + j.ID
		}
	}
	return "/schedules?flash=" + url.QueryEscape(msg), nil
}
