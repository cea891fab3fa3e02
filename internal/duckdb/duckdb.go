// Package duckdb opens DuckDB databases the way every part of strata needs them: one
// driver, the same settings on every pooled connection (relative file paths in SQL
// resolved against the project folder), an in-memory database shared by all of a pool's
// connections, and connections on which every statement is exactly one statement.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	duck "github.com/duckdb/duckdb-go/v2"
)

// Memory is the path of an in-memory database.
const Memory = ":memory:"

// Options change how a database opens.
type Options struct {
	// ReadOnly opens the file without taking the write lock: other readers may share it,
	// and nothing can be written.
	ReadOnly bool
	// Setup are statements every connection runs when it opens, after the path setting:
	// a profile's SET, LOAD and ATTACH IF NOT EXISTS.
	Setup []string
}

// Open opens (creating if needed) the DuckDB file at path, or an in-memory database for
// Memory. Every connection the pool opens gets the same settings, so that relative paths
// in SQL (read_csv('seeds/x.csv')) resolve against dir on all of them.
func Open(ctx context.Context, path, dir string) (*sql.DB, error) {
	return OpenWith(ctx, path, dir, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path, dir string, opts Options) (*sql.DB, error) {
	dsn := path
	if path == Memory {
		dsn = ""
	} else {
		if !opts.ReadOnly {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, err
			}
		}
		if opts.ReadOnly {
			dsn += "?access_mode=read_only"
		}
	}
	setup := "SET file_search_path = " + Literal(dir)
	connector, err := duck.NewConnector(dsn, func(execer driver.ExecerContext) error {
		// not the caller's ctx: the pool opens connections long after Open returns
		if _, err := execer.ExecContext(context.Background(), setup, nil); err != nil {
			return fmt.Errorf("set file_search_path: %w", err)
		}
		for _, q := range opts.Setup {
			if _, err := execer.ExecContext(context.Background(), q, nil); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(connector)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// an in-memory database lives in the connector, so every connection of the pool sees
	// the same one
	return db, nil
}

// Literal quotes s as a SQL string literal.
func Literal(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
