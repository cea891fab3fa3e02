package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testproj"
)

// TestCDCMalformedLine: a bad line stops its window with the true file:line, nothing of
// the window is applied (never a NULL row), and fixing the file and rerunning finishes.
func TestCDCMalformedLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, bad, want string }{
		{"broken JSON", `{"op":"c","after":{"id":3,`, "malformed JSON"},
		{"not an event", `{"hello":"world"}`, "no op"},
		{"unknown op", `{"op":"x","after":{"id":3},"source":{"lsn":5}}`, "unknown Debezium op x"},
		{"no key", `{"op":"c","after":{"v":"a"},"source":{"lsn":5}}`, "no value for the key id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := "land/2024-01-01T00/a.jsonl"
			dir := cdcOne(t, "", map[string]string{file: ev("c", 1, "a", 10) + "\n\n" + ev("c", 2, "b", 11) + "\n" + tc.bad + "\n" + ev("u", 1, "z", 12) + "\n"})
			res, w := runCDC(t, dir, "2024-01-01T00")
			st := statuses(res)
			if st["o__extract"] != engine.StatusError {
				t.Fatalf("extract: %v", st)
			}
			msg := res.Tasks[0].Message
			var ee *engine.EventError
			if !errors.As(res.Tasks[0].Err, &ee) || ee.Line != 4 || ee.File != file || !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q (%T): want %s:4 and %q", msg, res.Tasks[0].Err, file, tc.want)
			}
			if n := queryInt(t, w, "SELECT count(*) FROM main.o__extract"); n != 0 {
				t.Errorf("%d rows of the bad window were applied", n)
			}
			w.Close()
			testproj.WriteFiles(t, dir, map[string]string{file: ev("c", 1, "a", 10) + "\nnull\n" + ev("c", 2, "b", 11) + "\n" + ev("u", 1, "z", 12) + "\n"})
			res, w = runCDC(t, dir, "2024-01-01T00")
			if res.Failed() {
				t.Fatalf("rerun after the fix: %v", statuses(res))
			}
			wantRows(t, w, "SELECT id, v FROM main.o ORDER BY id", "[[1 z] [2 b]]")
		})
	}
}

// TestCDCSchemaChange: a new field is a new column (recorded with its window), widened as
// later values need; on_schema_change: fail names the field and its first line.
func TestCDCSchemaChange(t *testing.T) {
	t.Parallel()
	line := func(id int, extra string, lsn int) string {
		return fmt.Sprintf(`{"op":"c","after":{"id":%d,"v":"x"%s},"source":{"lsn":%d},"ts_ms":1}`, id, extra, lsn)
	}
	files := map[string]string{
		"land/2024-01-01T00/a.jsonl": line(1, "", 1) + "\n",
		"land/2024-01-01T01/a.jsonl": line(2, "", 2) + "\n" + line(3, `,"n":5`, 3) + "\n",
		"land/2024-01-01T02/a.jsonl": line(4, `,"n":2.5`, 4) + "\n",
		"land/2024-01-01T03/a.jsonl": line(5, `,"n":"many"`, 5) + "\n",
	}
	dir := cdcOne(t, "", files)
	res, w := runCDC(t, dir, "2024-01-01T03")
	if res.Failed() {
		for _, tk := range res.Tasks {
			t.Logf("%s %s: %s", tk.Label(), tk.Status, tk.Message)
		}
		t.FailNow()
	}
	wantRows(t, w, "SELECT id, n FROM main.o ORDER BY id", "[[1 <nil>] [2 <nil>] [3 5] [4 2.5] [5 many]]")
	wantRows(t, w, "SELECT data_type, strftime(window_start, '%H') FROM _strata.cdc_columns WHERE column_name = 'n' ORDER BY added_at", "[[INTEGER 01] [DOUBLE 02] [VARCHAR 03]]")
	dir = cdcOne(t, "        on_schema_change: fail", files)
	res, _ = runCDC(t, dir, "2024-01-01T03")
	var msg string
	for _, tk := range res.Tasks {
		if tk.Name == "o" && tk.Status == engine.StatusError {
			msg = tk.Message
		}
	}
	if !strings.Contains(msg, "land/2024-01-01T01/a.jsonl:2") || !strings.Contains(msg, `new field "n"`) {
		t.Errorf("on_schema_change: fail said %q", msg)
	}
}

// TestCDCDebeziumFlavours: MySQL binlog positions order events across files whatever
// their order; precise decimals arrive as base64 bytes with the scale in the schema.
func TestCDCDebeziumFlavours(t *testing.T) {
	t.Parallel()
	mysql := func(id int, v string, file string, pos, row int) string {
		return fmt.Sprintf(`{"op":"u","after":{"id":%d,"v":%q},"source":{"file":%q,"pos":%d,"row":%d},"ts_ms":1}`, id, v, file, pos, row)
	}
	schema := `{"type":"struct","fields":[{"type":"struct","field":"after","fields":[{"type":"int64","field":"id"},{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"},"field":"amt"}]}]}`
	dir := cdcOne(t, "", map[string]string{
		"land/2024-01-01T00/b.jsonl": mysql(1, "first", "mysql-bin.000009", 900, 0) + "\n" + mysql(1, "third", "mysql-bin.000010", 4, 1) + "\n",
		"land/2024-01-01T00/a.jsonl": mysql(1, "second", "mysql-bin.000010", 4, 0) + "\n" +
			`{"schema":` + schema + `,"payload":{"op":"c","after":{"id":2,"v":"d","amt":"AJY="},"source":{"file":"mysql-bin.000001","pos":1,"row":0},"ts_ms":1}}` + "\n" +
			`{"schema":` + schema + `,"payload":{"op":"c","after":{"id":3,"v":"d","amt":"/2o="},"source":{"file":"mysql-bin.000001","pos":2,"row":0},"ts_ms":1}}` + "\n" +
			`{"schema":` + schema + `,"payload":{"op":"c","after":{"id":4,"v":"d","amt":"EtaH"},"source":{"file":"mysql-bin.000001","pos":3,"row":0},"ts_ms":1}}` + "\n",
	})
	res, w := runCDC(t, dir, "2024-01-01T00")
	if res.Failed() {
		t.Fatalf("run: %v %v", statuses(res), res.Tasks)
	}
	wantRows(t, w, "SELECT id, v, CAST(n AS VARCHAR) FROM (SELECT *, amt AS n FROM main.o) ORDER BY id", "[[1 third <nil>] [2 d 1.50] [3 d -1.50] [4 d 12345.67]]")
}

// TestCDCTruncateAndSoftDelete: a truncate deletes what came before it; with soft_delete
// deleted keys stay, flagged; metadata columns say where each row came from.
func TestCDCTruncateAndSoftDelete(t *testing.T) {
	t.Parallel()
	dir := cdcOne(t, "        soft_delete: true\n        metadata_columns: true", map[string]string{
		"land/2024-01-01T00/a.jsonl": ev("c", 1, "a", 10) + "\n" + ev("c", 2, "b", 11) + "\n",
		// within the window, what comes before the truncate never counts
		"land/2024-01-01T01/a.jsonl": ev("c", 5, "e", 19) + "\n" + `{"op":"t","before":null,"after":null,"source":{"lsn":20},"ts_ms":1704067200000}` + "\n" + ev("c", 3, "c", 30) + "\n",
		"land/2024-01-01T02/a.jsonl": ev("d", 3, "", 40) + "\nnull\n" + ev("c", 4, "d", 41) + "\n",
	})
	res, w := runCDC(t, dir, "2024-01-01T02")
	if res.Failed() {
		t.Fatalf("run: %v", statuses(res))
	}
	got := queryRows(t, w, "SELECT id, v, _deleted, _cdc_position FROM main.o ORDER BY id")
	want := "[[1 a true p00000000000000000020] [2 b true p00000000000000000020] [3 c true p00000000000000000040] [4 d false p00000000000000000041]]"
	if fmt.Sprint(got) != want {
		t.Errorf("typed rows\n got %v\nwant %s", got, want)
	}
}

// TestCDCQuietHour: with missing_files: empty a window without files has no events, so
// the pipeline goes on; by default it waits for them.
func TestCDCQuietHour(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"land/2024-01-01T00/a.jsonl": ev("c", 1, "a", 10) + "\n",
		"land/2024-01-01T02/a.jsonl": ev("u", 1, "c", 30) + "\n",
	}
	res, _ := runCDC(t, cdcOne(t, "", files), "2024-01-01T02")
	if st := res.Tasks; !res.Failed() || statuses(res)["o__extract"] == engine.StatusError {
		t.Fatalf("by default a window without files waits: %v", st)
	}
	res, w := runCDC(t, cdcOne(t, "        missing_files: empty", files), "2024-01-01T02")
	if res.Failed() {
		t.Fatalf("missing_files: empty: %v", statuses(res))
	}
	wantRows(t, w, "SELECT id, v FROM main.o", "[[1 c]]")
}

// TestCDCScenarios: one small stream per kind of trouble, with the source's final state
// written out by hand.
func TestCDCScenarios(t *testing.T) {
	t.Parallel()
	toast := func(id int, v string, lsn int) string {
		return fmt.Sprintf(`{"op":"u","after":{"id":%d,"v":%q,"note":"__debezium_unavailable_value"},"source":{"lsn":%d},"ts_ms":1}`, id, v, lsn)
	}
	withNote := func(id int, v, note string, lsn int) string {
		return fmt.Sprintf(`{"op":"c","after":{"id":%d,"v":%q,"note":%q},"source":{"lsn":%d},"ts_ms":1}`, id, v, note, lsn)
	}
	snap := func(id int, v string, lsn int) string {
		return fmt.Sprintf(`{"op":"r","after":{"id":%d,"v":%q},"source":{"lsn":%d,"snapshot":"true"},"ts_ms":1}`, id, v, lsn)
	}
	h0, h1 := "land/2024-01-01T00/", "land/2024-01-01T01/"
	for _, tc := range []struct {
		name  string
		files map[string][]string
		query string
		want  string
	}{
		{"duplicate delivery", map[string][]string{h0 + "a.jsonl": {ev("c", 1, "a", 10), ev("c", 1, "a", 10), ev("u", 1, "b", 12)}, h0 + "b.jsonl": {ev("u", 1, "b", 12)}},
			"SELECT id, v FROM main.o", "[[1 b]]"},
		{"out of order across files", map[string][]string{h0 + "a.jsonl": {ev("u", 1, "c", 30)}, h0 + "b.jsonl": {ev("u", 1, "b", 20), ev("c", 1, "a", 10)}},
			"SELECT id, v FROM main.o", "[[1 c]]"},
		{"delete then re-insert", map[string][]string{h0 + "z.jsonl": {ev("c", 1, "a", 10), ev("d", 1, "", 20)}, h0 + "a.jsonl": {ev("c", 1, "again", 30)}},
			"SELECT id, v FROM main.o", "[[1 again]]"},
		{"tombstone after a delete", map[string][]string{h0 + "a.jsonl": {ev("c", 1, "a", 10), ev("c", 2, "b", 11), ev("d", 1, "", 20), "null"}},
			"SELECT id, v FROM main.o", "[[2 b]]"},
		{"primary-key change", map[string][]string{h0 + "a.jsonl": {ev("c", 1, "a", 10)}, h1 + "a.jsonl": {ev("d", 1, "", 20), ev("c", 7, "a", 21)}},
			"SELECT id, v FROM main.o", "[[7 a]]"},
		{"TOAST placeholder keeps the stored value", map[string][]string{h0 + "a.jsonl": {withNote(1, "a", "long text", 10)}, h1 + "a.jsonl": {toast(1, "b", 20), toast(1, "c", 21)}},
			"SELECT id, v, note FROM main.o", "[[1 c long text]]"},
		{"TOAST placeholder in the same window", map[string][]string{h0 + "a.jsonl": {toast(1, "b", 20), withNote(1, "a", "long text", 10)}},
			"SELECT id, v, note FROM main.o", "[[1 b long text]]"},
		{"snapshot rows after newer streaming events", map[string][]string{h0 + "a.jsonl": {ev("c", 1, "a", 50), ev("u", 1, "b", 60)}, h1 + "a.jsonl": {snap(1, "a", 40), snap(2, "s", 40)}},
			"SELECT id, v FROM main.o", "[[1 b] [2 s]]"},
		{"late event in a later window", map[string][]string{h0 + "a.jsonl": {ev("c", 1, "a", 10), ev("c", 2, "b", 11)}, h1 + "a.jsonl": {ev("u", 1, "late", 15), ev("u", 2, "new", 90), ev("u", 2, "stale", 12)}},
			"SELECT id, v FROM main.o", "[[1 late] [2 new]]"},
		{"new field mid-stream", map[string][]string{h0 + "a.jsonl": {ev("c", 1, "a", 10)}, h1 + "a.jsonl": {withNote(2, "b", "hi", 20)}},
			"SELECT id, v, note FROM main.o", "[[1 a <nil>] [2 b hi]]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{}
			for f, lines := range tc.files {
				files[f] = strings.Join(lines, "\n") + "\n"
			}
			if _, ok := tc.files[h1+"a.jsonl"]; !ok {
				files[h1+"a.jsonl"] = "\n"
			}
			dir := cdcOne(t, "", files)
			res, w := runCDC(t, dir, "2024-01-01T01")
			if res.Failed() {
				t.Fatalf("run: %v", statuses(res))
			}
			got := fmt.Sprint(queryRows(t, w, tc.query+" ORDER BY id"))
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			// a replay of both windows changes nothing
			w.Close()
			e := open(t, dir)
			if res := e.backfill("2024-01-01T00", "2024-01-01T01", "all", false, "o"); res.Failed() || len(res.Tasks) != 6 {
				t.Fatalf("replay: %v", statuses(res))
			}
			if again := fmt.Sprint(queryRows(t, e.w, tc.query+" ORDER BY id")); again != tc.want {
				t.Errorf("after a replay: %s, want %s", again, tc.want)
			}
		})
	}
}

// TestCDCMongoPartialUpdates: updateDescription patches the stored document (dotted
// paths, removed fields, truncated arrays); Extended JSON values are typed.
func TestCDCMongoPartialUpdates(t *testing.T) {
	t.Parallel()
	dir := testproj.Write(t, map[string]string{
		"models/o.yml": `models:
  - name: o
    config:
      materialized: cdc
      cdc: {format: mongodb, path: 'land/{{ ds }}T{{ hour }}/*.jsonl', key: [_id], start: '2024-01-01T00'}
    columns:
      - {name: _id, data_type: varchar}
      - {name: name, data_type: varchar}
      - {name: points, data_type: bigint}
      - {name: joined, data_type: timestamp}
      - {name: price, data_type: 'decimal(10,2)'}
`,
		"land/2024-01-01T00/a.jsonl": mongoEv("insert", "x", `"fullDocument":{"_id":{"$oid":"65a1b2c3d4e5f60000000001"},"name":"Ann","points":{"$numberLong":"5"},"joined":{"$date":{"$numberLong":"1704067200000"}},"price":{"$numberDecimal":"9.90"},"addr":{"city":"Seoul","zip":"1"},"tags":["a","b","c"],"email":"a@x"}`, 1) + "\n",
		"land/2024-01-01T01/a.jsonl": strings.Join([]string{
			mongoEv("update", "x", `"updateDescription":{"updatedFields":{"addr.city":"Busan","points":{"$numberLong":"7"}},"removedFields":["email"],"truncatedArrays":[{"field":"tags","newSize":1}]}`, 3),
			mongoEv("update", "x", `"updateDescription":{"updatedFields":{"name":"Anne"},"removedFields":[]}`, 4),
		}, "\n") + "\n",
	})
	// the documentKey of these events is the _id as written in the insert
	for _, f := range []string{"land/2024-01-01T00/a.jsonl", "land/2024-01-01T01/a.jsonl"} {
		data, _ := os.ReadFile(filepath.Join(dir, f))
		fixed := strings.ReplaceAll(string(data), `"documentKey":{"_id":"x"}`, `"documentKey":{"_id":{"$oid":"65a1b2c3d4e5f60000000001"}}`)
		testproj.WriteFiles(t, dir, map[string]string{f: fixed})
	}
	e := open(t, dir)
	w := e.w
	if res := e.backfill("2024-01-01T00", "2024-01-01T01", "", false, "o"); res.Failed() {
		t.Fatalf("run: %v", statuses(res))
	}
	got := fmt.Sprint(queryRows(t, w, `SELECT _id, name, points, strftime(joined, '%Y-%m-%d %H:%M'), CAST(price AS VARCHAR), json_extract_string(addr, '$.city'), CAST(tags AS VARCHAR) FROM main.o`))
	want := `[[65a1b2c3d4e5f60000000001 Anne 7 2024-01-01 00:00 9.90 Busan ["a"]]]`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if n := queryInt(t, w, `SELECT count(*) FROM main.o__raw WHERE json_exists(_doc, '$.email')`); n != 0 {
		t.Errorf("removedFields left email in the document")
	}
}

// TestCDCDeclaredColumnsChange: a column declared after the table was built joins it at
// the next window (the typed table is rebuilt), NULL where the events lack it.
func TestCDCDeclaredColumnsChange(t *testing.T) {
	t.Parallel()
	dir := cdcOne(t, "", map[string]string{
		"land/2024-01-01T00/a.jsonl": ev("c", 1, "a", 10) + "\n",
		"land/2024-01-01T01/a.jsonl": ev("c", 2, "b", 20) + "\n",
	})
	if res, _ := runCDC(t, dir, "2024-01-01T00"); res.Failed() {
		t.Fatalf("first window: %v", statuses(res))
	}
	yml, _ := os.ReadFile(filepath.Join(dir, "models/o.yml"))
	testproj.WriteFiles(t, dir, map[string]string{"models/o.yml": string(yml) + "      - {name: z, data_type: integer}\n"})
	res, w := runCDC(t, dir, "2024-01-01T01")
	if res.Failed() {
		t.Fatalf("after declaring z: %v %v", statuses(res), res.Tasks)
	}
	if got := fmt.Sprint(queryRows(t, w, "SELECT id, v, z FROM main.o ORDER BY id")); got != "[[1 a <nil>] [2 b <nil>]]" {
		t.Errorf("typed rows %s", got)
	}
}

// TestCDCMongoTransaction: the events of one MongoDB transaction share a clusterTime;
// their resume tokens order them, so the last change of a document wins.
func TestCDCMongoTransaction(t *testing.T) {
	t.Parallel()
	evt := func(op, token, rest string) string {
		return `{"_id":{"_data":"` + token + `"},"operationType":"` + op + `","documentKey":{"_id":"a"},` + rest +
			`,"clusterTime":{"$timestamp":{"t":1704067300,"i":1}},"txnNumber":{"$numberLong":"1"},"lsid":{"id":"x"}}`
	}
	dir := testproj.Write(t, map[string]string{
		"models/o.yml": `models:
  - name: o
    config:
      materialized: cdc
      cdc: {format: mongodb, path: 'land/{{ ds }}T{{ hour }}/*.jsonl', key: [_id], start: '2024-01-01T00'}
    columns:
      - {name: _id, data_type: varchar}
      - {name: points, data_type: bigint}
`,
		// the file lists them in the wrong order; the tokens say insert, then update
		"land/2024-01-01T00/a.jsonl": evt("update", "8265A1B2C3000000012B042C0100296E5A1004AA", `"updateDescription":{"updatedFields":{"points":50},"removedFields":[]}`) + "\n" +
			evt("insert", "8265A1B2C3000000012B042C0100296E5A1004A9", `"fullDocument":{"_id":"a","points":1}`) + "\n" +
			`{"operationType":"dropIndexes","ns":{"db":"shop","coll":"o"},"clusterTime":{"$timestamp":{"t":1704067301,"i":1}}}` + "\n",
	})
	e := open(t, dir)
	if res := e.backfill("2024-01-01T00", "2024-01-01T00", "", false, "o"); res.Failed() {
		t.Fatalf("run: %v %v", statuses(res), res.Tasks)
	}
	if got := fmt.Sprint(queryRows(t, e.w, "SELECT _id, points FROM main.o")); got != "[[a 50]]" {
		t.Errorf("typed rows %s, want [[a 50]]", got)
	}
}

// TestCDCRepairOtherSpelling: a snapshot table spelling the columns otherwise (ID, V) is
// compared and repaired under the declared names.
func TestCDCRepairOtherSpelling(t *testing.T) {
	t.Parallel()
	dir := cdcOne(t, "        verify: {table: main.src_dump}", map[string]string{
		"land/2024-01-01T00/a.jsonl": ev("c", 1, "a", 10) + "\n" + ev("c", 2, "b", 11) + "\n",
		"models/src_dump.sql":        `{{ config(materialized='table') }} select * from (values (1, 'a'), (2, 'B'), (3, 'c')) as t("ID", "V")`,
	})
	e := open(t, dir)
	if res := e.backfill("2024-01-01T00", "2024-01-01T00", "", false, "o"); res.Failed() {
		t.Fatalf("run: %v", statuses(res))
	}
	if res, w := build(t, dir, engine.CommandRun, 1, "src_dump"); res.Failed() {
		t.Fatal("src_dump")
	} else {
		w.Close()
	}
	e.w.Close()
	e = open(t, dir)
	ctx := context.Background()
	v, err := e.w.Verify(ctx, e.g.Project, "o", true)
	if err != nil || v.Missing != 1 || v.Different != 1 || !v.Repaired {
		t.Fatalf("verify --repair: %+v %v", v, err)
	}
	if v, err = e.w.Verify(ctx, e.g.Project, "o", false); err != nil || v.Total() != 0 {
		t.Fatalf("after the repair: %+v %v", v, err)
	}
	if got := fmt.Sprint(queryRows(t, e.w, "SELECT id, v FROM main.o ORDER BY id")); got != "[[1 a] [2 B] [3 c]]" {
		t.Errorf("typed rows %s", got)
	}
}

// TestCDCDebeziumTemporals: with the schema wrapper, Debezium's temporal integers are read
// by their logical type (µs before 1973 included), not guessed by size.
func TestCDCDebeziumTemporals(t *testing.T) {
	t.Parallel()
	schema := `{"type":"struct","fields":[{"type":"struct","field":"after","fields":[{"type":"int64","field":"id"},` +
		`{"type":"int64","name":"io.debezium.time.MicroTimestamp","field":"born"},{"type":"int32","name":"io.debezium.time.Date","field":"day"},` +
		`{"type":"int64","name":"io.debezium.time.MicroTime","field":"at"},{"type":"int64","name":"io.debezium.time.Timestamp","field":"seen"}]}]}`
	dir := testproj.Write(t, map[string]string{
		"models/o.yml": `models:
  - name: o
    config:
      materialized: cdc
      cdc: {format: debezium, path: 'land/{{ ds }}T{{ hour }}/*.jsonl', key: [id], start: '2024-01-01T00'}
    columns:
      - {name: id, data_type: bigint}
      - {name: born, data_type: timestamp}
      - {name: day, data_type: date}
      - {name: at, data_type: time}
      - {name: seen, data_type: timestamp}
`,
		"land/2024-01-01T00/a.jsonl": `{"schema":` + schema + `,"payload":{"op":"c","after":{"id":1,"born":31536000000000,"day":19723,"at":37800000000,"seen":1704067200000},"source":{"lsn":1},"ts_ms":1}}` + "\n",
	})
	e := open(t, dir)
	if res := e.backfill("2024-01-01T00", "2024-01-01T00", "", false, "o"); res.Failed() {
		t.Fatalf("run: %v %v", statuses(res), res.Tasks)
	}
	got := fmt.Sprint(queryRows(t, e.w, `SELECT strftime(born, '%Y-%m-%d %H:%M'), CAST("day" AS VARCHAR), CAST("at" AS VARCHAR), strftime(seen, '%Y-%m-%d %H:%M') FROM main.o`))
	if want := "[[1971-01-01 00:00 2024-01-01 10:30:00 2024-01-01 00:00]]"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
