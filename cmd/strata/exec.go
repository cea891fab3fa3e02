package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
)

var execHelp = map[engine.Command]string{
	engine.CommandRun:   "Build the selected models (views, tables, incremental models)",
	engine.CommandBuild: "Seed, build and test the selected nodes in dependency order; a failing test blocks what is downstream",
	engine.CommandTest:  "Run the tests of the selected nodes",
	engine.CommandSeed:  "Load the selected seeds from their CSV files",
}

// execCmd builds run, build, test and seed: plan a selection, run it, report.
func (a *app) execCmd(command engine.Command) *cobra.Command {
	var sel, exc []string
	var fullRefresh, preflight bool
	c := &cobra.Command{
		Use:   string(command) + " [SELECTOR...]",
		Short: execHelp[command],
		RunE: func(cmd *cobra.Command, args []string) error {
			p, g, err := a.load()
			if err != nil {
				return err
			}
			plan, err := engine.NewPlan(g, engine.PlanOptions{Command: command, Select: append(sel, args...), Exclude: exc, FullRefresh: fullRefresh})
			if err != nil {
				return err
			}
			a.warnUnmatched(g, append(sel, args...))
			var cat *lineage.Catalog
			if preflight {
				if cat, err = a.analyze(cmd.Context(), p, g); err != nil {
					return err
				}
				if len(cat.Errors) > 0 {
					return cat.Errors
				}
			}
			if len(plan.Tasks) == 0 {
				if a.json {
					return a.printJSON(map[string]any{"event": "done", "status": "success", "tasks": 0})
				}
				fmt.Fprintln(a.stdout, "nothing to do: the selection matches no", map[engine.Command]string{
					engine.CommandRun: "models", engine.CommandBuild: "nodes", engine.CommandTest: "tests", engine.CommandSeed: "seeds"}[command])
				return nil
			}
			w, err := a.openWarehouse(cmd.Context(), p)
			if err != nil {
				return err
			}
			defer w.Close()
			res, err := a.runPlan(cmd.Context(), p, g, cat, w, plan, engine.RunOptions{Threads: a.threadsFor(p)})
			if err != nil {
				return err
			}
			if res.Failed() {
				return &exitError{exitFailed}
			}
			return nil
		},
	}
	selectFlags(c, &sel, &exc)
	c.Flags().BoolVar(&preflight, "check", false, "validate every model's SQL in a shadow catalog first (as `strata check`); run nothing if it fails")
	if command == engine.CommandRun || command == engine.CommandBuild || command == engine.CommandSeed {
		c.Flags().BoolVar(&fullRefresh, "full-refresh", false, "rebuild incremental models from scratch")
	}
	return c
}

// progress prints task events: with --json one JSON line per finished task; on a terminal
// a line per task, or for long runs a bar with done/failed/waiting counts and an ETA
// (failures still get their own line); otherwise plain lines.
type progress struct {
	a      *app
	total  int
	tty    bool
	bar    bool
	mu     sync.Mutex
	start  time.Time
	counts map[engine.Status]int
}

func newProgress(a *app, total int) *progress {
	tty := !a.json && isTerminal(a.stdout)
	return &progress{a: a, total: total, tty: tty, bar: tty && total > 30, start: time.Now(), counts: map[engine.Status]int{}}
}

func (p *progress) event(e engine.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := e.Task
	if p.a.json {
		if t.Status == engine.StatusRunning {
			return
		}
		_ = p.a.printJSON(taskJSON(t, e.Done, e.Total))
		return
	}
	if t.Status == engine.StatusRunning {
		if p.tty && !p.bar {
			fmt.Fprintf(p.a.stdout, "\r\033[K[%d/%d] running %s %s", e.Done, e.Total, t.Resource, t.Label())
		}
		return
	}
	p.counts[t.Status]++
	if p.tty {
		fmt.Fprint(p.a.stdout, "\r\033[K")
	}
	bad := t.Status == engine.StatusError || t.Status == engine.StatusFail || t.Status == engine.StatusWaiting
	if !p.bar || bad {
		fmt.Fprintf(p.a.stdout, "%*d of %d %-7s %-12s %s%s\n", len(fmt.Sprint(e.Total)), e.Done, e.Total,
			statusWord(t.Status), kindWord(t), t.Label(), detail(t))
	}
	if p.bar {
		fmt.Fprint(p.a.stdout, p.barLine(e.Done, e.Total))
	}
}

// barLine draws [#####.....] done/total with counts and the time left at the current pace.
func (p *progress) barLine(done, total int) string {
	const width = 30
	filled := width * done / max(total, 1)
	eta := "?"
	if done > 0 {
		left := time.Duration(float64(time.Since(p.start)) / float64(done) * float64(total-done))
		eta = left.Round(time.Second).String()
	}
	return fmt.Sprintf("[%s%s] %d/%d · %d ok · %d failed · %d waiting · %d skipped · ETA %s",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total,
		p.counts[engine.StatusSuccess]+p.counts[engine.StatusPass]+p.counts[engine.StatusWarn],
		p.counts[engine.StatusError]+p.counts[engine.StatusFail], p.counts[engine.StatusWaiting], p.counts[engine.StatusSkipped], eta)
}

func statusWord(s engine.Status) string {
	switch s {
	case engine.StatusSuccess:
		return "OK"
	case engine.StatusPass:
		return "PASS"
	case engine.StatusFail:
		return "FAIL"
	case engine.StatusWarn:
		return "WARN"
	case engine.StatusError:
		return "ERROR"
	case engine.StatusSkipped:
		return "SKIP"
	case engine.StatusWaiting:
		return "WAIT"
	}
	return strings.ToUpper(string(s))
}

func kindWord(t *engine.Task) string {
	if t.Resource == engine.ResourceTest {
		return "test"
	}
	return t.Materialized
}

func detail(t *engine.Task) string {
	var parts []string
	if t.Resource != engine.ResourceTest && t.Status == engine.StatusSuccess && t.Materialized != "view" {
		parts = append(parts, fmt.Sprintf("%d rows", t.Rows))
	}
	if t.Status != engine.StatusSkipped {
		parts = append(parts, fmt.Sprintf("%.2fs", t.Duration().Seconds()))
	}
	s := ""
	if len(parts) > 0 {
		s = " [" + strings.Join(parts, ", ") + "]"
	}
	if t.Message != "" {
		msg := t.Message
		if t.Status == engine.StatusError && !strings.HasPrefix(msg, t.Path) {
			msg = t.Path + ": " + msg
		}
		s += "\n      " + strings.ReplaceAll(msg, "\n", "\n      ")
	}
	return s
}

func taskJSON(t *engine.Task, done, total int) map[string]any {
	m := map[string]any{
		"event": "task", "node": t.Name, "resource": t.Resource, "status": t.Status, "attempts": t.Attempts,
		"done": done, "total": total, "duration_s": t.Duration().Seconds(),
	}
	if t.Materialized != "" {
		m["materialized"] = t.Materialized
	}
	if t.Relation != "" {
		m["relation"] = t.Relation
	}
	if t.Resource != engine.ResourceTest || t.Status != engine.StatusSkipped {
		m["rows"] = t.Rows
	}
	if t.Message != "" {
		m["message"] = t.Message
	}
	if t.Window != nil {
		m["partition"] = partName(t)
	}
	return m
}

func (p *progress) summary(res *engine.Result) {
	counts := map[string]int{}
	for _, s := range []engine.Status{engine.StatusSuccess, engine.StatusPass, engine.StatusWarn, engine.StatusError, engine.StatusFail, engine.StatusSkipped, engine.StatusWaiting} {
		counts[string(s)] = res.Count(s)
	}
	if p.a.json {
		out := map[string]any{"event": "done", "run_id": res.RunID, "status": res.Status,
			"tasks": len(res.Tasks), "counts": counts, "duration_s": res.Ended.Sub(res.Started).Seconds()}
		if res.Err != nil {
			out["error"] = res.Err.Error()
		}
		_ = p.a.printJSON(out)
		return
	}
	var w io.Writer = p.a.stdout
	if p.bar {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nrun %s %s in %.2fs: %d ok, %d pass, %d warn, %d error, %d fail, %d skipped",
		res.RunID, res.Status, res.Ended.Sub(res.Started).Seconds(),
		counts["success"], counts["pass"], counts["warn"], counts["error"], counts["fail"], counts["skipped"])
	if n := counts["waiting_upstream"]; n > 0 {
		fmt.Fprintf(w, ", %d waiting_upstream", n)
	}
	fmt.Fprintln(w)
	if res.Err != nil {
		fmt.Fprintln(p.a.stderr, "error:", res.Err)
	}
}
