package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/models"
)

// chainProject is n chained daily partitioned models with trivial SQL.
func chainProject(b *testing.B, n int) string {
	files := map[string]string{
		"models/d000.sql": `{{ config(materialized='partitioned', partition_by={'column': 'd', 'granularity': 'day'}, start='2023-01-01') }}
select {{ partition_start }} as d, 1 as v`,
	}
	for i := 1; i < n; i++ {
		files[fmt.Sprintf("models/d%03d.sql", i)] = fmt.Sprintf(`{{ config(materialized='partitioned', partition_by={'column': 'd', 'granularity': 'day'}, start='2023-01-01') }}
select d, v + 1 as v from {{ ref('d%03d') }} where d >= {{ partition_start }} and d < {{ partition_end }}`, i-1)
	}
	return testproj.Write(b, files)
}

// BenchmarkBackfill3650 backfills 10 chained daily models over 365 days (3,650 tasks) and
// reports strata's time per task, the time of the same statements run directly on DuckDB
// (one DELETE + INSERT per partition, autocommit), and the engine's overhead per task.
func BenchmarkBackfill3650(b *testing.B) {
	const models_, days = 10, 365
	ctx := context.Background()
	var strataNs, directNs int64
	for i := 0; i < b.N; i++ {
		dir := chainProject(b, models_)
		p, g := testgraph.Load(b, dir)
		w, err := engine.Open(ctx, p)
		if err != nil {
			b.Fatal(err)
		}
		from, to, end, _ := engine.ParseRange("2023-01-01", "2023-12-31")
		start := time.Now()
		plan, err := engine.PlanBackfill(ctx, w, g, engine.BackfillOptions{Select: []string{"d000+"}, From: from, To: to, ToEnd: end}, "")
		if err != nil {
			b.Fatal(err)
		}
		res, err := engine.Run(ctx, w, plan, engine.RunOptions{Threads: 1})
		if err != nil || res.Failed() || len(res.Tasks) != models_*days {
			b.Fatalf("backfill: %v, %d tasks", err, len(res.Tasks))
		}
		strataNs += time.Since(start).Nanoseconds()
		// the same SQL, straight to DuckDB on a fresh file
		var stmts []string
		for _, t := range plan.Tasks {
			m := g.Node(t.Name).Model
			q, _ := p.Compile(m, models.CompileOptions{Window: t.Window})
			rel := p.Relation(m)
			stmts = append(stmts,
				fmt.Sprintf("DELETE FROM %s WHERE d >= %s AND d < %s", rel, models.SQLTimestamp(t.Window.Start), models.SQLTimestamp(t.Window.End)),
				fmt.Sprintf("INSERT INTO %s SELECT * FROM (%s)", rel, q))
		}
		w.Close()
		db, err := sql.Open("duckdb", filepath.Join(b.TempDir(), "direct.duckdb"))
		if err != nil {
			b.Fatal(err)
		}
		for m := 0; m < models_; m++ {
			if _, err := db.Exec(fmt.Sprintf(`CREATE TABLE main.d%03d (d TIMESTAMP, v INTEGER)`, m)); err != nil {
				b.Fatal(err)
			}
		}
		start = time.Now()
		for _, s := range stmts {
			if _, err := db.Exec(s); err != nil {
				b.Fatal(err)
			}
		}
		directNs += time.Since(start).Nanoseconds()
		db.Close()
	}
	tasks := float64(b.N * models_ * days)
	b.ReportMetric(float64(strataNs)/tasks/1e6, "strata-ms/task")
	b.ReportMetric(float64(directNs)/tasks/1e6, "direct-ms/task")
	b.ReportMetric(float64(strataNs-directNs)/tasks/1e6, "overhead-ms/task")
}

// BenchmarkMissingPartitions computes the missing hourly partitions of 100 models over
// five years (4.38 million windows), with every model missing about 1% of its hours.
func BenchmarkMissingPartitions(b *testing.B) {
	const nModels = 100
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(5, 0, 0).Add(-time.Hour)
	s := engine.NewPartitionState()
	hours := int(end.Sub(start)/time.Hour) + 1
	for m := 0; m < nModels; m++ {
		name := fmt.Sprintf("m%03d", m)
		for h := 0; h < hours; h++ {
			if (h+m)%97 == 0 {
				continue
			}
			t := start.Add(time.Duration(h) * time.Hour)
			s.Put(name, engine.PartitionRecord{Start: t, End: t.Add(time.Hour)})
		}
	}
	b.ResetTimer()
	var missing int
	for i := 0; i < b.N; i++ {
		missing = 0
		for m := 0; m < nModels; m++ {
			missing += len(s.Missing(fmt.Sprintf("m%03d", m), models.Hour, start, end))
		}
	}
	b.ReportMetric(float64(nModels*hours), "windows")
	b.ReportMetric(float64(missing), "missing")
}
