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
		Long: `Create every source, seed and model as an empty table in a scratch in-memory DuckDB,
in dependency order (a model nothing reads is only bound). Unknown tables, unknown
columns, type mismatches and syntax errors are reported as models/x.sql:LINE:COL; tables
read without ref() or source() are named. Exit code 2 when anything is wrong.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, g, err := a.load()
			if err != nil {
				return err
			}
			settleGC() // what follows the load is long
			if c, err := a.remote(cmd.Context(), p); err != nil {
				return err
			} else if c != nil {
				r, err := c.Check(cmd.Context())
				if err != nil {
					return err
				}
				return a.reportCheck(*r, nil)
			}
			cat, err := a.analyze(cmd.Context(), p, g)
			if err != nil {
				return err
			}
			return a.reportCheck(lineage.Report(g, cat), cat.Errors)
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
func (a *app) reportCheck(r lineage.CheckReport, errs models.Errors) error {
	if a.json {
		if err := a.printJSON(r); err != nil {
			return err
		}
	} else {
		for _, w := range r.Warnings {
			a.warn(w)
		}
		for _, u := range r.Undeclared {
			a.warn(fmt.Sprintf("%s: model %s reads %s without ref() or source()", u.Path, u.Model, u.Reads))
		}
		for _, nc := range r.NotChecked {
			fmt.Fprintf(a.stdout, "not checked: %s (%s): %s\n", nc.Model, nc.Path, nc.Reason)
		}
		if r.OK {
			fmt.Fprintf(a.stdout, "checked %d models (%d columns): no errors\n", r.Models-len(r.NotChecked), r.Columns)
		}
	}
	if !r.OK {
		if a.json {
			return &exitError{exitProject}
		}
		if errs == nil {
			for _, e := range r.Errors {
				errs = append(errs, &models.Error{File: e.File, Line: e.Line, Col: e.Col, Msg: e.Message})
			}
		}
		return errs
	}
	return nil
}
