package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/web/api"
)

// serverFile is where a running `strata serve` says how to reach it.
func serverFile(dir string) string { return filepath.Join(dir, ".strata", "server.json") }

// remote returns a client for the project's running server, or nil when none runs. A
// server file left by a process that is gone is removed. Commands that open the
// warehouse go through the server when there is one: it owns the file.
func (a *app) remote(ctx context.Context, p *models.Project) (*api.Client, error) {
	path := serverFile(p.Dir)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sf api.ServerFile
	if err := json.Unmarshal(data, &sf); err != nil || sf.URL == "" {
		a.warn(fmt.Sprintf("%s is not a server file; removing it", path))
		os.Remove(path)
		return nil, nil
	}
	if !processAlive(sf.PID) {
		os.Remove(path) // its server is gone
		return nil, nil
	}
	token := sf.Token
	if t := os.Getenv("STRATA_TOKEN"); t != "" {
		token = t
	}
	c := api.NewClient(sf.URL, token)
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.Health(hctx); err != nil {
		return nil, fmt.Errorf("a strata server (pid %d) holds this project's warehouse but does not answer at %s: %v; stop it, or wait for it", sf.PID, sf.URL, err)
	}
	return c, nil
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// remoteRun submits a run or backfill to the server and prints its events as they come,
// exactly as a local run prints them; the exit code is the run's.
func (a *app) remoteRun(ctx context.Context, c *api.Client, req api.RunRequest) error {
	var job *api.Job
	var err error
	if req.Command == "backfill" {
		job, _, err = c.Backfill(ctx, req)
	} else {
		job, err = c.Submit(ctx, req)
	}
	if err != nil {
		return err
	}
	if !a.json {
		fmt.Fprintf(a.stderr, "submitted to the running server as %s (%s priority)\n", job.ID, job.Priority)
	}
	pr := newProgress(a, 0, req.Command)
	var final *engine.RunJSON
	err = c.Events(ctx, job.ID, func(event string, data []byte) error {
		switch event {
		case "task":
			var t engine.TaskJSON
			if err := json.Unmarshal(data, &t); err != nil {
				return err
			}
			pr.finished(t)
		case "done":
			var r engine.RunJSON
			if err := json.Unmarshal(data, &r); err != nil {
				return err
			}
			final = &r
			pr.summary(r)
		case "error":
			var e struct {
				Message string `json:"message"`
			}
			_ = json.Unmarshal(data, &e)
			return &remoteError{msg: e.Message}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if final == nil {
		return errors.New("the server ended the run without a summary")
	}
	switch final.Status {
	case "success":
		return nil
	case "cancelled":
		return &exitError{exitCancelled}
	}
	return &exitError{exitFailed}
}

// remoteError is a run the server could not start (its plan failed), as it said it.
type remoteError struct{ msg string }

func (e *remoteError) Error() string { return e.msg }
