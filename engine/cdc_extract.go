package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/models"
)

// EventError is a change event strata cannot read: a malformed line, or a line that is not
// a change event of the model's format. File is relative to the project, Line counts from 1.
type EventError struct {
	Node string
	File string
	Line int
	Msg  string
}

func (e *EventError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Node, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.File, e.Node, e.Msg)
}

// malformedRe reads DuckDB's malformed-JSON error: the file, its line (one too high) and why.
var malformedRe = regexp.MustCompile(`Malformed JSON in file "([^"]+)", at byte \d+ in line (\d+): (.*?)\.?\s*$`)

// badEventMark starts the error() a bad event raises inside the extract statement, so
// the statement stops at once and strata can say which line it was.
const badEventMark = "strata-bad-event\x1f"

// cdcFiles lists the window's event files, sorted (the order does not decide anything:
// events are ordered by their source position).
func (r *runner) cdcFiles(t *Task) ([]string, string, error) {
	p := r.plan.Project
	s := t.node.Model.CDC()
	glob, err := p.RenderText(t.node.Model, s.Path, t.Window)
	if err != nil {
		return nil, "", err
	}
	pattern := glob
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(p.Dir, pattern)
	}
	files, err := filepath.Glob(pattern)
	if err != nil {
		return nil, glob, inputErrorf("path", "cdc path %q: %v", glob, err)
	}
	sort.Strings(files)
	return files, glob, nil
}

// cdcExtract replaces the window's rows of <model>__extract with its files' events,
// normalised to (key, op, position, event time, document): all of them or, when a line is
// bad, none.
func (r *runner) cdcExtract(ctx context.Context, c *duckdb.Conn, t *Task) error {
	p := r.plan.Project
	m := t.node.Model
	s := m.CDC()
	files, glob, err := r.cdcFiles(t)
	if err != nil {
		return err
	}
	if len(files) == 0 && !s.EmptyWindows {
		return inputErrorf("path", "no files match %s", glob)
	}
	rel := p.Relation(m)
	if r.w.kind(p.Schema(m), m.Identifier()) != "table" {
		if _, err := c.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+rel+" AS "+models.CDCExtractShape); err != nil {
			return r.sqlError(t, "", "", err)
		}
		r.w.setKind(p.Schema(m), m.Identifier(), "table")
	}
	win := models.SQLTimestamp(t.Window.Start)
	if len(files) == 0 { // missing_files: empty
		return r.inTask(ctx, c, t, func(err error) error { return r.sqlError(t, "", "", err) }, func() (int64, error) {
			_, err := c.Exec(ctx, "DELETE FROM "+rel+" WHERE _window = "+win)
			return 0, err
		})
	}
	decimals := debeziumFields(s, files)
	if hasDecimal(decimals) {
		if _, err := c.Exec(ctx, b64DecimalMacro); err != nil {
			return r.sqlError(t, "", "", err)
		}
	}
	q := extractSQL(s, files, *t.Window, decimals)
	return r.inTask(ctx, c, t, func(err error) error { return r.sqlError(t, "", "", err) }, func() (int64, error) {
		if _, err := c.Exec(ctx, "DELETE FROM "+rel+" WHERE _window = "+win); err != nil {
			return 0, err
		}
		n, err := c.Exec(ctx, "INSERT INTO "+rel+" BY NAME\n"+q)
		if err != nil {
			return 0, r.eventError(t, files, err)
		}
		return n, nil
	})
}

// eventError turns the extract statement's failure into the bad line's file and true line
// number (DuckDB's own malformed-JSON line numbers are one too high).
func (r *runner) eventError(t *Task, files []string, err error) error {
	msg := err.Error()
	dir := r.plan.Project.Dir
	rel := func(f string) string {
		if x, e := filepath.Rel(dir, f); e == nil {
			return filepath.ToSlash(x)
		}
		return f
	}
	if i := strings.Index(msg, badEventMark); i >= 0 {
		rest := msg[i+len(badEventMark):]
		parts := strings.SplitN(rest, "\x1f", 3)
		if len(parts) == 3 {
			file, why, text := parts[0], parts[1], parts[2]
			line := findLine(file, func(l string) bool { return strings.TrimSpace(l) == strings.TrimSpace(text) })
			return &EventError{Node: t.Label(), File: rel(file), Line: line, Msg: why}
		}
	}
	if m := malformedRe.FindStringSubmatch(msg); m != nil {
		why := "malformed JSON: " + m[3] + " (fix or remove the line, then rerun the window)"
		line := findLine(m[1], func(l string) bool {
			l = strings.TrimSpace(l)
			return l != "" && (!utf8.ValidString(l) || !json.Valid([]byte(l)))
		})
		if line == 0 { // DuckDB's own count is one too high
			n, _ := strconv.Atoi(m[2])
			line = n - 1
		}
		return &EventError{Node: t.Label(), File: rel(m[1]), Line: line, Msg: why}
	}
	return r.sqlError(t, "", "", err)
}

// findLine returns the number (from 1) of the first line of file for which match is true,
// or 0.
func findLine(file string, match func(string) bool) int {
	f, err := os.Open(file)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	for n := 1; sc.Scan(); n++ {
		if match(sc.Text()) {
			return n
		}
	}
	return 0
}

// extractSQL reads files with DuckDB's JSON reader as one JSON value per line (nothing is
// sampled, so no field is dropped and no type guessed) and normalises each event. Literal
// null lines (Kafka tombstones) are skipped; a line that is not an event stops the
// statement with error().
func extractSQL(s *models.CDCSpec, files []string, w models.Window, decimals map[string]connectField) string {
	lits := make([]string, len(files))
	for i, f := range files {
		lits[i] = duckdb.Literal(f)
	}
	read := "read_json_objects([" + strings.Join(lits, ", ") + "], format = 'newline_delimited', filename = true)"
	var norm string
	if s.Format == models.FormatMongoDB {
		norm = mongoSQL(s, read)
	} else {
		norm = debeziumSQL(s, read, decimals)
	}
	return fmt.Sprintf(`SELECT %s AS _window, _key, _key_doc, _op, _position, _updated_at, _doc, _patch, _partial, _file
FROM (
%s
) AS events
WHERE CASE WHEN _bad IS NULL THEN true ELSE error(%s || _file || chr(31) || _bad || chr(31) || _line) END`,
		models.SQLTimestamp(w.Start), norm, duckdb.Literal(badEventMark))
}

// keyDoc builds the key document {"k1": v1, …} from a JSON object expression.
func keyDoc(keys []string, obj string) string {
	var parts []string
	for _, k := range keys {
		parts = append(parts, duckdb.Literal(k)+", json_extract("+obj+", "+duckdb.Literal("$."+jsonKey(k))+")")
	}
	return "json_object(" + strings.Join(parts, ", ") + ")"
}

func jsonKey(k string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(k, `\`, `\\`), `"`, `\"`) + `"`
}

// pad renders a non-negative integer expression as fixed-width text, so positions compare
// as strings.
func pad(expr string, width int) string {
	return "lpad(CAST(TRY_CAST(" + expr + " AS UBIGINT) AS VARCHAR), " + strconv.Itoa(width) + ", '0')"
}

// debeziumSQL normalises Debezium envelopes, with or without the schema/payload wrapper.
// The position is the source's: Postgres lsn, MySQL binlog file/pos/row, else ts_ms.
func debeziumSQL(s *models.CDCSpec, read string, decimals map[string]connectField) string {
	after, before := "json_extract(e, '$.after')", "json_extract(e, '$.before')"
	fix := func(doc string) string {
		if len(decimals) == 0 {
			return doc
		}
		names := make([]string, 0, len(decimals))
		for f := range decimals {
			names = append(names, f)
		}
		sort.Strings(names)
		var parts []string
		for _, f := range names {
			v := "json_extract_string(" + doc + ", " + duckdb.Literal("$."+jsonKey(f)) + ")"
			path := duckdb.Literal("$." + jsonKey(f))
			cf := decimals[f]
			if cf.kind == "decimal" {
				parts = append(parts, duckdb.Literal(f)+", CASE WHEN json_type("+doc+", "+path+") = 'VARCHAR' THEN to_json(strata_b64_decimal("+v+", "+strconv.Itoa(cf.scale)+")) ELSE json_extract("+doc+", "+path+") END")
				continue
			}
			n := "TRY_CAST(" + v + " AS BIGINT)"
			conv := map[string]string{
				"ts_ms":   "strftime(try(make_timestamp(" + n + " * 1000)), '%Y-%m-%d %H:%M:%S.%f')",
				"ts_us":   "strftime(try(make_timestamp(" + n + ")), '%Y-%m-%d %H:%M:%S.%f')",
				"ts_ns":   "strftime(try(make_timestamp(" + n + " // 1000)), '%Y-%m-%d %H:%M:%S.%f')",
				"date":    "CAST(try(DATE '1970-01-01' + CAST(" + n + " AS INTEGER)) AS VARCHAR)",
				"time_ms": "CAST(try(TIME '00:00:00' + to_milliseconds(" + n + ")) AS VARCHAR)",
				"time_us": "CAST(try(TIME '00:00:00' + to_microseconds(" + n + ")) AS VARCHAR)",
				"time_ns": "CAST(try(TIME '00:00:00' + to_microseconds(" + n + " // 1000)) AS VARCHAR)",
			}[cf.kind]
			parts = append(parts, duckdb.Literal(f)+", CASE WHEN json_type("+doc+", "+path+") IN ('BIGINT', 'UBIGINT') THEN to_json("+conv+") ELSE json_extract("+doc+", "+path+") END")
		}
		return "CASE WHEN " + doc + " IS NULL OR json_type(" + doc + ") <> 'OBJECT' THEN " + doc + " ELSE json_merge_patch(" + doc + ", json_object(" + strings.Join(parts, ", ") + ")) END"
	}
	src := "json_extract(e, '$.source')"
	lsn := "json_extract_string(" + src + ", '$.lsn')"
	file := "json_extract_string(" + src + ", '$.file')"
	ts := "coalesce(json_extract_string(" + src + ", '$.ts_ms'), json_extract_string(e, '$.ts_ms'))"
	position := `CASE
    WHEN ` + lsn + ` IS NOT NULL THEN 'p' || ` + pad(lsn, 20) + `
    WHEN ` + file + ` IS NOT NULL THEN 'm' || ` + pad("coalesce(nullif(regexp_extract("+file+", '([0-9]+)$', 1), ''), '0')", 12) + ` || ` +
		pad("coalesce(json_extract_string("+src+", '$.pos'), '0')", 20) + ` || ` + pad("coalesce(json_extract_string("+src+", '$.row'), '0')", 8) + `
    WHEN ` + ts + ` IS NOT NULL THEN 't' || ` + pad(ts, 20) + `
  END`
	keySrc := "CASE WHEN op = 'd' THEN before ELSE after END"
	return `SELECT
  CASE WHEN op <> 't' THEN ` + keyDoc(s.Key, keySrc) + `::VARCHAR END AS _key, CASE WHEN op <> 't' THEN ` + keyDoc(s.Key, keySrc) + ` END AS _key_doc,
  CASE op WHEN 'd' THEN 'delete' WHEN 't' THEN 'truncate' ELSE 'upsert' END AS _op,
  _position, _updated_at,
  CASE WHEN op = 'd' THEN before WHEN op <> 't' THEN after END AS _doc,
  CAST(NULL AS JSON) AS _patch,
  coalesce(op NOT IN ('d', 't') AND contains(CAST(after AS VARCHAR), '"__debezium_unavailable_value"'), false) AS _partial,
  _file,
  CASE
    WHEN e IS NULL OR json_type(e) <> 'OBJECT' THEN 'not a Debezium change event (a JSON object with op, before, after, source)'
    WHEN op IS NULL THEN 'not a Debezium change event: it has no op'
    WHEN op NOT IN ('c', 'u', 'd', 'r', 't') THEN 'unknown Debezium op ' || op || ': strata reads c, u, d, r and t'
    WHEN op IN ('c', 'u', 'r') AND (after IS NULL OR json_type(after) <> 'OBJECT') THEN 'a ' || op || ' event without an after document'
    WHEN op = 'd' AND (before IS NULL OR json_type(before) <> 'OBJECT') THEN 'a delete without a before document (set REPLICA IDENTITY so deletes carry the key)'
    WHEN op <> 't' AND ` + missingKey(s.Key, keySrc) + ` THEN 'the event has no value for the key ` + strings.Join(s.Key, ", ") + `'
    WHEN _position IS NULL THEN 'the event has no source position (source.lsn, source.file/pos or ts_ms, as non-negative whole numbers)'
  END AS _bad,
  CAST(line AS VARCHAR) AS _line
FROM (
  SELECT *, json_extract_string(e, '$.op') AS op, ` + fix(after) + ` AS after, ` + fix(before) + ` AS before,
    ` + position + ` AS _position,
    try(to_timestamp(TRY_CAST(` + ts + ` AS DOUBLE) / 1000)::TIMESTAMP) AS _updated_at
  FROM (
    SELECT CASE WHEN json_type(json, '$.payload') IS NOT NULL AND json_exists(json, '$.schema') THEN json_extract(json, '$.payload') ELSE json END AS e,
      filename AS _file, json AS line
    FROM ` + read + `
    WHERE json IS NOT NULL
  ) AS lines
  WHERE e IS NOT NULL AND json_type(e) <> 'NULL'
) AS envelopes`
}

// missingKey is true when a key field is absent or null in the document.
func missingKey(keys []string, doc string) string {
	var parts []string
	for _, k := range keys {
		parts = append(parts, "json_type("+doc+", "+duckdb.Literal("$."+jsonKey(k))+") IS NULL OR json_type("+doc+", "+duckdb.Literal("$."+jsonKey(k))+") = 'NULL'")
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// mongoSQL normalises MongoDB change-stream events. The position is the event's
// clusterTime (seconds and increment); updates without a full document are patches of
// the stored one (updatedFields, removedFields, truncatedArrays).
func mongoSQL(s *models.CDCSpec, read string) string {
	ct := "json_extract(e, '$.clusterTime')"
	// clusterTime, then the resume token: the events of one transaction share a clusterTime,
	// and their tokens (comparable, as MongoDB documents) order them
	position := `CASE
    WHEN json_type(` + ct + `, '$."$timestamp"') = 'OBJECT' THEN 'c' || ` + pad("json_extract_string("+ct+", '$.\"$timestamp\".t')", 12) + ` || ` + pad("json_extract_string("+ct+", '$.\"$timestamp\".i')", 10) + `
    WHEN json_type(` + ct + `) IN ('BIGINT', 'UBIGINT') THEN 'c' || ` + pad("json_extract_string(e, '$.clusterTime')", 12) + ` || '0000000000'
  END || coalesce('|' || json_extract_string(e, '$._id._data'), '')`
	wall := `CASE
    WHEN json_type(e, '$.wallTime."$date"') IN ('BIGINT', 'UBIGINT') THEN try(make_timestamp(TRY_CAST(json_extract_string(e, '$.wallTime."$date"') AS BIGINT) * 1000))
    WHEN json_type(e, '$.wallTime."$date"') = 'OBJECT' THEN try(make_timestamp(TRY_CAST(json_extract_string(e, '$.wallTime."$date"."$numberLong"') AS BIGINT) * 1000))
    WHEN json_type(e, '$.wallTime."$date"') = 'VARCHAR' THEN TRY_CAST(json_extract_string(e, '$.wallTime."$date"') AS TIMESTAMPTZ)::TIMESTAMP
    ELSE try(to_timestamp(TRY_CAST(coalesce(json_extract_string(` + ct + `, '$."$timestamp".t'), json_extract_string(e, '$.clusterTime')) AS DOUBLE))::TIMESTAMP)
  END`
	return `SELECT
  CAST(json_object('_id', json_extract(e, '$.documentKey._id')) AS VARCHAR) AS _key,
  json_object('_id', json_extract(e, '$.documentKey._id')) AS _key_doc,
  CASE WHEN op = 'delete' THEN 'delete' WHEN op = 'update' AND json_type(e, '$.fullDocument') IS DISTINCT FROM 'OBJECT' THEN 'patch' ELSE 'upsert' END AS _op,
  _position, _updated_at,
  CASE WHEN json_type(e, '$.fullDocument') = 'OBJECT' THEN json_extract(e, '$.fullDocument') END AS _doc,
  CASE WHEN op = 'update' THEN json_object('set', coalesce(json_extract(e, '$.updateDescription.updatedFields'), '{}'::JSON),
    'unset', coalesce(json_extract(e, '$.updateDescription.removedFields'), '[]'::JSON),
    'truncated', coalesce(json_extract(e, '$.updateDescription.truncatedArrays'), '[]'::JSON)) END AS _patch,
  op = 'update' AND json_type(e, '$.fullDocument') IS DISTINCT FROM 'OBJECT' AS _partial,
  _file,
  CASE
    WHEN e IS NULL OR json_type(e) <> 'OBJECT' THEN 'not a MongoDB change event (a JSON object with operationType, documentKey, clusterTime)'
    WHEN op IS NULL THEN 'not a MongoDB change event: it has no operationType'
    WHEN op NOT IN ('insert', 'update', 'replace', 'delete') THEN 'unknown operationType ' || op || ': strata reads insert, update, replace and delete (and skips DDL events)'
    WHEN json_type(e, '$.documentKey._id') IS NULL THEN 'a ' || op || ' event without documentKey._id'
    WHEN op IN ('insert', 'replace') AND json_type(e, '$.fullDocument') IS DISTINCT FROM 'OBJECT' THEN 'an ' || op || ' event without fullDocument'
    WHEN op = 'update' AND json_type(e, '$.fullDocument') IS DISTINCT FROM 'OBJECT' AND json_type(e, '$.updateDescription') IS DISTINCT FROM 'OBJECT' THEN 'an update without updateDescription or fullDocument'
    WHEN _position IS NULL THEN 'the event has no clusterTime'
  END AS _bad,
  CAST(line AS VARCHAR) AS _line
FROM (
  SELECT *, json_extract_string(e, '$.operationType') AS op, ` + position + ` AS _position, ` + wall + ` AS _updated_at
  FROM (SELECT json AS e, filename AS _file, json AS line FROM ` + read + ` WHERE json IS NOT NULL) AS lines
) AS events
-- DDL events (drop, rename, dropDatabase, invalidate, create, …) change no document
WHERE op IS NULL OR op NOT IN ('drop', 'rename', 'dropDatabase', 'invalidate', 'create', 'createIndexes', 'dropIndexes', 'modify',
  'shardCollection', 'refineCollectionShardKey', 'reshardCollection', 'createSearchIndexes', 'dropSearchIndexes', 'updateSearchIndex')`
}

// b64DecimalMacro decodes Debezium's precise decimals: base64 of the unscaled value's
// big-endian two's complement bytes, with the scale from the event's schema.
const b64DecimalMacro = `CREATE OR REPLACE TEMP MACRO strata_b64_decimal(s, scale) AS (
  WITH d AS (SELECT hex(from_base64(s)) AS h),
  u AS (SELECT h, list_reduce([0::HUGEINT] || list_transform(range(1, length(h) + 1), i -> (instr('0123456789ABCDEF', h[i]) - 1)::HUGEINT), (a, x) -> a * 16 + x) AS v FROM d),
  n AS (SELECT CASE WHEN length(h) > 0 AND instr('89ABCDEF', h[1]) > 0 THEN v - (1::HUGEINT << (4 * length(h))) ELSE v END AS v FROM u),
  t AS (SELECT v, lpad(CAST(abs(v) AS VARCHAR), CAST(greatest(length(CAST(abs(v) AS VARCHAR)), scale + 1) AS INTEGER), '0') AS digits FROM n)
  SELECT CASE WHEN s IS NULL THEN NULL ELSE
    (CASE WHEN v < 0 THEN '-' ELSE '' END) || CASE WHEN scale = 0 THEN digits ELSE digits[1:length(digits) - scale] || '.' || digits[length(digits) - scale + 1:] END END
  FROM t
)`

// connectField is how a Kafka Connect logical type in the event schema is read: a decimal
// sent as bytes (with its scale), or one of Debezium's temporal integers.
type connectField struct {
	kind  string // decimal, ts_ms, ts_us, ts_ns, date, time_ms, time_us, time_ns
	scale int
}

// connectKinds maps Kafka Connect / Debezium logical type names to how strata reads them.
var connectKinds = map[string]string{
	"io.debezium.time.Timestamp": "ts_ms", "org.apache.kafka.connect.data.Timestamp": "ts_ms",
	"io.debezium.time.MicroTimestamp": "ts_us", "io.debezium.time.NanoTimestamp": "ts_ns",
	"io.debezium.time.Date": "date", "org.apache.kafka.connect.data.Date": "date",
	"io.debezium.time.Time": "time_ms", "org.apache.kafka.connect.data.Time": "time_ms",
	"io.debezium.time.MicroTime": "time_us", "io.debezium.time.NanoTime": "time_ns",
}

func hasDecimal(fs map[string]connectField) bool {
	for _, f := range fs {
		if f.kind == "decimal" {
			return true
		}
	}
	return false
}

// debeziumFields finds, in the schema of the files' first wrapped events, the fields of
// after/before with a logical type strata converts: decimals sent as bytes, with their
// scale, and Debezium's temporal integers (read by their unit, not guessed by size).
func debeziumFields(s *models.CDCSpec, files []string) map[string]connectField {
	if s.Format != models.FormatDebezium {
		return nil
	}
	out := map[string]connectField{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<30)
		for i := 0; i < 1000 && sc.Scan(); i++ {
			var env struct {
				Schema *connectSchema `json:"schema"`
			}
			if json.Unmarshal(sc.Bytes(), &env) != nil || env.Schema == nil {
				continue
			}
			for _, part := range env.Schema.Fields {
				if part.Field != "after" && part.Field != "before" {
					continue
				}
				for _, col := range part.Fields {
					switch {
					case col.Name == "org.apache.kafka.connect.data.Decimal" && col.Type == "bytes":
						scale, _ := strconv.Atoi(fmt.Sprint(col.Parameters["scale"]))
						out[col.Field] = connectField{kind: "decimal", scale: scale}
					case connectKinds[col.Name] != "" && col.Type != "string":
						out[col.Field] = connectField{kind: connectKinds[col.Name]}
					}
				}
			}
			break
		}
		fh.Close()
	}
	return out
}

// connectSchema is the part of a Kafka Connect schema strata reads.
type connectSchema struct {
	Type       string           `json:"type"`
	Name       string           `json:"name"`
	Field      string           `json:"field"`
	Fields     []*connectSchema `json:"fields"`
	Parameters map[string]any   `json:"parameters"`
}
