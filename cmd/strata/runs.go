package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/web/api"
)

// runsCmd lists run history, or one run's tasks.
func (a *app) runsCmd() *cobra.Command {
	var limit int
	c := &cobra.Command{
		Use:   "runs [RUN_ID]",
		Short: "List past runs, or the tasks of one run",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, _, err := a.load()
			if err != nil {
				return err
			}
			var runs []engine.RunRecord
			var detail *api.RunDetail
			if c, err := a.remote(ctx, p); err != nil {
				return err
			} else if c != nil {
				if len(args) == 1 {
					detail, err = c.Run(ctx, args[0])
				} else {
					runs, err = c.Runs(ctx, limit)
				}
				if err != nil {
					return err
				}
			} else {
				w, err := a.openState(ctx, p)
				if err != nil {
					return err
				}
				if w == nil {
					if len(args) == 1 {
						return &engine.InputError{Field: "run", Msg: fmt.Sprintf("no run %q: nothing has run in this project yet", args[0])}
					}
					return a.emptyState("runs", []engine.RunRecord{})
				}
				defer w.Close()
				if len(args) == 1 {
					r, err := w.FindRun(ctx, args[0])
					if err != nil {
						return err
					}
					tasks, err := w.RunTasks(ctx, r.RunID)
					if err != nil {
						return err
					}
					detail = &api.RunDetail{Run: r, Tasks: tasks}
				} else if runs, err = w.Runs(ctx, limit); err != nil {
					return err
				}
			}
			if detail != nil {
				return a.printRun(detail)
			}
			if a.json {
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

func (a *app) printRun(d *api.RunDetail) error {
	if a.json {
		return a.printJSON(d)
	}
	if d.Run == nil {
		fmt.Fprintf(a.stdout, "run %s: %s in the server's queue (%s priority)\n", d.Job.ID, d.Job.State, d.Job.Priority)
		return nil
	}
	r := d.Run
	what := r.Command
	if r.Selector != "" {
		what += " " + r.Selector
	}
	fmt.Fprintf(a.stdout, "run %s: %s, %s\n\n", r.RunID, what, r.Status)
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tRESOURCE\tSTATUS\tROWS\tSECONDS\tMESSAGE")
	for _, t := range d.Tasks {
		secs := 0.0
		if t.Started != nil && t.Ended != nil {
			secs = t.Ended.Sub(*t.Started).Seconds()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.2f\t%s\n", t.Node, t.Resource, t.Status, t.Rows, secs, models.FirstLine(t.Message))
	}
	return tw.Flush()
}

// openState opens the warehouse of a command that only reads state; nil, without
// creating anything, when nothing has been built yet.
func (a *app) openState(ctx context.Context, p *models.Project) (*engine.Warehouse, error) {
	w, err := engine.OpenExisting(ctx, p)
	var nw *engine.NoWarehouseError
	if errors.As(err, &nw) {
		return nil, nil
	}
	return w, err
}

// emptyState prints what a state command prints when nothing has been built.
func (a *app) emptyState(what string, empty any) error {
	if a.json {
		return a.printJSON(empty)
	}
	fmt.Fprintf(a.stdout, "no %s yet: nothing has been built in this project\n", what)
	return nil
}
