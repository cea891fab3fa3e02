package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/models"
)

// Warehouse is an open DuckDB database with strata's state schema, migrated to the
// version this build knows.
type Warehouse struct {
	Path string
	db   *sql.DB

	mu      sync.Mutex
	catalog map[string]string // "schema.name" → "table" | "view"; nil until read
	stale   bool              // read it again at the next run
	schemas map[string]bool
}

// ensureCatalog reads which relations exist, unless it knows already: a long-lived
// warehouse (strata serve's) keeps it across runs, updated by every build, and reads it
// again after a task failed (a hook may have changed what exists).
func (w *Warehouse) ensureCatalog(ctx context.Context) error {
	w.mu.Lock()
	known := w.catalog != nil && !w.stale
	w.mu.Unlock()
	if known {
		return nil
	}
	return w.loadCatalog(ctx)
}

// forgetCatalog makes the next run read the catalog again.
func (w *Warehouse) forgetCatalog() {
	w.mu.Lock()
	w.stale = true
	w.mu.Unlock()
}

var extensionRe = regexp.MustCompile(`LOAD (\w+): .*Extension .* not found`)

// profileSetup is what a dbt-duckdb profile asks of every connection: its settings,
// extensions and attached databases.
func profileSetup(w models.Warehouse) ([]string, error) {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(w.Settings)) {
		if !settingRe.MatchString(k) {
			return nil, &InputError{Field: "settings", Msg: fmt.Sprintf("setting %q is no DuckDB setting name", k)}
		}
		out = append(out, "SET "+k+" = "+duckdb.Literal(w.Settings[k]))
	}
	for _, e := range w.Extensions {
		if !settingRe.MatchString(e) {
			return nil, &InputError{Field: "extensions", Msg: fmt.Sprintf("extension %q is no extension name", e)}
		}
		out = append(out, "LOAD "+e)
	}
	for _, a := range w.Attach {
		q := "ATTACH IF NOT EXISTS " + duckdb.Literal(a.Path)
		if a.Alias != "" {
			if !settingRe.MatchString(a.Alias) {
				return nil, &InputError{Field: "attach", Msg: fmt.Sprintf("alias %q is no database name", a.Alias)}
			}
			q += " AS " + models.Quote(a.Alias)
		}
		var opts []string
		if a.Type != "" {
			if !settingRe.MatchString(a.Type) {
				return nil, &InputError{Field: "attach", Msg: fmt.Sprintf("type %q is no database type", a.Type)}
			}
			opts = append(opts, "TYPE "+a.Type)
		}
		if a.ReadOnly {
			opts = append(opts, "READ_ONLY")
		}
		if len(opts) > 0 {
			q += " (" + strings.Join(opts, ", ") + ")"
		}
		out = append(out, q)
	}
	return out, nil
}

var settingRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

var lockRe = regexp.MustCompile(`(?i)could not set lock on file "([^"]+)": Conflicting lock is held in (.*?)(\. See|$)`)

// Open opens (creating if needed) the project's DuckDB file and migrates its _strata
// schema. Runs a dead process left running are marked aborted.
func Open(ctx context.Context, p *models.Project) (*Warehouse, error) {
	setup, err := profileSetup(p.Warehouse)
	if err != nil {
		return nil, err
	}
	return openPath(ctx, p.Warehouse.Path, p.Dir, setup)
}

// OpenExisting is Open for commands that only read state: when the file does not exist
// yet it returns ErrNoWarehouse instead of creating an empty one.
func OpenExisting(ctx context.Context, p *models.Project) (*Warehouse, error) {
	if path := p.Warehouse.Path; path != duckdb.Memory {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, &NoWarehouseError{Path: path}
		}
	}
	return Open(ctx, p)
}

// OpenPath opens a DuckDB file; relative file paths in SQL resolve against dir.
func OpenPath(ctx context.Context, path, dir string) (*Warehouse, error) {
	return openPath(ctx, path, dir, nil)
}

func openPath(ctx context.Context, path, dir string, setup []string) (*Warehouse, error) {
	db, err := duckdb.OpenWith(ctx, path, dir, duckdb.Options{Setup: setup})
	if err != nil {
		if m := extensionRe.FindStringSubmatch(err.Error()); m != nil {
			return nil, &InputError{Field: "extensions", Msg: fmt.Sprintf("the profile's extension %s is not built into this DuckDB, and strata installs none: "+
				"remove it from the target's extensions (built in: json, parquet, icu, autocomplete, core_functions)", m[1])}
		}
		// duckdb-go formats an open's error into text (its DuckDB type is lost), so the
		// lock, and the process holding it, can only be read from the message
		if m := lockRe.FindStringSubmatch(err.Error()); m != nil {
			return nil, &LockedError{Path: path, Detail: strings.TrimSpace(m[2])}
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w := &Warehouse{db: db, Path: path}
	if err := w.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: state schema: %w", path, err)
	}
	if err := w.abortDeadRuns(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: state: %w", path, err)
	}
	return w, nil
}

// Close closes the database.
func (w *Warehouse) Close() error { return w.db.Close() }

// conn takes a connection of the pool for one-statement-at-a-time work.
func (w *Warehouse) conn(ctx context.Context) (*duckdb.Conn, error) {
	return duckdb.Connect(ctx, w.db)
}

// loadCatalog reads which tables and views exist.
func (w *Warehouse) loadCatalog(ctx context.Context) error {
	rows, err := w.db.QueryContext(ctx, `
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
	srows, err := w.db.QueryContext(ctx, `select schema_name from duckdb_schemas() where database_name = current_database()`)
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
	w.catalog, w.schemas, w.stale = cat, schemas, false
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
		if _, err := w.db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+models.Quote(s)); err != nil {
			return err
		}
		w.mu.Lock()
		w.schemas[s] = true
		w.mu.Unlock()
	}
	return nil
}

// TableColumns returns a warehouse table's columns and types, for the shadow catalog's
// sources that declare none; nil when the table does not exist.
func (w *Warehouse) TableColumns(ctx context.Context, schema, table string) ([][2]string, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT column_name, data_type FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = ? AND table_name = ? ORDER BY column_index`, schema, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var c [2]string
		if err := rows.Scan(&c[0], &c[1]); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
