package mcp

import (
	"context"
	"fmt"
	"slices"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/web/api"
)

type runBackfillIn struct {
	PlanID string `json:"plan_id" jsonschema:"the plan_id plan_backfill returned"`
}

type runModelsIn struct {
	Select      string `json:"select" jsonschema:"the models: a name or a dbt selector (orders+, tag:daily)"`
	Command     string `json:"command,omitempty" jsonschema:"run (the default: models), build (seeds, models and tests in order), test or seed"`
	FullRefresh bool   `json:"full_refresh,omitempty" jsonschema:"rebuild incremental models from scratch"`
}

// write are the annotations of a tool that changes the warehouse: it rebuilds tables
// and partitions, replacing what they held.
func write(title string, idempotent bool) *sdk.ToolAnnotations {
	return &sdk.ToolAnnotations{Title: title, ReadOnlyHint: false, DestructiveHint: ptr(true), IdempotentHint: idempotent, OpenWorldHint: ptr(false)}
}

func (s *Server) addWriteTools() {
	tool(s, &sdk.Tool{Name: "run_backfill", Annotations: write("Run a planned backfill", true),
		Description: "Run exactly the backfill plan_backfill planned, by its plan_id. If what it would run has changed since (a partition landed or failed meanwhile), nothing runs and it says so: plan again."},
		s.runBackfill)
	tool(s, &sdk.Tool{Name: "run_models", Annotations: write("Run models", false),
		Description: "Build the selected models now (their due partitions for partitioned ones), as `strata run -s` would; through the running server's queue when there is one."},
		s.runModels)
}

func (s *Server) runBackfill(ctx context.Context, in runBackfillIn) (*Started, error) {
	s.mu.Lock()
	p, ok := s.plans[in.PlanID]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("unknown plan_id %q: call plan_backfill first (plans live as long as this server session)", in.PlanID)
	}
	now, err := s.opts.Backend.PlanBackfill(ctx, p.req)
	if err != nil {
		return nil, err
	}
	if keys := runKeys(now); !slices.Equal(keys, p.keys) {
		return nil, fmt.Errorf("the plan changed since plan_backfill: it would now run %d tasks, not %d; nothing ran — call plan_backfill again and check the tasks", len(keys), len(p.keys))
	}
	if len(p.keys) == 0 {
		return &Started{State: "finished", Note: "the plan has no task to run: every partition is done"}, nil
	}
	st, err := s.opts.Backend.Submit(ctx, p.req)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	delete(s.plans, in.PlanID)
	s.mu.Unlock()
	return st, nil
}

func (s *Server) runModels(ctx context.Context, in runModelsIn) (*Started, error) {
	if strings.TrimSpace(in.Select) == "" {
		return nil, fmt.Errorf("select: name the models to run, e.g. orders+ (an empty selector would run the whole project)")
	}
	cmd := engine.Command(in.Command)
	switch cmd {
	case "":
		cmd = engine.CommandRun
	case engine.CommandRun, engine.CommandBuild, engine.CommandTest, engine.CommandSeed:
	default:
		return nil, fmt.Errorf("command %q: use run, build, test or seed (backfills go through plan_backfill and run_backfill)", in.Command)
	}
	sel, err := s.selection(in.Select)
	if err != nil {
		return nil, err
	}
	return s.opts.Backend.Submit(ctx, api.RunRequest{Command: cmd, Select: sel, FullRefresh: in.FullRefresh})
}
