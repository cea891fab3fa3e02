package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/engine"
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
	var fullRefresh bool
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
			pr := newProgress(a, len(plan.Tasks))
			res, err := engine.Run(cmd.Context(), w, plan, engine.RunOptions{Threads: a.threadsFor(p), OnEvent: pr.event})
			if err != nil {
				return err
			}
			pr.summary(res)
			if res.Failed() {
				return &exitError{exitFailed}
			}
			return nil
		},
	}
	selectFlags(c, &sel, &exc)
	if command == engine.CommandRun || command == engine.CommandBuild || command == engine.CommandSeed {
		c.Flags().BoolVar(&fullRefresh, "full-refresh", false, "rebuild incremental models from scratch")
	}
	return c
}

// progress prints task events: a live line on a terminal, plain lines otherwise, JSON lines
// with --json.
type progress struct {
	a     *app
	total int
	tty   bool
	mu    sync.Mutex
	start time.Time
	n     int
}

func newProgress(a *app, total int) *progress {
	return &progress{a: a, total: total, tty: !a.json && isTerminal(a.stdout), start: time.Now()}
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
		if p.tty {
			fmt.Fprintf(p.a.stdout, "\r\033[K[%d/%d] running %s %s", e.Done, e.Total, t.Resource, t.Name)
		}
		return
	}
	if p.tty {
		fmt.Fprint(p.a.stdout, "\r\033[K")
	}
	p.n++
	fmt.Fprintf(p.a.stdout, "%*d of %d %-7s %-12s %s%s\n", len(fmt.Sprint(e.Total)), e.Done, e.Total,
		statusWord(t.Status), kindWord(t), t.Name, detail(t))
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
		if t.Status == engine.StatusError {
			msg = t.Path + ": " + msg
		}
		s += "\n      " + strings.ReplaceAll(msg, "\n", "\n      ")
	}
	return s
}

func taskJSON(t *engine.Task, done, total int) map[string]any {
	m := map[string]any{
		"event": "task", "node": t.Name, "resource": t.Resource, "status": t.Status,
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
	return m
}

func (p *progress) summary(res *engine.Result) {
	counts := map[string]int{}
	for _, s := range []engine.Status{engine.StatusSuccess, engine.StatusPass, engine.StatusWarn, engine.StatusError, engine.StatusFail, engine.StatusSkipped} {
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
	fmt.Fprintf(w, "\nrun %s %s in %.2fs: %d ok, %d pass, %d warn, %d error, %d fail, %d skipped\n",
		res.RunID, res.Status, res.Ended.Sub(res.Started).Seconds(),
		counts["success"], counts["pass"], counts["warn"], counts["error"], counts["fail"], counts["skipped"])
	if res.Err != nil {
		fmt.Fprintln(p.a.stderr, "error:", res.Err)
	}
}
