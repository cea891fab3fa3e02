package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
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
			ids, err := g.Select(append(sel, args...), exc)
			if err != nil {
				return err
			}
			var rangeFrom, rangeEnd time.Time
			if from != "" || to != "" {
				if from == "" || to == "" {
					return &usageError{"give both --from and --to, or neither"}
				}
				f, _, end, err := engine.ParseRange(from, to)
				if err != nil {
					return flagError(err)
				}
				rangeFrom, rangeEnd = f, end
			}
			state := engine.NewPartitionState()
			w, err := a.openState(ctx, p)
			if err != nil {
				return err
			}
			if w != nil {
				defer w.Close()
				if state, err = w.LoadPartitionState(ctx); err != nil {
					return err
				}
			}
			plan, err := engine.NewPlan(g, engine.PlanOptions{Command: engine.CommandRun})
			if err != nil {
				return err
			}
			fps := plan.Fingerprints()
			out := []engine.PartitionSummary{}
			for _, id := range g.Sorted(ids) {
				if n := g.Node(id); n.Type == lineage.TypeModel && n.Model.Partition() != nil {
					out = append(out, state.Summarize(g, fps, id, rangeFrom, rangeEnd, time.Now(), all))
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
				total := s.Counts["done"] + s.Counts["missing"] + s.Counts["stale"] + s.Counts["failed"]
				fmt.Fprintf(a.stdout, "%s (%s, %s → %s): %d partitions: %d done, %d missing, %d stale, %d failed\n",
					s.Model, s.Granularity, s.From, s.To, total, s.Counts["done"], s.Counts["missing"], s.Counts["stale"], s.Counts["failed"])
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
			id := ""
			if len(args) == 1 {
				id = args[0]
			}
			w, err := a.openState(ctx, p)
			if err != nil {
				return err
			}
			if w == nil {
				if id != "" {
					return &engine.InputError{Field: "resume", Msg: fmt.Sprintf("no backfill %q: nothing has run in this project yet", id)}
				}
				return a.emptyState("backfills", []engine.BackfillRecord{})
			}
			defer w.Close()
			list, err := w.Backfills(ctx, id)
			if err != nil {
				return err
			}
			if id != "" {
				if len(list) != 1 {
					return &engine.InputError{Field: "resume", Msg: fmt.Sprintf("no single backfill %q (%d match); `strata backfills` lists them", id, len(list))}
				}
				tasks, err := w.BackfillTasks(ctx, list[0].ID)
				if err != nil {
					return err
				}
				if a.json {
					return a.printJSON(map[string]any{"backfill": list[0], "tasks": tasks})
				}
				b := list[0]
				fmt.Fprintf(a.stdout, "backfill %s: %s from %s to %s: %s (%d/%d done, %d failed, %d waiting, %d runs)\n\n",
					b.ID, b.Selector, b.From.Format("2006-01-02 15:04"), b.To.Format("2006-01-02 15:04"), b.Status, b.Done, b.Total, b.Failed, b.Waiting, b.Runs)
				tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "NODE\tPARTITION\tSTATUS\tATTEMPTS\tMESSAGE")
				for _, t := range tasks {
					part := ""
					if t.Partition != nil {
						part = t.Partition.Format("2006-01-02 15:04")
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", t.Node, part, t.Status, t.Attempts, models.FirstLine(t.Message))
				}
				return tw.Flush()
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
