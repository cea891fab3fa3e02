package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/openlineage"
)

// app is the state every command shares: global flags and the output streams.
type app struct {
	dir     string
	target  string
	vars    string
	threads int
	json    bool
	noCache bool // --no-partial-parse
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	stop    *shutdown // signals: nil when run in-process (tests)
	root    *cobra.Command
}

// run is the whole CLI: it parses args, runs a command and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, stop: shutdownFrom(ctx)}
	root := &cobra.Command{
		Use:           "strata",
		Short:         "SQL and YAML models → lineage graph → DuckDB",
		Long:          "strata runs a project of SQL and YAML model files (its own strata.yml, or a dbt project) on DuckDB.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs, // an unknown command is reported by RunE, as a usage error
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for \"strata\"; `strata --help` lists the commands", args[0])
			}
			return cmd.Help()
		},
	}
	a.root = root
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetContext(ctx)
	pf := root.PersistentFlags()
	pf.StringVarP(&a.dir, "project-dir", "C", ".", "the project folder")
	pf.StringVar(&a.target, "target", "", "the target (dbt profiles.yml or strata.yml targets:)")
	pf.StringVar(&a.vars, "vars", "", "variables as YAML or JSON, e.g. '{min_amount: 10}'")
	pf.IntVar(&a.threads, "threads", 0, "models run at once (default: the project's, else 4)")
	pf.BoolVar(&a.json, "json", false, "print JSON for scripts")
	pf.BoolVar(&a.noCache, "no-partial-parse", false, "load every file again, without the parse cache in .strata/ (dbt's flag)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })

	root.AddCommand(a.initCmd(), a.compileCmd(), a.lsCmd(), a.showCmd(), a.runsCmd(), a.partitionsCmd(), a.backfillCmd(), a.backfillsCmd(), a.checkCmd(), a.docsCmd(), a.lineageCmd(), a.impactCmd(), a.verifyCmd(), a.depsCmd(),
		a.serveCmd(), a.mcpCmd(), a.statusCmd(), a.schedulesCmd(), a.whyCmd())
	for _, c := range []engine.Command{engine.CommandRun, engine.CommandBuild, engine.CommandTest, engine.CommandSeed, engine.CommandSnapshot} {
		root.AddCommand(a.execCmd(c))
	}
	usageArgs(root)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	return a.report(err)
}

// usageArgs makes every command's argument check fail as a usage error (exit 2).
func usageArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				if _, ok := err.(*usageError); ok {
					return err
				}
				return &usageError{fmt.Sprintf("%s: %v", cmd.CommandPath(), err)}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}

// load reads the project and builds its graph.
func (a *app) load() (*models.Project, *lineage.Graph, error) {
	if a.threads < 0 || (a.threads == 0 && a.flagSet("threads")) {
		return nil, nil, usagef("--threads %d: give a positive number of tasks to run at once", a.threads)
	}
	opts := models.Options{Target: a.target, DeferCache: true}
	if !a.noCache {
		opts.Cache = filepath.Join(a.dir, ".strata")
	}
	if a.vars != "" {
		var vars map[string]any
		if err := yaml.Unmarshal([]byte(a.vars), &vars); err != nil {
			return nil, nil, usagef("--vars: not a YAML or JSON mapping: %v", err)
		}
		opts.Vars = vars
	}
	p, err := models.Load(a.dir, opts)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range p.Warnings {
		a.warn(w)
	}
	// the parse cache is written while the graph is built: both only read the project
	var wg sync.WaitGroup
	wg.Go(p.SaveCache)
	g, err := lineage.Build(p)
	wg.Wait()
	if err != nil {
		return nil, nil, err
	}
	return p, g, nil
}

// flagSet reports whether a global flag was given on the command line.
func (a *app) flagSet(name string) bool { return a.root.PersistentFlags().Changed(name) }

// warn prints a warning on stderr.
func (a *app) warn(msg string) { fmt.Fprintln(a.stderr, "warning:", msg) }

// threadsFor picks the thread count: the flag, the project's, or 4.
func (a *app) threadsFor(p *models.Project) int {
	switch {
	case a.threads > 0:
		return a.threads
	case p.Warehouse.Threads > 0:
		return p.Warehouse.Threads
	}
	return 4
}

// printJSON writes one JSON value on a line.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// isTerminal reports whether w is an interactive terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// selectFlags adds dbt's -s/--select and --exclude to a command.
func selectFlags(c *cobra.Command, sel, exc *[]string) {
	c.Flags().StringArrayVarP(sel, "select", "s", nil, "nodes to include (dbt selector syntax: name, +name, tag:x, path:dir, …)")
	c.Flags().StringArrayVar(exc, "exclude", nil, "nodes to leave out (same syntax)")
}

// warnUnmatched warns about selector terms that match no node.
func (a *app) warnUnmatched(g *lineage.Graph, sel []string) {
	for _, w := range g.Unmatched(sel) {
		a.warn(w)
	}
}

// runPlan runs a plan on the one runner, with what the CLI adds: progress lines (or JSON
// lines), OpenLineage events when strata.yml asks for them, and a signal that drains the
// run. It prints the summary.
func (a *app) runPlan(ctx context.Context, p *models.Project, w *engine.Warehouse, plan *engine.Plan, opts engine.RunOptions) (*engine.Result, error) {
	ol, err := openlineage.New(p)
	if err != nil {
		return nil, err
	}
	if ol != nil {
		ol.Warn = func(msg string) { a.warn("openlineage: " + msg) }
		defer ol.Close()
		opts.Observers = append(opts.Observers, ol)
	}
	opts.Observers = append(opts.Observers, newProgress(a, len(plan.Tasks), plan.Command))
	if a.stop != nil {
		opts.Drain = a.stop.drain
		a.stop.running.Store(true)
		defer a.stop.running.Store(false)
	}
	return engine.Run(ctx, w, plan, opts)
}

// exitFor is a finished run's exit code.
func exitFor(res *engine.Result) error {
	switch {
	case res.Status == "cancelled":
		return &exitError{exitCancelled}
	case res.Failed():
		return &exitError{exitFailed}
	}
	return nil
}
