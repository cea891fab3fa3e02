package scheduler

import (
	"slices"
	"sort"
	"sync"
	"time"
)

// Queue holds the jobs waiting to run. It is an interface so that a queue shared by
// workers on several machines (Postgres-backed, say) can take its place.
type Queue interface {
	// Push adds a job; a job whose ID is queued already is not added twice.
	Push(j *Job) bool
	// Next removes and returns the job to run now: the first in priority order that
	// may start (its backoff is over and ok allows it), or nil.
	Next(now time.Time, ok func(*Job) bool) *Job
	// Remove takes a queued job out.
	Remove(id string) (*Job, bool)
	// SetPriority changes a queued job's priority.
	SetPriority(id, priority string) bool
	// List returns the queued jobs in the order they would run.
	List(now time.Time) []*Job
	// Earliest is the soonest time a job held back by its backoff may start.
	Earliest() (time.Time, bool)
}

// MemQueue is the in-process queue: priority first (high, medium, low), raised one level
// for every AgeStep a job has waited, so that low work is never starved; then the work
// owed longest; then the oldest in the queue.
type MemQueue struct {
	AgeStep time.Duration // waiting this long lifts a job one level; 10 minutes when 0

	mu   sync.Mutex
	jobs []*Job
}

// NewMemQueue returns an empty queue.
func NewMemQueue(ageStep time.Duration) *MemQueue { return &MemQueue{AgeStep: ageStep} }

var _ Queue = (*MemQueue)(nil)

func (q *MemQueue) Push(j *Job) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, x := range q.jobs {
		if x.ID == j.ID {
			return false
		}
	}
	q.jobs = append(q.jobs, j)
	return true
}

// rank is a job's effective level at now: 0 for high, 1 medium, 2 low, lowered (served
// sooner) by its waiting time.
func (q *MemQueue) rank(j *Job, now time.Time) float64 {
	step := q.AgeStep
	if step <= 0 {
		step = 10 * time.Minute
	}
	base := float64(slices.Index(priorityOrder, j.Priority))
	if base < 0 {
		base = 1
	}
	return base - float64(now.Sub(j.Enqueued))/float64(step)
}

var priorityOrder = []string{"high", "medium", "low"}

func (q *MemQueue) sorted(now time.Time) []*Job {
	out := slices.Clone(q.jobs)
	sort.SliceStable(out, func(a, b int) bool {
		ra, rb := q.rank(out[a], now), q.rank(out[b], now)
		if ra != rb {
			return ra < rb
		}
		if !out[a].Due.Equal(out[b].Due) {
			return out[a].Due.Before(out[b].Due)
		}
		if !out[a].Enqueued.Equal(out[b].Enqueued) {
			return out[a].Enqueued.Before(out[b].Enqueued)
		}
		return out[a].ID < out[b].ID
	})
	return out
}

func (q *MemQueue) Next(now time.Time, ok func(*Job) bool) *Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, j := range q.sorted(now) {
		if j.NotBefore.After(now) || (ok != nil && !ok(j)) {
			continue
		}
		q.remove(j.ID)
		return j
	}
	return nil
}

func (q *MemQueue) remove(id string) *Job {
	for i, j := range q.jobs {
		if j.ID == id {
			q.jobs = slices.Delete(q.jobs, i, i+1)
			return j
		}
	}
	return nil
}

func (q *MemQueue) Remove(id string) (*Job, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	j := q.remove(id)
	return j, j != nil
}

func (q *MemQueue) SetPriority(id, priority string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, j := range q.jobs {
		if j.ID == id {
			j.Priority = priority
			return true
		}
	}
	return false
}

func (q *MemQueue) List(now time.Time) []*Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.sorted(now)
}

func (q *MemQueue) Earliest() (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var t time.Time
	for _, j := range q.jobs {
		if !j.NotBefore.IsZero() && (t.IsZero() || j.NotBefore.Before(t)) {
			t = j.NotBefore
		}
	}
	return t, !t.IsZero()
}
