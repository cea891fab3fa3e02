package engine

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/models"
)

// external writes a dbt-duckdb external model: the query's rows COPY'd to its location
// in its format (partitioned into a folder with partition_by), and a view over the files.
func (r *runner) external(ctx context.Context, c *duckdb.Conn, m *models.Model, rel, existing, q string, head *string) (int64, error) {
	p := r.plan.Project
	e := p.ExternalOf(m)
	path := e.Location
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.Dir, path)
	}
	dir := filepath.Dir(path)
	if len(e.PartitionBy) > 0 {
		dir = path
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	opts := []string{"FORMAT " + e.Format}
	if len(e.PartitionBy) > 0 {
		var cols []string
		for _, col := range e.PartitionBy {
			cols = append(cols, models.Quote(col))
		}
		opts = append(opts, "PARTITION_BY ("+strings.Join(cols, ", ")+")", "OVERWRITE true")
	}
	if e.Format == "csv" {
		opts = append(opts, "HEADER true")
	}
	for _, k := range slices.Sorted(maps.Keys(e.Options)) {
		v := e.Options[k]
		val := fmt.Sprint(v)
		if s, ok := v.(string); ok {
			val = duckdb.Literal(s)
		}
		opts = append(opts, strings.ToUpper(k)+" "+val)
	}
	*head = "COPY (\n"
	n, err := c.Exec(ctx, *head+q+"\n) TO "+duckdb.Literal(path)+" ("+strings.Join(opts, ", ")+")")
	if err != nil {
		return 0, err
	}
	read := duckdb.Literal(path)
	if len(e.PartitionBy) > 0 {
		read = duckdb.Literal(filepath.Join(path, "**", "*."+e.Format))
	}
	reader := map[string]string{"parquet": "read_parquet(" + read, "csv": "read_csv(" + read + ", header = true", "json": "read_json(" + read}[e.Format]
	if len(e.PartitionBy) > 0 {
		reader += ", hive_partitioning = true"
	}
	if existing == "table" {
		if _, err := c.Exec(ctx, "DROP TABLE "+rel); err != nil {
			return 0, err
		}
	}
	*head = ""
	_, err = c.Exec(ctx, "CREATE OR REPLACE VIEW "+rel+" AS SELECT * FROM "+reader+")")
	return n, err
}

// persistDocs writes a model's description and its columns' as DuckDB comments, when its
// persist_docs config asks.
func persistDocs(ctx context.Context, c *duckdb.Conn, m *models.Model, rel, kind string) error {
	relation, cols := m.PersistDocs()
	if relation && m.Description != "" {
		what := "TABLE"
		if kind == "view" {
			what = "VIEW"
		}
		if _, err := c.Exec(ctx, "COMMENT ON "+what+" "+rel+" IS "+duckdb.Literal(m.Description)); err != nil {
			return err
		}
	}
	if cols {
		for _, col := range m.Columns {
			if col.Description == "" {
				continue
			}
			if _, err := c.Exec(ctx, "COMMENT ON COLUMN "+rel+"."+models.Quote(col.Name)+" IS "+duckdb.Literal(col.Description)); err != nil {
				return fmt.Errorf("column %s: %w", col.Name, err)
			}
		}
	}
	return nil
}
