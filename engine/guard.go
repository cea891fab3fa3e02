package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/stratadata/strata/internal/duckdb"
)

// fileFunctions are DuckDB's table functions that read files by path.
var fileFunctions = []string{"read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json", "read_json_auto",
	"read_ndjson", "read_ndjson_auto", "read_json_objects", "read_json_objects_auto", "read_ndjson_objects", "read_text",
	"read_blob", "glob", "sniff_csv", "parquet_metadata", "parquet_schema", "parquet_file_metadata", "parquet_kv_metadata",
	"parquet_bloom_probe", "read_xlsx", "iceberg_scan", "delta_scan"}

// sqlFunctions run SQL given as text: what they run is not checked, so they are refused.
var sqlFunctions = []string{"query", "query_table"}

// fileExts are what makes a table name a file DuckDB reads by replacement scan.
var fileExts = []string{".csv", ".tsv", ".parquet", ".json", ".ndjson", ".jsonl", ".txt", ".gz", ".zst", ".xlsx"}

// guard checks, with DuckDB's own parser, that a query is a plain SELECT whose files all
// lie under root: json_serialize_sql refuses anything but SELECT (a PRAGMA, SHOW, SET,
// COPY…), and its tree names every table function and every table read from a path.
func guard(c *duckdb.Conn, ctx context.Context, q, root string) error {
	row, err := c.QueryRow(ctx, "SELECT json_serialize_sql(?::VARCHAR)::VARCHAR", q)
	if err != nil {
		return err
	}
	s, _ := row[0].(string)
	var tree map[string]any
	if err := json.Unmarshal([]byte(s), &tree); err != nil {
		return err
	}
	if tree["error"] == true {
		if k, err := c.Kind(q); err == nil && k != duckdb.KindSelect {
			return &duckdb.KindError{Kind: k} // prepared, never run: what kind of statement it is
		} else if err != nil {
			return err // not one statement, or not SQL
		}
		return &QueryError{Msg: fmt.Sprintf("only plain SELECT queries are allowed here (%v)", tree["error_message"])}
	}
	return walkGuard(tree, root)
}

func walkGuard(v any, root string) error {
	switch x := v.(type) {
	case []any:
		for _, it := range x {
			if err := walkGuard(it, root); err != nil {
				return err
			}
		}
	case map[string]any:
		switch x["type"] {
		case "TABLE_FUNCTION":
			fn, _ := x["function"].(map[string]any)
			name, _ := fn["function_name"].(string)
			name = strings.ToLower(name)
			if slices.Contains(sqlFunctions, name) {
				return &QueryError{Msg: fmt.Sprintf("%s() runs SQL given as text: it is not allowed here; write the query itself", name)}
			}
			if slices.Contains(fileFunctions, name) {
				children, _ := fn["children"].([]any)
				if len(children) == 0 {
					return &QueryError{Msg: fmt.Sprintf("%s() needs a path", name)}
				}
				paths, ok := literalStrings(children[0])
				if !ok {
					return &QueryError{Msg: fmt.Sprintf("%s(): give the path as a literal string, so it can be checked", name)}
				}
				for _, p := range paths {
					if err := inside(p, root); err != nil {
						return err
					}
				}
			}
		case "BASE_TABLE":
			name, _ := x["table_name"].(string)
			schema, _ := x["schema_name"].(string)
			if schema == "" && looksLikeFile(name) {
				if err := inside(name, root); err != nil {
					return err
				}
			}
		}
		for _, child := range x {
			if err := walkGuard(child, root); err != nil {
				return err
			}
		}
	}
	return nil
}

// literalStrings reads a constant string, or a list of them.
func literalStrings(v any) ([]string, bool) {
	m, _ := v.(map[string]any)
	switch m["type"] {
	case "VALUE_CONSTANT":
		val, _ := m["value"].(map[string]any)
		s, ok := val["value"].(string)
		return []string{s}, ok
	case "FUNCTION":
		if m["function_name"] != "list_value" {
			return nil, false
		}
		var out []string
		children, _ := m["children"].([]any)
		for _, c := range children {
			s, ok := literalStrings(c)
			if !ok {
				return nil, false
			}
			out = append(out, s...)
		}
		return out, true
	}
	return nil, false
}

func looksLikeFile(name string) bool {
	if strings.ContainsAny(name, "/\\*") || strings.Contains(name, "://") {
		return true
	}
	for _, ext := range fileExts {
		if strings.HasSuffix(strings.ToLower(name), ext) {
			return true
		}
	}
	return false
}

// inside refuses a path outside root (a URL, an absolute path elsewhere, a ../ escape).
func inside(p, root string) error {
	if strings.Contains(p, "://") {
		return &QueryError{Msg: fmt.Sprintf("%q is not a file of this project: only files under %s may be read here", p, root)}
	}
	abs := p
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(root, p)
	}
	rel, err := filepath.Rel(root, filepath.Clean(abs))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return &QueryError{Msg: fmt.Sprintf("%q is outside this project: only files under %s may be read here", p, root)}
	}
	return nil
}
