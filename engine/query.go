package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	duck "github.com/duckdb/duckdb-go/v2"

	"github.com/stratadata/strata/internal/duckdb"
)

// QueryOptions bound a read-only query.
type QueryOptions struct {
	Limit   int           // rows returned at most; 100 when 0
	Timeout time.Duration // the query is interrupted after it; none when 0
	// Root, when set, allows only plain SELECT queries (no PRAGMA, SHOW, DESCRIBE) that
	// read no file outside it: every path a table function or a replacement scan reads is
	// checked, from DuckDB's parse tree, and functions that run SQL text are refused.
	Root string
}

// QueryResult is what a read-only query returned, as show --json prints it, the API
// serves it and MCP returns it.
type QueryResult struct {
	Columns   []QueryColumn `json:"columns"`
	Rows      []Row         `json:"rows"`
	Truncated bool          `json:"truncated"` // the query had more rows than Limit
}

// QueryColumn is one column of a result.
type QueryColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Row is one result row: its values in column order, written in JSON as an object whose
// keys keep that order.
type Row struct {
	Columns []string
	Values  []any
}

// MarshalJSON writes the row as {"column": value, ...} in column order.
func (r Row) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range r.Columns {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(JSONValue(r.Values[i]))
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads a row written by MarshalJSON, keeping its columns' order.
func (r *Row) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("a row is a JSON object")
	}
	r.Columns, r.Values = nil, nil
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return err
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		r.Columns = append(r.Columns, fmt.Sprint(k))
		r.Values = append(r.Values, v)
	}
	_, err := dec.Token()
	return err
}

// QueryError says why a query was refused before it ran: not one statement, or not a
// query.
type QueryError struct{ Msg string }

func (e *QueryError) Error() string { return e.Msg }

// ReadQuery runs one read-only statement — a SELECT (or EXPLAIN) as DuckDB's prepared
// statement says, never judged by its text — in a read-only transaction that is rolled
// back, and returns at most Limit rows. Text after a `;`, or a statement that writes, is
// refused before anything runs.
func (w *Warehouse) ReadQuery(ctx context.Context, q string, opts QueryOptions) (*QueryResult, error) {
	limit := opts.Limit
	if limit <= 0 {
		limit = 100
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	c, err := w.conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var res *duckdb.Result
	err = c.ReadOnly(ctx, func() error {
		if opts.Root != "" {
			// before anything binds: binding read_csv already reads the file
			if err := guard(c, ctx, q, opts.Root); err != nil {
				return err
			}
		}
		kind, err := c.Kind(q)
		if err != nil {
			return err
		}
		if kind == duckdb.KindSelect {
			// a LIMIT around it lets DuckDB stop early; a query that cannot be a
			// subquery (one ending in `;`, say) runs as it is
			res, err = c.QueryKind(ctx, "SELECT * FROM (\n"+q+"\n) AS strata_query LIMIT "+fmt.Sprint(limit+1), limit, []duckdb.Kind{duckdb.KindSelect})
			if err == nil || !isParserError(err) {
				return err
			}
		}
		res, err = c.QueryKind(ctx, q, limit, []duckdb.Kind{duckdb.KindSelect, duckdb.KindExplain})
		return err
	})
	var ke *duckdb.KindError
	switch {
	case errors.Is(err, duckdb.ErrNotOneStatement):
		return nil, &QueryError{Msg: "the query must be exactly one SQL statement: text after a `;` is refused"}
	case errors.As(err, &ke):
		return nil, &QueryError{Msg: ke.Error() + ": the warehouse is read-only here"}
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, &QueryError{Msg: fmt.Sprintf("the query took longer than %s and was stopped", opts.Timeout)}
	case err != nil:
		return nil, err
	}
	out := &QueryResult{Columns: make([]QueryColumn, len(res.Columns)), Rows: make([]Row, 0, len(res.Rows)), Truncated: res.More}
	for i, name := range res.Columns {
		out.Columns[i] = QueryColumn{Name: name, Type: res.Types[i]}
	}
	for _, vals := range res.Rows {
		out.Rows = append(out.Rows, Row{Columns: res.Columns, Values: vals})
	}
	return out, nil
}

// JSONValue turns a value DuckDB returned into one JSON writes as people expect: a date
// as 2024-05-01, a timestamp in RFC 3339, a HUGEINT or DECIMAL as a number, bytes as text.
func JSONValue(v any) any {
	switch v := v.(type) {
	case time.Time:
		if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 && v.Nanosecond() == 0 {
			return v.Format("2006-01-02")
		}
		return v.Format(time.RFC3339Nano)
	case []byte:
		return string(v)
	case *big.Int:
		return json.Number(v.String())
	case duck.Decimal:
		return json.Number(v.String())
	case duck.Interval:
		return fmt.Sprintf("%d months %d days %d µs", v.Months, v.Days, v.Micros)
	case duck.UUID:
		return v.String()
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = JSONValue(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = JSONValue(x)
		}
		return out
	}
	return v
}

// Cell formats a value for a table on a terminal: NULL for null.
func Cell(v any) string {
	switch v := JSONValue(v).(type) {
	case nil:
		return "NULL"
	case string:
		return v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
}

func isParserError(err error) bool {
	var de *duck.Error
	return errors.As(err, &de) && de.Type == duck.ErrorTypeParser
}
