package scheduler

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func job(id, prio string, enq time.Time) *Job {
	return &Job{ID: id, Priority: prio, Enqueued: enq, Due: enq}
}

// TestQueuePriorities: with room for one run at a time, high goes first, then medium,
// then low; within a level, what was owed first.
func TestQueuePriorities(t *testing.T) {
	t.Parallel()
	t0 := at("2024-01-01T00:00:00Z")
	q := NewMemQueue(time.Hour)
	for _, j := range []*Job{job("low1", "low", t0), job("med1", "medium", t0.Add(time.Second)), job("high1", "high", t0.Add(2*time.Second)),
		job("med2", "medium", t0.Add(3*time.Second)), job("high2", "high", t0.Add(4*time.Second))} {
		q.Push(j)
	}
	if q.Push(job("med1", "medium", t0)) {
		t.Error("a job queued twice")
	}
	var got []string
	for j := q.Next(t0.Add(5*time.Second), nil); j != nil; j = q.Next(t0.Add(5*time.Second), nil) {
		got = append(got, j.ID)
	}
	if diff := cmp.Diff([]string{"high1", "high2", "med1", "med2", "low1"}, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// TestQueueAgeing: a low job that has waited long enough goes before newly queued high
// work, so a steady stream of high work never starves it.
func TestQueueAgeing(t *testing.T) {
	t.Parallel()
	t0 := at("2024-01-01T00:00:00Z")
	q := NewMemQueue(10 * time.Minute)
	q.Push(job("starved", "low", t0))
	var order []string
	now := t0
	for i := 0; i < 8; i++ {
		now = now.Add(5 * time.Minute)
		q.Push(job("high"+string(rune('a'+i)), "high", now))
		order = append(order, q.Next(now, nil).ID)
	}
	at := -1
	for i, id := range order {
		if id == "starved" {
			at = i
		}
	}
	if at < 0 || at > 5 {
		t.Fatalf("the low job ran at step %d of %v: ageing must lift it within 20 minutes of high work", at, order)
	}
	if order[0] == "starved" {
		t.Errorf("the low job went first, before it had aged: %v", order)
	}
}

func TestQueueBackoffAndLimits(t *testing.T) {
	t.Parallel()
	t0 := at("2024-01-01T00:00:00Z")
	q := NewMemQueue(0)
	held := job("held", "high", t0)
	held.NotBefore = t0.Add(time.Minute)
	q.Push(held)
	q.Push(job("blocked", "high", t0))
	q.Push(job("free", "low", t0))
	got := q.Next(t0, func(j *Job) bool { return j.ID != "blocked" })
	if got == nil || got.ID != "free" {
		t.Fatalf("next = %v, want the one job allowed and not backing off", got)
	}
	if e, ok := q.Earliest(); !ok || !e.Equal(t0.Add(time.Minute)) {
		t.Errorf("earliest = %v %v", e, ok)
	}
	if !q.SetPriority("blocked", "low") || q.List(t0)[0].ID != "held" {
		t.Errorf("priority change not applied: %v", q.List(t0))
	}
	if j := q.Next(t0.Add(time.Minute), nil); j == nil || j.ID != "held" {
		t.Errorf("after its backoff the held job runs first: %v", j)
	}
}
