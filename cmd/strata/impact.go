package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/lineage"
)

// impactCmd prints what changing or dropping a column would affect.
func (a *app) impactCmd() *cobra.Command {
	var format string
	var limit int
	c := &cobra.Command{
		Use:   "impact MODEL.COLUMN",
		Short: "Show what changing or dropping a column would affect: columns, models, tests, exposures",
		Example: `  strata impact stg_orders.amount
  strata impact shop.payments.amount --json
  strata impact stg_orders.amount --format mermaid`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := lineage.ParseFormat(format)
			if err != nil {
				return usagef("%v", err)
			}
			if a.json {
				f = lineage.FormatJSON
			}
			p, g, err := a.load()
			if err != nil {
				return err
			}
			ref, err := lineage.ParseColumnRef(g, args[0])
			if err != nil {
				return err
			}
			cg, err := a.columnGraph(cmd, p, g)
			if err != nil {
				return err
			}
			col, err := cg.Column(ref)
			if err != nil {
				return err
			}
			ref.Column = col.Name
			switch f {
			case lineage.FormatJSON:
				return a.printJSON(lineage.Impact(g, cg, ref))
			case lineage.FormatText:
				printImpact(a, g, lineage.Impact(g, cg, ref), col.Type)
				return nil
			}
			// a diagram of what is affected: every column downstream of this one
			return lineage.ExportColumns(a.stdout, f, cg.Downstream(ref, -1, limit), g)
		},
	}
	c.Flags().StringVarP(&format, "format", "f", "text", "text, json, or a diagram of the affected columns: dot or mermaid")
	c.Flags().IntVar(&limit, "limit", 500, "with dot or mermaid: at most N columns; the output says when it cut")
	return c
}

func printImpact(a *app, g *lineage.Graph, rep lineage.ImpactReport, typ string) {
	name := func(c lineage.ColumnRef) string { return strings.TrimPrefix(c.Node, "source:") + "." + c.Column }
	head := name(rep.Column)
	if typ != "" {
		head += " (" + typ + ")"
	}
	fmt.Fprintf(a.stdout, "%s: %s, %s, %s, %s downstream\n", head,
		plural(len(rep.Columns), "column"), plural(len(rep.Models), "model"), plural(len(rep.Tests), "test"), plural(len(rep.Exposures), "exposure"))
	if len(rep.Columns) == 0 && len(rep.Tests) == 0 && len(rep.Exposures) == 0 {
		fmt.Fprintf(a.stdout, "nothing reads %s\n", name(rep.Column))
		return
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	if len(rep.Columns) > 0 {
		fmt.Fprintln(tw, "\ncolumns:")
		for _, c := range rep.Columns {
			how := "reads it directly"
			if !c.Direct && len(c.Via) > 0 {
				how = "through " + name(c.Via[len(c.Via)-1])
			}
			kinds := make([]string, len(c.Kinds))
			for i, k := range c.Kinds {
				kinds[i] = string(k)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", name(c.ColumnRef), c.Type, strings.Join(kinds, " → "), how)
		}
	}
	if len(rep.Models) > 0 {
		fmt.Fprintln(tw, "\nmodels:")
		for _, m := range rep.Models {
			fmt.Fprintf(tw, "  %s\t%s\n", m.Name, m.Path)
		}
	}
	if len(rep.Tests) > 0 {
		fmt.Fprintln(tw, "\ntests:")
		for _, t := range rep.Tests {
			why := "reads " + strings.Join(readsAffected(g, t, rep), ", ")
			switch t.Reason {
			case "column":
				why = "tests " + name(lineage.ColumnRef{Node: t.Model, Column: t.Column})
			case "model":
				why = "tests all of " + strings.TrimPrefix(t.Model, "source:")
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", t.Name, why, t.Path)
		}
	}
	if len(rep.Exposures) > 0 {
		fmt.Fprintln(tw, "\nexposures:")
		for _, e := range rep.Exposures {
			fmt.Fprintf(tw, "  %s\t%s\n", e.Name, e.Path)
		}
	}
	tw.Flush()
}

// readsAffected lists the affected models a test reads.
func readsAffected(g *lineage.Graph, t lineage.ImpactTest, rep lineage.ImpactReport) []string {
	affected := map[string]bool{rep.Column.Node: true}
	for _, m := range rep.Models {
		affected[m.ID] = true
	}
	var out []string
	for _, p := range g.Parents(t.ID) {
		if affected[p] {
			out = append(out, g.Node(p).Name)
		}
	}
	return out
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
