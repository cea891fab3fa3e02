// Package mcp is strata's Model Context Protocol server, on the official Go SDK: tools,
// resources and prompts that give AI agents the project's models, its model and column
// lineage, impact analysis, partitions, runs and read-only queries — local, exact, and
// sized for a model's context (compact JSON, capped lists with totals and cursors).
// Write tools exist only when the server is built with AllowWrites.
//
// The shortest use:
//
//	s := mcp.New(mcp.Options{Project: p, Graph: g, Backend: mcp.Local{Project: p, Graph: g}})
//	err := s.MCP().Run(ctx, &sdk.StdioTransport{})
package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// Options configure a Server.
type Options struct {
	Project     *models.Project
	Graph       *lineage.Graph
	Backend     Backend
	AllowWrites bool         // list and serve run_backfill and run_models
	Logger      *slog.Logger // every tool call is logged here; discarded when nil
	// Analyze builds the shadow catalog, for column lineage, the first time a tool needs
	// it; lineage.Analyze without a warehouse when nil.
	Analyze func(ctx context.Context) (*lineage.Catalog, error)
	// Poll, when set, is how often Run looks for finished runs to notify subscribers of
	// (when runs happen in another process); serve gives its runs the Observer instead.
	Poll time.Duration
}

// Server is one project's MCP server.
type Server struct {
	opts Options
	srv  *sdk.Server

	cgOnce sync.Once
	cg     *lineage.ColumnGraph
	cat    *lineage.Catalog
	cgErr  error

	mu    sync.Mutex
	plans map[string]storedPlan // plan_backfill's plans, by ID, for run_backfill
	subs  map[string]int        // subscribers by resource URI
}

// Version is the server's version as MCP clients see it.
const Version = "0.9.0"

// New builds the server with its tools, resources and prompts.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, plans: map[string]storedPlan{}, subs: map[string]int{}}
	s.srv = sdk.NewServer(&sdk.Implementation{Name: "strata", Title: "strata: " + opts.Project.Name, Version: Version}, &sdk.ServerOptions{
		Instructions: instructions,
		Logger:       opts.Logger,
		CompletionHandler: func(ctx context.Context, r *sdk.CompleteRequest) (*sdk.CompleteResult, error) {
			return s.complete(ctx, r)
		},
		SubscribeHandler: func(_ context.Context, r *sdk.SubscribeRequest) error {
			s.mu.Lock()
			s.subs[r.Params.URI]++
			s.mu.Unlock()
			return nil
		},
		UnsubscribeHandler: func(_ context.Context, r *sdk.UnsubscribeRequest) error {
			s.mu.Lock()
			if s.subs[r.Params.URI]--; s.subs[r.Params.URI] <= 0 {
				delete(s.subs, r.Params.URI)
			}
			s.mu.Unlock()
			return nil
		},
	})
	s.addModelTools()
	s.addLineageTools()
	s.addOpsTools()
	if opts.AllowWrites {
		s.addWriteTools()
	}
	s.addResources()
	s.addPrompts()
	return s
}

const instructions = `strata's project: its models (SQL and YAML files), their model- and column-level lineage, ` +
	`partitions, runs and warehouse. Start with list_models or search; get_model for one model; get_lineage, ` +
	`get_column_lineage and impact_analysis for "where does this come from" and "what breaks if I change it"; ` +
	`get_partitions, list_runs and diagnose_run for what is late or failed; plan_backfill for what a backfill would ` +
	`run; query for read-only SQL. Lists are capped: follow next_cursor, or narrow the request.`

// SetBackend sets the backend, before the server serves: for a backend that needs the
// server's Observer.
func (s *Server) SetBackend(b Backend) { s.opts.Backend = b }

// MCP is the SDK server, to run on a transport or mount over HTTP.
func (s *Server) MCP() *sdk.Server { return s.srv }

// columns builds the column lineage once per server.
func (s *Server) columns(ctx context.Context) (*lineage.ColumnGraph, *lineage.Catalog, error) {
	s.cgOnce.Do(func() {
		analyze := s.opts.Analyze
		if analyze == nil {
			analyze = func(ctx context.Context) (*lineage.Catalog, error) {
				return lineage.Analyze(ctx, s.opts.Project, s.opts.Graph, lineage.AnalyzeOptions{})
			}
		}
		s.cat, s.cgErr = analyze(context.WithoutCancel(ctx))
		if s.cgErr == nil {
			s.cg = lineage.NewColumnGraph(s.cat.Nodes)
		}
	})
	return s.cg, s.cat, s.cgErr
}

// tool registers a typed tool whose every call is logged, with a portable output schema.
func tool[In, Out any](s *Server, t *sdk.Tool, h func(context.Context, In) (Out, error)) {
	out, err := outputSchema[Out]()
	if err != nil {
		panic(fmt.Sprintf("mcp: the output of %s: %v", t.Name, err)) // a programming error
	}
	t.OutputSchema = out
	sdk.AddTool(s.srv, t, func(ctx context.Context, req *sdk.CallToolRequest, in In) (*sdk.CallToolResult, Out, error) {
		start := time.Now()
		out, err := h(ctx, in)
		args, _ := json.Marshal(in)
		if len(args) > 500 {
			args = append(args[:500], "…"...)
		}
		if err != nil {
			s.opts.Logger.Info("mcp tool", "tool", t.Name, "args", string(args), "ms", time.Since(start).Milliseconds(), "error", err.Error())
			var zero Out
			return nil, zero, err
		}
		fillNil(reflect.ValueOf(&out))
		s.opts.Logger.Info("mcp tool", "tool", t.Name, "args", string(args), "ms", time.Since(start).Milliseconds())
		return nil, out, nil
	})
}

func ptr[T any](v T) *T { return &v }

// readOnly are the annotations of a tool that changes nothing and talks only to this
// project.
func readOnly(title string) *sdk.ToolAnnotations {
	return &sdk.ToolAnnotations{Title: title, ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: ptr(false)}
}

// Observer notifies subscribed clients when a model's partition (or the model) lands:
// give it to the runs whose results agents should hear of.
func (s *Server) Observer() engine.Observer {
	return engine.ObserverFunc(func(e engine.Event) {
		if e.Kind == engine.EventTaskFinished && e.Task.Status == engine.StatusSuccess {
			s.notify(e.Task.Name)
		}
	})
}

// Run serves one session on a transport (stdio for `strata mcp`) until the client
// leaves or ctx ends. With Options.Poll set, it follows the run history for
// subscriptions meanwhile.
func (s *Server) Run(ctx context.Context, t sdk.Transport) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if s.opts.Poll > 0 {
		go s.watch(ctx, s.opts.Poll)
	}
	return s.srv.Run(ctx, t)
}
