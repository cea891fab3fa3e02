package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// compileCmd prints the SQL that selected models (or tests) will run.
func (a *app) compileCmd() *cobra.Command {
	var sel, exc []string
	c := &cobra.Command{
		Use:   "compile [SELECTOR...]",
		Short: "Print the SQL the selected models will run",
		RunE: func(cmd *cobra.Command, args []string) error {
			p, g, err := a.load()
			if err != nil {
				return err
			}
			all := append(sel, args...)
			ids, err := g.Select(all, exc)
			if err != nil {
				return err
			}
			a.warnUnmatched(g, all)
			type compiled struct {
				Name     string `json:"name"`
				Resource string `json:"resource"`
				Path     string `json:"path"`
				Relation string `json:"relation,omitempty"`
				SQL      string `json:"sql"`
			}
			var out []compiled
			for _, id := range g.Sorted(ids) {
				n := g.Node(id)
				var sql string
				switch {
				case n.Type == lineage.TypeModel && n.Model.Kind == models.KindPython && !explicitlyNamed(all, n.Name):
					// a Python model is refused when named; in a wider selection it is said once
					fmt.Fprintf(a.stderr, "warning: %s: %s is a Python model: strata cannot compile or build it\n", n.Path, n.Name)
					continue
				case n.Type == lineage.TypeModel || n.Type == lineage.TypeSnapshot:
					sql, err = a.compileLive(cmd.Context(), p, n.Model)
				case n.Type == lineage.TypeTest && (len(all) == 0 || ids[id]):
					if len(all) > 0 && !explicitlyNamed(all, n.Name) {
						continue
					}
					sql, err = p.CompileTest(n.Test)
				default:
					continue
				}
				var pe *models.PythonModelError
				if errors.As(err, &pe) {
					return err // placed already
				}
				if err != nil {
					return fmt.Errorf("%s: %w", n.Path, err)
				}
				c := compiled{Name: n.Name, Resource: string(n.Type), Path: n.Path, SQL: sql}
				if n.Model != nil {
					c.Relation = p.Relation(n.Model)
				}
				out = append(out, c)
			}
			if a.json {
				return a.printJSON(out)
			}
			for i, c := range out {
				if len(out) > 1 {
					if i > 0 {
						fmt.Fprintln(a.stdout)
					}
					fmt.Fprintf(a.stdout, "-- %s (%s)\n", c.Name, c.Path)
				}
				fmt.Fprintln(a.stdout, c.SQL)
			}
			return nil
		},
	}
	selectFlags(c, &sel, &exc)
	return c
}

func explicitlyNamed(sel []string, name string) bool {
	for _, s := range sel {
		if s == name {
			return true
		}
	}
	return false
}

// compileLive compiles a model; one whose Jinja reads the warehouse (run_query,
// dbt_utils.star, …) renders against the warehouse when it is there and free, as dbt's
// compile does, else as at load.
func (a *app) compileLive(ctx context.Context, p *models.Project, m *models.Model) (string, error) {
	if !p.Introspects(m) {
		return p.Compile(m, models.CompileOptions{})
	}
	w, err := engine.OpenExisting(ctx, p)
	if err != nil {
		return p.Compile(m, models.CompileOptions{})
	}
	defer w.Close()
	return w.Compile(ctx, p, m)
}
