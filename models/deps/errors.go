package deps

import (
	"errors"
	"fmt"
)

// Error is a problem with what the project asks for, placed at file:line:col: bad YAML
// in packages.yml, an unknown key, a version no release satisfies, two requirements that
// conflict, a package folder without dbt_project.yml. The fix is in the project's files.
type Error struct {
	File string // packages.yml, dependencies.yml, package-lock.yml, or where a package's own file came from
	Line int    // 1-based; 0 when unknown
	Col  int    // 1-based; 0 when unknown
	Msg  string // what is wrong and what to do
}

func (e *Error) Error() string {
	switch {
	case e.File == "":
		return e.Msg
	case e.Line == 0:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	case e.Col == 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

func errorAt(p place, format string, args ...any) *Error {
	return &Error{File: p.File, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)}
}

// FetchError is a package that could not be fetched: the hub did not answer, a download
// failed or was not a package, a git command failed. The fix is in the environment (the
// network, DBT_PACKAGE_HUB_URL, git credentials), not in packages.yml.
type FetchError struct {
	Where string // the packages.yml entry asking for it, as file:line:col; "" when none
	What  string // what was tried: "GET https://hub.getdbt.com/api/v1/index.json", "git clone URL"
	Hint  string // what to do, when there is more to say than the cause
	Err   error
}

func (e *FetchError) Error() string {
	msg := fmt.Sprintf("%s: %v", e.What, e.Err)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	if e.Where != "" {
		msg = e.Where + ": " + msg
	}
	return msg
}

func (e *FetchError) Unwrap() error { return e.Err }

// place is where a requirement was written.
type place struct {
	File      string
	Line, Col int
}

func (p place) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// placeErr sets an error's place when it has none (a fetch done for a requirement).
func placeErr(err error, p place) error {
	var fe *FetchError
	if errors.As(err, &fe) && fe.Where == "" {
		fe.Where = p.String()
	}
	return err
}
