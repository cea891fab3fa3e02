package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/web/api"
)

// showCmd runs a model's compiled SQL (or an inline query) and prints the first rows.
func (a *app) showCmd() *cobra.Command {
	var limit int
	var inline string
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "show [MODEL]",
		Short: "Run a model's SQL (or --inline SQL) and print the first rows",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, _, err := a.load()
			if err != nil {
				return err
			}
			var q string
			switch {
			case inline != "" && len(args) == 0:
				q, err = p.CompileInline(inline)
				if err != nil {
					return err
				}
			case len(args) == 1 && inline == "":
				m, ok := p.Models[args[0]]
				if !ok {
					return usagef("unknown model %q%s", args[0], models.DidYouMean(args[0], p.ModelNames()))
				}
				if m.Kind == models.KindSeed {
					q = "SELECT * FROM " + p.Relation(m)
				} else if q, err = a.compileLive(cmd.Context(), p, m); err != nil {
					return err
				}
			default:
				return usagef("show needs a model name or --inline SQL (not both)")
			}
			var res *engine.QueryResult
			if c, err := a.remote(cmd.Context(), p); err != nil {
				return err
			} else if c != nil {
				if res, err = c.Query(cmd.Context(), api.QueryRequest{SQL: q, Limit: limit, TimeoutMS: int(timeout.Milliseconds())}); err != nil {
					return err
				}
			} else {
				w, err := engine.OpenExisting(cmd.Context(), p)
				if err != nil {
					return err
				}
				defer w.Close()
				if res, err = w.ReadQuery(cmd.Context(), q, engine.QueryOptions{Limit: limit, Timeout: timeout}); err != nil {
					return err
				}
			}
			if a.json {
				return a.printJSON(res)
			}
			printTable(a.stdout, res)
			return nil
		},
	}
	c.Flags().IntVar(&limit, "limit", 5, "rows to show")
	c.Flags().DurationVar(&timeout, "timeout", 0, "stop the query after this long (e.g. 30s); no limit when 0")
	c.Flags().StringVar(&inline, "inline", "", "a query to run instead of a model (ref() and source() work)")
	return c
}

// printTable prints a query's rows as aligned columns.
func printTable(w io.Writer, res *engine.QueryResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	names := make([]string, len(res.Columns))
	seps := make([]string, len(res.Columns))
	for i, c := range res.Columns {
		names[i] = c.Name
		seps[i] = strings.Repeat("-", max(len(c.Name), 3))
	}
	fmt.Fprintln(tw, strings.Join(names, "\t"))
	fmt.Fprintln(tw, strings.Join(seps, "\t"))
	for _, r := range res.Rows {
		cells := make([]string, len(r.Values))
		for i, v := range r.Values {
			cells[i] = engine.Cell(v)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
	if res.Truncated {
		fmt.Fprintf(w, "(more rows: showing the first %d; --limit N shows more)\n", len(res.Rows))
	}
}
