package engine

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/models"
)

// build materializes a model or seed and records the task in the same transaction.
func (r *runner) build(ctx context.Context, c *duckdb.Conn, t *Task) error {
	p := r.plan.Project
	m := t.node.Model
	schema, ident := p.Schema(m), m.Identifier()
	rel := models.Quote(schema) + "." + models.Quote(ident)
	existing := r.w.kind(schema, ident)
	var q, head string // the statement being run, for placing its errors in the file
	fail := func(err error) error { return r.sqlError(t, q, head, err) }

	kind := "table"
	err := r.inTask(ctx, c, t, fail, func() (int64, error) {
		return r.materialize(ctx, c, t, rel, existing, &q, &head, &kind)
	})
	if err == nil {
		r.w.setKind(schema, ident, kind)
	}
	return err
}

// materialize runs a model's hooks and statements inside tx and returns the rows it
// wrote; q and head say what ran last, for placing an error; kind is what it built.
func (r *runner) materialize(ctx context.Context, c *duckdb.Conn, t *Task, rel, existing string, q, head, kind *string) (int64, error) {
	p := r.plan.Project
	m := t.node.Model
	fail := func(err error) (int64, error) { return 0, r.sqlError(t, *q, *head, err) }
	var err error
	for _, h := range m.Config.PreHook {
		hook, err := p.RenderHook(m, h)
		if err != nil {
			return 0, err
		}
		if _, err := c.Exec(ctx, hook); err != nil {
			return 0, r.hookError(t, "pre-hook", err)
		}
	}
	var rows int64
	switch m.Kind {
	case models.KindSeed:
		if err := checkCSV(p, m); err != nil {
			return 0, err
		}
		rows, err = r.replaceTable(ctx, c, rel, existing, p.SeedSQL(m))
		if err != nil {
			return 0, r.seedError(t, err)
		}
	case models.KindView:
		*kind = "view"
		if existing == "table" {
			if _, err = c.Exec(ctx, "DROP TABLE "+rel); err != nil {
				return fail(err)
			}
		}
		if *q, err = p.Compile(m, models.CompileOptions{Live: liveConn(ctx, c), Flags: r.flags()}); err == nil {
			*head = "CREATE OR REPLACE VIEW " + rel + " AS\n"
			_, err = c.Exec(ctx, *head+*q)
		}
	case models.KindTable:
		if *q, err = p.Compile(m, models.CompileOptions{Live: liveConn(ctx, c), Flags: r.flags()}); err == nil {
			*head = "CREATE OR REPLACE TABLE " + rel + " AS\n"
			rows, err = r.replaceTable(ctx, c, rel, existing, *q)
		}
	case models.KindExternal:
		*kind = "view"
		if *q, err = p.Compile(m, models.CompileOptions{Live: liveConn(ctx, c), Flags: r.flags()}); err == nil {
			rows, err = r.external(ctx, c, m, rel, existing, *q, head)
		}
	case models.KindPython:
		return 0, inputErrorf("model", "%s", (&models.PythonModelError{Model: m.Name, Pos: models.Pos{File: m.Path, Line: 1}}).Error())
	case models.KindSnapshot:
		rows, err = r.snapshot(ctx, c, t, rel, existing, q, head)
		var se *SQLError
		if errors.As(err, &se) {
			return 0, err
		}
	case models.KindIncremental:
		full := r.plan.FullRefresh
		if m.Config.FullRefresh != nil {
			full = *m.Config.FullRefresh
		}
		if existing != "table" || full {
			if *q, err = p.Compile(m, models.CompileOptions{Live: liveConn(ctx, c), Flags: r.flags()}); err == nil {
				*head = "CREATE OR REPLACE TABLE " + rel + " AS\n"
				rows, err = r.replaceTable(ctx, c, rel, existing, *q)
			}
		} else {
			rows, err = r.incremental(ctx, c, t, rel)
			var se *SQLError
			if errors.As(err, &se) {
				return 0, err
			}
		}
	default:
		err = fmt.Errorf("cannot build materialization %q", m.Kind)
	}
	if err != nil {
		return fail(err)
	}
	if err := persistDocs(ctx, c, m, rel, *kind); err != nil {
		return 0, r.hookError(t, "persist_docs", err)
	}
	for _, h := range m.Config.PostHook {
		hook, err := p.RenderHook(m, h)
		if err != nil {
			return 0, err
		}
		if _, err := c.Exec(ctx, hook); err != nil {
			return 0, r.hookError(t, "post-hook", err)
		}
	}
	return rows, nil
}

// inTask runs write in a transaction on a connection of its own, then records the task
// as a success in the same transaction and commits: the data and the task row land
// together or not at all, and a failed write leaves the warehouse as it was.
func (r *runner) inTask(ctx context.Context, c *duckdb.Conn, t *Task, fail func(error) error, write func() (int64, error)) error {
	if r.grouped(t) {
		// in the open group's transaction: its row is written when the group commits
		if err := r.begin(ctx, c); err != nil {
			return err
		}
		if t.Window != nil {
			rec, had := r.parts.Get(t.Name, t.Window.Start)
			r.grp.prior = append(r.grp.prior, priorPart{t.Name, t.Window.Start, rec, had})
		}
		rows, err := write()
		if err != nil {
			r.grp.aborted = true
			return err
		}
		t.Rows, t.Status, t.Ended = rows, StatusSuccess, time.Now().UTC()
		r.grp.rows = append(r.grp.rows, t)
		return nil
	}
	committing := false
	err := c.InTx(ctx, func() error {
		rows, err := write()
		if err != nil {
			return err
		}
		t.Rows, t.Status, t.Ended = rows, StatusSuccess, time.Now().UTC()
		// the task log is the only state: partitions and backfill progress are read from
		// it, so its one row per task commits with the data and can never disagree with it
		if err := recordTask(ctx, c, r.res.RunID, t); err != nil {
			return fmt.Errorf("record task: %w", err)
		}
		committing = true
		return nil
	})
	if err != nil {
		t.Status = StatusRunning
		if committing {
			return fail(err)
		}
	}
	return err
}

// replaceTable swaps a table's contents for a query's, inside the caller's transaction:
// if the query fails, the old table stays as it was.
func (r *runner) replaceTable(ctx context.Context, c *duckdb.Conn, rel, existing, q string) (int64, error) {
	if existing == "view" {
		if _, err := c.Exec(ctx, "DROP VIEW "+rel); err != nil {
			return 0, err
		}
	}
	// CREATE TABLE AS returns its row count as a result (RowsAffected says 0)
	return c.QueryInt(ctx, "CREATE OR REPLACE TABLE "+rel+" AS\n"+q)
}

// incremental applies a model's new rows to its existing table with its strategy.
func (r *runner) incremental(ctx context.Context, c *duckdb.Conn, t *Task, rel string) (int64, error) {
	p := r.plan.Project
	m := t.node.Model
	q, err := p.Compile(m, models.CompileOptions{Incremental: true, Live: liveConn(ctx, c), Flags: r.flags()})
	if err != nil {
		return 0, err
	}
	tmp := "__strata_new_" + strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			return c
		}
		return '_'
	}, m.Name)
	qtmp := models.Quote(tmp)
	head := "CREATE OR REPLACE TEMP TABLE " + qtmp + " AS\n"
	if _, err := c.Exec(ctx, head+q); err != nil {
		return 0, r.sqlError(t, q, head, err)
	}
	defer c.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+qtmp)
	newCols, err := columns(ctx, c, "temp", "main", tmp)
	if err != nil {
		return 0, err
	}
	oldCols, err := columns(ctx, c, "", p.Schema(m), m.Identifier())
	if err != nil {
		return 0, err
	}
	var added, missing []string
	for _, c := range newCols {
		if !containsFold(oldCols, c.name) {
			added = append(added, c.name)
		}
	}
	for _, c := range oldCols {
		if !containsFold(newCols, c.name) {
			missing = append(missing, c.name)
		}
	}
	switch m.Config.OnSchemaChange {
	case "fail":
		if len(added)+len(missing) > 0 {
			return 0, fmt.Errorf("on_schema_change=fail: columns changed (new: %v, gone: %v); run with --full-refresh or change on_schema_change", added, missing)
		}
	case "append_new_columns":
		for _, col := range newCols {
			if slices.Contains(added, col.name) {
				if _, err := c.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", rel, models.Quote(col.name), col.typ)); err != nil {
					return 0, err
				}
			}
		}
		added = nil
	}
	var cols []string
	for _, c := range newCols {
		if !slices.Contains(added, c.name) {
			cols = append(cols, models.Quote(c.name))
		}
	}
	list := strings.Join(cols, ", ")
	keys := m.Config.UniqueKey
	var total int64
	exec := func(q string) error {
		n, err := c.Exec(ctx, q)
		total += n
		return err
	}
	switch m.Config.IncrementalStrategy {
	case "append":
		err = exec(fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s", rel, list, list, qtmp))
	case "delete+insert":
		var on []string
		for _, k := range keys {
			on = append(on, fmt.Sprintf("%s.%s = src.%s", rel, models.Quote(k), models.Quote(k)))
		}
		if _, err = c.Exec(ctx, fmt.Sprintf("DELETE FROM %s USING %s AS src WHERE %s", rel, qtmp, strings.Join(on, " AND "))); err == nil {
			err = exec(fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s", rel, list, list, qtmp))
		}
	case "merge":
		var on, set, vals []string
		for _, k := range keys {
			on = append(on, fmt.Sprintf("tgt.%s = src.%s", models.Quote(k), models.Quote(k)))
		}
		for _, col := range cols {
			set = append(set, fmt.Sprintf("%s = src.%s", col, col))
			vals = append(vals, "src."+col)
		}
		err = exec(fmt.Sprintf("MERGE INTO %s AS tgt USING %s AS src ON %s\nWHEN MATCHED THEN UPDATE SET %s\nWHEN NOT MATCHED THEN INSERT (%s) VALUES (%s)",
			rel, qtmp, strings.Join(on, " AND "), strings.Join(set, ", "), list, strings.Join(vals, ", ")))
	default:
		err = fmt.Errorf("unknown incremental_strategy %q", m.Config.IncrementalStrategy)
	}
	return total, err
}

type column struct{ name, typ string }

// columns lists a relation's columns in order.
func columns(ctx context.Context, c *duckdb.Conn, database, schema, table string) ([]column, error) {
	q := `SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?`
	args := []any{schema, table}
	if database != "" {
		q += ` AND database_name = ?`
		args = append(args, database)
	} else {
		q += ` AND database_name = current_database()`
	}
	res, err := c.Query(ctx, q+` ORDER BY column_index`, -1, args...)
	if err != nil {
		return nil, err
	}
	out := make([]column, 0, len(res.Rows))
	for _, row := range res.Rows {
		name, _ := row[0].(string)
		typ, _ := row[1].(string)
		out = append(out, column{name, typ})
	}
	return out, nil
}

func containsFold(cols []column, name string) bool {
	for _, c := range cols {
		if strings.EqualFold(c.name, name) {
			return true
		}
	}
	return false
}

var (
	missingTableRe = regexp.MustCompile(`Table with name (\S+) does not exist!?`)
	didYouMeanRe   = regexp.MustCompile(`\s*Did you mean "[^"]*"\?`)
	csvLineRe      = regexp.MustCompile(`(?i)\bline:? (\d+)`)
	lineExcerptRe  = regexp.MustCompile(`(?s)\n+LINE \d+:.*$`)
)

// cleanMessage is a DuckDB error's message on one line, without its LINE excerpt (which
// quotes the statement strata wrapped around the user's SQL, not the user's file).
func cleanMessage(err error) string {
	msg := lineExcerptRe.ReplaceAllString(err.Error(), "")
	return strings.Join(strings.Fields(msg), " ")
}

// sqlError places a DuckDB error in the model's file and explains a missing relation
// that the project builds but that is not built yet.
func (r *runner) sqlError(t *Task, q, head string, err error) error {
	var se *SQLError
	if errors.As(err, &se) {
		return err // placed already
	}
	se = &SQLError{Node: t.Label(), Path: t.Path, Err: err, Msg: cleanMessage(err)}
	if errors.Is(err, duckdb.ErrNotOneStatement) {
		se.Msg = "the compiled SQL is not exactly one statement: text after a `;` would run as a statement of its own"
		se.Hint = "remove the `;` and what follows it, or check the values of the vars the model uses"
		return se
	}
	m := t.node.Model
	if m == nil || q == "" {
		return se
	}
	line, col, msg := models.PlaceSQLError(m, q, head, err.Error())
	if mm := missingTableRe.FindStringSubmatch(msg); mm != nil {
		name := strings.Trim(mm[1], `"`)
		if dep, ok := r.plan.Project.Models[name]; ok && dep.Name != m.Name {
			msg = didYouMeanRe.ReplaceAllString(msg, "")
			if dep.Kind == models.KindSeed {
				se.Hint = fmt.Sprintf("%s is a seed of this project that is not loaded yet: load it first, or build %s with its upstream", name, m.Name)
			} else {
				se.Hint = fmt.Sprintf("%s is a model of this project that is not built yet: build %s with its upstream (+%s)", name, m.Name, m.Name)
			}
		}
	}
	se.Line, se.Col, se.Msg = line, col, msg
	return se
}

// hookError places a failed pre- or post-hook in the model's file.
func (r *runner) hookError(t *Task, which string, err error) error {
	se := &SQLError{Node: t.Label(), Path: t.Path, Err: err, Msg: which + ": " + cleanMessage(err)}
	if errors.Is(err, duckdb.ErrNotOneStatement) {
		se.Msg = which + " is not exactly one SQL statement"
		se.Hint = "give each statement its own hook: a list of hooks runs them in order"
	}
	return se
}

// seedError places a CSV error at the line of the seed file DuckDB names.
func (r *runner) seedError(t *Task, err error) error {
	se := &SQLError{Node: t.Name, Path: t.Path, Err: err, Hint: "fix the CSV, or set delimiter/column_types in the seed's config"}
	msg := err.Error()
	if m := csvLineRe.FindStringSubmatch(msg); m != nil {
		fmt.Sscan(m[1], &se.Line)
	}
	if i := strings.Index(msg, "\n\nPossible"); i > 0 {
		msg = msg[:i] // DuckDB's list of reader options to try
	}
	se.Msg = strings.TrimSpace(msg)
	return se
}

// checkCSV reads a seed with Go's CSV reader first: DuckDB's sniffer rejects a ragged
// file without saying where, while this names the line.
func checkCSV(p *models.Project, m *models.Model) error {
	f, err := os.Open(filepath.Join(p.Dir, m.Path))
	if err != nil {
		return &SQLError{Node: m.Name, Path: m.Path, Err: err, Msg: err.Error()}
	}
	defer f.Close()
	cr := csv.NewReader(f)
	if d := m.Config.Delimiter; d != "" {
		cr.Comma = []rune(d)[0]
	}
	header, err := cr.Read()
	if err != nil {
		return csvError(m, err, "the file has no header row")
	}
	cr.FieldsPerRecord = len(header)
	for {
		if _, err := cr.Read(); err == io.EOF {
			return nil
		} else if err != nil {
			return csvError(m, err, fmt.Sprintf("the header has %d columns", len(header)))
		}
	}
}

func csvError(m *models.Model, err error, context string) error {
	se := &SQLError{Node: m.Name, Path: m.Path, Err: err, Msg: err.Error()}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		se.Line, se.Col = pe.Line, pe.Column
		se.Msg = pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			se.Msg = "wrong number of fields: " + context
		}
		se.Hint = "fix the CSV, or set delimiter in the seed's config"
	} else if err == io.EOF {
		se.Msg = context
	}
	return se
}
