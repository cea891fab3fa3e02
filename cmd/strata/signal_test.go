package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests stop a real strata process with real signals, as a user's Ctrl-C, a
// service manager's SIGTERM and the kernel's SIGKILL do, and read what it left in the
// warehouse.

// slowProject is a daily model whose partitions each take a fraction of a second.
func slowProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{
		"strata.yml": "name: slow\nwarehouse:\n  path: slow.duckdb\n",
		"models/daily.sql": `{{ config(materialized='partitioned', partition_by={'column': 'day', 'granularity': 'day'}, start='2024-01-01') }}
select {{ partition_start }} as day, i as v from range(3) r(i)
where (select count(*) from range({{ var('spin', 1) }})) > 0`,
	}
	for k, v := range files {
		all[k] = v
	}
	for name, body := range all {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// strataProc is a strata process whose stdout lines are counted as they come.
type strataProc struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan error
	out   strings.Builder
}

func startStrata(t *testing.T, env []string, args ...string) *strataProc {
	t.Helper()
	bin, err := exec.LookPath("strata") // the test binary as strata, put on PATH by testscript.Main
	if err != nil {
		t.Fatal(err)
	}
	p := &strataProc{cmd: exec.Command(bin, args...), lines: make(chan string, 10000), done: make(chan error, 1)}
	p.cmd.Env = append(os.Environ(), env...)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	return p
}

// waitFor reads stdout until n lines contain want.
func (p *strataProc) waitFor(t *testing.T, want string, n int) {
	t.Helper()
	timeout := time.After(2 * time.Minute)
	for seen := 0; seen < n; {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("strata ended before printing %d lines with %q; stderr:\n%s", n, want, p.out.String())
			}
			if strings.Contains(l, want) {
				seen++
			}
		case <-timeout:
			t.Fatalf("no %d lines with %q after 2 minutes", n, want)
		}
	}
}

// exitCode waits for the process and returns its exit code.
func (p *strataProc) exitCode(t *testing.T) int {
	t.Helper()
	go func() {
		for range p.lines {
		}
	}()
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return -int(ws.Signal())
			}
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(2 * time.Minute):
		t.Fatal("strata did not stop within 2 minutes of the signal")
	}
	return 0
}

func query(t *testing.T, dir, q string) string {
	t.Helper()
	out, err := duckq(filepath.Join(dir, "slow.duckdb"), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return strings.TrimSpace(out)
}

func TestSignalDrainsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and stops real processes")
	}
	t.Parallel()
	for _, tc := range []struct {
		name   string
		sig    syscall.Signal
		grace  string
		runner string // the status of the task running when the signal came
	}{
		{"SIGTERM lets the running task finish", syscall.SIGTERM, "5m", "success"},
		{"SIGINT past the grace period cuts it short", syscall.SIGINT, "1ms", "cancelled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := slowProject(t, nil)
			args := []string{"-C", dir, "backfill", "daily", "--from", "2024-01-01", "--to", "2024-01-20", "--parallel", "1", "--vars", "{spin: 4000000000}"}
			p := startStrata(t, []string{"STRATA_GRACE=" + tc.grace}, args...)
			p.waitFor(t, "OK      partitioned  daily", 2)
			time.Sleep(150 * time.Millisecond) // well into the third partition's spin (about a second)
			if err := p.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			if code := p.exitCode(t); code != exitCancelled {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitCancelled, p.out.String())
			}
			if !strings.Contains(p.out.String(), "stopping: no new tasks start") {
				t.Errorf("stderr does not say it is stopping:\n%s", p.out.String())
			}
			if got := query(t, dir, "select status, tasks_cancelled > 0 from _strata.runs"); got != "cancelled\ttrue" {
				t.Errorf("run = %q, want cancelled with cancelled tasks", got)
			}
			// only tasks that started have rows: what never started stays pending
			rows := query(t, dir, "select status, count(*) from _strata.tasks group by all order by all")
			var done int
			for _, l := range strings.Split(rows, "\n") {
				f := strings.Split(l, "\t")
				switch f[0] {
				case "success":
					fmt.Sscan(f[1], &done)
				case tc.runner:
				default:
					t.Errorf("a task row with status %s: %q", f[0], rows)
				}
			}
			if tc.runner == "cancelled" && !strings.Contains(rows, "cancelled\t1") {
				t.Errorf("tasks = %q, want the running one cancelled", rows)
			}
			if done < 2 || done >= 20 {
				t.Fatalf("%d partitions done before the stop, want some but not all: %q", done, rows)
			}
			if got := query(t, dir, "select status from _strata.backfills"); got != "interrupted" {
				t.Errorf("backfill %q, want interrupted", got)
			}
			// the same command again finishes the job, doing only what is left
			out, err := exec.Command(p.cmd.Path, args[:len(args)-2]...).CombinedOutput()
			if err != nil {
				t.Fatalf("rerun: %v\n%s", err, out)
			}
			if want := fmt.Sprintf("resuming backfill bf-"); !strings.Contains(string(out), want) ||
				!strings.Contains(string(out), fmt.Sprintf(": %d tasks to run, %d skipped", 20-done, done)) {
				t.Errorf("rerun did not resume with only what is left (%d done):\n%s", done, out)
			}
			if got := query(t, dir, "select count(*), count(distinct day) from daily"); got != "60\t20" {
				t.Errorf("after the rerun daily has %q rows and days, want 60 and 20", got)
			}
		})
	}
}

func TestSigkillLeavesRunAborted(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills real processes")
	}
	t.Parallel()
	dir := slowProject(t, nil)
	args := []string{"-C", dir, "backfill", "daily", "--from", "2024-01-01", "--to", "2024-01-10", "--parallel", "1", "--vars", "{spin: 2000000000}"}
	p := startStrata(t, nil, args...)
	p.waitFor(t, "OK      partitioned  daily", 1)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := p.exitCode(t); code != -int(syscall.SIGKILL) {
		t.Fatalf("exit %d, want killed", code)
	}
	if got := query(t, dir, "select status from _strata.runs"); got != "running" {
		t.Fatalf("a killed process leaves its run %q, want running until the next open", got)
	}
	out, err := exec.Command(p.cmd.Path, "-C", dir, "runs", "--json").CombinedOutput()
	if err != nil {
		t.Fatalf("runs: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"status":"aborted"`) || !strings.Contains(string(out), `"error":"the process running it stopped without finishing it`) {
		t.Errorf("runs after the kill:\n%s", out)
	}
	if got := query(t, dir, "select status from _strata.backfills"); got != "interrupted" {
		t.Errorf("backfill %q, want interrupted", got)
	}
	out, err = exec.Command(p.cmd.Path, args[:len(args)-2]...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "resuming backfill") {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
}

// TestInterruptBigBackfill stops a backfill of thousands of small tasks: it stops at
// once, writes no row for the thousands that never started, and counts them as
// cancelled, not failed.
func TestInterruptBigBackfill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and stops real processes")
	}
	t.Parallel()
	dir := slowProject(t, map[string]string{
		"models/hourly.sql": `{{ config(materialized='partitioned', partition_by={'column': 'ts', 'granularity': 'hour'}, start='2024-01-01') }}
select {{ partition_start }} as ts`,
	})
	p := startStrata(t, nil, "-C", dir, "backfill", "hourly", "--from", "2024-01-01", "--to", "2024-06-30", "--parallel", "2")
	p.waitFor(t, "OK      partitioned  hourly", 20)
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := p.exitCode(t); code != exitCancelled {
		t.Fatalf("exit %d, want %d\n%s", code, exitCancelled, p.out.String())
	}
	total := 182 * 24
	rows := query(t, dir, "select count(*) from _strata.tasks")
	var n int
	fmt.Sscan(rows, &n)
	if n < 20 || n > total/2 {
		t.Fatalf("%d task rows after the interrupt of %d tasks: want only those that ran", n, total)
	}
	got := query(t, dir, "select status, tasks_error, tasks_cancelled from _strata.runs")
	var status string
	var failed, cancelled int
	fmt.Sscan(strings.ReplaceAll(got, "\t", " "), &status, &failed, &cancelled)
	if status != "cancelled" || failed != 0 || cancelled != total-n {
		t.Errorf("run = %q; want cancelled, 0 failed, %d cancelled", got, total-n)
	}
	if got := query(t, dir, "select status, tasks_failed from _strata.backfills"); got != "interrupted\t0" {
		t.Errorf("backfill = %q, want interrupted with nothing failed", got)
	}
}
