package engine

import (
	"errors"
	"fmt"
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

// SQLError is a database error while running a node, placed in the node's file when
// DuckDB said where.
type SQLError struct {
	Node      string
	Path      string
	Line, Col int
	Err       error
}

func (e *SQLError) Error() string {
	return fmt.Sprintf("%s: %v", e.Where(), e.Err)
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
