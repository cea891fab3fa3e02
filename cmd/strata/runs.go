package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// runsCmd lists run history, or one run's tasks.
func (a *app) runsCmd() *cobra.Command {
	var limit int
	c := &cobra.Command{
		Use:   "runs [RUN_ID]",
		Short: "List past runs, or the tasks of one run",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, _, err := a.load()
			if err != nil {
				return err
			}
			w, err := a.openWarehouse(cmd.Context(), p)
			if err != nil {
				return err
			}
			defer w.Close()
			ctx := cmd.Context()
			if len(args) == 1 {
				r, err := w.FindRun(ctx, args[0])
				if err != nil {
					return &usageError{err.Error()}
				}
				tasks, err := w.RunTasks(ctx, r.RunID)
				if err != nil {
					return err
				}
				if a.json {
					return a.printJSON(map[string]any{"run": r, "tasks": tasks})
				}
				what := r.Command
				if r.Selector != "" {
					what += " " + r.Selector
				}
				fmt.Fprintf(a.stdout, "run %s: %s, %s\n\n", r.RunID, what, r.Status)
				tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "NODE\tRESOURCE\tSTATUS\tROWS\tSECONDS\tMESSAGE")
				for _, t := range tasks {
					secs := 0.0
					if t.Started != nil && t.Ended != nil {
						secs = t.Ended.Sub(*t.Started).Seconds()
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.2f\t%s\n", t.Node, t.Resource, t.Status, t.Rows, secs, firstLine(t.Message))
				}
				return tw.Flush()
			}
			runs, err := w.Runs(ctx, limit)
			if err != nil {
				return err
			}
			if a.json {
				if runs == nil {
					return a.printJSON([]any{})
				}
				return a.printJSON(runs)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tCOMMAND\tSTATUS\tSTARTED\tSECONDS\tOK\tERROR\tSKIPPED")
			for _, r := range runs {
				secs := 0.0
				if r.Ended != nil {
					secs = r.Ended.Sub(r.Started).Seconds()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f\t%d\t%d\t%d\n", r.RunID, r.Command, r.Status, r.Started.Format("2006-01-02 15:04:05"), secs, r.OK, r.Errors, r.Skipped)
			}
			return tw.Flush()
		},
	}
	c.Flags().IntVar(&limit, "limit", 20, "runs to list")
	return c
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
