package engine_test

import (
	"bufio"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/internal/testgraph"
)

var cdcBenchRows = flag.Int("cdc-rows", 5_000_000, "rows of the raw table in the CDC benchmarks")
var cdcBenchEvents = flag.Int("cdc-events", 1_000_000, "events of the merged window in BenchmarkCDCMerge")

// handMerge is the same dedupe + MERGE written by hand, as plain DuckDB SQL.
const handMerge = `MERGE INTO main.hand_raw AS t USING (
  SELECT * FROM main.o__extract WHERE _window = TIMESTAMP '2024-01-01 00:00:00'
  QUALIFY row_number() OVER (PARTITION BY _key ORDER BY _position DESC) = 1
) AS s ON t._key = s._key
WHEN MATCHED AND s._position > t._position THEN UPDATE SET _key_doc = s._key_doc,
  _doc = CASE WHEN s._op = 'delete' THEN t._doc ELSE s._doc END, _deleted = s._op = 'delete', _position = s._position, _updated_at = s._updated_at
WHEN NOT MATCHED THEN INSERT (_key, _key_doc, _doc, _deleted, _position, _updated_at)
  VALUES (s._key, s._key_doc, s._doc, s._op = 'delete', s._position, s._updated_at)`

// cdcBenchSetup writes a CDC project whose raw table holds rows keys and whose first
// window's extract holds events events: 30% updates of stored keys, 5% deletes, 3%
// duplicates, the rest new keys.
func cdcBenchSetup(b *testing.B, rows, events int) (string, *sql.DB) {
	dir := cdcOne(b, "", nil)
	ctx := context.Background()
	p, _ := testgraph.Load(b, dir)
	w, err := engine.Open(ctx, p) // creates _strata
	if err != nil {
		b.Fatal(err)
	}
	w.Close()
	db, err := duckdb.Open(ctx, filepath.Join(dir, "test.duckdb"), dir)
	if err != nil {
		b.Fatal(err)
	}
	upd, del, dup := events*30/100, events*5/100, events*3/100
	ins := events - upd - del - dup
	doc := `json_object('id', i, 'v', 'value ' || i, 'amount', (i % 1000) / 10.0, 'status', 'new')`
	if _, err := db.Exec(`CREATE TABLE main.pristine AS SELECT json_object('id', i)::VARCHAR AS _key, json_object('id', i) AS _key_doc, ` + doc + ` AS _doc,
		false AS _deleted, 'p' || lpad(i::VARCHAR, 20, '0') AS _position, TIMESTAMP '2023-12-31 00:00:00' AS _updated_at FROM range(` + strconv.Itoa(rows) + `) r(i)`); err != nil {
		b.Fatal(err)
	}
	// the window's change events, as a Debezium connector lands them
	if err := os.MkdirAll(filepath.Join(dir, "land", "2024-01-01T00"), 0o755); err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "land", "2024-01-01T00", "events.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	out := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewSource(1))
	var lines []string
	for n := 0; n < upd+del+ins; n++ {
		lsn := 100000000 + n
		var line string
		switch {
		case n < upd:
			k := rng.Intn(rows)
			line = fmt.Sprintf(`{"op":"u","before":null,"after":{"id":%d,"v":"changed %d","amount":%d.5,"status":"paid"},"source":{"lsn":%d},"ts_ms":1704067800000}`, k, n, n%1000, lsn)
		case n < upd+del:
			line = fmt.Sprintf(`{"op":"d","before":{"id":%d},"after":null,"source":{"lsn":%d},"ts_ms":1704067800000}`, rng.Intn(rows), lsn)
		default:
			k := rows + n
			line = fmt.Sprintf(`{"op":"c","before":null,"after":{"id":%d,"v":"new %d","amount":%d.5,"status":"new"},"source":{"lsn":%d},"ts_ms":1704067800000}`, k, n, n%1000, lsn)
		}
		if len(lines) < dup {
			lines = append(lines, line)
		}
		out.WriteString(line + "\n")
	}
	for _, l := range lines { // duplicates: events delivered again
		out.WriteString(l + "\n")
	}
	if err := out.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	db.Close()
	// strata extracts the window once; the benchmark times the merge
	w, err = engine.Open(ctx, p)
	if err != nil {
		b.Fatal(err)
	}
	_, g := testgraph.Load(b, dir)
	from, to, end, _ := engine.ParseRange("2024-01-01T00", "2024-01-01T00")
	plan, err := engine.PlanBackfill(ctx, w, g, engine.BackfillOptions{Select: []string{"o__extract"}, From: from, To: to, ToEnd: end}, "")
	if err != nil {
		b.Fatal(err)
	}
	began := time.Now()
	res, err := engine.Run(ctx, w, plan, engine.RunOptions{Threads: 2})
	if err != nil || res.Failed() {
		b.Fatalf("extract: %v %v", err, res)
	}
	b.ReportMetric(time.Since(began).Seconds(), "extract-s")
	w.Close()
	if db, err = duckdb.Open(ctx, filepath.Join(dir, "test.duckdb"), dir); err != nil {
		b.Fatal(err)
	}
	return dir, db
}

// BenchmarkCDCMerge times strata's merge stage of a 1,000,000-event window into a
// 5,000,000-row raw table against the same dedupe + MERGE by hand, three rounds each on a
// fresh copy of the table, and reports the ratio of the medians.
func BenchmarkCDCMerge(b *testing.B) {
	dir, db := cdcBenchSetup(b, *cdcBenchRows, *cdcBenchEvents)
	defer db.Close()
	ctx := context.Background()
	reset := func(table string) {
		if _, err := db.Exec("CREATE OR REPLACE TABLE main." + table + " AS SELECT * FROM main.pristine"); err != nil {
			b.Fatal(err)
		}
		if _, err := db.Exec("CHECKPOINT"); err != nil {
			b.Fatal(err)
		}
	}
	var strata, hand []time.Duration
	for round := 0; round < 3; round++ {
		reset("hand_raw")
		began := time.Now()
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(handMerge); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		hand = append(hand, time.Since(began))

		reset("o__raw")
		db.Close()
		p, g := testgraph.Load(b, dir)
		w, err := engine.Open(ctx, p)
		if err != nil {
			b.Fatal(err)
		}
		from, to, end, _ := engine.ParseRange("2024-01-01T00", "2024-01-01T00")
		plan, err := engine.PlanBackfill(ctx, w, g, engine.BackfillOptions{Select: []string{"o__raw"}, From: from, To: to, ToEnd: end, Reprocess: "all"}, "")
		if err != nil {
			b.Fatal(err)
		}
		began = time.Now()
		res, err := engine.Run(ctx, w, plan, engine.RunOptions{Threads: 1})
		strata = append(strata, time.Since(began))
		if err != nil || res.Failed() {
			b.Fatalf("merge: %v %v", err, res.Tasks[0].Message)
		}
		w.Close()
		if db, err = duckdb.Open(ctx, filepath.Join(dir, "test.duckdb"), dir); err != nil {
			b.Fatal(err)
		}
	}
	// both merges must have written the same table
	var diff int64
	if err := db.QueryRow(`SELECT count(*) FROM ((SELECT * FROM main.o__raw EXCEPT SELECT * FROM main.hand_raw) UNION ALL (SELECT * FROM main.hand_raw EXCEPT SELECT * FROM main.o__raw))`).Scan(&diff); err != nil || diff != 0 {
		b.Fatalf("strata's merge and the hand-written one differ in %d rows (%v)", diff, err)
	}
	ms, mh := median(strata), median(hand)
	b.ReportMetric(ms.Seconds(), "strata-s")
	b.ReportMetric(mh.Seconds(), "direct-s")
	b.ReportMetric(ms.Seconds()/mh.Seconds(), "ratio")
	b.ReportMetric(float64(maxRSS())/(1<<20), "peak-rss-MB")
}

// BenchmarkCDCVerify times strata verify of a 5,000,000-row typed table against its
// Parquet snapshot, as a ratio to one full scan of both (a count and a checksum each).
func BenchmarkCDCVerify(b *testing.B) {
	dir := cdcOne(b, "        verify: {snapshot: 'snap/*.parquet'}", nil)
	ctx := context.Background()
	p, _ := testgraph.Load(b, dir)
	w, err := engine.Open(ctx, p)
	if err != nil {
		b.Fatal(err)
	}
	w.Close()
	db, err := duckdb.Open(ctx, filepath.Join(dir, "test.duckdb"), dir)
	if err != nil {
		b.Fatal(err)
	}
	n := strconv.Itoa(*cdcBenchRows)
	for _, q := range []string{
		`CREATE TABLE main.o AS SELECT i::BIGINT AS id, 'value ' || i AS v FROM range(` + n + `) r(i)`,
		`COPY (SELECT i::BIGINT AS id, CASE WHEN i % 1000000 = 17 THEN 'drifted' ELSE 'value ' || i END AS v FROM range(` + n + `) r(i)) TO '` + filepath.Join(dir, "snap", "part-0.parquet") + `'`,
	} {
		if err := os.MkdirAll(filepath.Join(dir, "snap"), 0o755); err != nil {
			b.Fatal(err)
		}
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	var scans, verifies []time.Duration
	for round := 0; round < 3; round++ {
		began := time.Now()
		var c1, c2 int64
		var h1, h2 any
		if err := db.QueryRow(`SELECT count(*), bit_xor(hash(id, v)) FROM main.o`).Scan(&c1, &h1); err != nil {
			b.Fatal(err)
		}
		if err := db.QueryRow(`SELECT count(*), bit_xor(hash(id, v)) FROM read_parquet('snap/*.parquet')`).Scan(&c2, &h2); err != nil {
			b.Fatal(err)
		}
		scans = append(scans, time.Since(began))
		db.Close()
		p, _ := testgraph.Load(b, dir)
		w, err := engine.Open(ctx, p)
		if err != nil {
			b.Fatal(err)
		}
		began = time.Now()
		res, err := w.Verify(ctx, p, "o", false)
		verifies = append(verifies, time.Since(began))
		if err != nil {
			b.Fatal(err)
		}
		if want := int64(*cdcBenchRows / 1000000); res.Different != want && *cdcBenchRows >= 1000000 {
			b.Fatalf("verify found %d different keys, want %d", res.Different, want)
		}
		w.Close()
		if db, err = duckdb.Open(ctx, filepath.Join(dir, "test.duckdb"), dir); err != nil {
			b.Fatal(err)
		}
	}
	db.Close()
	mv, msc := median(verifies), median(scans)
	b.ReportMetric(mv.Seconds(), "verify-s")
	b.ReportMetric(msc.Seconds(), "scan-both-s")
	b.ReportMetric(mv.Seconds()/msc.Seconds(), "ratio")
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// maxRSS is the process's peak resident memory, in bytes.
func maxRSS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Maxrss * 1024
}
