package engine

import (
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// unitCatalog is the shadow catalog the run's unit tests take their inputs' column types
// from, built once per run and only when a unit test runs.
func (r *runner) unitCatalog(ctx context.Context) (*lineage.Catalog, error) {
	r.unitOnce.Do(func() {
		r.unitCat, r.unitErr = lineage.Analyze(ctx, r.plan.Project, r.plan.Graph, lineage.AnalyzeOptions{SourceColumns: r.w.TableColumns})
	})
	return r.unitCat, r.unitErr
}

type unitColumn struct{ name, typ string }

// runUnitTest runs a dbt unit test on a scratch in-memory DuckDB: each given input is a
// table of its rows (columns not given are NULL, typed as the input has them), the
// model's SQL runs with its relations replaced by them, and its rows are compared with
// the expected ones (only the columns the expectation names). No warehouse data is read
// or written.
func (r *runner) runUnitTest(ctx context.Context, state *duckdb.Conn, t *Task) error {
	u := t.node.Unit
	p := r.plan.Project
	m := p.Models[u.Model]
	cat, err := r.unitCatalog(ctx)
	if err != nil {
		return err
	}
	colsOf := func(id string) []unitColumn {
		var out []unitColumn
		if nc := cat.Nodes[id]; nc != nil {
			for _, c := range nc.Columns {
				out = append(out, unitColumn{c.Name, c.Type})
			}
		}
		return out
	}
	db, err := duckdb.Open(ctx, duckdb.Memory, p.Dir)
	if err != nil {
		return err
	}
	defer db.Close()
	c, err := duckdb.Connect(ctx, db)
	if err != nil {
		return err
	}
	defer c.Close()
	fail := func(format string, args ...any) error {
		return &SQLError{Node: t.Name, Path: u.Pos.File, Line: u.Pos.Line, Col: u.Pos.Col, Msg: fmt.Sprintf(format, args...)}
	}
	subst := map[string]string{}
	for i, g := range u.Given {
		id := g.Input
		switch {
		case g.Input == "this":
			id = m.Name
		case strings.Contains(g.Input, "."):
			id = lineage.SourceID(g.Input)
		}
		q, err := unitRowsSQL(g, colsOf(id))
		if err != nil {
			return fail("given %s: %v", g.Input, err)
		}
		name := fmt.Sprintf("given_%d", i+1)
		if _, err := c.Exec(ctx, "CREATE TABLE "+name+" AS "+q); err != nil {
			return fail("given %s: %s", g.Input, cleanMessage(err))
		}
		subst[g.Input] = name
	}
	q, err := p.CompileUnit(m, u.Overrides, subst)
	if err != nil {
		return fail("compiling %s: %v", m.Name, err)
	}
	if _, err := c.Exec(ctx, "CREATE TABLE actual AS\n"+q); err != nil {
		return fail("%s on the given rows: %s (every relation it reads needs a given input)", m.Name, cleanMessage(err))
	}
	actual, err := columns(ctx, c, "", "main", "actual")
	if err != nil {
		return err
	}
	var want []unitColumn
	for _, name := range expectColumns(u.Expect) {
		i := slices.IndexFunc(actual, func(c column) bool { return strings.EqualFold(c.name, name) })
		if i < 0 {
			return fail("expected column %q is not in %s's output (it has %s)", name, m.Name, columnNames(actual))
		}
		want = append(want, unitColumn{actual[i].name, actual[i].typ})
	}
	eq, err := unitRowsSQL(u.Expect, want)
	if err != nil {
		return fail("expect: %v", err)
	}
	if _, err := c.Exec(ctx, "CREATE TABLE expected AS "+eq); err != nil {
		return fail("expect: %s", cleanMessage(err))
	}
	if u.Expect.Format == "sql" { // the columns its select names, compared by name
		got, err := columns(ctx, c, "", "main", "expected")
		if err != nil {
			return err
		}
		for _, g := range got {
			if !slices.ContainsFunc(actual, func(c column) bool { return strings.EqualFold(c.name, g.name) }) {
				return fail("expected column %q is not in %s's output (it has %s)", g.name, m.Name, columnNames(actual))
			}
			want = append(want, unitColumn{g.name, g.typ})
		}
	}
	var cols []string
	for _, w := range want {
		cols = append(cols, models.Quote(w.name))
	}
	list := strings.Join(cols, ", ")
	diff, err := c.Query(ctx, "SELECT 'missing' AS diff, * FROM (SELECT "+list+" FROM expected EXCEPT ALL SELECT "+list+" FROM actual) "+
		"UNION ALL SELECT 'unexpected', * FROM (SELECT "+list+" FROM actual EXCEPT ALL SELECT "+list+" FROM expected) ORDER BY ALL", 21)
	if err != nil {
		return fail("comparing: %s", cleanMessage(err))
	}
	t.Ended = time.Now().UTC()
	t.Rows = int64(len(diff.Rows))
	t.Status = StatusPass
	if len(diff.Rows) > 0 {
		t.Status = StatusFail
		t.Message = unitDiff(diff)
	}
	return recordTask(ctx, state, r.res.RunID, t)
}

func columnNames(cs []column) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.name)
	}
	return strings.Join(out, ", ")
}

// unitDiff says which rows the model got wrong: the expected rows it did not return (-)
// and the rows it returned that were not expected (+).
func unitDiff(res *duckdb.Result) string {
	var b strings.Builder
	b.WriteString("actual differs from expected:\n  " + strings.Join(res.Columns[1:], " | "))
	for i, row := range res.Rows {
		if i == 20 {
			b.WriteString("\n  …")
			break
		}
		sign := "-"
		if row[0] == "unexpected" {
			sign = "+"
		}
		var cells []string
		for _, v := range row[1:] {
			cells = append(cells, Cell(v))
		}
		b.WriteString("\n" + sign + " " + strings.Join(cells, " | "))
	}
	return b.String()
}

// expectColumns are the columns the expectation names, in their order.
func expectColumns(e *models.UnitRows) []string {
	switch e.Format {
	case "csv":
		rec, err := csv.NewReader(strings.NewReader(strings.TrimSpace(e.Text))).Read()
		if err != nil {
			return nil
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		return rec
	case "sql":
		return nil
	}
	var out []string
	for _, row := range e.Dicts {
		keys := make([]string, 0, len(row))
		for k := range row {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// unitRowsSQL is a select of the rows, with every column of cols (typed as it is there)
// and the given values cast to those types; with no known columns, the given ones as written.
func unitRowsSQL(g *models.UnitRows, cols []unitColumn) (string, error) {
	if g.Format == "sql" {
		return "SELECT * FROM (\n" + g.Text + "\n) AS given", nil
	}
	rows := g.Dicts
	if g.Format == "csv" {
		recs, err := csv.NewReader(strings.NewReader(strings.TrimSpace(g.Text))).ReadAll()
		if err != nil {
			return "", fmt.Errorf("csv rows: %v", err)
		}
		if len(recs) == 0 {
			return "", fmt.Errorf("csv rows need a header line")
		}
		for _, rec := range recs[1:] {
			row := map[string]any{}
			for i, v := range rec {
				if i < len(recs[0]) {
					if v = strings.TrimSpace(v); v != "" {
						row[strings.TrimSpace(recs[0][i])] = v
					} else {
						row[strings.TrimSpace(recs[0][i])] = nil
					}
				}
			}
			rows = append(rows, row)
		}
		if len(cols) == 0 {
			for _, h := range recs[0] {
				cols = append(cols, unitColumn{name: strings.TrimSpace(h)})
			}
		}
	}
	if len(cols) == 0 {
		for _, row := range rows {
			for k := range row {
				if !slices.ContainsFunc(cols, func(c unitColumn) bool { return c.name == k }) {
					cols = append(cols, unitColumn{name: k})
				}
			}
		}
		sort.Slice(cols, func(i, j int) bool { return cols[i].name < cols[j].name })
	}
	for _, row := range rows {
		for k := range row {
			if !slices.ContainsFunc(cols, func(c unitColumn) bool { return strings.EqualFold(c.name, k) }) {
				return "", fmt.Errorf("column %q is not a column of the input (it has %s)", k, unitNames(cols))
			}
		}
	}
	value := func(row map[string]any, c unitColumn) string {
		var v any
		found := false
		for k, x := range row {
			if strings.EqualFold(k, c.name) {
				v, found = x, true
			}
		}
		lit := "NULL"
		switch x := v.(type) {
		case nil:
		case bool:
			lit = fmt.Sprint(x)
		case time.Time: // YAML reads unquoted dates and timestamps as times
			f := "2006-01-02 15:04:05.999999"
			if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
				f = "2006-01-02"
			}
			lit = duckdb.Literal(x.UTC().Format(f))
		case float64:
			lit = duckdb.Literal(strconv.FormatFloat(x, 'f', -1, 64))
		default:
			lit = duckdb.Literal(fmt.Sprint(x))
		}
		if !found {
			lit = "NULL"
		}
		if c.typ != "" {
			return "CAST(" + lit + " AS " + c.typ + ") AS " + models.Quote(c.name)
		}
		if _, isNum := v.(int); isNum {
			lit = fmt.Sprint(v)
		}
		if f, isNum := v.(float64); isNum {
			lit = strconv.FormatFloat(f, 'f', -1, 64)
		}
		return lit + " AS " + models.Quote(c.name)
	}
	if len(rows) == 0 {
		var sel []string
		for _, c := range cols {
			sel = append(sel, value(nil, c))
		}
		return "SELECT " + strings.Join(sel, ", ") + " WHERE false", nil
	}
	var parts []string
	for _, row := range rows {
		var sel []string
		for _, c := range cols {
			sel = append(sel, value(row, c))
		}
		parts = append(parts, "SELECT "+strings.Join(sel, ", "))
	}
	return strings.Join(parts, "\nUNION ALL ") + "", nil
}

func unitNames(cols []unitColumn) string {
	var out []string
	for _, c := range cols {
		out = append(out, c.name)
	}
	return strings.Join(out, ", ")
}
