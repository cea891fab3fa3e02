package scheduler

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/internal/testproj"
)

// The scheduler's tests run a real warehouse on a fake clock: no test sleeps.

const hourlyModel = `{{ config(materialized='partitioned', partition_by={'column': 'ts', 'granularity': 'hour'}, start='2024-01-01') }}
select {{ partition_start }} as ts, 1 as n`

func project(t *testing.T, files map[string]string) string {
	t.Helper()
	return testproj.Write(t, files)
}

// start opens the project's warehouse and starts a scheduler on it at the clock's time.
func start(t *testing.T, dir string, clock clockwork.Clock, opts Options) (*Scheduler, *engine.Warehouse) {
	t.Helper()
	p, g := testgraph.Load(t, dir)
	w, err := engine.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	opts.Clock, opts.NoCron = clock, true
	s, err := New(p, g, w, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, w
}

func wait(t *testing.T, s *Scheduler) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.Wait(ctx); err != nil {
		t.Fatalf("the scheduler did not settle: %v", err)
	}
}

func rows(t *testing.T, w *engine.Warehouse, q string) string {
	t.Helper()
	res, err := w.ReadQuery(context.Background(), q, engine.QueryOptions{Limit: 10000})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var b strings.Builder
	for _, r := range res.Rows {
		for i, v := range r.Values {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(engine.Cell(v))
		}
		b.WriteByte('\n')
	}
	return strings.TrimSpace(b.String())
}

// TestCatchUpAfterDowntime: a first start catches up from the model's start; a restart
// after 5 hours of downtime runs exactly the 5 missed intervals, once; a restart with
// nothing missed runs nothing. Every partition is built exactly once.
func TestCatchUpAfterDowntime(t *testing.T) {
	t.Parallel()
	dir := project(t, map[string]string{
		"strata.yml":               "name: p\nwarehouse:\n  path: p.duckdb\nschedules:\n  hourly: {select: events_hourly, cron: \"5 * * * *\", catchup: true}\n",
		"models/events_hourly.sql": hourlyModel,
	})
	clock := clockwork.NewFakeClockAt(at("2024-01-01T03:10:00Z"))
	s, w := start(t, dir, clock, Options{})
	wait(t, s)
	if got := rows(t, w, "select count(*), count(distinct ts) from events_hourly"); got != "3 3" {
		t.Fatalf("after the first start: %q rows and hours, want 3 3 (00, 01, 02)", got)
	}
	s.Stop(time.Minute)
	w.Close()

	clock.Advance(5 * time.Hour) // down from 03:10 to 08:10
	s, w = start(t, dir, clock, Options{})
	wait(t, s)
	if got := rows(t, w, "select count(*), count(distinct ts), max(ts) from events_hourly"); got != "8 8 2024-01-01T07:00:00Z" {
		t.Fatalf("after 5 h of downtime: %q, want 8 hours up to 07:00", got)
	}
	if got := rows(t, w, "select state, count(*), max(attempts) from _strata.intervals group by all"); got != "done 8 1" {
		t.Errorf("ledger: %q, want 8 intervals done, each in one attempt", got)
	}
	if got := rows(t, w, "select count(*) from _strata.tasks where status = 'success'"); got != "8" {
		t.Errorf("%s partition builds, want 8: each once", got)
	}
	s.Stop(time.Minute)
	w.Close()

	s, w = start(t, dir, clock, Options{}) // nothing missed
	wait(t, s)
	if got := rows(t, w, "select count(*) from _strata.runs"); got != "8" {
		t.Errorf("a restart with nothing owed made runs: %s in all, want 8", got)
	}
	s.Stop(time.Minute)
	w.Close()
}

// TestFiresOnTheClock: ticking as gocron would, through a day, builds each hour once,
// and a jump of the clock (a machine that slept) catches up what it slept through.
func TestFiresOnTheClock(t *testing.T) {
	t.Parallel()
	dir := project(t, map[string]string{
		"strata.yml":               "name: p\nwarehouse:\n  path: p.duckdb\nschedules:\n  hourly: {select: events_hourly, cron: \"5 * * * *\", catchup: true}\n",
		"models/events_hourly.sql": hourlyModel,
	})
	clock := clockwork.NewFakeClockAt(at("2024-01-01T00:06:00Z"))
	s, w := start(t, dir, clock, Options{})
	defer w.Close()
	defer s.Stop(time.Minute)
	for h := 0; h < 12; h++ {
		clock.Advance(time.Hour)
		if err := s.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		wait(t, s)
	}
	clock.Advance(12 * time.Hour) // asleep
	if err := s.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	wait(t, s)
	if got := rows(t, w, "select count(*), count(distinct ts), min(ts), max(ts) from events_hourly"); got != "24 24 2024-01-01 2024-01-01T23:00:00Z" {
		t.Errorf("after a day: %q, want each of the 24 hours once", got)
	}
}

// TestRetries: an I/O error retries with backoff until the schedule's retries are spent;
// an SQL error fails at once.
func TestRetries(t *testing.T) {
	t.Parallel()
	dir := project(t, map[string]string{
		"strata.yml": `name: p
warehouse:
  path: p.duckdb
schedules:
  io: {select: reads_missing, cron: "0 * * * *", retries: 2, retry_delay: 1m}
  sql: {select: bad_sql, cron: "0 * * * *", retries: 3}
`,
		"models/reads_missing.sql": "{{ config(materialized='table') }}\nselect * from read_csv('no/such/file.csv')",
		"models/bad_sql.sql":       "{{ config(materialized='table') }}\nselect no_such_column from (select 1 as x)",
	})
	clock := clockwork.NewFakeClockAt(at("2024-01-01T01:00:30Z"))
	s, w := start(t, dir, clock, Options{Retries: -1})
	defer w.Close()
	defer s.Stop(time.Minute)
	wait(t, s)
	for i := 0; i < 2; i++ {
		clock.Advance(3 * time.Minute) // past the backoff (1m, then 2m, ± a fifth)
		s.kick()
		wait(t, s)
	}
	got := rows(t, w, "select schedule, state, attempts, error like '%IO Error%' from _strata.intervals order by schedule")
	want := "io failed 3 true\nsql failed 1 false"
	if got != want {
		t.Errorf("ledger:\n%s\nwant\n%s", got, want)
	}
}

// TestUpstreamTrigger: a daily model with trigger='upstream' runs a day as soon as all
// 24 of its hours have landed, without a schedule of its own.
func TestUpstreamTrigger(t *testing.T) {
	t.Parallel()
	dir := project(t, map[string]string{
		"strata.yml":               "name: p\nwarehouse:\n  path: p.duckdb\nschedules:\n  hourly: {select: events_hourly, cron: \"5 * * * *\", catchup: true}\n",
		"models/events_hourly.sql": hourlyModel,
		"models/daily.sql": `{{ config(materialized='partitioned', partition_by={'column': 'day', 'granularity': 'day'}, start='2024-01-01', trigger='upstream') }}
select {{ partition_start }} as day, sum(n) as n from {{ ref('events_hourly') }} where ts >= {{ partition_start }} and ts < {{ partition_end }}`,
	})
	clock := clockwork.NewFakeClockAt(at("2024-01-01T23:10:00Z"))
	s, w := start(t, dir, clock, Options{})
	defer w.Close()
	defer s.Stop(time.Minute)
	wait(t, s)
	if got := rows(t, w, "select count(*) from _strata.tasks where node = 'daily'"); got != "0" {
		t.Fatalf("the day ran before its 24th hour landed: %s rows", got)
	}
	clock.Advance(time.Hour) // 00:10: hour 23 closes at 00:05
	if err := s.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	wait(t, s)
	if got := rows(t, w, "select day, n from daily"); got != "2024-01-01 24" {
		t.Errorf("daily = %q, want the day with its 24 hours", got)
	}
}

// TestOverlapSkipAndPause: a paused schedule owes nothing until resumed, then catches up.
func TestPause(t *testing.T) {
	t.Parallel()
	dir := project(t, map[string]string{
		"strata.yml":               "name: p\nwarehouse:\n  path: p.duckdb\nschedules:\n  hourly: {select: events_hourly, cron: \"5 * * * *\", catchup: true, paused: true}\n",
		"models/events_hourly.sql": hourlyModel,
	})
	clock := clockwork.NewFakeClockAt(at("2024-01-01T02:10:00Z"))
	s, w := start(t, dir, clock, Options{})
	defer w.Close()
	defer s.Stop(time.Minute)
	wait(t, s)
	if got := rows(t, w, "select count(*) from _strata.intervals"); got != "0" {
		t.Fatalf("a paused schedule queued %s intervals", got)
	}
	if err := s.Pause("hourly", false); err != nil {
		t.Fatal(err)
	}
	wait(t, s)
	if got := rows(t, w, "select count(*) from events_hourly"); got != "2" {
		t.Errorf("after resuming: %s hours, want 2", got)
	}
	if err := s.Pause("nope", true); err == nil {
		t.Error("pausing an unknown schedule succeeded")
	}
}

// TestSubmit: a submitted run goes through the same queue and runner, and its events are
// the task lines --json prints.
func TestSubmit(t *testing.T) {
	t.Parallel()
	dir := project(t, map[string]string{
		"strata.yml":   "name: p\nwarehouse:\n  path: p.duckdb\n",
		"models/a.sql": "{{ config(materialized='table') }}\nselect 1 as x",
	})
	clock := clockwork.NewFakeClockAt(at("2024-01-01T00:00:00Z"))
	s, w := start(t, dir, clock, Options{})
	defer w.Close()
	defer s.Stop(time.Minute)
	j, err := s.Submit(Request{Command: engine.CommandRun, Select: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	wait(t, s)
	lines, _, _ := j.Events(0)
	var all []string
	for _, l := range lines {
		all = append(all, string(l))
	}
	text := strings.Join(all, "\n")
	if len(lines) != 2 || !strings.Contains(text, `"event":"task"`) || !strings.Contains(text, `"event":"done"`) || !strings.Contains(text, `"status":"success"`) {
		t.Errorf("events:\n%s", text)
	}
	// Submit answers with the job as it was accepted, queued, even when a free worker
	// starts it at once (the MCP and HTTP answers say "queued" from it)
	for range 100 {
		j, err := s.Submit(Request{Command: engine.CommandRun, Select: []string{"a"}})
		if err != nil {
			t.Fatal(err)
		}
		if j.State != JobQueued {
			t.Fatalf("Submit answered a job %s, want %s", j.State, JobQueued)
		}
		wait(t, s)
	}
	if _, err := s.Submit(Request{Command: engine.CommandRun, Select: []string{"tag:"}}); err == nil {
		t.Error("a bad selector was queued")
	}
	if _, err := s.Submit(Request{Command: "frobnicate"}); err == nil {
		t.Error("an unknown command was queued")
	}
	if _, err := s.Submit(Request{Command: CommandBackfill, Select: []string{"a"}, From: "2024-02-01", To: "2024-01-01"}); err == nil ||
		!strings.Contains(err.Error(), "after its end") {
		t.Errorf("a bad range: %v", err)
	}

}

// TestScheduleCommand: a schedule with command: build runs its models' tests too (a CDC
// model's verify test, say), and a failing test fails the interval.
func TestScheduleCommand(t *testing.T) {
	t.Parallel()
	dir := project(t, map[string]string{
		"strata.yml":               "name: p\nwarehouse:\n  path: p.duckdb\nschedules:\n  hourly: {select: events_hourly, command: build, cron: \"5 * * * *\"}\n",
		"models/events_hourly.sql": hourlyModel,
		"models/schema.yml":        "models:\n  - name: events_hourly\n    columns:\n      - {name: n, tests: [{accepted_values: {values: [2]}}]}\n",
	})
	clock := clockwork.NewFakeClockAt(at("2024-01-01T02:10:00Z"))
	s, w := start(t, dir, clock, Options{})
	defer w.Close()
	defer s.Stop(time.Minute)
	wait(t, s)
	if got := rows(t, w, "select status from _strata.tasks where node like 'accepted_values%' limit 1"); got != "fail" {
		t.Errorf("the schedule's build ran its test: %q, want fail", got)
	}
	if got := rows(t, w, "select state from _strata.intervals limit 1"); got != "failed" {
		t.Errorf("interval state %q, want failed", got)
	}
}
