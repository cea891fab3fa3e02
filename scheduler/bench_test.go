package scheduler

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/models"
)

// timings collects real-time latencies from a run's events.
type timings struct {
	mu       sync.Mutex
	started  map[string]time.Time // task → when it started
	finished map[string]time.Time
	first    chan time.Time // the first task start of each run
}

func (tm *timings) Observe(e engine.Event) {
	now := time.Now()
	tm.mu.Lock()
	defer tm.mu.Unlock()
	switch e.Kind {
	case engine.EventTaskStarted:
		tm.started[e.Task.Key()] = now
		if e.Done == 0 && tm.first != nil {
			select {
			case tm.first <- now:
			default:
			}
		}
	case engine.EventTaskFinished:
		tm.finished[e.Task.Key()] = now
	}
}

func percentile(ds []time.Duration, p float64) time.Duration {
	slices.Sort(ds)
	return ds[min(int(float64(len(ds))*p), len(ds)-1)]
}

func benchScheduler(b *testing.B, files map[string]string, clock clockwork.Clock, obs engine.Observer, opts Options) (*Scheduler, *engine.Warehouse) {
	b.Helper()
	dir := testproj.Write(b, files)
	p, g := testgraph.Load(b, dir)
	w, err := engine.Open(context.Background(), p)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close() })
	opts.Clock, opts.NoCron = clock, true
	if obs != nil {
		opts.Observers = []engine.Observer{obs}
	}
	s, err := New(p, g, w, opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Stop(time.Minute) })
	return s, w
}

// BenchmarkDueToStart measures, in real time, from the moment a schedule's interval is
// owed (the tick gocron fires at its end) to its first task starting: computing what is
// owed from the ledger, queueing it durably, planning, recording the run.
func BenchmarkDueToStart(b *testing.B) {
	tm := &timings{started: map[string]time.Time{}, finished: map[string]time.Time{}, first: make(chan time.Time, 1)}
	clock := clockwork.NewFakeClockAt(time.Date(2024, 1, 1, 0, 0, 30, 0, time.UTC))
	s, _ := benchScheduler(b, map[string]string{
		"strata.yml":   "name: p\nwarehouse:\n  path: p.duckdb\nschedules:\n  every_minute: {select: t, cron: \"* * * * *\"}\n",
		"models/t.sql": "{{ config(materialized='table') }}\nselect 1 as x",
	}, clock, tm, Options{})
	ctx := context.Background()
	if err := s.Wait(ctx); err != nil {
		b.Fatal(err)
	}
	select {
	case <-tm.first: // the interval owed at start
	default:
	}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clock.Advance(time.Minute)
		due := time.Now()
		if err := s.Tick(ctx); err != nil {
			b.Fatal(err)
		}
		started := <-tm.first
		lat = append(lat, started.Sub(due))
		if err := s.Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(lat, 0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
}

// BenchmarkHandOff measures from a task finishing to its dependent starting, within a
// run: the in-process hand-off, with no polling between them.
func BenchmarkHandOff(b *testing.B) {
	tm := &timings{started: map[string]time.Time{}, finished: map[string]time.Time{}}
	const chain = 20
	files := map[string]string{"strata.yml": "name: p\nwarehouse:\n  path: p.duckdb\n", "models/m00.sql": "select 1 as x"}
	for i := 1; i < chain; i++ {
		files[fmt.Sprintf("models/m%02d.sql", i)] = fmt.Sprintf("select x from {{ ref('m%02d') }}", i-1)
	}
	s, _ := benchScheduler(b, files, clockwork.NewRealClock(), tm, Options{})
	ctx := context.Background()
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Submit(Request{Command: engine.CommandRun}); err != nil {
			b.Fatal(err)
		}
		if err := s.Wait(ctx); err != nil {
			b.Fatal(err)
		}
		tm.mu.Lock()
		for k := 1; k < chain; k++ {
			lat = append(lat, tm.started[fmt.Sprintf("m%02d", k)].Sub(tm.finished[fmt.Sprintf("m%02d", k-1)]))
		}
		tm.mu.Unlock()
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(lat, 0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
}

// BenchmarkThroughput measures trivial tasks per second through the queue and the
// runner: 500 tasks as independent views in one submitted run, and 200 submitted runs of
// one task each (each with its queueing, plan and run records). On a file, every task's
// commit waits for the disk; in memory, what is left is strata's own work.
func BenchmarkThroughput(b *testing.B) {
	for _, wh := range []string{"p.duckdb", "':memory:'"} {
		b.Run(strings.Trim(wh, "'"), func(b *testing.B) { throughput(b, wh) })
	}
}

func throughput(b *testing.B, warehouse string) {
	const n = 500
	files := map[string]string{"strata.yml": "name: p\nwarehouse:\n  path: " + warehouse + "\n"}
	for i := 0; i < n; i++ {
		files[fmt.Sprintf("models/v%03d.sql", i)] = fmt.Sprintf("select %d as x", i)
	}
	s, _ := benchScheduler(b, files, clockwork.NewRealClock(), nil, Options{Threads: 2, MaxRuns: 2})
	ctx := context.Background()
	var oneRun, manyRuns time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := s.Submit(Request{Command: engine.CommandRun}); err != nil {
			b.Fatal(err)
		}
		if err := s.Wait(ctx); err != nil {
			b.Fatal(err)
		}
		oneRun += time.Since(start)
		start = time.Now()
		for k := 0; k < 200; k++ {
			if _, err := s.Submit(Request{Command: engine.CommandRun, Select: []string{fmt.Sprintf("v%03d", k)}}); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Wait(ctx); err != nil {
			b.Fatal(err)
		}
		manyRuns += time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(float64(n*b.N)/oneRun.Seconds(), "tasks/s-one-run")
	b.ReportMetric(float64(200*b.N)/manyRuns.Seconds(), "runs/s-submitted")
}

// BenchmarkUpcoming100 is `schedules --next 24h` on 100 schedules: the pure arithmetic.
func BenchmarkUpcoming100(b *testing.B) {
	var yml strings.Builder
	yml.WriteString("name: p\nschedules:\n")
	crons := []string{"5 * * * *", "*/15 * * * *", "0 2 * * *", "30 */6 * * *"}
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&yml, "  s%03d: {select: m, cron: %q, timezone: Europe/Berlin, catchup: true}\n", i, crons[i%len(crons)])
	}
	dir := testproj.Write(b, map[string]string{"strata.yml": yml.String(), "models/m.sql": "select 1 as x"})
	p, err := models.Load(dir, models.Options{})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2024, 3, 30, 12, 0, 0, 0, time.UTC)
	var plans []Plan
	for _, name := range sortedNames(p.Schedules) {
		plans = append(plans, Plan{Schedule: p.Schedules[name], Latest: now.Add(-3 * time.Hour), Now: now})
	}
	b.ResetTimer()
	fires := 0
	for i := 0; i < b.N; i++ {
		fires = len(Upcoming(plans, 24*time.Hour, nil))
	}
	b.ReportMetric(float64(fires), "fires")
}
