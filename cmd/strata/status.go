package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/scheduler"
)

// statusCmd shows what runs, what is queued, what waits and why, what failed, what
// fires next and which models are late.
func (a *app) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show what runs, is queued, waits (and on what), failed, fires next, and which models are late",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			p, g, err := a.load()
			if err != nil {
				return err
			}
			var st *scheduler.Status
			if c, err := a.remote(ctx, p); err != nil {
				return err
			} else if c != nil {
				if st, err = c.Status(ctx); err != nil {
					return err
				}
			} else {
				w, err := a.openState(ctx, p)
				if err != nil {
					return err
				}
				if w == nil {
					st = &scheduler.Status{Now: time.Now().UTC(), Running: []*scheduler.Job{}, Queued: []*scheduler.Job{}}
					for _, name := range sortedSchedules(p.Schedules) {
						sc := p.Schedules[name]
						st.Schedules = append(st.Schedules, scheduler.ScheduleStatus{Name: name, Select: sc.Select, Cron: sc.Cron,
							Timezone: sc.Timezone, Priority: sc.Priority, Catchup: sc.Catchup, Paused: sc.Paused, Next: sc.Next(time.Now())})
					}
				} else {
					defer w.Close()
					if st, err = scheduler.Report(ctx, p, g, w, time.Now(), nil); err != nil {
						return err
					}
				}
			}
			if a.json {
				return a.printJSON(st)
			}
			printStatus(a, st)
			return nil
		},
	}
}

func sortedSchedules[T any](m map[string]T) []string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func printStatus(a *app, st *scheduler.Status) {
	w := a.stdout
	if st.Server {
		fmt.Fprintf(w, "server: running · %d running, %d queued\n", len(st.Running), len(st.Queued))
	} else {
		fmt.Fprintln(w, "server: not running (strata serve starts it); from the ledger:")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	section := func(title string, n int) bool {
		if n == 0 {
			return false
		}
		fmt.Fprintf(tw, "\n%s:\n", title)
		return true
	}
	if section("running", len(st.Running)) {
		for _, j := range st.Running {
			fmt.Fprintf(tw, "  %s\t%s\t%s\tsince %s\n", j.ID, j.Kind, strings.Join(j.Request.Select, " "), j.Started.Format(time.TimeOnly))
		}
	}
	if section("queued", len(st.Queued)) {
		for _, j := range st.Queued {
			extra := ""
			if !j.NotBefore.IsZero() {
				extra = " (retry at " + j.NotBefore.Format(time.TimeOnly) + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s%s\n", j.ID, j.Kind, j.Priority, strings.Join(j.Request.Select, " "), extra)
		}
	}
	if section("waiting", len(st.Waiting)) {
		for _, x := range st.Waiting {
			fmt.Fprintf(tw, "  %s@%s\t%s\n", x.Model, x.Partition.Format("2006-01-02T15"), x.Reason)
		}
	}
	if section("failed in the last day", len(st.Failed)) {
		for _, iv := range st.Failed {
			fmt.Fprintf(tw, "  %s\t%s\tattempts %d\t%s\n", iv.Schedule, iv.End.Format(time.RFC3339), iv.Attempts, firstOf(iv.Error))
		}
	}
	if section("schedules", len(st.Schedules)) {
		for _, s := range st.Schedules {
			state := "next " + s.Next.Format(time.RFC3339)
			if s.Paused {
				state = "paused"
			}
			if s.Owed > 0 {
				state += fmt.Sprintf(" · %d owed", s.Owed)
			}
			last := "never"
			if s.LastDone != nil {
				last = s.LastDone.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "  %s\t%s%s\t%s\tlast done %s\t%s\n", s.Name, s.Cron, tz(s.Timezone), s.Priority, last, state)
		}
	}
	if section("late", len(st.Late)) {
		for _, l := range st.Late {
			fmt.Fprintf(tw, "  %s\t%s\tlate %s\t%s\n", l.Model, strings.ToUpper(l.Level), l.Late, l.Reason)
		}
	}
	tw.Flush()
}

func tz(z string) string {
	if z == "" {
		return ""
	}
	return " (" + z + ")"
}

func firstOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// schedulesCmd lists every fire and catch-up the scheduler would do, without doing it.
func (a *app) schedulesCmd() *cobra.Command {
	var next time.Duration
	c := &cobra.Command{
		Use:   "schedules",
		Short: "List every fire and catch-up the scheduler would do over the next hours, without doing it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if next <= 0 {
				return usagef("--next %s: give a positive duration such as 24h", next)
			}
			p, g, err := a.load()
			if err != nil {
				return err
			}
			var fires []scheduler.Fire
			if c, err := a.remote(ctx, p); err != nil {
				return err
			} else if c != nil {
				if fires, err = c.Upcoming(ctx, next); err != nil {
					return err
				}
			} else {
				now := time.Now().UTC()
				var plans []scheduler.Plan
				paused := map[string]bool{}
				w, err := a.openState(ctx, p)
				if err != nil {
					return err
				}
				if w != nil {
					defer w.Close()
					if plans, paused, err = scheduler.Plans(ctx, p, g, w, now); err != nil {
						return err
					}
				} else {
					for _, name := range sortedSchedules(p.Schedules) {
						plans = append(plans, scheduler.Plan{Schedule: p.Schedules[name], Now: now})
						paused[name] = p.Schedules[name].Paused
					}
				}
				fires = scheduler.Upcoming(plans, next, paused)
			}
			if fires == nil {
				fires = []scheduler.Fire{}
			}
			if a.json {
				return a.printJSON(fires)
			}
			if len(p.Schedules) == 0 {
				fmt.Fprintln(a.stdout, "no schedules: add schedules: to strata.yml, or config(schedule=...) to a model")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "AT\tSCHEDULE\tKIND\tINTERVAL")
			for _, f := range fires {
				kind := f.Kind
				if f.Paused {
					kind += " (paused)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s → %s\n", f.At.Format(time.RFC3339), f.Schedule, kind, f.Start.Format(time.RFC3339), f.End.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	c.Flags().DurationVar(&next, "next", 24*time.Hour, "how far ahead to look")
	return c
}

// whyCmd explains why a partition is or is not built.
func (a *app) whyCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "why MODEL@PARTITION",
		Short:   "Explain why a partition is not built: what it waits on, its checks, schedules, pauses, retries",
		Example: "  strata why events_daily@2024-01-05",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, g, err := a.load()
			if err != nil {
				return err
			}
			var y *scheduler.Why
			if c, err := a.remote(ctx, p); err != nil {
				return err
			} else if c != nil {
				if y, err = c.Why(ctx, args[0]); err != nil {
					return err
				}
			} else {
				if _, _, err := scheduler.ParsePartitionKey(g, args[0]); err != nil {
					return err
				}
				w, err := a.openState(ctx, p)
				if err != nil {
					return err
				}
				if w == nil {
					return usagef("nothing has been built in this project yet: every partition is missing")
				}
				defer w.Close()
				if y, err = scheduler.Explain(ctx, p, g, w, args[0], nil); err != nil {
					return err
				}
			}
			if a.json {
				return a.printJSON(y)
			}
			fmt.Fprintf(a.stdout, "%s@%s: %s\n", y.Model, y.Partition, y.Status)
			for _, r := range y.Reasons {
				fmt.Fprintln(a.stdout, "  -", r)
			}
			if y.Advice != "" {
				fmt.Fprintln(a.stdout, y.Advice)
			}
			return nil
		},
	}
}
