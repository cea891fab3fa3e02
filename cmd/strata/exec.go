package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/web/api"
)

var execHelp = map[engine.Command]string{
	engine.CommandRun:      "Build the selected models (views, tables, incremental models)",
	engine.CommandBuild:    "Seed, build and test the selected nodes in dependency order; a failing test blocks what is downstream",
	engine.CommandTest:     "Run the tests of the selected nodes",
	engine.CommandSeed:     "Load the selected seeds from their CSV files",
	engine.CommandSnapshot: "Record the selected snapshots' new history (dbt snapshots, SCD type 2)",
}

// execCmd builds run, build, test and seed: plan a selection, run it, report.
func (a *app) execCmd(command engine.Command) *cobra.Command {
	var sel, exc []string
	var fullRefresh, preflight bool
	c := &cobra.Command{
		Use:   string(command) + " [SELECTOR...]",
		Short: execHelp[command],
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, g, err := a.load()
			if err != nil {
				return err
			}
			settleGC() // what follows the load is long
			sel := append(sel, args...)
			plan, err := engine.NewPlan(g, engine.PlanOptions{Command: command, Select: sel, Exclude: exc, FullRefresh: fullRefresh})
			if err != nil {
				return err
			}
			a.warnUnmatched(g, sel)
			if c, err := a.remote(ctx, p); err != nil {
				return err
			} else if c != nil {
				return a.remoteRun(ctx, c, api.RunRequest{Command: command, Select: sel, Exclude: exc, FullRefresh: fullRefresh,
					Check: preflight, Threads: a.threads})
			}
			// no warehouse given: the run opens it once it knows there is work to do
			res, err := a.runPlan(ctx, p, nil, plan, engine.RunOptions{Threads: a.threadsFor(p), Check: preflight})
			if err != nil {
				return err
			}
			return exitFor(res)
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
	a       *app
	total   int
	command engine.Command
	tty     bool
	bar     bool
	start   time.Time
	counts  map[engine.Status]int
}

func newProgress(a *app, total int, command engine.Command) *progress {
	tty := !a.json && isTerminal(a.stdout)
	return &progress{a: a, total: total, command: command, tty: tty, bar: tty && total > 30, start: time.Now(), counts: map[engine.Status]int{}}
}

// nothing names what an empty selection matched no one of.
var nothing = map[engine.Command]string{engine.CommandRun: "models", engine.CommandBuild: "nodes", engine.CommandTest: "tests", engine.CommandSeed: "seeds"}

// Observe prints one event; the runner calls it from one goroutine at a time.
func (p *progress) Observe(e engine.Event) {
	switch e.Kind {
	case engine.EventTaskStarted:
		p.started(engine.NewTaskJSON(e))
	case engine.EventTaskFinished:
		p.finished(engine.NewTaskJSON(e))
	case engine.EventRunFinished:
		p.summary(engine.NewRunJSON(e.Result))
	}
}

// started shows the task running, on a terminal.
func (p *progress) started(t engine.TaskJSON) {
	if p.tty && !p.bar && !p.a.json {
		fmt.Fprintf(p.a.stdout, "\r\033[K[%d/%d] running %s %s", t.Done, t.Total, t.Resource, label(t))
	}
}

// finished prints a finished task: a JSON line, a line of text, or the bar.
func (p *progress) finished(t engine.TaskJSON) {
	if p.a.json {
		_ = p.a.printJSON(t)
		return
	}
	p.counts[t.Status]++
	if p.tty {
		fmt.Fprint(p.a.stdout, "\r\033[K")
	}
	bad := t.Status.Failed() || t.Status == engine.StatusCancelled
	if !p.bar || bad {
		fmt.Fprintf(p.a.stdout, "%*d of %d %-7s %-12s %s%s\n", len(fmt.Sprint(t.Total)), t.Done, t.Total,
			statusWord(t.Status), kindWord(t), label(t), detail(t))
	}
	if p.bar {
		fmt.Fprint(p.a.stdout, p.barLine(t.Done, t.Total))
	}
}

func label(t engine.TaskJSON) string {
	if t.Partition != "" {
		return t.Node + " " + t.Partition
	}
	return t.Node
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

func kindWord(t engine.TaskJSON) string {
	if t.Resource == engine.ResourceTest {
		return "test"
	}
	return t.Materialized
}

func detail(t engine.TaskJSON) string {
	var parts []string
	if t.Resource != engine.ResourceTest && t.Status == engine.StatusSuccess && t.Materialized != "view" && t.Rows != nil {
		parts = append(parts, fmt.Sprintf("%d rows", *t.Rows))
	}
	if t.Status != engine.StatusSkipped {
		parts = append(parts, fmt.Sprintf("%.2fs", t.DurationS))
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

func (p *progress) summary(j engine.RunJSON) {
	if p.a.json {
		_ = p.a.printJSON(j)
		return
	}
	if j.Tasks == 0 {
		fmt.Fprintln(p.a.stdout, "nothing to do: the selection matches no", nothing[p.command])
		return
	}
	counts := j.Counts
	var w io.Writer = p.a.stdout
	if p.bar {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nrun %s %s in %.2fs: %d ok, %d pass, %d warn, %d error, %d fail, %d skipped",
		j.RunID, j.Status, j.DurationS,
		counts["success"], counts["pass"], counts["warn"], counts["error"], counts["fail"], counts["skipped"])
	if n := counts["waiting_upstream"]; n > 0 {
		fmt.Fprintf(w, ", %d waiting_upstream", n)
	}
	if n := counts["cancelled"] + counts["pending"]; n > 0 {
		fmt.Fprintf(w, ", %d cancelled (%d never started)", n, counts["pending"])
	}
	fmt.Fprintln(w)
	if j.Error != "" {
		fmt.Fprintln(p.a.stderr, "error:", j.Error)
	}
}
