package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// checkCmd validates every model's SQL in a shadow catalog, touching no data.
func (a *app) checkCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Validate every model's SQL against a shadow catalog (no data is touched)",
		Long: `Create every source, seed and model as an empty table or view in a scratch in-memory
DuckDB, in dependency order. Unknown tables, unknown columns, type mismatches and syntax
errors are reported as models/x.sql:LINE:COL; tables read without ref() or source() are
named. Exit code 2 when anything is wrong.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, g, err := a.load()
			if err != nil {
				return err
			}
			cat, err := a.analyze(cmd.Context(), p, g)
			if err != nil {
				return err
			}
			return a.reportCheck(p, g, cat)
		},
	}
}

// analyze builds the shadow catalog, reading undeclared source schemas from the warehouse
// file when it exists and is free.
func (a *app) analyze(ctx context.Context, p *models.Project, g *lineage.Graph) (*lineage.Catalog, error) {
	return lineage.Analyze(ctx, p, g, lineage.AnalyzeOptions{Warehouse: p.Warehouse.Path})
}

// reportCheck prints a shadow catalog's findings; it returns an error (exit 2) when the
// project has errors.
func (a *app) reportCheck(p *models.Project, g *lineage.Graph, cat *lineage.Catalog) error {
	nModels, nCols := 0, 0
	type undeclared struct {
		Model string `json:"model"`
		Path  string `json:"path"`
		Reads string `json:"reads"`
	}
	var und []undeclared
	for _, n := range g.Nodes() {
		if n.Type != lineage.TypeModel {
			continue
		}
		nModels++
		if nc := cat.Nodes[n.ID]; nc != nil {
			nCols += len(nc.Columns)
			for _, u := range nc.Undeclared {
				und = append(und, undeclared{Model: n.Name, Path: n.Path, Reads: u})
			}
		}
	}
	if a.json {
		errs := make([]map[string]any, 0, len(cat.Errors))
		for _, e := range cat.Errors {
			errs = append(errs, map[string]any{"file": e.File, "line": e.Line, "col": e.Col, "message": e.Msg})
		}
		if und == nil {
			und = []undeclared{}
		}
		warnings := cat.Warnings
		if warnings == nil {
			warnings = []string{}
		}
		if err := a.printJSON(map[string]any{"ok": len(cat.Errors) == 0, "models": nModels, "columns": nCols,
			"errors": errs, "warnings": warnings, "undeclared": und}); err != nil {
			return err
		}
	} else {
		for _, w := range cat.Warnings {
			fmt.Fprintln(a.stderr, "warning:", w)
		}
		for _, u := range und {
			fmt.Fprintf(a.stderr, "warning: %s: model %s reads %s without ref() or source()\n", u.Path, u.Model, u.Reads)
		}
		if len(cat.Errors) == 0 {
			fmt.Fprintf(a.stdout, "checked %d models (%d columns): no errors\n", nModels, nCols)
		}
	}
	if len(cat.Errors) > 0 {
		if a.json {
			return &exitError{exitProject}
		}
		return cat.Errors
	}
	return nil
}
