// Package api is strata's HTTP API under /api/v1: its request and response types and a
// Go client, used by the CLI when a server runs, and by the MCP server. The responses
// are the engine's and the scheduler's own wire types — one definition of each shape,
// the same that --json prints — so this package names them rather than copying them.
package api

import (
	"time"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/scheduler"
)

// Prefix is where the API lives.
const Prefix = "/api/v1"

// RunRequest is POST /runs and POST /backfills: what the CLI's run, build, test, seed and
// backfill ask for.
type RunRequest = scheduler.Request

// Job is a run in the server's queue, as POST /runs answers it.
type Job = scheduler.Job

// Health is GET /health.
type Health struct {
	Status  string    `json:"status"` // ok
	Project string    `json:"project"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Version int       `json:"state_version"`
}

// RunDetail is GET /runs/{id}: the run as recorded, its tasks, and its job while the
// server knows it (a queued run has a job and no record yet).
type RunDetail struct {
	Run   *engine.RunRecord   `json:"run,omitempty"`
	Tasks []engine.TaskRecord `json:"tasks"`
	Job   *scheduler.Job      `json:"job,omitempty"`
}

// BackfillDetail is GET /backfills/{id}.
type BackfillDetail struct {
	Backfill engine.BackfillRecord `json:"backfill"`
	Tasks    []engine.BackfillTask `json:"tasks"`
}

// BackfillPlan is POST /backfills with dry_run: the exact tasks it would run and skip.
type BackfillPlan struct {
	BackfillID string        `json:"backfill_id"`
	Resumed    bool          `json:"resumed"`
	Run        int           `json:"run"`
	Skip       int           `json:"skip"`
	Tasks      []PlannedTask `json:"tasks"`
}

// PlannedTask is one task of a plan, run or skipped and why.
type PlannedTask struct {
	Key       string `json:"key"`
	Node      string `json:"node"`
	Partition string `json:"partition,omitempty"`
	Action    string `json:"action"` // run or skip
	Reason    string `json:"reason,omitempty"`
	Deps      int    `json:"depends_on"`
}

// NewBackfillPlan describes a backfill's plan.
func NewBackfillPlan(plan *engine.Plan) BackfillPlan {
	bf := plan.Backfill
	out := BackfillPlan{BackfillID: bf.ID, Resumed: bf.Resumed, Run: len(plan.Tasks), Skip: len(plan.Skipped), Tasks: []PlannedTask{}}
	for _, t := range plan.Tasks {
		out.Tasks = append(out.Tasks, PlannedTask{Key: t.Key(), Node: t.Name, Partition: t.PartitionName(), Action: "run", Deps: len(t.Deps)})
	}
	for _, t := range plan.Skipped {
		out.Tasks = append(out.Tasks, PlannedTask{Key: t.Key(), Node: t.Name, Partition: t.PartitionName(), Action: "skip", Reason: t.Skip})
	}
	return out
}

// QueryRequest is POST /query: one read-only statement.
type QueryRequest struct {
	SQL       string `json:"sql"`
	Limit     int    `json:"limit,omitempty"`
	TimeoutMS int    `json:"timeout_ms,omitempty"`
	// Guarded allows only a plain SELECT reading no file outside the project (what MCP
	// asks for); otherwise what show allows: any one read-only statement.
	Guarded bool `json:"guarded,omitempty"`
}

// VerifyRequest is POST /verify/{model}: compare a CDC model with its source snapshot,
// and with Repair re-apply the snapshot's rows for the keys that differ.
type VerifyRequest struct {
	Repair bool `json:"repair,omitempty"`
}

// PriorityRequest is POST /runs/{id}/priority.
type PriorityRequest struct {
	Priority string `json:"priority"`
}

// CheckReport is POST /check: what `strata check` reports.
type CheckReport = lineage.CheckReport

// Fire is one entry of GET /schedules/upcoming.
type Fire = scheduler.Fire

// Status is GET /status.
type Status = scheduler.Status

// Why is GET /why.
type Why = scheduler.Why

// Error is how every error answers: its message (the one the CLI prints), its kind
// (usage, not_found, locked, conflict, internal), the field it is about, and placed
// problems when there are some.
type Error struct {
	Status  int      `json:"-"`
	Message string   `json:"message"`
	Kind    string   `json:"kind"`
	Field   string   `json:"field,omitempty"`
	Errors  []Placed `json:"errors,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// Placed is a problem at a place in a project file.
type Placed struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Col     int    `json:"col,omitempty"`
	Message string `json:"message"`
}

// ServerFile is what .strata/server.json holds: how to reach the running server.
type ServerFile struct {
	URL     string    `json:"url"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Token   string    `json:"token,omitempty"`
}
