package engine

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/models"
)

// Warehouse is an open DuckDB database with strata's state schema.
type Warehouse struct {
	DB   *sql.DB
	Path string

	mu         sync.Mutex
	catalog    map[string]string // "schema.name" → "table" | "view"
	schemas    map[string]bool
	insertTask *sql.Stmt
}

var lockRe = regexp.MustCompile(`(?i)could not set lock on file "([^"]+)": Conflicting lock is held in (.*?)(\. See|$)`)

// Open opens (creating if needed) the project's DuckDB file and its _strata schema.
func Open(ctx context.Context, p *models.Project) (*Warehouse, error) {
	return OpenPath(ctx, p.Warehouse.Path, p.Dir)
}

// OpenPath opens a DuckDB file; relative file paths in SQL resolve against dir.
func OpenPath(ctx context.Context, path, dir string) (*Warehouse, error) {
	db, err := duckdb.Open(ctx, path, dir)
	if err != nil {
		if m := lockRe.FindStringSubmatch(err.Error()); m != nil {
			return nil, &LockedError{Path: path, Detail: strings.TrimSpace(m[2])}
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w := &Warehouse{DB: db, Path: path}
	if err := w.initState(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("state schema: %w", err)
	}
	return w, nil
}

// Close closes the database.
func (w *Warehouse) Close() error { return w.DB.Close() }

// loadCatalog reads which tables and views exist.
func (w *Warehouse) loadCatalog(ctx context.Context) error {
	rows, err := w.DB.QueryContext(ctx, `
		select schema_name, table_name, 'table' from duckdb_tables() where not internal and database_name = current_database()
		union all
		select schema_name, view_name, 'view' from duckdb_views() where not internal and database_name = current_database()`)
	if err != nil {
		return err
	}
	defer rows.Close()
	cat := map[string]string{}
	schemas := map[string]bool{}
	for rows.Next() {
		var s, n, k string
		if err := rows.Scan(&s, &n, &k); err != nil {
			return err
		}
		cat[s+"."+n] = k
	}
	srows, err := w.DB.QueryContext(ctx, `select schema_name from duckdb_schemas() where database_name = current_database()`)
	if err != nil {
		return err
	}
	defer srows.Close()
	for srows.Next() {
		var s string
		if err := srows.Scan(&s); err != nil {
			return err
		}
		schemas[s] = true
	}
	w.mu.Lock()
	w.catalog, w.schemas = cat, schemas
	w.mu.Unlock()
	return rows.Err()
}

// kind returns "table", "view" or "" for a relation.
func (w *Warehouse) kind(schema, name string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.catalog[schema+"."+name]
}

func (w *Warehouse) setKind(schema, name, kind string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if kind == "" {
		delete(w.catalog, schema+"."+name)
	} else {
		w.catalog[schema+"."+name] = kind
	}
}

// ensureSchemas creates the schemas a plan writes to, before tasks run concurrently.
func (w *Warehouse) ensureSchemas(ctx context.Context, schemas []string) error {
	for _, s := range schemas {
		w.mu.Lock()
		ok := w.schemas[s]
		w.mu.Unlock()
		if ok {
			continue
		}
		if _, err := w.DB.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+models.Quote(s)); err != nil {
			return err
		}
		w.mu.Lock()
		w.schemas[s] = true
		w.mu.Unlock()
	}
	return nil
}

// Query runs a query and returns its column names and rows as strings (NULL as nil).
func (w *Warehouse) Query(ctx context.Context, q string, args ...any) ([]string, [][]any, error) {
	rows, err := w.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, err
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		out = append(out, vals)
	}
	return cols, out, rows.Err()
}
