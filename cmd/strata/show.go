package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/models"
)

// showCmd runs a model's compiled SQL (or an inline query) and prints the first rows.
func (a *app) showCmd() *cobra.Command {
	var limit int
	var inline string
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
					return &usageError{fmt.Sprintf("unknown model %q%s", args[0], models.DidYouMean(args[0], p.ModelNames()))}
				}
				if m.Kind == models.KindSeed {
					q = "SELECT * FROM " + p.Relation(m)
				} else if q, err = p.Compile(m, models.CompileOptions{}); err != nil {
					return err
				}
			default:
				return &usageError{"show needs a model name or --inline SQL (not both)"}
			}
			if _, err := os.Stat(p.Warehouse.Path); p.Warehouse.Path != ":memory:" && err != nil {
				return fmt.Errorf("%s does not exist yet: run `strata build` first", p.Warehouse.Path)
			}
			w, err := a.openWarehouse(cmd.Context(), p)
			if err != nil {
				return err
			}
			defer w.Close()
			cols, rows, err := w.Query(cmd.Context(), fmt.Sprintf("SELECT * FROM (\n%s\n) AS strata_show LIMIT %d", q, limit))
			if err != nil {
				return err
			}
			if a.json {
				out := make([]orderedRow, 0, len(rows))
				for _, r := range rows {
					row := make(orderedRow, len(cols))
					for i, c := range cols {
						row[i] = field{c, jsonValue(r[i])}
					}
					out = append(out, row)
				}
				return a.printJSON(out)
			}
			printTable(a.stdout, cols, rows)
			return nil
		},
	}
	c.Flags().IntVar(&limit, "limit", 5, "rows to show")
	c.Flags().StringVar(&inline, "inline", "", "a query to run instead of a model (ref() and source() work)")
	return c
}

func jsonValue(v any) any {
	switch v := v.(type) {
	case time.Time:
		if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 && v.Nanosecond() == 0 {
			return v.Format("2006-01-02")
		}
		return v.Format(time.RFC3339Nano)
	case []byte:
		return string(v)
	}
	return v
}

func cell(v any) string {
	switch v := jsonValue(v).(type) {
	case nil:
		return "NULL"
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// printTable prints rows as aligned columns.
func printTable(w io.Writer, cols []string, rows [][]any) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	seps := make([]string, len(cols))
	for i, c := range cols {
		seps[i] = strings.Repeat("-", max(len(c), 3))
	}
	fmt.Fprintln(tw, strings.Join(seps, "\t"))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, v := range r {
			cells[i] = cell(v)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
}

type field struct {
	name  string
	value any
}

// orderedRow is a result row that keeps its columns in the query's order in JSON.
type orderedRow []field

func (r orderedRow) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range r {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
