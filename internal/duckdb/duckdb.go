// Package duckdb opens DuckDB databases the way every part of strata needs them: one
// driver, relative file paths in SQL resolved against the project folder, and an
// in-memory database shared by all of a pool's connections.
package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // the DuckDB driver
)

// Memory is the path of an in-memory database.
const Memory = ":memory:"

// Open opens (creating if needed) the DuckDB file at path, or an in-memory database for
// Memory, and makes relative paths in SQL (read_csv('seeds/x.csv')) resolve against dir.
func Open(ctx context.Context, path, dir string) (*sql.DB, error) {
	dsn := path
	if path == Memory {
		dsn = ""
	} else if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	db, err := sql.Open("duckdb", dsn)
	if err == nil {
		if err = db.PingContext(ctx); err != nil {
			db.Close()
		}
	}
	if err != nil {
		return nil, err
	}
	if path == Memory {
		// one connection, so that every statement sees the same in-memory database
		db.SetMaxOpenConns(1)
	}
	if _, err := db.ExecContext(ctx, "SET file_search_path = "+Literal(dir)); err != nil {
		db.Close()
		return nil, fmt.Errorf("set file_search_path: %w", err)
	}
	return db, nil
}

// Literal quotes s as a SQL string literal.
func Literal(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
