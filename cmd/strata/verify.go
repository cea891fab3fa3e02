package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/engine"
)

// verifyCmd compares a CDC model's typed table with the source's own snapshot and, with
// --repair, re-applies the snapshot's rows for the keys that differ.
func (a *app) verifyCmd() *cobra.Command {
	var repair bool
	c := &cobra.Command{
		Use:   "verify MODEL",
		Short: "Compare a CDC model with its source snapshot; --repair fixes the keys that differ",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, _, err := a.load()
			if err != nil {
				return err
			}
			var res *engine.VerifyResult
			if c, err := a.remote(ctx, p); err != nil {
				return err
			} else if c != nil {
				if res, err = c.Verify(ctx, args[0], repair); err != nil {
					return err
				}
			} else {
				w, err := engine.Open(ctx, p)
				if err != nil {
					return err
				}
				defer w.Close()
				if res, err = w.Verify(ctx, p, args[0], repair); err != nil {
					return err
				}
			}
			if a.json {
				if err := a.printJSON(res); err != nil {
					return err
				}
			} else {
				a.printVerify(res)
			}
			if res.Total() > 0 && !res.Repaired {
				return &exitError{code: exitFailed}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&repair, "repair", false, "re-apply the snapshot's rows for exactly the keys that differ (recorded in _strata.cdc_repairs)")
	return c
}

func (a *app) printVerify(res *engine.VerifyResult) {
	fmt.Fprintf(a.stdout, "%s vs %s: %d rows vs %d in the source, %d of %d key ranges differ\n",
		res.Model, res.Source, res.TargetRows, res.SourceRows, res.Mismatched, res.Buckets)
	fmt.Fprintf(a.stdout, "%d mismatches: %d missing, %d extra, %d different\n", res.Total(), res.Missing, res.Extra, res.Different)
	for _, m := range res.Mismatches {
		keys := make([]string, 0, len(m.Key))
		for k, v := range m.Key {
			keys = append(keys, fmt.Sprintf("%s=%v", k, v))
		}
		sort.Strings(keys)
		line := "  " + strings.Join(keys, ", ") + "  " + m.Kind
		if len(m.Columns) > 0 {
			line += ": " + strings.Join(m.Columns, ", ")
		}
		fmt.Fprintln(a.stdout, line)
	}
	if int64(len(res.Mismatches)) < res.Total() {
		fmt.Fprintf(a.stdout, "  … and %d more (--json lists the first %d)\n", res.Total()-int64(len(res.Mismatches)), len(res.Mismatches))
	}
	if res.Repaired {
		fmt.Fprintf(a.stdout, "repaired %d keys as %s at position %s; later events still win\n", res.Total(), res.RepairID, res.RepairedPos)
	} else if res.Total() > 0 {
		fmt.Fprintf(a.stdout, "run `strata verify %s --repair` to re-apply the snapshot's rows for these keys\n", res.Model)
	}
}
