package engine

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/models"
)

// VerifyResult is what strata verify found comparing a CDC model's typed table with the
// source's own snapshot: the same shape on the CLI (--json), the API and MCP.
type VerifyResult struct {
	Model       string     `json:"model"`
	Source      string     `json:"source"`
	Columns     []string   `json:"columns"` // the columns compared: declared and in the snapshot
	TargetRows  int64      `json:"target_rows"`
	SourceRows  int64      `json:"source_rows"`
	Buckets     int        `json:"buckets"`           // key-hash ranges checksummed on both sides
	Mismatched  int        `json:"buckets_differing"` // those compared key by key
	Missing     int64      `json:"missing"`           // keys in the source, not in the table
	Extra       int64      `json:"extra"`             // keys in the table, not in the source
	Different   int64      `json:"different"`         // keys in both whose values differ
	Mismatches  []Mismatch `json:"mismatches"`        // the first of them
	Repaired    bool       `json:"repaired"`
	RepairID    string     `json:"repair_id,omitempty"`
	RepairedPos string     `json:"repair_position,omitempty"`
}

// Total is the number of mismatching keys.
func (v *VerifyResult) Total() int64 { return v.Missing + v.Extra + v.Different }

// Mismatch is one key that differs, and how.
type Mismatch struct {
	Key     map[string]any `json:"key"`
	Kind    string         `json:"kind"`    // missing, extra or different
	Columns []string       `json:"columns"` // for different: the columns whose values differ
}

// verifyBuckets is how many key-hash ranges verify checksums: a table that matches is
// read once on each side; only differing ranges are compared key by key.
const verifyBuckets = 4096

// maxMismatches is how many mismatching keys a result lists.
const maxMismatches = 100

// Verify compares a CDC model's typed table with its verify: snapshot, and with repair
// re-applies the snapshot's rows for exactly the keys that differ, as a recorded repair.
func (w *Warehouse) Verify(ctx context.Context, p *models.Project, model string, repair bool) (*VerifyResult, error) {
	m, ok := p.Models[model]
	if !ok || m.CDC() == nil {
		var names []string
		for _, x := range p.Models {
			if x.Kind == models.KindCDC {
				names = append(names, x.Name)
			}
		}
		return nil, inputErrorf("model", "%q is not a CDC model%s", model, models.DidYouMean(model, names))
	}
	m = p.Models[m.CDC().Model]
	c, err := w.conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return verifyOn(ctx, c, p, m, repair)
}

// snapshotRelation is the query reading a verify source.
func snapshotRelation(v *models.CDCVerify) string {
	if v.Table != "" {
		return v.Table
	}
	g := duckdb.Literal(v.Snapshot)
	switch strings.ToLower(path.Ext(v.Snapshot)) {
	case ".csv", ".tsv":
		return "read_csv(" + g + ", header = true)"
	case ".json", ".jsonl", ".ndjson":
		return "read_json(" + g + ", sample_size = -1)"
	}
	return "read_parquet(" + g + ")"
}

func verifyOn(ctx context.Context, c *duckdb.Conn, p *models.Project, m *models.Model, repair bool) (*VerifyResult, error) {
	s := m.CDC()
	if s.Verify == nil {
		return nil, inputErrorf("verify", "cdc model %s has no verify: source; add verify: {snapshot: 'path/*.parquet'} (or table:) to its cdc config", s.Model)
	}
	src := snapshotRelation(s.Verify)
	res := &VerifyResult{Model: s.Model, Source: s.Verify.Snapshot + s.Verify.Table, Buckets: verifyBuckets, Mismatches: []Mismatch{}}
	if s.Verify.Table != "" {
		res.Source = s.Verify.Table
	}
	desc, err := c.Query(ctx, "DESCRIBE SELECT * FROM "+src, -1)
	if err != nil {
		return nil, &SQLError{Node: s.Model, Path: m.Path, Err: err, Msg: "verify source " + res.Source + ": " + cleanMessage(err)}
	}
	have := map[string]string{}
	for _, row := range desc.Rows {
		have[strings.ToLower(str(row[0]))] = str(row[0])
	}
	types := map[string]string{}
	var keys, vals []string
	for _, col := range s.Columns {
		types[col.Name] = col.DataType
		if _, ok := have[strings.ToLower(col.Name)]; !ok {
			if slices.Contains(s.Key, col.Name) {
				return nil, inputErrorf("verify", "verify source %s has no key column %q", res.Source, col.Name)
			}
			continue // the target may have more columns than the source
		}
		res.Columns = append(res.Columns, col.Name)
		if !slices.Contains(s.Key, col.Name) {
			vals = append(vals, col.Name)
		}
	}
	keys = s.Key
	side := func(rel, where string, quoteSrc bool) string {
		var cols []string
		for _, k := range res.Columns {
			name := models.Quote(k)
			if quoteSrc {
				name = models.Quote(have[strings.ToLower(k)])
			}
			cols = append(cols, "CAST("+name+" AS "+types[k]+") AS "+models.Quote(k))
		}
		q := "SELECT " + strings.Join(cols, ", ") + ", true AS __strata_in FROM " + rel
		if where != "" {
			q += " WHERE " + where
		}
		return q
	}
	target := p.Relation(m)
	twhere := ""
	if s.SoftDelete {
		twhere = "NOT _deleted"
	}
	list := func(prefix string, names []string) string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = prefix + models.Quote(n)
		}
		return strings.Join(out, ", ")
	}
	rowHash := "hash(" + list("", res.Columns) + ")"
	keyHash := "hash(" + list("", keys) + ") % " + fmt.Sprint(verifyBuckets)
	tq, sq := side(target, twhere, false), side(src, "", true)
	// a whole-number key is cut into ranges rather than hashed: the second pass then reads
	// only the ranges that differ (DuckDB and Parquet skip the rest by their min/max)
	var lo, width int64
	ranged := len(keys) == 1 && isWholeNumber(types[keys[0]])
	if ranged {
		k := models.Quote(keys[0])
		// the table's bounds (the source's keys beyond them fall in two edge ranges)
		minmax, err := c.QueryRow(ctx, "SELECT CAST(min("+k+") AS BIGINT), CAST(max("+k+") AS BIGINT) FROM ("+tq+")")
		if err != nil || minmax[0] == nil || minmax[1] == nil {
			ranged = false
		} else {
			lo, _ = duckdb.Int64(minmax[0])
			hi, _ := duckdb.Int64(minmax[1])
			width = (hi-lo)/verifyBuckets + 1
			keyHash = fmt.Sprintf("CASE WHEN %s < %d THEN -1 ELSE least(%d, (CAST(%s AS BIGINT) - %d) // %d) END", k, lo, verifyBuckets, k, lo, width)
		}
	}
	// pass 1: per-bucket counts and checksums, one scan of each side
	agg := func(q string) string {
		return "SELECT " + keyHash + " AS b, count(*) AS n, bit_xor(" + rowHash + ") AS x FROM (" + q + ") GROUP BY b"
	}
	buckets, err := c.Query(ctx, "WITH t AS ("+agg(tq)+"), s AS ("+agg(sq)+`)
SELECT coalesce(t.b, s.b) AS b, coalesce(t.n, 0), coalesce(s.n, 0), t.x IS DISTINCT FROM s.x OR t.n IS DISTINCT FROM s.n AS differs
FROM t FULL OUTER JOIN s ON t.b = s.b`, -1)
	if err != nil {
		return nil, &SQLError{Node: s.Model, Path: m.Path, Err: err, Msg: "verify: " + cleanMessage(err)}
	}
	var bad []string
	for _, row := range buckets.Rows {
		tn, _ := duckdb.Int64(row[1])
		sn, _ := duckdb.Int64(row[2])
		res.TargetRows += tn
		res.SourceRows += sn
		if d, _ := row[3].(bool); d {
			bad = append(bad, str(row[0]))
		}
	}
	res.Mismatched = len(bad)
	if len(bad) == 0 {
		return res, nil
	}
	// pass 2: key by key, only in the buckets that differ
	// the rows of both sides in the differing ranges: read by key range when the key is
	// a whole number (each range a pruned scan), else by bucket
	inBad := func(q string) string {
		if !ranged || len(bad) > 64 {
			return "SELECT * FROM (" + q + ") WHERE " + keyHash + " IN (" + strings.Join(bad, ", ") + ")"
		}
		k := models.Quote(keys[0])
		var parts []string
		for _, b := range bad {
			n, _ := strconv.ParseInt(b, 10, 64)
			var cond string
			switch {
			case n < 0:
				cond = fmt.Sprintf("%s < %d", k, lo)
			case n >= verifyBuckets:
				cond = fmt.Sprintf("%s >= %d", k, lo+n*width)
			default:
				cond = fmt.Sprintf("%s >= %d AND %s < %d", k, lo+n*width, k, lo+(n+1)*width)
			}
			parts = append(parts, "SELECT * FROM ("+q+") WHERE "+cond)
		}
		return strings.Join(parts, " UNION ALL ")
	}
	var on, diffs []string
	for _, k := range keys {
		on = append(on, "t."+models.Quote(k)+" = s."+models.Quote(k))
	}
	for _, v := range vals {
		diffs = append(diffs, "CASE WHEN t."+models.Quote(v)+" IS DISTINCT FROM s."+models.Quote(v)+" THEN "+duckdb.Literal(v)+" END")
	}
	diffList := "[]::VARCHAR[]"
	if len(diffs) > 0 {
		diffList = "CASE WHEN t.__strata_in IS NULL OR s.__strata_in IS NULL THEN []::VARCHAR[] ELSE list_filter([" + strings.Join(diffs, ", ") + "], x -> x IS NOT NULL) END"
	}
	var keyCols []string
	for _, k := range keys {
		keyCols = append(keyCols, "coalesce(t."+models.Quote(k)+", s."+models.Quote(k)+") AS "+models.Quote(k))
	}
	mm := models.Quote("__strata_verify")
	if _, err := c.Exec(ctx, "CREATE OR REPLACE TEMP TABLE "+mm+" AS SELECT "+strings.Join(keyCols, ", ")+`,
  CASE WHEN t.__strata_in IS NULL THEN 'missing' WHEN s.__strata_in IS NULL THEN 'extra' ELSE 'different' END AS kind,
  `+diffList+` AS columns
FROM (`+inBad(tq)+`) AS t FULL OUTER JOIN (`+inBad(sq)+`) AS s ON `+strings.Join(on, " AND ")+`
WHERE t.__strata_in IS NULL OR s.__strata_in IS NULL OR `+rowHash2(res.Columns)); err != nil {
		return nil, &SQLError{Node: s.Model, Path: m.Path, Err: err, Msg: "verify: " + cleanMessage(err)}
	}
	defer c.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+mm)
	counts, err := c.Query(ctx, "SELECT kind, count(*) FROM "+mm+" GROUP BY kind", -1)
	if err != nil {
		return nil, err
	}
	for _, row := range counts.Rows {
		n, _ := duckdb.Int64(row[1])
		switch str(row[0]) {
		case "missing":
			res.Missing = n
		case "extra":
			res.Extra = n
		default:
			res.Different = n
		}
	}
	detail, err := c.Query(ctx, "SELECT "+list("", keys)+", kind, columns FROM "+mm+" ORDER BY "+list("", keys), maxMismatches)
	if err != nil {
		return nil, err
	}
	for _, row := range detail.Rows {
		mk := Mismatch{Key: map[string]any{}, Kind: str(row[len(keys)]), Columns: []string{}}
		for i, k := range keys {
			mk.Key[k] = row[i]
		}
		if l, ok := row[len(keys)+1].([]any); ok {
			for _, x := range l {
				mk.Columns = append(mk.Columns, str(x))
			}
		}
		res.Mismatches = append(res.Mismatches, mk)
	}
	if repair && res.Total() > 0 {
		if err := repairKeys(ctx, c, p, m, src, have, mm, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// rowHash2 is true when the two sides of a joined row differ in a compared column.
func rowHash2(cols []string) string {
	var t, s []string
	for _, c := range cols {
		t = append(t, "t."+models.Quote(c))
		s = append(s, "s."+models.Quote(c))
	}
	return "hash(" + strings.Join(t, ", ") + ") <> hash(" + strings.Join(s, ", ") + ")"
}

// repairKeys re-applies the snapshot's rows for the mismatching keys to the raw table at
// a position just after the newest one merged (so any event merged later still wins),
// marks keys the source does not have as deleted, refreshes those keys' typed rows and
// records the repair, all in one transaction.
func repairKeys(ctx context.Context, c *duckdb.Conn, p *models.Project, m *models.Model, src string, have map[string]string, mm string, res *VerifyResult) error {
	s := m.CDC()
	raw := p.Relation(p.Models[s.RawName()])
	typed := p.Relation(m)
	evolved, err := evolvedColumns(ctx, c, s.Model)
	if err != nil {
		return err
	}
	types := map[string]string{}
	for _, col := range s.TypedColumns(evolved) {
		types[col.Name] = col.Type
	}
	var rawKeyOn, snapKeyOn, keyDoc []string
	for _, k := range s.Key {
		rawKeyOn = append(rawKeyOn, models.CDCFieldExpr(s.Format, "r._key_doc", k, types[k])+" = v."+models.Quote(k))
		snapKeyOn = append(snapKeyOn, "CAST(x."+models.Quote(have[strings.ToLower(k)])+" AS "+types[k]+") = v."+models.Quote(k))
		val := "to_json(v." + models.Quote(k) + ")"
		if s.Format == models.FormatMongoDB {
			val = "CASE WHEN regexp_full_match(CAST(v." + models.Quote(k) + " AS VARCHAR), '[0-9a-f]{24}') THEN json_object('$oid', v." + models.Quote(k) + ") ELSE to_json(v." + models.Quote(k) + ") END"
		}
		keyDoc = append(keyDoc, duckdb.Literal(k)+", "+val)
	}
	// the document under the declared names (the snapshot may spell them otherwise)
	var named []string
	for _, col := range s.Columns {
		if sn, ok := have[strings.ToLower(col.Name)]; ok && !strings.Contains(col.Name, ".") {
			named = append(named, duckdb.Literal(col.Name)+", x."+models.Quote(sn))
		}
	}
	doc := "to_json(x)"
	if len(named) > 0 {
		doc = "json_merge_patch(to_json(x), json_object(" + strings.Join(named, ", ") + "))"
	}
	id := fmt.Sprintf("repair-%s-%s", time.Now().UTC().Format("20060102-150405"), s.Model)
	fix := models.Quote("__strata_repair")
	return c.InTx(ctx, func() error {
		pos, err := c.QueryRow(ctx, "SELECT coalesce(max(_position), '') || '~' FROM "+raw)
		if err != nil {
			return err
		}
		position := str(pos[0])
		// the repair's rows: the raw key where the raw table has one, the snapshot's row
		// as the document (none for keys the source does not have)
		if _, err := c.Exec(ctx, "CREATE OR REPLACE TEMP TABLE "+fix+` AS
SELECT coalesce(r._key, CAST(json_object(`+strings.Join(keyDoc, ", ")+`) AS VARCHAR)) AS _key,
  coalesce(r._key_doc, json_object(`+strings.Join(keyDoc, ", ")+`)) AS _key_doc,
  CASE WHEN v.kind = 'extra' THEN 'delete' ELSE 'upsert' END AS _op,
  `+duckdb.Literal(position)+` AS _position, now()::TIMESTAMP AS _updated_at,
  `+doc+` AS _doc
FROM `+mm+` AS v
LEFT JOIN `+raw+` AS r ON `+strings.Join(rawKeyOn, " AND ")+`
LEFT JOIN `+src+` AS x ON v.kind <> 'extra' AND `+strings.Join(snapKeyOn, " AND ")); err != nil {
			return err
		}
		defer c.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+fix)
		if _, err := mergeInto(ctx, c, raw, fix); err != nil {
			return err
		}
		if _, err := refreshKeys(ctx, c, s, typed, "(SELECT * FROM "+raw+" WHERE _key IN (SELECT _key FROM "+fix+"))",
			"(SELECT DISTINCT _key_doc FROM "+fix+")", evolved); err != nil {
			return err
		}
		if _, err := c.Exec(ctx, `INSERT INTO _strata.cdc_repairs (repair_id, model, missing, extra, different, position, repaired_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, s.Model, res.Missing, res.Extra, res.Different, position, time.Now().UTC()); err != nil {
			return err
		}
		res.Repaired, res.RepairID, res.RepairedPos = true, id, position
		return nil
	})
}

// runVerify runs a CDC model's verify test: strata verify, failing with the number of
// keys that differ.
func (r *runner) runVerify(ctx context.Context, c *duckdb.Conn, t *Task) error {
	test := t.node.Test
	res, err := verifyOn(ctx, c, r.plan.Project, r.plan.Project.Models[test.Model], false)
	if err != nil {
		return err
	}
	t.Rows, t.Ended = res.Total(), time.Now().UTC()
	t.Status = StatusPass
	if res.Total() > 0 {
		t.Status = StatusFail
		t.Message = fmt.Sprintf("%d keys differ from %s (%d missing, %d extra, %d different): run strata verify %s --repair", res.Total(), res.Source, res.Missing, res.Extra, res.Different, test.Model)
	}
	return recordTask(ctx, c, r.res.RunID, t)
}

// isWholeNumber reports whether a declared type is an integer type.
func isWholeNumber(typ string) bool {
	switch strings.ToUpper(strings.TrimSpace(typ)) {
	case "TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "INT8", "INT4", "INT2", "UTINYINT", "USMALLINT", "UINTEGER":
		return true
	}
	return false
}
