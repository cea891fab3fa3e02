package engine_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

var killTrials = flag.Int("kill-trials", 12, "backfills killed at random moments in TestBackfillSurvivesKill")

// killProject is three chained partitioned models of different grains: hourly rows,
// daily aggregates of 24 hours, and a 3-day rolling sum.
func killProject(t *testing.T) string {
	return testproj.Write(t, map[string]string{
		"models/hourly.sql": `{{ config(materialized='partitioned', partition_by={'column': 'ts', 'granularity': 'hour'}, start='2024-02-27') }}
select {{ partition_start }} + to_minutes(i::bigint) as ts, i % 7 as k, i as v from range(60) r(i)`,
		"models/daily.sql": `{{ config(materialized='partitioned', partition_by={'column': 'day', 'granularity': 'day'}, start='2024-02-27') }}
select cast(date_trunc('day', ts) as timestamp) as day, k, count(*) as n, sum(v) as s
from {{ ref('hourly') }} where ts >= {{ partition_start }} and ts < {{ partition_end }} group by all`,
		"models/rolling.sql": `{{ config(materialized='partitioned', partition_by={'column': 'day', 'granularity': 'day'}, start='2024-02-27', window={'start_offset': -2, 'end_offset': 0}) }}
select {{ partition_start }} as day, k, sum(n) as n3, sum(s) as s3
from {{ ref('daily') }} where day >= {{ window_start }} and day < {{ window_end }} group by all`,
	})
}

const killFrom, killTo = "2024-02-27", "2024-03-01" // across a leap day: 4 days, 96 hours

// TestBackfillWorker is not a test: TestBackfillSurvivesKill runs it as the process it kills.
func TestBackfillWorker(t *testing.T) {
	dir := os.Getenv("STRATA_BACKFILL_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	// one thread runs grouped commits (group.go), two one transaction per task
	threads := 2
	if os.Getenv("STRATA_BACKFILL_THREADS") == "1" {
		threads = 1
	}
	res, err := loadAndBackfill(context.Background(), dir, []string{"hourly+"}, killFrom, killTo, "", threads, printProgress)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() {
		t.Fatalf("backfill failed: %v", res.Err)
	}
}

// printProgress prints a line as each task finishes: a worker process's progress, which
// killWorker reads to aim its kill mid-backfill.
var printProgress = engine.ObserverFunc(func(e engine.Event) {
	switch e.Kind {
	case engine.EventTaskFinished:
		fmt.Printf("finished %d\n", e.Done)
	case engine.EventTaskStarted:
		fmt.Println("started")
	}
})

// killWorker runs the worker test named test as a process with env (space-separated
// settings) added, and kills it with SIGKILL once it has printed its after-th line
// starting with mark ("finished ", or "started" to land inside an uncommitted group)
// and jitter more has passed, so the kill lands mid-work however fast or loaded the
// machine is. A worker that ends first is left be.
func killWorker(t *testing.T, test, env, mark string, after int, jitter time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), strings.Fields(env)...) // "A=x B=y"
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for n := 0; sc.Scan(); {
		if strings.HasPrefix(sc.Text(), mark) {
			if n++; n == after {
				time.Sleep(jitter)
				_ = cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
	}
	_, _ = io.Copy(io.Discard, out)
	_ = cmd.Wait()
}

func backfill(ctx context.Context, dir string, threads int) (*engine.Result, error) {
	return loadAndBackfill(ctx, dir, []string{"hourly+"}, killFrom, killTo, "", threads)
}

// loadAndBackfill is a whole backfill as one process does it: load the project, open its
// warehouse, plan the range (resuming what a killed process left) and run it.
func loadAndBackfill(ctx context.Context, dir string, sel []string, from, to, reprocess string, threads int, obs ...engine.Observer) (*engine.Result, error) {
	p, err := models.Load(dir, models.Options{})
	if err != nil {
		return nil, err
	}
	g, err := lineage.Build(p)
	if err != nil {
		return nil, err
	}
	w, err := engine.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	f, t, end, err := engine.ParseRange(from, to)
	if err != nil {
		return nil, err
	}
	plan, err := engine.PlanBackfill(ctx, w, g, engine.BackfillOptions{Select: sel, From: f, To: t, ToEnd: end, Reprocess: reprocess}, "")
	if err != nil {
		return nil, err
	}
	// small groups, so that a kill can land after some have committed
	return engine.Run(ctx, w, plan, engine.RunOptions{Threads: threads, Retries: 2, Observers: obs, GroupMax: 8})
}

// dump returns every model's rows in a stable text form, and checks partition state
// against the data: one state row per partition, with the rows the table really has.
func dump(t *testing.T, dir string) string {
	t.Helper()
	w, err := engine.OpenPath(context.Background(), filepath.Join(dir, "test.duckdb"), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var b strings.Builder
	for _, q := range []string{
		"select ts, k, v from main.hourly order by all",
		"select day, k, n, s from main.daily order by all",
		"select day, k, n3, s3 from main.rolling order by all",
		"select model, count(*), count(distinct partition_start) from _strata.partitions group by all order by all",
	} {
		rows := queryRows(t, w, q)
		fmt.Fprintf(&b, "-- %s: %d rows\n", q, len(rows))
		for _, r := range rows {
			fmt.Fprintln(&b, r...)
		}
	}
	bad := queryRows(t, w, `
		select p.model, p.partition_start, p.rows, coalesce(h.n, d.n, r.n, 0) as actual
		from _strata.partitions p
		left join (select date_trunc('hour', ts) as s, count(*) as n from main.hourly group by 1) h on p.model = 'hourly' and h.s = p.partition_start
		left join (select day as s, count(*) as n from main.daily group by 1) d on p.model = 'daily' and d.s = p.partition_start
		left join (select day as s, count(*) as n from main.rolling group by 1) r on p.model = 'rolling' and r.s = p.partition_start
		where p.rows <> coalesce(h.n, d.n, r.n, 0)`)
	if len(bad) > 0 {
		t.Errorf("partition state disagrees with the data: %v", bad)
	}
	return b.String()
}

func TestBackfillSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills subprocesses")
	}
	ref := killProject(t)
	if res, err := backfill(context.Background(), ref, 2); err != nil || res.Failed() {
		t.Fatalf("reference backfill: %v %v", err, res)
	}
	want := dump(t, ref)
	if !strings.Contains(want, "main.hourly order by all: 5760 rows") {
		t.Fatalf("reference build is not the expected size:\n%.300s", want)
	}
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	resumed := 0
	defer func() {
		// the kills must land mid-backfill: resumes that always start from zero or
		// always find nothing left would not test recovery
		if *killTrials >= 8 && (resumed == 0 || resumed == 104**killTrials) {
			t.Errorf("resumes ran %d tasks over %d trials: the kills never interrupted a backfill midway", resumed, *killTrials)
		}
	}()
	for trial := 0; trial < *killTrials; trial++ {
		dir := killProject(t)
		kills := 1 + rng.Intn(2)
		// grouped commits (one thread: tasks are announced when their group commits, so
		// the kill is aimed by tasks started, inside a group) or a transaction per task
		threads, mark := 1+rng.Intn(2), "finished "
		if threads == 1 {
			mark = "started"
		}
		for k := 0; k < kills; k++ {
			// after a random number of tasks, and a random moment more
			killWorker(t, "TestBackfillWorker", fmt.Sprintf("STRATA_BACKFILL_DIR=%s STRATA_BACKFILL_THREADS=%d", dir, threads), mark, 1+rng.Intn(90), time.Duration(rng.Int63n(int64(30*time.Millisecond))))
		}
		// resume by rerunning the same backfill, as a user would
		res, err := backfill(context.Background(), dir, threads)
		if err != nil {
			t.Fatalf("trial %d: resume: %v", trial, err)
		}
		if res.Failed() {
			t.Fatalf("trial %d: resume failed: %v", trial, res.Err)
		}
		t.Logf("trial %d: %d kill(s) with %d thread(s); the resume ran %d of 104 tasks", trial, kills, threads, len(res.Tasks))
		resumed += len(res.Tasks)
		if got := dump(t, dir); got != want {
			t.Fatalf("trial %d (%d kills): tables after kill + resume differ from a clean build\n--- want\n%.2000s\n--- got\n%.2000s", trial, kills, want, got)
		}
	}
}
