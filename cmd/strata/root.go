package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1 // a model or test failed
	exitProject = 2 // bad project, usage or selector
)

// usageError is a bad command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// exitError carries an exit code out of a command whose output is already printed.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// app is the state every command shares: global flags and the output streams.
type app struct {
	dir     string
	target  string
	vars    string
	threads int
	json    bool
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
}

// run is the whole CLI: it parses args, runs a command and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "strata",
		Short:         "SQL and YAML models → lineage graph → DuckDB",
		Long:          "strata runs a project of SQL and YAML model files (its own strata.yml, or a dbt project) on DuckDB.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
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
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })

	root.AddCommand(a.initCmd(), a.compileCmd(), a.lsCmd(), a.showCmd(), a.runsCmd(), a.partitionsCmd(), a.backfillCmd(), a.backfillsCmd(), a.checkCmd(), a.docsCmd(), a.lineageCmd(), a.impactCmd())
	for _, c := range []engine.Command{engine.CommandRun, engine.CommandBuild, engine.CommandTest, engine.CommandSeed} {
		root.AddCommand(a.execCmd(c))
	}
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return a.report(err)
}

// report prints an error and returns its exit code.
func (a *app) report(err error) int {
	var merrs models.Errors
	switch {
	case errors.As(err, &merrs):
		for _, e := range merrs {
			fmt.Fprintln(a.stderr, "error:", e.Error())
		}
		if len(merrs) > 1 {
			fmt.Fprintf(a.stderr, "%d errors\n", len(merrs))
		}
		return exitProject
	}
	fmt.Fprintln(a.stderr, "error:", err)
	var ue *usageError
	var ce *lineage.CycleError
	var se *lineage.SelectorError
	var le *engine.LockedError
	if errors.As(err, &ue) || errors.As(err, &ce) || errors.As(err, &se) || errors.As(err, &le) ||
		errors.Is(err, models.ErrNoProject) || strings.HasPrefix(err.Error(), "unknown command") ||
		strings.Contains(err.Error(), "accepts ") || strings.Contains(err.Error(), "requires ") {
		return exitProject
	}
	return exitFailed
}

// load reads the project and builds its graph.
func (a *app) load() (*models.Project, *lineage.Graph, error) {
	opts := models.Options{Target: a.target}
	if a.vars != "" {
		var vars map[string]any
		if err := yaml.Unmarshal([]byte(a.vars), &vars); err != nil {
			return nil, nil, &usageError{fmt.Sprintf("--vars: not a YAML or JSON mapping: %v", err)}
		}
		opts.Vars = vars
	}
	p, err := models.Load(a.dir, opts)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range p.Warnings {
		fmt.Fprintln(a.stderr, "warning:", w)
	}
	g, err := lineage.Build(p)
	if err != nil {
		return nil, nil, err
	}
	return p, g, nil
}

// openWarehouse opens the project's DuckDB file.
func (a *app) openWarehouse(ctx context.Context, p *models.Project) (*engine.Warehouse, error) {
	return engine.Open(ctx, p)
}

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
		fmt.Fprintln(a.stderr, "warning:", w)
	}
}

// runPlan runs a plan with progress output and, when strata.yml asks for it, OpenLineage
// events, then prints the summary. cat is the shadow catalog if one was already built.
func (a *app) runPlan(ctx context.Context, p *models.Project, g *lineage.Graph, cat *lineage.Catalog, w *engine.Warehouse, plan *engine.Plan, opts engine.RunOptions) (*engine.Result, error) {
	ol, err := a.openLineage(ctx, p, g, cat)
	if err != nil {
		return nil, err
	}
	pr := newProgress(a, len(plan.Tasks))
	opts.OnEvent = func(e engine.Event) {
		pr.event(e)
		ol.OnEvent(e)
	}
	res, err := engine.Run(ctx, w, plan, opts)
	if cerr := ol.Close(); cerr != nil {
		fmt.Fprintln(a.stderr, "warning: openlineage:", cerr)
	}
	if err != nil {
		return nil, err
	}
	pr.summary(res)
	return res, nil
}

// openLineage returns the project's OpenLineage emitter, or nil when strata.yml sets no
// openlineage: file or url. Column lineage for its facets comes from the shadow catalog.
func (a *app) openLineage(ctx context.Context, p *models.Project, g *lineage.Graph, cat *lineage.Catalog) (*engine.OpenLineage, error) {
	if p.OpenLineage.File == "" && p.OpenLineage.URL == "" {
		return nil, nil
	}
	var cols map[string]*lineage.NodeColumns
	if cat == nil {
		var err error
		if cat, err = a.analyze(ctx, p, g); err != nil {
			fmt.Fprintln(a.stderr, "warning: openlineage: no column lineage:", err)
		}
	}
	if cat != nil {
		cols = cat.Nodes
	}
	ol, err := engine.NewOpenLineage(p, cols)
	if err != nil || ol == nil {
		return nil, err
	}
	ol.Warn = func(msg string) { fmt.Fprintln(a.stderr, "warning: openlineage:", msg) }
	return ol, nil
}
