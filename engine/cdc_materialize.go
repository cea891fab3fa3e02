package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/models"
)

// cdcMaterialize brings the typed table up to date with <model>__raw for the keys the
// window touched. A field the events bring that no column holds becomes a column (by
// on_schema_change), recorded in _strata.cdc_columns with the window, and the typed table
// is rebuilt from the raw one with it.
func (r *runner) cdcMaterialize(ctx context.Context, c *duckdb.Conn, t *Task) error {
	p := r.plan.Project
	m := t.node.Model
	s := m.CDC()
	rel := p.Relation(m)
	raw := p.Relation(p.Models[s.RawName()])
	ext := p.Relation(p.Models[s.ExtractName()])
	win := models.SQLTimestamp(t.Window.Start)
	known, err := evolvedColumns(ctx, c, s.Model)
	if err != nil {
		return err
	}
	exists := r.w.kind(p.Schema(m), m.Identifier()) == "table"
	touched := "(SELECT * FROM " + raw + " WHERE _key IN (SELECT _key FROM " + ext + " WHERE _window = " + win + "))"
	// the types come from the documents being materialized: the touched keys' current
	// state, or, when the table is (re)built, every key's
	evolved, added, err := r.evolve(ctx, c, t, touched, known)
	if err != nil {
		return err
	}
	truncated, err := c.QueryInt(ctx, "SELECT count(*) FROM "+ext+" WHERE _window = "+win+" AND _op = 'truncate'")
	if err != nil {
		return r.sqlError(t, "", "", err)
	}
	rebuild := !exists || len(added) > 0 || truncated > 0
	if exists && !rebuild {
		// a column declared, dropped or retyped in the YAML since the table was built
		have, err := columns(ctx, c, "", p.Schema(m), m.Identifier())
		if err != nil {
			return err
		}
		rebuild = !sameColumns(have, s.TypedColumns(evolved), s)
	}
	if rebuild {
		if evolved, added, err = r.evolve(ctx, c, t, raw, known); err != nil {
			return err
		}
	}
	fail := func(err error) error { return r.sqlError(t, "", "", err) }
	err = r.inTask(ctx, c, t, fail, func() (int64, error) {
		for _, a := range added {
			file := r.fieldFile(ctx, c, ext, a.name)
			if _, err := c.Exec(ctx, `INSERT INTO _strata.cdc_columns (model, column_name, data_type, window_start, file, added_at) VALUES (?, ?, ?, ?, ?, ?)`,
				s.Model, a.name, a.typ, t.Window.Start, file, time.Now().UTC()); err != nil {
				return 0, err
			}
		}
		if rebuild {
			return c.QueryInt(ctx, "CREATE OR REPLACE TABLE "+rel+" AS\n"+s.TypedSelect(raw, evolved))
		}
		return refreshKeys(ctx, c, s, rel, touched,
			"(SELECT DISTINCT _key_doc FROM "+ext+" WHERE _window = "+win+")", evolved)
	})
	if err == nil {
		r.w.setKind(p.Schema(m), m.Identifier(), "table")
	}
	return err
}

// evolve compares the fields of the documents in rows (a query of the raw table) with
// the columns known so far, by on_schema_change: it returns the columns after the change
// and those added or widened.
func (r *runner) evolve(ctx context.Context, c *duckdb.Conn, t *Task, rows string, known []models.CDCColumn) ([]models.CDCColumn, []fieldType, error) {
	p := r.plan.Project
	m := t.node.Model
	s := m.CDC()
	found, err := docFields(ctx, c, s, rows)
	if err != nil {
		return nil, nil, r.sqlError(t, "", "", err)
	}
	var added []fieldType
	evolved := slices.Clone(known)
	for _, f := range found {
		if slices.ContainsFunc(s.Columns, func(c *models.Column) bool { return strings.EqualFold(c.Name, f.name) }) {
			continue
		}
		i := slices.IndexFunc(evolved, func(c models.CDCColumn) bool { return strings.EqualFold(c.Name, f.name) })
		typ := f.typ
		if i >= 0 {
			if typ = widen(evolved[i].Type, f.typ); typ == evolved[i].Type {
				continue
			}
		}
		switch s.OnSchemaChange {
		case "ignore":
			continue
		case "fail":
			ext := p.Relation(p.Models[s.ExtractName()])
			file := r.fieldFile(ctx, c, ext, f.name)
			return nil, nil, &EventError{Node: t.Label(), File: file, Line: firstLineWithField(filepath.Join(p.Dir, file), f.name), Msg: fmt.Sprintf(
				"new field %q (%s) is not a column of %s and on_schema_change is fail: declare it in %s, or set on_schema_change: append_new_columns", f.name, f.typ, s.Model, m.Path)}
		}
		added = append(added, fieldType{name: f.name, typ: typ})
		if i >= 0 {
			evolved[i].Type = typ
		} else {
			evolved = append(evolved, models.CDCColumn{Name: f.name, Type: typ})
		}
	}
	return evolved, added, nil
}

// fieldFile is the first event file (relative to the project) whose events carry field.
func (r *runner) fieldFile(ctx context.Context, c *duckdb.Conn, ext, field string) string {
	path := duckdb.Literal("$." + jsonKey(field))
	row, err := c.QueryRow(ctx, "SELECT min(_file) FROM "+ext+" WHERE json_exists(_doc, "+path+") OR json_exists(json_extract(_patch, '$.set'), "+path+")")
	if err != nil || row[0] == nil {
		return ""
	}
	file := str(row[0])
	if x, err := filepath.Rel(r.plan.Project.Dir, file); err == nil {
		return filepath.ToSlash(x)
	}
	return file
}

// refreshKeys replaces the typed rows of the keys in keys (a query of _key_doc) with
// those derived from rawRows.
func refreshKeys(ctx context.Context, c *duckdb.Conn, s *models.CDCSpec, rel, rawRows, keys string, evolved []models.CDCColumn) (int64, error) {
	var sel, on []string
	for _, k := range s.Key {
		typ := ""
		for _, col := range s.TypedColumns(evolved) {
			if col.Name == k {
				typ = col.Type
			}
		}
		sel = append(sel, models.CDCFieldExpr(s.Format, "_key_doc", k, typ)+" AS "+models.Quote(k))
		on = append(on, "t."+models.Quote(k)+" = k."+models.Quote(k))
	}
	if _, err := c.Exec(ctx, "DELETE FROM "+rel+" AS t USING (SELECT "+strings.Join(sel, ", ")+" FROM "+keys+") AS k WHERE "+strings.Join(on, " AND ")); err != nil {
		return 0, err
	}
	return c.Exec(ctx, "INSERT INTO "+rel+" BY NAME\n"+s.TypedSelect(rawRows, evolved))
}

// evolvedColumns reads the columns a CDC model's events brought so far, with their latest
// types, in the order they came.
func evolvedColumns(ctx context.Context, c *duckdb.Conn, model string) ([]models.CDCColumn, error) {
	res, err := c.Query(ctx, `SELECT column_name, last(data_type ORDER BY added_at), min(added_at) AS first
FROM _strata.cdc_columns WHERE model = ? GROUP BY column_name ORDER BY first, column_name`, -1, model)
	if err != nil {
		return nil, err
	}
	out := make([]models.CDCColumn, 0, len(res.Rows))
	for _, row := range res.Rows {
		out = append(out, models.CDCColumn{Name: str(row[0]), Type: str(row[1])})
	}
	return out, nil
}

// fieldType is a document field, with the type its values need.
type fieldType struct {
	name, typ string
}

// docFields lists the top-level fields of the documents in rows with the column type
// their values need.
func docFields(ctx context.Context, c *duckdb.Conn, s *models.CDCSpec, rows string) ([]fieldType, error) {
	value := "json_extract(doc, '$.\"' || replace(replace(k, '\\', '\\\\'), '\"', '\\\"') || '\"')"
	q := `WITH docs AS (
  SELECT _doc AS doc FROM ` + rows + ` AS r WHERE _doc IS NOT NULL AND json_type(_doc) = 'OBJECT'
), fields AS (
  SELECT k, ` + value + ` AS v FROM (SELECT doc, unnest(json_keys(doc)) AS k FROM docs)
)
SELECT k AS name, json_type(v) AS jt,
  CASE WHEN json_type(v) = 'OBJECT' AND len(json_keys(v)) = 1 AND starts_with(json_keys(v)[1], '$') THEN json_keys(v)[1] END AS ejson,
  max(abs(TRY_CAST(CASE WHEN json_type(v) IN ('BIGINT', 'UBIGINT') THEN json_extract_string(v, '$') END AS HUGEINT))) AS biggest
FROM fields GROUP BY ALL ORDER BY name`
	res, err := c.Query(ctx, q, -1)
	if err != nil {
		return nil, err
	}
	var out []fieldType
	for _, row := range res.Rows {
		name, jt, ej := str(row[0]), str(row[1]), str(row[2])
		typ := columnType(jt, ej, row[3], s.Format)
		if typ == "" {
			continue
		}
		i := slices.IndexFunc(out, func(f fieldType) bool { return f.name == name })
		if i < 0 {
			out = append(out, fieldType{name: name, typ: typ})
			continue
		}
		out[i].typ = widen(out[i].typ, typ)
	}
	return out, nil
}

// columnType maps a JSON value's type to a column type: integers are INTEGER when they
// fit and BIGINT otherwise; MongoDB's Extended JSON wrappers are the values they stand for.
func columnType(jt, ejson string, biggest any, format string) string {
	switch jt {
	case "NULL", "":
		return "" // no type to learn yet
	case "BIGINT", "UBIGINT":
		if n, err := duckdb.Int64(biggest); err == nil && n <= 2147483647 {
			return "INTEGER"
		}
		return "BIGINT"
	case "DOUBLE":
		return "DOUBLE"
	case "BOOLEAN":
		return "BOOLEAN"
	case "VARCHAR":
		return "VARCHAR"
	case "OBJECT":
		if format == models.FormatMongoDB {
			switch ejson {
			case "$oid":
				return "VARCHAR"
			case "$date":
				return "TIMESTAMP"
			case "$numberLong":
				return "BIGINT"
			case "$numberInt":
				return "INTEGER"
			case "$numberDouble":
				return "DOUBLE"
			case "$numberDecimal":
				return "DECIMAL(38,9)"
			}
		}
		return "JSON"
	}
	return "JSON" // arrays
}

// widenOrder is how a column's type widens when its values need more: a type later in
// the list holds every value of one before it.
var widenOrder = []string{"INTEGER", "BIGINT", "DOUBLE", "VARCHAR"}

// widen returns the narrowest type holding values of both a and b.
func widen(a, b string) string {
	if a == b {
		return a
	}
	i, j := slices.Index(widenOrder, a), slices.Index(widenOrder, b)
	if i >= 0 && j >= 0 {
		return widenOrder[max(i, j)]
	}
	return "VARCHAR"
}

// firstLineWithField finds the first event of file whose document has field, for
// messages.
func firstLineWithField(file, field string) int {
	return findLine(file, func(l string) bool {
		if !strings.Contains(l, `"`+field) {
			return false
		}
		var e map[string]json.RawMessage
		if json.Unmarshal([]byte(l), &e) != nil {
			return false
		}
		if pl, ok := e["payload"]; ok {
			var inner map[string]json.RawMessage
			if json.Unmarshal(pl, &inner) == nil && inner != nil {
				e = inner
			}
		}
		for _, part := range []string{"after", "fullDocument"} {
			var d map[string]json.RawMessage
			if json.Unmarshal(e[part], &d) == nil {
				if _, ok := d[field]; ok {
					return true
				}
			}
		}
		var ud struct {
			UpdatedFields map[string]json.RawMessage `json:"updatedFields"`
		}
		if json.Unmarshal(e["updateDescription"], &ud) == nil {
			for k := range ud.UpdatedFields {
				if strings.Split(k, ".")[0] == field {
					return true
				}
			}
		}
		return false
	})
}

// sameColumns reports whether a typed table has exactly the columns the model now makes,
// with the same types (as DuckDB names them).
func sameColumns(have []column, want []models.CDCColumn, s *models.CDCSpec) bool {
	extra := 0
	if s.SoftDelete {
		extra++
	}
	if s.MetaColumns {
		extra += 2
	}
	if len(have) != len(want)+extra {
		return false
	}
	for _, w := range want {
		i := slices.IndexFunc(have, func(h column) bool { return strings.EqualFold(h.name, w.Name) })
		if i < 0 || normalType(have[i].typ) != normalType(w.Type) {
			return false
		}
	}
	return true
}

// normalType spells a type as DuckDB reports it, for the common aliases.
func normalType(t string) string {
	t = strings.ToUpper(strings.Join(strings.Fields(t), ""))
	aliases := map[string]string{"INT": "INTEGER", "INT4": "INTEGER", "SIGNED": "INTEGER", "INT8": "BIGINT", "LONG": "BIGINT",
		"INT2": "SMALLINT", "SHORT": "SMALLINT", "INT1": "TINYINT", "STRING": "VARCHAR", "TEXT": "VARCHAR", "CHAR": "VARCHAR",
		"BPCHAR": "VARCHAR", "BOOL": "BOOLEAN", "LOGICAL": "BOOLEAN", "FLOAT8": "DOUBLE", "DOUBLEPRECISION": "DOUBLE",
		"FLOAT4": "FLOAT", "REAL": "FLOAT", "DATETIME": "TIMESTAMP", "TIMESTAMPTZ": "TIMESTAMPWITHTIMEZONE", "NUMERIC": "DECIMAL(18,3)", "DECIMAL": "DECIMAL(18,3)"}
	if a, ok := aliases[t]; ok {
		return a
	}
	if strings.HasPrefix(t, "VARCHAR(") {
		return "VARCHAR"
	}
	return strings.ReplaceAll(t, "NUMERIC(", "DECIMAL(")
}
