package scheduler

import (
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/stratadata/strata/engine"
)

// Request is a run someone asks for: what the CLI's run, build, test, seed and backfill
// say, as the API receives it.
type Request struct {
	Command     engine.Command `json:"command"` // run, build, test, seed or backfill
	Select      []string       `json:"select"`
	Exclude     []string       `json:"exclude,omitempty"`
	FullRefresh bool           `json:"full_refresh,omitempty"`
	Check       bool           `json:"check,omitempty"`
	Threads     int            `json:"threads,omitempty"`
	Priority    string         `json:"priority,omitempty"` // high, medium or low; backfills default to low

	// backfills
	From      string `json:"from,omitempty"`
	To        string `json:"to,omitempty"`
	Force     bool   `json:"force,omitempty"`
	Reprocess string `json:"reprocess,omitempty"`
	Resume    string `json:"resume,omitempty"`
	MaxTasks  int    `json:"max_tasks,omitempty"`
	Retries   int    `json:"retries,omitempty"`
	DryRun    bool   `json:"dry_run,omitempty"`
}

// Job states.
const (
	JobQueued   = "queued"
	JobRunning  = "running"
	JobFinished = "finished"
)

// Job is one run in the queue: scheduled, caught up, triggered by upstream data, or
// submitted (by the CLI, the web UI, an agent).
type Job struct {
	ID        string           `json:"id"`
	Kind      string           `json:"kind"` // scheduled, catchup, trigger, submitted, backfill
	Schedule  string           `json:"schedule,omitempty"`
	Interval  *engine.Interval `json:"interval,omitempty"`
	Request   Request          `json:"request"`
	Priority  string           `json:"priority"`
	State     string           `json:"state"`
	Attempt   int              `json:"attempt"`
	RunID     string           `json:"run_id,omitempty"`
	Backfill  string           `json:"backfill_id,omitempty"`
	Due       time.Time        `json:"due_at"` // when the work became owed (an interval's end; else when it was submitted)
	Enqueued  time.Time        `json:"queued_at"`
	NotBefore time.Time        `json:"not_before,omitempty"` // a retry's backoff
	Started   *time.Time       `json:"started_at,omitempty"`
	Ended     *time.Time       `json:"ended_at,omitempty"`
	Status    string           `json:"status,omitempty"` // the run's: success, error, cancelled
	Error     string           `json:"error,omitempty"`

	windows map[string][]time.Time // for trigger jobs: the partitions to build, by model
	hub     hub
	cancel  func()
	src     *Job // a snapshot's job, whose events it reads
}

// snapshot copies the job's public fields, under the scheduler's lock, for callers
// outside the scheduler (the API encodes it while the job runs on).
func (j *Job) snapshot() *Job {
	src := j
	if j.src != nil {
		src = j.src
	}
	return &Job{ID: j.ID, Kind: j.Kind, Schedule: j.Schedule, Interval: j.Interval, Request: j.Request, Priority: j.Priority,
		State: j.State, Attempt: j.Attempt, RunID: j.RunID, Backfill: j.Backfill, Due: j.Due, Enqueued: j.Enqueued,
		NotBefore: j.NotBefore, Started: j.Started, Ended: j.Ended, Status: j.Status, Error: j.Error, src: src}
}

// Events returns the job's event lines so far (each a JSON task event, then the run's
// summary) and a channel closed when more arrive or the job ends; done says it ended.
func (j *Job) Events(from int) (lines [][]byte, more <-chan struct{}, done bool) {
	if j.src != nil {
		return j.src.hub.since(from)
	}
	return j.hub.since(from)
}

// hub keeps a job's events so a client that connects late misses none.
type hub struct {
	mu     sync.Mutex
	lines  [][]byte
	notify chan struct{}
	closed bool
}

func (h *hub) add(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	h.mu.Lock()
	h.lines = append(h.lines, b)
	if h.notify != nil {
		close(h.notify)
		h.notify = nil
	}
	h.mu.Unlock()
}

func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	if h.notify != nil {
		close(h.notify)
		h.notify = nil
	}
	h.mu.Unlock()
}

func (h *hub) since(from int) ([][]byte, <-chan struct{}, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if from < len(h.lines) {
		return h.lines[from:len(h.lines):len(h.lines)], nil, false
	}
	if h.closed {
		return nil, nil, true
	}
	if h.notify == nil {
		h.notify = make(chan struct{})
	}
	return nil, h.notify, false
}

// Observe turns the run's events into the job's event lines.
func (h *hub) Observe(e engine.Event) {
	switch e.Kind {
	case engine.EventTaskFinished:
		h.add(engine.NewTaskJSON(e))
	case engine.EventRunFinished:
		h.add(engine.NewRunJSON(e.Result))
	}
}

func sortFires(fs []Fire) {
	sort.SliceStable(fs, func(i, j int) bool {
		if !fs[i].At.Equal(fs[j].At) {
			return fs[i].At.Before(fs[j].At)
		}
		if !fs[i].End.Equal(fs[j].End) {
			return fs[i].End.Before(fs[j].End)
		}
		return fs[i].Schedule < fs[j].Schedule
	})
}
