package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stratadata/strata/web/api"
)

// These tests run a real `strata serve` on loopback and the CLI against it, and stop and
// kill it with real signals.

// serveProc is a running strata serve.
type serveProc struct {
	cmd  *exec.Cmd
	url  string
	done chan error
	logs *strings.Builder
	mu   *sync.Mutex
}

func startServe(t *testing.T, dir string, env ...string) *serveProc {
	t.Helper()
	bin, err := exec.LookPath("strata")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-C", dir, "serve", "--addr", "127.0.0.1:0", "--log-format", "json")
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &serveProc{cmd: cmd, done: make(chan error, 1), logs: &strings.Builder{}, mu: &sync.Mutex{}}
	cmd.Stderr = lockedWriter{s.mu, s.logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			first <- sc.Text()
		}
		close(first)
		for sc.Scan() {
		}
		s.done <- cmd.Wait()
	}()
	select {
	case url, ok := <-first:
		if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
			t.Fatalf("serve's first line is %q, want its URL; logs:\n%s", url, s.log())
		}
		s.url = url
	case <-time.After(time.Minute):
		t.Fatalf("serve printed no URL; logs:\n%s", s.log())
	}
	// ready once the server file is written and the API answers
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := api.NewClient(s.url, "").Health(context.Background()); err == nil {
			if _, err := os.Stat(serverFile(dir)); err == nil {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not become ready; logs:\n%s", s.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (s *serveProc) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

func (s *serveProc) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.done:
		return err
	case <-time.After(2 * time.Minute):
		t.Fatalf("serve did not stop; logs:\n%s", s.log())
	}
	return nil
}

// cli runs the strata command and returns its output and exit code.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	bin, _ := exec.LookPath("strata")
	cmd := exec.Command(bin, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestServeWithCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real server")
	}
	t.Parallel()
	dir := slowProject(t, map[string]string{
		"models/a.sql":   "{{ config(materialized='table') }}\nselect 1 as x",
		"models/b.sql":   "{{ config(materialized='table') }}\nselect 2 as x",
		"models/bad.sql": "select nope from {{ ref('a') }}",
	})
	s := startServe(t, dir)

	// the CLI goes through the server: same lines, same exit codes
	out, errs, code := cli(t, "-C", dir, "run", "-s", "a")
	if code != 0 || !strings.Contains(errs, "submitted to the running server") || !strings.Contains(out, "OK      table        a") {
		t.Fatalf("run through the server: exit %d\n%s\n%s", code, out, errs)
	}
	if _, _, code := cli(t, "-C", dir, "run", "-s", "bad"); code != 1 {
		t.Errorf("a failing model through the server exits %d, want 1", code)
	}
	out, _, code = cli(t, "-C", dir, "backfill", "daily", "--from", "2024-02-01", "--to", "2024-01-01")
	if code != 2 {
		t.Errorf("a bad backfill through the server exits %d, want 2:\n%s", code, out)
	}
	out, _, code = cli(t, "-C", dir, "--json", "run", "-s", "b")
	if code != 0 || !strings.Contains(out, `"event":"task"`) || !strings.Contains(out, `"event":"done"`) {
		t.Errorf("--json through the server: exit %d\n%s", code, out)
	}

	// two CLIs at once both succeed
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, sel := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, codes[i] = cli(t, "-C", dir, "run", "-s", sel)
		}()
	}
	wg.Wait()
	if codes[0] != 0 || codes[1] != 0 {
		t.Errorf("two CLIs at once exited %v", codes)
	}

	// reads go through it too, while it holds the warehouse
	out, _, code = cli(t, "-C", dir, "runs", "--json")
	var runs []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &runs) != nil || len(runs) != 5 {
		t.Errorf("runs through the server: exit %d, %d runs\n%s", code, len(runs), out)
	}
	out, _, code = cli(t, "-C", dir, "show", "a", "--json")
	if code != 0 || !strings.Contains(out, `"rows":[{"x":1}]`) {
		t.Errorf("show through the server: exit %d\n%s", code, out)
	}
	if _, errs, code := cli(t, "-C", dir, "show", "--inline", "drop table a"); code != 2 || !strings.Contains(errs, "not allowed") {
		t.Errorf("a write through show: exit %d\n%s", code, errs)
	}
	out, _, code = cli(t, "-C", dir, "status", "--json")
	if code != 0 || !strings.Contains(out, `"server":true`) {
		t.Errorf("status through the server: exit %d\n%s", code, out)
	}
	if _, _, code := cli(t, "-C", dir, "serve", "--addr", "127.0.0.1:0"); code != 2 {
		t.Errorf("a second serve of one project exits %d, want 2", code)
	}

	// SIGTERM: a graceful stop, and the server file goes
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.wait(t); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, s.log())
	}
	if _, err := os.Stat(serverFile(dir)); !os.IsNotExist(err) {
		t.Errorf("the server file is still there after a graceful stop")
	}
	// with no server, the CLI runs in-process again
	if out, errs, code := cli(t, "-C", dir, "run", "-s", "a"); code != 0 || strings.Contains(errs, "submitted") {
		t.Errorf("run with no server: exit %d\n%s\n%s", code, out, errs)
	}
}

// hourlyScheduled is a project whose hourly schedule owes its last few hours: each
// partition spins for a while, so a process can be stopped in the middle.
func hourlyScheduled(t *testing.T, hours int) (string, time.Time) {
	t.Helper()
	start := time.Now().UTC().Truncate(time.Hour).Add(-time.Duration(hours) * time.Hour)
	dir := slowProject(t, map[string]string{
		"strata.yml": "name: slow\nwarehouse:\n  path: slow.duckdb\nvars:\n  spin: 1500000000\nschedules:\n  hourly: {select: hourly, cron: \"0 * * * *\", catchup: true}\n",
		"models/hourly.sql": fmt.Sprintf(`{{ config(materialized='partitioned', partition_by={'column': 'ts', 'granularity': 'hour'}, start='%s') }}
select {{ partition_start }} + to_minutes(i::bigint) as ts, i as v from range(3) r(i)
where (select count(*) from range({{ var('spin') }})) > 0`, start.Format("2006-01-02T15")),
	})
	return dir, start
}

// settle waits until a server has nothing running or queued.
func settle(t *testing.T, s *serveProc) {
	t.Helper()
	c := api.NewClient(s.url, "")
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		st, err := c.Status(context.Background())
		if err == nil && len(st.Running) == 0 && len(st.Queued) == 0 {
			owed := 0
			for _, sc := range st.Schedules {
				owed += sc.Owed
			}
			if owed == 0 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the server did not settle; logs:\n%s", s.log())
}

// TestServeStopsAndResumes: a server stopped mid-run — gracefully by SIGTERM, or by
// SIGKILL — finishes the work after a restart, and every table equals a clean build:
// nothing lost, nothing twice.
func TestServeStopsAndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills a real server")
	}
	t.Parallel()
	const hours = 6
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			dir, _ := hourlyScheduled(t, hours)
			s := startServe(t, dir, "STRATA_GRACE=1ms")
			deadline := time.Now().Add(2 * time.Minute)
			for !strings.Contains(s.log(), `"msg":"run finished"`) {
				if time.Now().After(deadline) {
					t.Fatalf("no run finished; logs:\n%s", s.log())
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err := s.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			_ = s.wait(t)
			s = startServe(t, dir)
			settle(t, s)
			_ = s.cmd.Process.Signal(syscall.SIGTERM) // it holds the warehouse: stop it to read
			_ = s.wait(t)
			defer func() {
				if t.Failed() {
					t.Logf("the restarted server's logs:\n%s", s.log())
				}
			}()
			if _, err := os.Stat(filepath.Join(dir, ".strata", "server.json")); !os.IsNotExist(err) {
				t.Errorf("server file left after a graceful stop")
			}
			var n int // intervals owed: the hours since the start (one more if the clock passed an hour meanwhile)
			fmt.Sscan(query(t, dir, "select count(*) from _strata.intervals"), &n)
			if n < hours || n > hours+1 {
				t.Fatalf("%d intervals in the ledger, want %d", n, hours)
			}
			if got := query(t, dir, "select count(*), count(distinct ts), count(distinct date_trunc('hour', ts)) from hourly"); got != fmt.Sprintf("%d\t%d\t%d", n*3, n*3, n) {
				t.Errorf("after the restart hourly has %q rows, distinct rows and hours; want %d, %d, %d: each hour once", got, n*3, n*3, n)
			}
			if got := query(t, dir, "select count(*) from _strata.partitions where model = 'hourly'"); got != fmt.Sprint(n) {
				t.Errorf("%s hourly partitions recorded, want %d", got, n)
			}
			if got := query(t, dir, "select state, count(*) from _strata.intervals group by all"); got != fmt.Sprintf("done\t%d", n) {
				t.Errorf("ledger %q, want all %d intervals done", got, n)
			}
			if got := query(t, dir, "select count(*) from _strata.runs where status = 'running'"); got != "0" {
				t.Errorf("%s runs left running after the restart: a killed server's run must be marked aborted", got)
			}
		})
	}
}
