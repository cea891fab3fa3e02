package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/scheduler"
	"github.com/stratadata/strata/web/api"
)

func (s *Server) routes(mux *http.ServeMux) {
	h := func(pattern string, f func(*http.Request) (any, error)) {
		mux.Handle(pattern, s.auth(jsonHandler(f)))
	}
	p := api.Prefix
	h("GET "+p+"/health", s.health)
	h("GET "+p+"/status", s.status)
	h("GET "+p+"/runs", s.runs)
	h("POST "+p+"/runs", s.submit)
	h("GET "+p+"/runs/{id}", s.run)
	mux.Handle("GET "+p+"/runs/{id}/events", s.auth(http.HandlerFunc(s.events)))
	h("POST "+p+"/runs/{id}/cancel", s.cancel)
	h("POST "+p+"/runs/{id}/priority", s.priority)
	h("GET "+p+"/partitions", s.partitions)
	h("POST "+p+"/backfills", s.backfill)
	h("GET "+p+"/backfills", s.backfills)
	h("GET "+p+"/backfills/{id}", s.backfillDetail)
	h("POST "+p+"/backfills/{id}/cancel", s.backfillCancel)
	h("POST "+p+"/backfills/{id}/resume", s.backfillResume)
	h("GET "+p+"/schedules", s.schedules)
	h("GET "+p+"/schedules/upcoming", s.upcoming)
	h("POST "+p+"/schedules/{name}/{action}", s.scheduleAction)
	h("GET "+p+"/why", s.why)
	h("POST "+p+"/query", s.query)
	h("POST "+p+"/check", s.check)
	h("POST "+p+"/verify/{model}", s.verify)
	h("GET "+p+"/models", s.getModels)
	h("GET "+p+"/models/{name}", s.getModel)
	h("GET "+p+"/lineage/{node}", s.getLineage)
	h("GET "+p+"/impact/{target}", s.getImpact)
	mux.Handle(p+"/", jsonHandler(func(r *http.Request) (any, error) {
		return nil, &httpError{status: http.StatusNotFound, kind: "not_found", msg: fmt.Sprintf("no endpoint %s %s: see docs/api.md", r.Method, r.URL.Path)}
	}))
}

// jsonHandler writes a handler's value as JSON, or its error as the API's error shape.
func jsonHandler(f func(*http.Request) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := f(r)
		if err != nil {
			writeError(w, err)
			return
		}
		status := http.StatusOK
		if a, ok := v.(accepted); ok {
			status, v = http.StatusAccepted, a.v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
	})
}

// accepted marks a value answered with 202: work queued, not done.
type accepted struct{ v any }

// httpError is an error this package makes, with its status.
type httpError struct {
	status int
	kind   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, kind: "usage", msg: fmt.Sprintf(format, args...)}
}

// writeError maps an error to a status by its type, never by its text.
func writeError(w http.ResponseWriter, err error) {
	out := api.Error{Message: err.Error(), Kind: "internal"}
	status := http.StatusInternalServerError
	var (
		he   *httpError
		merr models.Errors
		me   *models.Error
		ie   *engine.InputError
		qe   *engine.QueryError
		le   *engine.LockedError
		nw   *engine.NoWarehouseError
		se   *lineage.SelectorError
		re   *lineage.RefError
		ce   *lineage.CycleError
		sqle *engine.SQLError
	)
	switch {
	case errors.As(err, &he):
		status, out.Kind = he.status, he.kind
	case errors.Is(err, scheduler.ErrNotFound), errors.As(err, &nw):
		status, out.Kind = http.StatusNotFound, "not_found"
	case errors.As(err, &merr):
		status, out.Kind = http.StatusBadRequest, "project"
		for _, e := range merr {
			out.Errors = append(out.Errors, api.Placed{File: e.File, Line: e.Line, Col: e.Col, Message: e.Msg})
		}
	case errors.As(err, &me):
		status, out.Kind = http.StatusBadRequest, "project"
		out.Errors = []api.Placed{{File: me.File, Line: me.Line, Col: me.Col, Message: me.Msg}}
	case errors.As(err, &ie):
		status, out.Kind, out.Field = http.StatusBadRequest, "usage", ie.Field
	case errors.As(err, &qe), errors.As(err, &se), errors.As(err, &re), errors.As(err, &ce):
		status, out.Kind = http.StatusBadRequest, "usage"
	case errors.As(err, &le):
		status, out.Kind = http.StatusConflict, "locked"
	case errors.As(err, &sqle):
		status, out.Kind = http.StatusUnprocessableEntity, "sql"
		out.Errors = []api.Placed{{File: sqle.Path, Line: sqle.Line, Col: sqle.Col, Message: sqle.Msg}}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": out})
}

func decode(r *http.Request, v any) error {
	if r.Body == nil {
		return badRequest("the request needs a JSON body")
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("bad JSON body: %v", err)
	}
	return nil
}

func (s *Server) health(*http.Request) (any, error) {
	return api.Health{Status: "ok", Project: s.Project.Name, PID: os.Getpid(), Started: s.started, Version: engine.SchemaVersion}, nil
}

func (s *Server) status(r *http.Request) (any, error) {
	return s.Scheduler.Status(r.Context())
}

func (s *Server) runs(r *http.Request) (any, error) {
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, badRequest("limit %q: give a positive number", v)
		}
		limit = n
	}
	return s.Warehouse.Runs(r.Context(), limit)
}

func (s *Server) submit(r *http.Request) (any, error) {
	var req api.RunRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.Command == scheduler.CommandBackfill {
		return nil, badRequest("backfills go to POST %s/backfills", api.Prefix)
	}
	j, err := s.Scheduler.Submit(req)
	if err != nil {
		return nil, err
	}
	return accepted{j}, nil
}

func (s *Server) run(r *http.Request) (any, error) {
	id := r.PathValue("id")
	d := api.RunDetail{Tasks: []engine.TaskRecord{}}
	if j, ok := s.Scheduler.Job(id); ok {
		d.Job = j
		id = j.RunID
	}
	if id != "" {
		rec, err := s.Warehouse.FindRun(r.Context(), id)
		var ie *engine.InputError
		switch {
		case errors.As(err, &ie) && d.Job != nil:
		case err != nil:
			return nil, &httpError{status: http.StatusNotFound, kind: "not_found", msg: err.Error()}
		default:
			d.Run = rec
			if d.Tasks, err = s.Warehouse.RunTasks(r.Context(), rec.RunID); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

// events streams a job's events as server-sent events: each finished task as event
// "task", then the run's summary as "done" (or "error"), with the same JSON --json
// prints. A client that connects late gets every event from the start.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	j, ok := s.Scheduler.Job(r.PathValue("id"))
	if !ok {
		writeError(w, &httpError{status: http.StatusNotFound, kind: "not_found", msg: fmt.Sprintf("no run %q in this server's queue", r.PathValue("id"))})
		return
	}
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush()
	}
	next := 0
	for {
		lines, more, done := j.Events(next)
		for _, l := range lines {
			var head struct {
				Event string `json:"event"`
			}
			_ = json.Unmarshal(l, &head)
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", head.Event, l)
		}
		next += len(lines)
		if flusher != nil && len(lines) > 0 {
			flusher.Flush()
		}
		if done {
			return
		}
		if more == nil {
			continue
		}
		select {
		case <-more:
		case <-r.Context().Done():
			return
		}
	}
}

func (s *Server) cancel(r *http.Request) (any, error) {
	if err := s.Scheduler.Cancel(r.PathValue("id")); err != nil {
		return nil, err
	}
	return map[string]string{"status": "cancelling"}, nil
}

func (s *Server) priority(r *http.Request) (any, error) {
	var req api.PriorityRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if err := s.Scheduler.SetPriority(r.PathValue("id"), req.Priority); err != nil {
		return nil, err
	}
	j, _ := s.Scheduler.Job(r.PathValue("id"))
	return j, nil
}

func (s *Server) partitions(r *http.Request) (any, error) {
	q := r.URL.Query()
	return engine.Partitions(r.Context(), s.Graph, s.Warehouse, q["select"], q["exclude"], q.Get("from"), q.Get("to"), q.Get("all") == "true", time.Now())
}

func (s *Server) backfill(r *http.Request) (any, error) {
	var req api.RunRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	req.Command = scheduler.CommandBackfill
	// planned first in either case: a bad range or selection is refused here, as the CLI
	// would
	plan, err := s.planBackfill(r, req)
	if err != nil {
		return nil, err
	}
	if req.DryRun {
		return *plan, nil
	}
	j, err := s.Scheduler.Submit(req)
	if err != nil {
		return nil, err
	}
	return accepted{j}, nil
}

func (s *Server) backfills(r *http.Request) (any, error) {
	return s.Warehouse.Backfills(r.Context(), "")
}

func (s *Server) backfillDetail(r *http.Request) (any, error) {
	list, err := s.Warehouse.Backfills(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if len(list) != 1 {
		return nil, &httpError{status: http.StatusNotFound, kind: "not_found", msg: fmt.Sprintf("no single backfill %q (%d match)", r.PathValue("id"), len(list))}
	}
	tasks, err := s.Warehouse.BackfillTasks(r.Context(), list[0].ID)
	if err != nil {
		return nil, err
	}
	return api.BackfillDetail{Backfill: list[0], Tasks: tasks}, nil
}

func (s *Server) backfillCancel(r *http.Request) (any, error) {
	id := r.PathValue("id")
	st, err := s.Scheduler.Status(r.Context())
	if err != nil {
		return nil, err
	}
	for _, j := range append(st.Running, st.Queued...) {
		if j.Backfill == id || j.Request.Resume == id {
			return s.cancelJob(j.ID)
		}
	}
	return nil, &httpError{status: http.StatusNotFound, kind: "not_found", msg: fmt.Sprintf("backfill %q is not running or queued here", id)}
}

func (s *Server) cancelJob(id string) (any, error) {
	if err := s.Scheduler.Cancel(id); err != nil {
		return nil, err
	}
	return map[string]string{"status": "cancelling", "job": id}, nil
}

func (s *Server) backfillResume(r *http.Request) (any, error) {
	j, err := s.Scheduler.Submit(api.RunRequest{Command: scheduler.CommandBackfill, Resume: r.PathValue("id")})
	if err != nil {
		return nil, err
	}
	return accepted{j}, nil
}

func (s *Server) schedules(r *http.Request) (any, error) {
	st, err := s.Scheduler.Status(r.Context())
	if err != nil {
		return nil, err
	}
	return st.Schedules, nil
}

func (s *Server) upcoming(r *http.Request) (any, error) {
	next := 24 * time.Hour
	if v := r.URL.Query().Get("next"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, badRequest("next %q: give a duration such as 24h", v)
		}
		next = d
	}
	plans, paused, err := scheduler.Plans(r.Context(), s.Project, s.Graph, s.Warehouse, time.Now().UTC())
	if err != nil {
		return nil, err
	}
	out := scheduler.Upcoming(plans, next, paused)
	if out == nil {
		out = []scheduler.Fire{}
	}
	return out, nil
}

func (s *Server) scheduleAction(r *http.Request) (any, error) {
	name := r.PathValue("name")
	switch r.PathValue("action") {
	case "trigger":
		j, err := s.Scheduler.Trigger(name)
		if err != nil {
			return nil, err
		}
		return accepted{j}, nil
	case "pause", "resume":
		if err := s.Scheduler.Pause(name, r.PathValue("action") == "pause"); err != nil {
			return nil, err
		}
		return map[string]any{"schedule": name, "paused": r.PathValue("action") == "pause"}, nil
	}
	return nil, &httpError{status: http.StatusNotFound, kind: "not_found", msg: fmt.Sprintf("no action %q: use trigger, pause or resume", r.PathValue("action"))}
}

func (s *Server) why(r *http.Request) (any, error) {
	key := r.URL.Query().Get("partition")
	if key == "" {
		return nil, badRequest("why needs ?partition=model@partition")
	}
	return scheduler.Explain(r.Context(), s.Project, s.Graph, s.Warehouse, key, s.Scheduler)
}

func (s *Server) query(r *http.Request) (any, error) {
	var req api.QueryRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	opts := engine.QueryOptions{Limit: req.Limit, Timeout: time.Duration(req.TimeoutMS) * time.Millisecond}
	if req.Guarded {
		opts.Root = s.Project.Dir
	}
	return s.Warehouse.ReadQuery(r.Context(), req.SQL, opts)
}

func (s *Server) check(r *http.Request) (any, error) {
	cat, err := lineage.Analyze(r.Context(), s.Project, s.Graph, lineage.AnalyzeOptions{SourceColumns: s.Warehouse.TableColumns})
	if err != nil {
		return nil, err
	}
	return lineage.Report(s.Graph, cat), nil
}

func (s *Server) verify(r *http.Request) (any, error) {
	var req api.VerifyRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	return s.Warehouse.Verify(r.Context(), s.Project, r.PathValue("model"), req.Repair)
}
