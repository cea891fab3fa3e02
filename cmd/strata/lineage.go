package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// lineageCmd prints what a model or column reads and what reads it.
func (a *app) lineageCmd() *cobra.Command {
	var up, down, limit int
	var format string
	var withColumns, simplify bool
	c := &cobra.Command{
		Use:   "lineage NODE[.COLUMN]",
		Short: "Show what a model or column reads and what reads it",
		Long: `Show the lineage of a model, seed, source table (source.table) or exposure, or of one
column (orders.amount, source.table.column). Both directions by default; --upstream N or
--downstream N picks one and how many generations (-1: all).`,
		Example: `  strata lineage orders
  strata lineage orders --upstream 2 --format mermaid
  strata lineage orders --simplify --format dot
  strata lineage orders.amount --downstream -1 --format dot | dot -Tsvg > amount.svg`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := lineage.ParseFormat(format)
			if err != nil {
				return &usageError{err.Error()}
			}
			if a.json {
				f = lineage.FormatJSON
			}
			upSet, downSet := cmd.Flags().Changed("upstream"), cmd.Flags().Changed("downstream")
			if !upSet && !downSet {
				up, down = -1, -1
			}
			p, g, err := a.load()
			if err != nil {
				return err
			}
			ref, err := lineage.ParseRef(g, args[0])
			if err != nil {
				return &usageError{err.Error()}
			}
			// one flag alone asks for that side only; none or both, for both
			wantUp, wantDown := !downSet || upSet, !upSet || downSet
			if ref.Column == "" {
				res := g.Around(ref.Node, wantUp, wantDown, up, down, limit)
				if simplify {
					if res, err = res.Simplify(); err != nil {
						return err
					}
				}
				var cg *lineage.ColumnGraph
				if withColumns && f == lineage.FormatJSON {
					if cg, err = a.columnGraph(cmd, p, g); err != nil {
						return err
					}
				}
				return lineage.Export(a.stdout, f, res, cg)
			}
			cg, err := a.columnGraph(cmd, p, g)
			if err != nil {
				return err
			}
			col, err := cg.Column(ref)
			if err != nil {
				return &usageError{err.Error()}
			}
			ref.Column = col.Name // as the catalog spells it
			return lineage.ExportColumns(a.stdout, f, cg.Around(ref, wantUp, wantDown, up, down, limit), g)
		},
	}
	c.Flags().IntVar(&up, "upstream", -1, "show what it reads, N generations up (-1: all)")
	c.Flags().IntVar(&down, "downstream", -1, "show what reads it, N generations down (-1: all)")
	c.Flags().IntVar(&limit, "limit", 200, "at most N nodes (or columns) each way; the output says when it cut")
	c.Flags().StringVarP(&format, "format", "f", "text", "text, dot, mermaid or json (docs/lineage-json.md)")
	c.Flags().BoolVar(&simplify, "simplify", false, "leave out the edges other paths already imply (a model's lineage: a dense diagram reads better)")
	c.Flags().BoolVar(&withColumns, "columns", false, "with --format json: list each node's columns (runs the column analysis)")
	return c
}

// columnGraph runs the shadow catalog's column analysis. Problems it finds in models
// (an unknown column, say) are printed as warnings: lineage around them is coarser, not
// missing.
func (a *app) columnGraph(cmd *cobra.Command, p *models.Project, g *lineage.Graph) (*lineage.ColumnGraph, error) {
	opts := lineage.AnalyzeOptions{}
	if wh := p.Warehouse.Path; wh != "" && wh != ":memory:" {
		if _, err := os.Stat(wh); err == nil {
			opts.Warehouse = wh
		}
	}
	cat, err := lineage.Analyze(cmd.Context(), p, g, opts)
	if err != nil {
		return nil, fmt.Errorf("column lineage: %w", err)
	}
	for _, w := range cat.Warnings {
		fmt.Fprintln(a.stderr, "warning:", w)
	}
	for _, e := range cat.Errors {
		fmt.Fprintln(a.stderr, "warning:", e.Error())
	}
	return lineage.NewColumnGraph(cat.Nodes), nil
}
