package engine_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/cdcgen"
	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/internal/testproj"
)

var cdcStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// cdcProject copies examples/cdc's project (not its generated files) into a temporary
// folder and plays the generator forward there.
func cdcProject(t testing.TB, hours int, seed int64) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"strata.yml", "models/cdc/orders.yml", "models/cdc/customers.yml"} {
		data, err := os.ReadFile(filepath.Join("..", "examples", "cdc", f))
		if err != nil {
			t.Fatal(err)
		}
		testproj.WriteFiles(t, dir, map[string]string{f: string(data)})
	}
	if _, err := cdcgen.Generate(cdcgen.Options{Dir: dir, Start: cdcStart, Hours: hours, PerHour: 40, Seed: seed}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// cdcBackfill runs every stage of both CDC models over [from, to] in one process.
func cdcBackfill(ctx context.Context, dir string, from, to string, reprocess string) (*engine.Result, error) {
	return loadAndBackfill(ctx, dir, []string{"orders__extract+", "customers__extract+"}, from, to, reprocess, 2)
}

// truthDiff compares the typed tables with the generator's record of the source's final
// state, in plain SQL: the rows one side has and the other lacks.
func truthDiff(t testing.TB, dir string) string {
	t.Helper()
	w, err := engine.OpenPath(context.Background(), filepath.Join(dir, "cdc.duckdb"), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	orders := `SELECT id, status, CAST(amount AS DECIMAL(12,2)) AS amount, CAST(updated_at AS TIMESTAMP) AS updated_at, note, CAST(coupon AS VARCHAR) AS coupon
FROM read_json('snapshots/orders.jsonl', columns = {id: 'BIGINT', status: 'VARCHAR', amount: 'VARCHAR', updated_at: 'VARCHAR', note: 'VARCHAR', coupon: 'VARCHAR'})`
	typedOrders := `SELECT id, status, amount, updated_at, note, coupon FROM main.orders`
	custs := `SELECT _id, name, email, points, CAST(created_at AS TIMESTAMP) AS created_at, city, tags
FROM read_json('snapshots/customers.jsonl', columns = {_id: 'VARCHAR', name: 'VARCHAR', email: 'VARCHAR', points: 'BIGINT', created_at: 'VARCHAR', city: 'VARCHAR', tags: 'VARCHAR[]'})`
	typedCusts := `SELECT _id, name, email, points, created_at, json_extract_string(address, '$.city'), CAST(tags AS VARCHAR[]) FROM main.customers`
	var b strings.Builder
	for _, pair := range [][3]string{{"orders", orders, typedOrders}, {"customers", custs, typedCusts}} {
		for _, q := range []string{
			"(" + pair[1] + ") EXCEPT ALL (" + pair[2] + ")",
			"(" + pair[2] + ") EXCEPT ALL (" + pair[1] + ")",
		} {
			for _, r := range queryRows(t, w, q+" ORDER BY 1") {
				fmt.Fprintf(&b, "%s %s: %v\n", pair[0], map[bool]string{true: "source only", false: "table only"}[strings.HasPrefix(q, "("+pair[1])], r)
			}
		}
	}
	return b.String()
}

// TestCDCMatchesTheSource plays a shop forward with every kind of mess a change stream
// has (see internal/cdcgen) and checks that the typed tables equal the source's true final
// state; replaying every hour again changes nothing.
func TestCDCMatchesTheSource(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, seed := range []int64{1, 2, 3} {
		dir := cdcProject(t, 8, seed)
		res, err := cdcBackfill(ctx, dir, "2024-01-01T00", "2024-01-01T07", "")
		if err != nil || res.Failed() {
			t.Fatalf("seed %d: backfill: %v %v", seed, err, res.Err)
		}
		if len(res.Tasks) != 2*3*8 {
			t.Errorf("seed %d: %d tasks, want 48 (2 models × 3 stages × 8 hours)", seed, len(res.Tasks))
		}
		if d := truthDiff(t, dir); d != "" {
			t.Fatalf("seed %d: typed tables differ from the source:\n%s", seed, d)
		}
		// replaying every processed hour (duplicates of everything) changes nothing
		res, err = cdcBackfill(ctx, dir, "2024-01-01T00", "2024-01-01T07", "all")
		if err != nil || res.Failed() || len(res.Tasks) != 48 {
			t.Fatalf("seed %d: replay: %v %v (%d tasks)", seed, err, res, len(res.Tasks))
		}
		if d := truthDiff(t, dir); d != "" {
			t.Fatalf("seed %d: after a replay the typed tables differ from the source:\n%s", seed, d)
		}
	}
}

// TestCDCVerifyAndRepair damages the typed table's source of truth (the raw table) and
// checks that verify names exactly the keys, repair fixes them, and later events win over
// the repair.
func TestCDCVerifyAndRepair(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := cdcProject(t, 4, 7)
	if res, err := cdcBackfill(ctx, dir, "2024-01-01T00", "2024-01-01T03", ""); err != nil || res.Failed() {
		t.Fatalf("backfill: %v %v", err, res)
	}
	p, _ := testgraph.Load(t, dir)
	w, err := engine.Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	v, err := w.Verify(ctx, p, "orders", false)
	if err != nil || v.Total() != 0 || v.TargetRows == 0 || v.TargetRows != v.SourceRows {
		t.Fatalf("verify of a correct table: %+v %v", v, err)
	}
	// lose one key, change another, add one the source never had
	// a text key is compared by key hash ranges
	if v, err := w.Verify(ctx, p, "customers", false); err != nil || v.Total() != 0 || v.TargetRows == 0 {
		t.Fatalf("verify of correct customers: %+v %v", v, err)
	}
	w.Close()
	execSQL(t, dir, `UPDATE main.customers SET name = 'someone else' WHERE _id = (SELECT min(_id) FROM main.customers)`)
	if w, err = engine.Open(ctx, p); err != nil {
		t.Fatal(err)
	}
	if v, err := w.Verify(ctx, p, "customers", false); err != nil || v.Different != 1 || v.Total() != 1 || v.Mismatches[0].Columns[0] != "name" {
		t.Fatalf("verify of a changed customer: %+v %v", v, err)
	}
	w.Close()
	execSQL(t, dir,
		`DELETE FROM main.orders WHERE id = (SELECT min(id) FROM main.orders)`,
		`UPDATE main.orders SET status = 'lost' WHERE id = (SELECT max(id) FROM main.orders)`,
		`INSERT INTO main.orders (id, status) VALUES (999999, 'ghost')`)
	if w, err = engine.Open(ctx, p); err != nil {
		t.Fatal(err)
	}
	v, err = w.Verify(ctx, p, "orders", false)
	if err != nil {
		t.Fatal(err)
	}
	if v.Missing != 1 || v.Different != 1 || v.Extra != 1 || len(v.Mismatches) != 3 {
		t.Fatalf("verify found %d missing, %d different, %d extra (%+v); want 1 of each", v.Missing, v.Different, v.Extra, v.Mismatches)
	}
	for _, m := range v.Mismatches {
		if m.Kind == "different" && (len(m.Columns) != 1 || m.Columns[0] != "status") {
			t.Errorf("the changed key's differing columns are %v, want [status]", m.Columns)
		}
	}
	if v, err = w.Verify(ctx, p, "orders", true); err != nil || !v.Repaired {
		t.Fatalf("repair: %+v %v", v, err)
	}
	if v, err = w.Verify(ctx, p, "orders", false); err != nil || v.Total() != 0 {
		t.Fatalf("verify after repair: %+v %v", v, err)
	}
	if n := queryInt(t, w, "SELECT count(*) FROM _strata.cdc_repairs WHERE model = 'orders' AND missing = 1 AND extra = 1 AND different = 1"); n != 1 {
		t.Errorf("%d repairs recorded, want 1", n)
	}
}

// execSQL changes the example's warehouse behind strata's back, as a bug or a person might.
func execSQL(t *testing.T, dir string, qs ...string) {
	t.Helper()
	db, err := duckdb.Open(context.Background(), filepath.Join(dir, "cdc.duckdb"), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range qs {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// cdcOne is a project with one Debezium model reading the files given.
func cdcOne(t testing.TB, extra string, files map[string]string) string {
	all := map[string]string{"models/o.yml": `models:
  - name: o
    config:
      materialized: cdc
      cdc:
        format: debezium
        path: land/{{ ds }}T{{ hour }}/*.jsonl
        key: [id]
        start: '2024-01-01T00'
` + extra + `
    columns:
      - {name: id, data_type: bigint}
      - {name: v, data_type: varchar}
`}
	for k, v := range files {
		all[k] = v
	}
	return testproj.Write(t, all)
}

func runCDC(t *testing.T, dir, to string) (*engine.Result, *engine.Warehouse) {
	t.Helper()
	e := open(t, dir)
	return e.backfill("2024-01-01T00", to, "", false, "o"), e.w
}

func ev(op string, id int, v string, lsn int) string {
	after := fmt.Sprintf(`{"id":%d,"v":%q}`, id, v)
	before := "null"
	if op == "d" {
		after, before = "null", fmt.Sprintf(`{"id":%d}`, id)
	}
	return fmt.Sprintf(`{"op":%q,"before":%s,"after":%s,"source":{"lsn":%d},"ts_ms":1704067200000}`, op, before, after, lsn)
}

// TestCDCBackfillWorker is not a test: TestCDCBackfillSurvivesKill runs it as the process
// it kills. It prints a line as each task finishes, so the killer can aim mid-backfill.
func TestCDCBackfillWorker(t *testing.T) {
	dir := os.Getenv("STRATA_CDC_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	res, err := loadAndBackfill(context.Background(), dir, []string{"orders__extract+", "customers__extract+"}, "2024-01-01T00", "2024-01-01T23", "", 2, printProgress)
	if err != nil || res.Failed() {
		t.Fatalf("backfill: %v %v", err, res)
	}
}

// extractCounts is how many events each window of each extract table holds.
func extractCounts(t *testing.T, dir string) string {
	t.Helper()
	w, err := engine.OpenPath(context.Background(), filepath.Join(dir, "cdc.duckdb"), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return fmt.Sprint(queryRows(t, w, `SELECT 'orders', _window, count(*) FROM main.orders__extract GROUP BY ALL
UNION ALL SELECT 'customers', _window, count(*) FROM main.customers__extract GROUP BY ALL ORDER BY ALL`))
}

// TestCDCBackfillSurvivesKill kills CDC backfills with SIGKILL at random moments, resumes
// them by rerunning, and checks the typed tables equal the source's truth and no window's
// events were applied twice.
func TestCDCBackfillSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills subprocesses")
	}
	ref := cdcProject(t, 24, 5)
	if res, err := cdcBackfill(context.Background(), ref, "2024-01-01T00", "2024-01-01T23", ""); err != nil || res.Failed() {
		t.Fatalf("reference backfill: %v %v", err, res)
	}
	if d := truthDiff(t, ref); d != "" {
		t.Fatalf("reference differs from the source:\n%s", d)
	}
	want := extractCounts(t, ref)
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	interrupted := 0
	for trial := 0; trial < 6; trial++ {
		dir := cdcProject(t, 24, 5)
		for k := 0; k < 1+rng.Intn(2); k++ {
			// SIGKILL once the worker has finished a random number of tasks (and a random
			// moment more), so the kill lands mid-backfill however fast the machine is
			killWorker(t, "TestCDCBackfillWorker", "STRATA_CDC_DIR="+dir, "finished ", 1+rng.Intn(100), time.Duration(rng.Int63n(int64(30*time.Millisecond))))
		}
		res, err := cdcBackfill(context.Background(), dir, "2024-01-01T00", "2024-01-01T23", "")
		if err != nil || res.Failed() {
			t.Fatalf("trial %d: resume: %v %v", trial, err, res)
		}
		if len(res.Tasks) > 0 && len(res.Tasks) < 144 {
			interrupted++
		}
		t.Logf("trial %d: the resume ran %d of 144 tasks", trial, len(res.Tasks))
		if d := truthDiff(t, dir); d != "" {
			t.Fatalf("trial %d: after kill and resume the typed tables differ from the source:\n%s", trial, d)
		}
		if got := extractCounts(t, dir); got != want {
			t.Fatalf("trial %d: extract windows after kill and resume:\n%s\nwant\n%s", trial, got, want)
		}
	}
	if interrupted == 0 {
		t.Errorf("no kill landed mid-backfill in 6 trials: the test did not test recovery")
	}
}
