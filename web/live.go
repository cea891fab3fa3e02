package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stratadata/strata/engine"
)

// Live watches the runs (it is an engine.Observer the scheduler is given) and tells the
// pages: which nodes run or wait now, for the lineage colours, and a change counter that
// the UI's event stream pushes to browsers, which then fetch the part of the page that
// changed.
type Live struct {
	mu      sync.Mutex
	running map[string]int // node → tasks of it running now
	keys    map[string]int // task key → running now
	waiting map[string]int // node → tasks of it planned in a running run, not started
	version uint64
	changed chan struct{} // closed and replaced at every change
}

// NewLive returns a Live with nothing running.
func NewLive() *Live {
	return &Live{running: map[string]int{}, keys: map[string]int{}, waiting: map[string]int{}, changed: make(chan struct{})}
}

// Observe implements engine.Observer.
func (l *Live) Observe(e engine.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch e.Kind {
	case engine.EventRunStarted:
		if e.Plan != nil {
			for _, t := range e.Plan.Tasks {
				l.waiting[t.Name]++
			}
		}
	case engine.EventTaskStarted:
		if e.Task != nil {
			dec(l.waiting, e.Task.Name)
			l.running[e.Task.Name]++
			l.keys[e.Task.Key()]++
		}
	case engine.EventTaskFinished:
		if e.Task != nil {
			if e.Task.Started.IsZero() { // skipped without starting
				dec(l.waiting, e.Task.Name)
			} else {
				dec(l.running, e.Task.Name)
				dec(l.keys, e.Task.Key())
			}
		}
	case engine.EventRunFinished:
		if e.Plan != nil {
			for _, t := range e.Plan.Tasks {
				if t.Status == "" || t.Ended.IsZero() {
					dec(l.waiting, t.Name)
				}
			}
		}
	}
	l.bump()
}

// Poke says something changed that no run event tells (a job queued, a schedule paused).
func (l *Live) Poke() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bump()
}

func (l *Live) bump() {
	l.version++
	close(l.changed)
	l.changed = make(chan struct{})
}

func dec(m map[string]int, k string) {
	if m[k] <= 1 {
		delete(m, k)
		return
	}
	m[k]--
}

// state is whether a node runs or waits now ("running", "waiting" or "").
func (l *Live) state(node string) string {
	if l == nil {
		return ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.running[node] > 0:
		return "running"
	case l.waiting[node] > 0:
		return "waiting"
	}
	return ""
}

// runningKey says a task of that key (a partition's) runs now.
func (l *Live) runningKey(key string) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.keys[key] > 0
}

func (l *Live) wait() (uint64, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.version, l.changed
}

// events streams "change" events to the UI's pages: at most one every quarter second,
// and one every few seconds when the scheduler's queue changed without a run event (a
// job queued or cancelled before it started).
func (s *Server) uiEvents(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok || s.Live == nil {
		http.Error(w, "no live updates on this server", http.StatusNotImplemented)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	flusher.Flush()
	last := s.queueSignature(r)
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	// since is the version the page was made at: what changed before the page connected
	// is told at once
	since, err := strconv.ParseUint(r.URL.Query().Get("since"), 10, 64)
	if v, _ := s.Live.wait(); err == nil && v != since {
		fmt.Fprintf(w, "event: change\ndata: {\"version\":%d}\n\n", v)
		flusher.Flush()
	}
	for {
		v, changed := s.Live.wait()
		select {
		case <-r.Context().Done():
			return
		case <-changed:
		case <-tick.C:
			sig := s.queueSignature(r)
			if sig == last {
				fmt.Fprint(w, ": ping\n\n") // keeps proxies from closing an idle stream
				flusher.Flush()
				continue
			}
			last = sig
		}
		fmt.Fprintf(w, "event: change\ndata: {\"version\":%d}\n\n", v+1)
		flusher.Flush()
		select { // let a burst of task events settle into one update
		case <-r.Context().Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// queueSignature names what runs and waits in the scheduler's queue.
func (s *Server) queueSignature(r *http.Request) string {
	if s.Scheduler == nil {
		return ""
	}
	st, err := s.Scheduler.Status(r.Context())
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, j := range append(st.Running, st.Queued...) {
		b.WriteString(j.ID + j.State + ";")
	}
	return b.String()
}
