package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math/big"

	duck "github.com/duckdb/duckdb-go/v2"
)

// ErrNotOneStatement says a text holds no SQL statement or more than one. duckdb-go runs
// every statement of a text it is given, so text smuggled after a `;` (in a var, a column
// name, a query typed by a user) would run as statements of its own; a Conn refuses it.
var ErrNotOneStatement = errors.New("not exactly one SQL statement (empty, or more text after a `;`)")

// Kind is a statement's type, as DuckDB's prepared statement reports it.
type Kind = duck.StmtType

// The statement kinds callers decide on.
const (
	KindSelect  = duck.STATEMENT_TYPE_SELECT
	KindExplain = duck.STATEMENT_TYPE_EXPLAIN
)

// Conn is one connection of a pool, on which every statement is prepared alone and run
// exactly as given: one statement, never more (ExecScript runs a project's hooks, and
// ExecBatch statements strata composed and checked to be whole). A Conn is used by one
// goroutine at a time.
type Conn struct {
	c      *sql.Conn
	cached map[string]*duck.Stmt // statements run often, prepared once on this connection
}

// Connect takes a connection from the pool until Close.
func Connect(ctx context.Context, db *sql.DB) (*Conn, error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return &Conn{c: c}, nil
}

// Close releases the connection's cached statements and gives it back to the pool.
func (c *Conn) Close() error {
	err := c.c.Raw(func(any) error {
		var errs []error
		for _, st := range c.cached {
			errs = append(errs, st.Close())
		}
		return errors.Join(errs...)
	})
	c.cached = nil
	return errors.Join(err, c.c.Close())
}

// raw runs f on the driver's connection.
func (c *Conn) raw(f func(*duck.Conn) error) error {
	return c.c.Raw(func(dc any) error {
		d, ok := dc.(*duck.Conn)
		if !ok {
			return fmt.Errorf("not a DuckDB connection: %T", dc)
		}
		return f(d)
	})
}

// prepare prepares q, which must be exactly one statement.
func prepare(d *duck.Conn, q string) (*duck.Stmt, error) {
	st, err := d.Prepare(q) // without a context, duckdb-go refuses more than one statement
	if err != nil {
		var de *duck.Error
		if errors.As(err, &de) {
			return nil, err // the statement itself is wrong (a parser or binder error)
		}
		return nil, ErrNotOneStatement
	}
	return st.(*duck.Stmt), nil
}

// Exec runs one statement and returns how many rows it changed.
func (c *Conn) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	var n int64
	err := c.raw(func(d *duck.Conn) error {
		st, err := prepare(d, q)
		if err != nil {
			return err
		}
		defer st.Close()
		n, err = execStmt(ctx, st, args)
		return err
	})
	return n, err
}

// ExecScript runs several statements in order: only for a project's own hooks
// (on-run-start, on-run-end), which dbt runs as scripts, never for a model's SQL.
func (c *Conn) ExecScript(ctx context.Context, q string) error {
	_, err := c.c.ExecContext(ctx, q)
	return err
}

// ExecCached is Exec for a statement this connection runs many times (a state insert):
// it is prepared once and reused.
func (c *Conn) ExecCached(ctx context.Context, q string, args ...any) (int64, error) {
	var n int64
	err := c.raw(func(d *duck.Conn) error {
		st := c.cached[q]
		if st == nil {
			var err error
			if st, err = prepare(d, q); err != nil {
				return err
			}
			if c.cached == nil {
				c.cached = map[string]*duck.Stmt{}
			}
			c.cached[q] = st
		}
		var err error
		n, err = execStmt(ctx, st, args)
		return err
	})
	return n, err
}

func execStmt(ctx context.Context, st *duck.Stmt, args []any) (int64, error) {
	nv, err := named(args)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, nv)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Result is what a query returned: its columns with their DuckDB types, and its rows
// (NULL as nil).
type Result struct {
	Columns []string
	Types   []string
	Rows    [][]any
	More    bool // the query had more rows than were read
}

// Query runs one statement and reads at most limit rows (all of them when limit < 0).
func (c *Conn) Query(ctx context.Context, q string, limit int, args ...any) (*Result, error) {
	var out *Result
	err := c.raw(func(d *duck.Conn) error {
		st, err := prepare(d, q)
		if err != nil {
			return err
		}
		defer st.Close()
		out, err = queryStmt(ctx, st, limit, args)
		return err
	})
	return out, err
}

// QueryKind is Query for a statement that must be of one of the given kinds: the kind
// comes from DuckDB's prepared statement, before anything runs.
func (c *Conn) QueryKind(ctx context.Context, q string, limit int, kinds []Kind, args ...any) (*Result, error) {
	var out *Result
	err := c.raw(func(d *duck.Conn) error {
		st, err := prepare(d, q)
		if err != nil {
			return err
		}
		defer st.Close()
		k, err := st.StatementType()
		if err != nil {
			return err
		}
		ok := false
		for _, want := range kinds {
			ok = ok || k == want
		}
		if !ok {
			return &KindError{Kind: k}
		}
		out, err = queryStmt(ctx, st, limit, args)
		return err
	})
	return out, err
}

// Kind prepares one statement without running it and returns its kind.
func (c *Conn) Kind(q string) (Kind, error) {
	var k Kind
	err := c.raw(func(d *duck.Conn) error {
		st, err := prepare(d, q)
		if err != nil {
			return err
		}
		defer st.Close()
		k, err = st.StatementType()
		return err
	})
	return k, err
}

// KindError says a statement is not of a kind the caller allows.
type KindError struct{ Kind Kind }

func (e *KindError) Error() string {
	return fmt.Sprintf("%s statements are not allowed here: only a query (SELECT) is", kindName(e.Kind))
}

// kindName names a statement kind as SQL says it.
func kindName(k Kind) string {
	names := map[Kind]string{
		duck.STATEMENT_TYPE_INSERT: "INSERT", duck.STATEMENT_TYPE_UPDATE: "UPDATE", duck.STATEMENT_TYPE_DELETE: "DELETE",
		duck.STATEMENT_TYPE_CREATE: "CREATE", duck.STATEMENT_TYPE_DROP: "DROP", duck.STATEMENT_TYPE_ALTER: "ALTER",
		duck.STATEMENT_TYPE_COPY: "COPY", duck.STATEMENT_TYPE_ATTACH: "ATTACH", duck.STATEMENT_TYPE_DETACH: "DETACH",
		duck.STATEMENT_TYPE_TRANSACTION: "transaction", duck.STATEMENT_TYPE_PRAGMA: "PRAGMA", duck.STATEMENT_TYPE_SET: "SET",
		duck.STATEMENT_TYPE_VARIABLE_SET: "SET VARIABLE", duck.STATEMENT_TYPE_LOAD: "LOAD", duck.STATEMENT_TYPE_EXPORT: "EXPORT",
		duck.STATEMENT_TYPE_CALL: "CALL", duck.STATEMENT_TYPE_VACUUM: "VACUUM", duck.STATEMENT_TYPE_CREATE_FUNC: "CREATE FUNCTION",
		duck.STATEMENT_TYPE_EXECUTE: "EXECUTE", duck.STATEMENT_TYPE_PREPARE: "PREPARE", duck.STATEMENT_TYPE_ANALYZE: "ANALYZE",
		duck.STATEMENT_TYPE_EXTENSION: "extension",
	}
	if n := names[k]; n != "" {
		return n
	}
	return "non-query"
}

func queryStmt(ctx context.Context, st *duck.Stmt, limit int, args []any) (*Result, error) {
	nv, err := named(args)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, nv)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols := rows.Columns()
	res := &Result{Columns: cols, Types: make([]string, len(cols)), Rows: [][]any{}}
	if tn, ok := rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		for i := range cols {
			res.Types[i] = tn.ColumnTypeDatabaseTypeName(i)
		}
	}
	for {
		vals := make([]driver.Value, len(cols))
		if err := rows.Next(vals); err == io.EOF {
			return res, nil
		} else if err != nil {
			return nil, err
		}
		if limit >= 0 && len(res.Rows) == limit {
			res.More = true
			return res, nil
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = append([]byte(nil), b...)
			}
			row[i] = v
		}
		res.Rows = append(res.Rows, row)
	}
}

// QueryRow runs one statement and returns its first row, or sql.ErrNoRows.
func (c *Conn) QueryRow(ctx context.Context, q string, args ...any) ([]any, error) {
	res, err := c.Query(ctx, q, 1, args...)
	if err != nil {
		return nil, err
	}
	if len(res.Rows) == 0 {
		return nil, sql.ErrNoRows
	}
	return res.Rows[0], nil
}

// QueryInt runs one statement whose first row's first value is an integer.
func (c *Conn) QueryInt(ctx context.Context, q string, args ...any) (int64, error) {
	row, err := c.QueryRow(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return Int64(row[0])
}

// Int64 converts an integer value DuckDB returned.
func Int64(v any) (int64, error) {
	switch v := v.(type) {
	case int64:
		return v, nil
	case int32:
		return int64(v), nil
	case int16:
		return int64(v), nil
	case int8:
		return int64(v), nil
	case uint64:
		return int64(v), nil
	case uint32:
		return int64(v), nil
	case uint16:
		return int64(v), nil
	case uint8:
		return int64(v), nil
	case *big.Int:
		return v.Int64(), nil
	}
	return 0, fmt.Errorf("not an integer: %T", v)
}

// named turns arguments into the driver's named values, converting Go types the way
// database/sql would (an int to int64, a named string type to string).
func named(args []any) ([]driver.NamedValue, error) {
	if len(args) == 0 {
		return nil, nil
	}
	out := make([]driver.NamedValue, len(args))
	for i, a := range args {
		v, err := driver.DefaultParameterConverter.ConvertValue(a)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i+1, err)
		}
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out, nil
}

// InTx runs f inside a transaction on this connection: committed when f succeeds,
// rolled back when it fails. Commit and rollback are not cut short by ctx: once f has
// done its work, the transaction ends one way or the other.
func (c *Conn) InTx(ctx context.Context, f func() error) error {
	if _, err := c.Exec(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	end := context.WithoutCancel(ctx)
	if err := f(); err != nil {
		_, _ = c.Exec(end, "ROLLBACK")
		return err
	}
	if _, err := c.Exec(end, "COMMIT"); err != nil {
		_, _ = c.Exec(end, "ROLLBACK")
		return err
	}
	return nil
}

// ReadOnly runs f inside a read-only transaction, always rolled back: whatever a query
// might try, DuckDB refuses to write, and nothing it did stays.
func (c *Conn) ReadOnly(ctx context.Context, f func() error) error {
	if _, err := c.Exec(ctx, "BEGIN TRANSACTION READ ONLY"); err != nil {
		return err
	}
	defer c.Exec(context.WithoutCancel(ctx), "ROLLBACK")
	return f()
}

// Rows is a connection as a template's view of a warehouse (models.Introspector): each
// query's columns and rows, at most Limit of them, on the connection (and in its
// transaction) as it stands.
type Rows struct {
	Ctx   context.Context
	Conn  *Conn
	Limit int
}

// Query runs one query and returns its columns and rows.
func (r Rows) Query(q string) ([]string, [][]any, error) {
	res, err := r.Conn.Query(r.Ctx, q, r.Limit)
	if err != nil {
		return nil, nil, err
	}
	return res.Columns, res.Rows, nil
}
