package main

import (
	"errors"
	"fmt"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/web/api"
)

// Exit codes.
const (
	exitOK        = 0
	exitFailed    = 1   // a model or test failed
	exitProject   = 2   // bad project, usage, selector or request
	exitCancelled = 130 // the run was stopped by a signal before it finished
)

// usageError is a bad command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// exitError carries an exit code out of a command whose output is already printed.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// exitCode maps an error to its exit code by its type alone.
func exitCode(err error) int {
	var (
		ee   *exitError
		ue   *usageError
		merr models.Errors
		me   *models.Error
		np   *models.NoProjectError
		ce   *lineage.CycleError
		se   *lineage.SelectorError
		re   *lineage.RefError
		ie   *engine.InputError
		le   *engine.LockedError
		qe   *engine.QueryError
		ae   *api.Error
	)
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ae):
		if ae.Status >= 400 && ae.Status < 500 && ae.Status != 422 {
			return exitProject
		}
		return exitFailed
	case errors.As(err, &ue), errors.As(err, &merr), errors.As(err, &me), errors.As(err, &np), errors.As(err, &ce),
		errors.As(err, &se), errors.As(err, &re), errors.As(err, &ie), errors.As(err, &le), errors.As(err, &qe):
		return exitProject
	}
	return exitFailed
}

// errorJSON is an error as --json prints it: one line on stdout, like the rest.
type errorJSON struct {
	Event    string      `json:"event"` // "error"
	Message  string      `json:"message"`
	ExitCode int         `json:"exit_code"`
	Errors   []placedErr `json:"errors"`
}

// placedErr is one problem at a place in a project file.
type placedErr struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Col     int    `json:"col,omitempty"`
	Message string `json:"message"`
}

// report prints an error and returns its exit code.
func (a *app) report(err error) int {
	code := exitCode(err)
	var ee *exitError
	if errors.As(err, &ee) {
		return code // its output is printed already
	}
	var merrs models.Errors
	var np *models.NoProjectError
	msg := err.Error()
	if errors.As(err, &np) {
		msg += " (run `strata init NAME` to create a project)"
	}
	if a.json {
		out := errorJSON{Event: "error", Message: msg, ExitCode: code, Errors: []placedErr{}}
		if errors.As(err, &merrs) {
			for _, e := range merrs {
				out.Errors = append(out.Errors, placedErr{File: e.File, Line: e.Line, Col: e.Col, Message: e.Msg})
			}
			out.Message = fmt.Sprintf("%d errors", len(merrs))
			if len(merrs) == 1 {
				out.Message = merrs[0].Error()
			}
		}
		var ae *api.Error
		if errors.As(err, &ae) {
			for _, e := range ae.Errors {
				out.Errors = append(out.Errors, placedErr{File: e.File, Line: e.Line, Col: e.Col, Message: e.Message})
			}
		}
		var sqe *engine.SQLError
		if errors.As(err, &sqe) {
			out.Errors = append(out.Errors, placedErr{File: sqe.Path, Line: sqe.Line, Col: sqe.Col, Message: sqe.Msg})
		}
		_ = a.printJSON(out)
		return code
	}
	var ae *api.Error
	if errors.As(err, &ae) && len(ae.Errors) > 1 {
		for _, e := range ae.Errors {
			merrs = append(merrs, &models.Error{File: e.File, Line: e.Line, Col: e.Col, Msg: e.Message})
		}
	}
	if merrs != nil || errors.As(err, &merrs) {
		for _, e := range merrs {
			fmt.Fprintln(a.stderr, "error:", e.Error())
		}
		if len(merrs) > 1 {
			fmt.Fprintf(a.stderr, "%d errors\n", len(merrs))
		}
		return code
	}
	fmt.Fprintln(a.stderr, "error:", msg)
	return code
}
