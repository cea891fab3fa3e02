package engine_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testproj"
)

// FuzzCDCExtract puts any one line between two good Debezium events: the window either
// applies every event (never a NULL row) or stops naming line 2 of the file, with nothing
// applied.
func FuzzCDCExtract(f *testing.F) {
	for _, s := range []string{
		`{"op":"c","after":{"id":3,"v":"x"},"source":{"lsn":5}}`, `null`, ``, `5`, `[]`, `{}`, `"text"`,
		`{"op":"c","after":{"id":3,`, `{"op":"d","before":{"id":1},"source":{"lsn":99}}`, `{"op":"u","after":{"id":null},"source":{"lsn":1}}`,
		`{"schema":{},"payload":null}`, `{"schema":{},"payload":{"op":"c","after":{"id":7},"ts_ms":3}}`, `{"op":"c","after":{"id":"abc"},"source":{"lsn":"x"}}`,
		`{"op":"c","after":{"id":1e400},"source":{"lsn":-1}}`, "{\"op\":\"c\",\"after\":{\"id\":3},\"source\":{\"lsn\":5}} trailing",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		dir := cdcOne(t, "", nil)
		fuzzExtract(t, dir, ev("c", 1, "a", 10), line, ev("c", 2, "b", 11), `'{"id":1}', '{"id":2}'`)
	})
}

// FuzzCDCExtractMongo is FuzzCDCExtract for MongoDB change events.
func FuzzCDCExtractMongo(f *testing.F) {
	for _, s := range []string{
		mongoEv("update", "b", `"updateDescription":{"updatedFields":{"a.b":1},"removedFields":["x"]}`, 3), `{"operationType":"drop"}`,
		`{"operationType":"insert","documentKey":{"_id":1}}`, `{"operationType":"update","documentKey":{"_id":1},"clusterTime":{"$timestamp":{"t":-1,"i":0}}}`,
		`{"operationType":"delete","documentKey":{"_id":{"$oid":"x"}},"clusterTime":7,"wallTime":{"$date":"nope"}}`, `{"operationType":5}`,
		`{"operationType":"replace","documentKey":{"_id":2},"fullDocument":[],"clusterTime":{"$timestamp":{"t":1,"i":1}}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		dir := testproj.Write(t, map[string]string{"models/o.yml": `models:
  - name: o
    config:
      materialized: cdc
      cdc: {format: mongodb, path: 'land/{{ ds }}T{{ hour }}/*.jsonl', key: [_id], start: '2024-01-01T00'}
    columns:
      - {name: _id, data_type: varchar}
      - {name: v, data_type: varchar}
`})
		fuzzExtract(t, dir, mongoEv("insert", "a", `"fullDocument":{"_id":"a","v":"1"}`, 1), line, mongoEv("insert", "b", `"fullDocument":{"_id":"b","v":"2"}`, 2), `'{"_id":"a"}', '{"_id":"b"}'`)
	})
}

func mongoEv(op, id, rest string, i int) string {
	return fmt.Sprintf(`{"operationType":%q,"documentKey":{"_id":%q},%s,"clusterTime":{"$timestamp":{"t":1704067300,"i":%d}},"wallTime":{"$date":1704067300000}}`, op, id, rest, i)
}

// fuzzExtract extracts a file of good, line, good2 and checks the window applied all of
// it or nothing, naming line 2.
func fuzzExtract(t *testing.T, dir, good, line, good2, goodKeys string) {
	line = strings.NewReplacer("\n", " ", "\r", " ").Replace(line)
	file := "land/2024-01-01T00/a.jsonl"
	testproj.WriteFiles(t, dir, map[string]string{file: good + "\n" + line + "\n" + good2 + "\n"})
	e := open(t, dir)
	res, w := e.backfill("2024-01-01T00", "2024-01-01T00", "", false, "o__extract"), e.w
	task := res.Tasks[0]
	if task.Status == engine.StatusSuccess {
		if n := queryInt(t, w, "SELECT count(*) FROM main.o__extract WHERE _op IS NULL OR _position IS NULL OR (_key IS NULL AND _op <> 'truncate')"); n != 0 {
			t.Fatalf("line %q: %d rows without op, key or position", line, n)
		}
		if n := queryInt(t, w, "SELECT count(*) FROM main.o__extract WHERE _key IN ("+goodKeys+")"); n < 2 {
			t.Fatalf("line %q: the good events were lost (%d)", line, n)
		}
		return
	}
	var ee *engine.EventError
	if !errors.As(task.Err, &ee) || ee.File != file || ee.Line != 2 {
		t.Fatalf("line %q: %s (%T), want an event error at %s:2", line, task.Message, task.Err, file)
	}
	if n := queryInt(t, w, "SELECT count(*) FROM main.o__extract"); n != 0 {
		t.Fatalf("line %q: %d rows of a failed window applied", line, n)
	}
}
