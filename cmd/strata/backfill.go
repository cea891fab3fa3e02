package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/web/api"
)

// backfillCmd runs the selected partitioned models over a date range, durably.
func (a *app) backfillCmd() *cobra.Command {
	var sel, exc []string
	var from, to, reprocess, resume string
	var dryRun, force bool
	var parallel, retries, maxTasks int
	c := &cobra.Command{
		Use:   "backfill [SELECTOR...] --from DATE --to DATE",
		Short: "Build the selected models' partitions over a date range; resumable after any crash",
		Long: `Build every partition of the selected models whose start lies between --from and --to
(both included, as you read them: --to 2024-03-31 includes that whole day), in dependency
and time order. Partitions already built from the current model are skipped unless
--force or --reprocess says otherwise. The backfill is recorded when it starts and every
task as it changes: after a crash, run the same command again, or --resume ID.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			sel = append(sel, args...)
			if resume == "" && (from == "" || to == "") {
				return usagef("backfill needs --from and --to (e.g. --from 2024-01-01 --to 2024-03-31), or --resume ID")
			}
			if resume == "" && len(sel) == 0 {
				return usagef("backfill needs a selector: the models to backfill (e.g. events_daily+)")
			}
			if cmd.Flags().Changed("parallel") && parallel <= 0 {
				return usagef("--parallel %d: give a positive number of partitions to build at once", parallel)
			}
			if maxTasks < 0 || retries < 0 {
				return usagef("--max-tasks and --retries take a number ≥ 0")
			}
			opts := engine.BackfillOptions{Select: sel, Exclude: exc, Force: force, Reprocess: reprocess, MaxTasks: maxTasks}
			if resume == "" {
				f, t, end, err := engine.ParseRange(from, to)
				if err != nil {
					return flagError(err)
				}
				opts.From, opts.To, opts.ToEnd = f, t, end
			}
			p, g, err := a.load()
			if err != nil {
				return err
			}
			settleGC() // what follows the load is long
			if c, err := a.remote(ctx, p); err != nil {
				return err
			} else if c != nil {
				req := api.RunRequest{Command: "backfill", Select: sel, Exclude: exc, From: from, To: to, Force: force, Reprocess: reprocess,
					Resume: resume, MaxTasks: maxTasks, Retries: retries, Threads: parallel, DryRun: dryRun}
				if dryRun {
					_, plan, err := c.Backfill(ctx, req)
					if err != nil {
						return flagError(err)
					}
					return a.printBackfillPlan(*plan)
				}
				return flagError(a.remoteRun(ctx, c, req))
			}
			w, err := engine.Open(ctx, p)
			if err != nil {
				return err
			}
			defer w.Close()
			plan, err := engine.PlanBackfill(ctx, w, g, opts, resume)
			if err != nil {
				return flagError(err)
			}
			bf := plan.Backfill
			if dryRun {
				return a.printBackfillPlan(api.NewBackfillPlan(plan))
			}
			if !a.json {
				verb := "starting"
				if bf.Resumed {
					verb = "resuming"
				}
				fmt.Fprintf(a.stdout, "%s backfill %s: %d tasks to run, %d skipped\n", verb, bf.ID, len(plan.Tasks), len(plan.Skipped))
			}
			threads := parallel
			if threads == 0 {
				threads = a.threadsFor(p)
			}
			res, err := a.runPlan(ctx, p, w, plan, engine.RunOptions{Threads: threads, Retries: retries})
			if err != nil {
				return err
			}
			if !a.json {
				fmt.Fprintf(a.stdout, "backfill %s %s\n", bf.ID, bf.Status)
				if bf.Status != "success" {
					fmt.Fprintf(a.stdout, "rerun the same command, or `strata backfill --resume %s`, to finish it\n", bf.ID)
				}
			}
			return exitFor(res)
		},
	}
	selectFlags(c, &sel, &exc)
	f := c.Flags()
	f.StringVar(&from, "from", "", "first partition (2024-01-01, 2024-01-01T03, 2024-01)")
	f.StringVar(&to, "to", "", "last partition, included")
	f.BoolVar(&dryRun, "dry-run", false, "print the plan (what runs, what is skipped and why) and stop")
	f.IntVar(&parallel, "parallel", 0, "partitions built at once (default: --threads)")
	f.BoolVar(&force, "force", false, "rebuild partitions that are already done")
	f.StringVar(&reprocess, "reprocess", "", "run only partitions that are failed, missing or stale (or all)")
	f.StringVar(&resume, "resume", "", "continue the backfill with this ID")
	f.IntVar(&retries, "retries", 2, "extra attempts after a transient error (SQL errors never retry)")
	f.IntVar(&maxTasks, "max-tasks", engine.DefaultMaxTasks, "refuse a backfill that would plan more tasks than this")
	return c
}

func (a *app) printBackfillPlan(plan api.BackfillPlan) error {
	if a.json {
		return a.printJSON(plan)
	}
	fmt.Fprintf(a.stdout, "backfill %s (dry run): %d tasks to run, %d skipped\n", plan.BackfillID, plan.Run, plan.Skip)
	n := 0
	for _, t := range plan.Tasks {
		label := t.Node
		if t.Partition != "" {
			label += " " + t.Partition
		}
		if t.Action == "run" {
			n++
			fmt.Fprintf(a.stdout, "%5d  run   %s\n", n, label)
		} else {
			fmt.Fprintf(a.stdout, "       skip  %s: %s\n", label, t.Reason)
		}
	}
	return nil
}

// flagError names the flag an engine input error is about, as the user typed it.
func flagError(err error) error {
	var ie *engine.InputError
	if errors.As(err, &ie) {
		switch ie.Field {
		case "from", "to", "reprocess", "resume":
			return usagef("--%s: %s", ie.Field, ie.Msg)
		}
	}
	var ae *api.Error
	if errors.As(err, &ae) {
		switch ae.Field {
		case "from", "to", "reprocess", "resume":
			return usagef("--%s: %s", ae.Field, ae.Message)
		}
	}
	return err
}
