package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/web/api"
)

// partitionsCmd shows which partitions of the selected models exist, are missing, stale or
// failed.
func (a *app) partitionsCmd() *cobra.Command {
	var sel, exc []string
	var from, to string
	var all bool
	c := &cobra.Command{
		Use:   "partitions [SELECTOR...]",
		Short: "Show the partitions of partitioned models: done, missing, stale, failed",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, g, err := a.load()
			if err != nil {
				return err
			}
			var out []engine.PartitionSummary
			if c, err := a.remote(ctx, p); err != nil {
				return err
			} else if c != nil {
				if out, err = c.Partitions(ctx, append(sel, args...), exc, from, to, all); err != nil {
					return flagError(err)
				}
			} else {
				w, err := a.openState(ctx, p)
				if err != nil {
					return err
				}
				if w != nil {
					defer w.Close()
				}
				if out, err = engine.Partitions(ctx, g, w, append(sel, args...), exc, from, to, all, time.Now()); err != nil {
					return flagError(err)
				}
			}
			if a.json {
				return a.printJSON(out)
			}
			if len(out) == 0 {
				fmt.Fprintln(a.stdout, "no partitioned models in the selection")
				return nil
			}
			for i, s := range out {
				if i > 0 {
					fmt.Fprintln(a.stdout)
				}
				total := s.Counts["done"] + s.Counts["missing"] + s.Counts["stale"] + s.Counts["failed"] + s.Counts["waiting"]
				fmt.Fprintf(a.stdout, "%s (%s, %s → %s): %d partitions: %d done, %d missing, %d stale, %d failed, %d waiting\n",
					s.Model, s.Granularity, s.From, s.To, total, s.Counts["done"], s.Counts["missing"], s.Counts["stale"], s.Counts["failed"], s.Counts["waiting"])
				if len(s.Partitions) == 0 {
					continue
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "  PARTITION\tSTATUS\tROWS\tBUILT\tREASON")
				for _, pi := range s.Partitions {
					built := ""
					if pi.BuiltAt != nil {
						built = pi.BuiltAt.Format("2006-01-02 15:04:05")
					}
					fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", pi.Name, pi.Status, pi.Rows, built, pi.Reason)
				}
				tw.Flush()
			}
			return nil
		},
	}
	selectFlags(c, &sel, &exc)
	c.Flags().StringVar(&from, "from", "", "first partition to show (default: the model's start)")
	c.Flags().StringVar(&to, "to", "", "last partition to show (default: the latest complete one)")
	c.Flags().BoolVar(&all, "all", false, "list done partitions too")
	return c
}

// backfillsCmd lists backfills, or shows one with its tasks.
func (a *app) backfillsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "backfills [ID]",
		Short: "List backfills, or show one with its tasks",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, _, err := a.load()
			if err != nil {
				return err
			}
			var list []engine.BackfillRecord
			var detail *api.BackfillDetail
			if c, err := a.remote(ctx, p); err != nil {
				return err
			} else if c != nil {
				if len(args) == 1 {
					detail, err = c.BackfillDetail(ctx, args[0])
				} else {
					list, err = c.Backfills(ctx)
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
						return &engine.InputError{Field: "resume", Msg: fmt.Sprintf("no backfill %q: nothing has run in this project yet", args[0])}
					}
					return a.emptyState("backfills", []engine.BackfillRecord{})
				}
				defer w.Close()
				if len(args) == 1 {
					if detail, err = backfillDetail(ctx, w, args[0]); err != nil {
						return err
					}
				} else if list, err = w.Backfills(ctx, ""); err != nil {
					return err
				}
			}
			if detail != nil {
				return a.printBackfill(detail)
			}
			if a.json {
				return a.printJSON(list)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "BACKFILL\tSELECTOR\tFROM\tTO\tSTATUS\tDONE\tFAILED\tWAITING\tRUNS")
			for _, b := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%d\t%d\t%d\n", b.ID, b.Selector, b.From.Format("2006-01-02"), b.To.Format("2006-01-02"), b.Status, b.Done, b.Total, b.Failed, b.Waiting, b.Runs)
			}
			return tw.Flush()
		},
	}
}

// backfillDetail reads one backfill, by ID or unique prefix, with its tasks.
func backfillDetail(ctx context.Context, w *engine.Warehouse, id string) (*api.BackfillDetail, error) {
	list, err := w.Backfills(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(list) != 1 {
		return nil, &engine.InputError{Field: "resume", Msg: fmt.Sprintf("no single backfill %q (%d match); `strata backfills` lists them", id, len(list))}
	}
	tasks, err := w.BackfillTasks(ctx, list[0].ID)
	if err != nil {
		return nil, err
	}
	return &api.BackfillDetail{Backfill: list[0], Tasks: tasks}, nil
}

func (a *app) printBackfill(d *api.BackfillDetail) error {
	if a.json {
		return a.printJSON(d)
	}
	b := d.Backfill
	fmt.Fprintf(a.stdout, "backfill %s: %s from %s to %s: %s (%d/%d done, %d failed, %d waiting, %d runs)\n\n",
		b.ID, b.Selector, b.From.Format("2006-01-02 15:04"), b.To.Format("2006-01-02 15:04"), b.Status, b.Done, b.Total, b.Failed, b.Waiting, b.Runs)
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tPARTITION\tSTATUS\tATTEMPTS\tMESSAGE")
	for _, t := range d.Tasks {
		part := ""
		if t.Partition != nil {
			part = t.Partition.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", t.Node, part, t.Status, t.Attempts, models.FirstLine(t.Message))
	}
	return tw.Flush()
}
