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

// SQLError is a database error while running a node, with the SQL that caused it.
type SQLError struct {
	Node string
	Path string
	Err  error
}

func (e *SQLError) Error() string {
	return fmt.Sprintf("%s (%s): %v", e.Node, e.Path, e.Err)
}

func (e *SQLError) Unwrap() error { return e.Err }
