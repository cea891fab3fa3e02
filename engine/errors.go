package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	duck "github.com/duckdb/duckdb-go/v2"
)

// ErrLocked says another process holds the warehouse file.
var ErrLocked = errors.New("warehouse is in use by another process")

// LockedError names the file and, when DuckDB says it, the process holding it.
type LockedError struct {
	Path   string
	Detail string
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%s is in use by another process (%s); wait for it to finish or stop it, then run again", e.Path, e.Detail)
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// NoWarehouseError says the project's DuckDB file does not exist yet: nothing has been
// built, so there is no state to read.
type NoWarehouseError struct{ Path string }

func (e *NoWarehouseError) Error() string {
	return fmt.Sprintf("%s does not exist yet: nothing has been built", e.Path)
}

// InputError is a request the engine cannot carry out as asked: a range before a
// model's start, a backfill ID that does not exist, a selection with nothing to
// backfill. It speaks of models and values; Field names the input it is about (from,
// to, reprocess, resume, select), so an entry point can point at its own flag or field.
type InputError struct {
	Field string
	Msg   string
}

func (e *InputError) Error() string { return e.Msg }

func inputErrorf(field, format string, args ...any) *InputError {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// SQLError is a database error while running a node, placed in the node's file when
// DuckDB said where. Err is DuckDB's own error (a *duckdb.Error, with its type), Msg its
// message without DuckDB's LINE excerpt, and Hint what to do, when strata knows.
type SQLError struct {
	Node      string
	Path      string
	Line, Col int
	Msg       string
	Hint      string
	Err       error
}

func (e *SQLError) Error() string {
	msg := e.Msg
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return fmt.Sprintf("%s: %s", e.Where(), msg)
}

// Where is path:line:col, or the path alone when the place is unknown.
func (e *SQLError) Where() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d", e.Path, e.Line, e.Col)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d", e.Path, e.Line)
	}
	return e.Path
}

func (e *SQLError) Unwrap() error { return e.Err }

// transient reports whether an error may pass on retry — a write conflict between
// transactions or an I/O hiccup — as opposed to an error in the SQL or the data, which
// never does. It decides on DuckDB's error type.
func transient(err error) bool {
	var de *duck.Error
	if !errors.As(err, &de) {
		return false
	}
	switch de.Type {
	case duck.ErrorTypeTransaction, duck.ErrorTypeIO, duck.ErrorTypeConnection, duck.ErrorTypeNetwork, duck.ErrorTypeHTTP:
		return true
	}
	return false
}

// interrupted reports whether an error is a statement cut short by cancellation.
func interrupted(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var de *duck.Error
	return errors.As(err, &de) && de.Type == duck.ErrorTypeInterrupt
}

// sanitize makes a message safe to store: DuckDB refuses invalid UTF-8 in a VARCHAR,
// which would lose the very row that says why a task failed.
func sanitize(s string) string {
	return strings.ToValidUTF8(s, "\uFFFD")
}
