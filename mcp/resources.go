package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
)

const (
	modelURI   = "strata://models/"
	runURI     = "strata://runs/"
	lineageURI = "strata://lineage"
	maxGraph   = 2000 // nodes in strata://lineage
)

func (s *Server) addResources() {
	s.srv.AddResourceTemplate(&sdk.ResourceTemplate{URITemplate: modelURI + "{name}", Name: "model", MIMEType: "text/markdown",
		Description: "A model as Markdown: description, columns, tests, upstream and downstream, SQL. Subscribe to hear when it (or one of its partitions) is built."},
		s.readModel)
	s.srv.AddResourceTemplate(&sdk.ResourceTemplate{URITemplate: runURI + "{id}", Name: "run", MIMEType: "application/json",
		Description: "A run as recorded: its status and each task's status, rows and error."},
		s.readRun)
	s.srv.AddResource(&sdk.Resource{URI: lineageURI, Name: "lineage", MIMEType: "application/json",
		Description: "The whole model graph as JSON (nodes and edges); on a large project, as many nodes in dependency order as fit in an answer, with the total."},
		s.readLineage)
}

func (s *Server) readModel(ctx context.Context, req *sdk.ReadResourceRequest) (*sdk.ReadResourceResult, error) {
	uri := req.Params.URI
	name := strings.TrimPrefix(uri, modelURI)
	if s.opts.Graph.Node(name) == nil {
		return nil, sdk.ResourceNotFoundError(uri)
	}
	m, err := s.getModel(ctx, getModelIn{Name: name})
	if err != nil {
		return nil, err
	}
	return &sdk.ReadResourceResult{Contents: []*sdk.ResourceContents{{URI: uri, MIMEType: "text/markdown", Text: markdown(m)}}}, nil
}

// markdown writes a model for reading.
func markdown(m getModelOut) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s", m.Name, m.Type)
	if m.Materialized != "" {
		fmt.Fprintf(&b, ", materialized as %s", m.Materialized)
	}
	if m.Relation != "" {
		fmt.Fprintf(&b, " in `%s`", m.Relation)
	}
	fmt.Fprintf(&b, " — `%s`\n\n", m.Path)
	if m.Description != "" {
		b.WriteString(m.Description + "\n\n")
	}
	if len(m.Columns) > 0 {
		b.WriteString("## Columns\n\n| column | type | description | tests |\n| --- | --- | --- | --- |\n")
		for _, c := range m.Columns {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.Name, c.Type, cell(c.Description), strings.Join(c.Tests, ", "))
		}
		b.WriteString("\n")
	}
	list := func(title string, names []string) {
		if len(names) > 0 {
			fmt.Fprintf(&b, "## %s\n\n%s\n\n", title, strings.Join(names, ", "))
		}
	}
	list("Upstream", m.Upstream)
	list("Downstream", m.Downstream)
	list("Tests", m.Tests)
	if m.LastRun != nil {
		fmt.Fprintf(&b, "## Last run\n\n%s `%s` %s, %s ago\n\n", m.LastRun.Command, m.LastRun.RunID, m.LastRun.Status, ago(m.LastRun.Started))
	}
	if p := m.Partitions; p != nil {
		fmt.Fprintf(&b, "## Partitions (%s, %s to %s)\n\n", p.Granularity, p.From, p.To)
		for _, st := range []string{"done", "missing", "stale", "failed", "waiting"} {
			fmt.Fprintf(&b, "- %s: %d\n", st, p.Counts[st])
		}
		b.WriteString("\n")
	}
	if m.SQL != "" {
		fmt.Fprintf(&b, "## SQL\n\n```sql\n%s\n```\n", strings.TrimSpace(m.SQL))
	}
	return b.String()
}

func cell(s string) string { return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s) }

func (s *Server) readRun(ctx context.Context, req *sdk.ReadResourceRequest) (*sdk.ReadResourceResult, error) {
	uri := req.Params.URI
	d, err := s.opts.Backend.Run(ctx, strings.TrimPrefix(uri, runURI))
	if err != nil {
		var ie *engine.InputError
		if errors.As(err, &ie) {
			return nil, sdk.ResourceNotFoundError(uri)
		}
		return nil, err
	}
	d.Tasks, _ = fit(d.Tasks, budget)
	return jsonContents(uri, d)
}

// graphJSON is strata://lineage.
type graphJSON struct {
	Nodes     []graphNode `json:"nodes"`
	Edges     [][2]string `json:"edges"` // [from id, to id]: to reads from
	Total     int         `json:"total"`
	Truncated bool        `json:"truncated"`
}

type graphNode struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Kind string `json:"materialized,omitempty"`
}

func (s *Server) readLineage(_ context.Context, req *sdk.ReadResourceRequest) (*sdk.ReadResourceResult, error) {
	g := s.opts.Graph
	var ids []string
	for _, id := range g.Order() {
		if g.Node(id).Type != lineage.TypeTest {
			ids = append(ids, id)
		}
	}
	out, _, err := shrink(maxGraph, func(limit int) (graphJSON, error) { return graph(g, ids, limit), nil })
	if err != nil {
		return nil, err
	}
	return jsonContents(req.Params.URI, out)
}

// graph is the first limit nodes of ids and the edges between them.
func graph(g *lineage.Graph, ids []string, limit int) graphJSON {
	out := graphJSON{Nodes: []graphNode{}, Edges: [][2]string{}, Total: len(ids)}
	if len(ids) > limit {
		ids, out.Truncated = ids[:limit], true
	}
	in := map[string]bool{}
	for _, id := range ids {
		in[id] = true
	}
	for _, id := range ids {
		n := g.Node(id)
		gn := graphNode{ID: n.ID, Name: n.Name, Type: string(n.Type)}
		if n.Model != nil {
			gn.Kind = string(n.Model.Kind)
		}
		out.Nodes = append(out.Nodes, gn)
		for _, pid := range g.Parents(id) {
			if in[pid] {
				out.Edges = append(out.Edges, [2]string{pid, id})
			}
		}
	}
	return out
}

func jsonContents(uri string, v any) (*sdk.ReadResourceResult, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &sdk.ReadResourceResult{Contents: []*sdk.ResourceContents{{URI: uri, MIMEType: "application/json", Text: string(b)}}}, nil
}

func (s *Server) addPrompts() {
	s.srv.AddPrompt(&sdk.Prompt{Name: "investigate_failure", Title: "Investigate a failed run",
		Description: "Find why a run failed, where to fix it, and what to backfill afterwards.",
		Arguments:   []*sdk.PromptArgument{{Name: "run_id", Description: "the run; the latest failed run when empty"}}},
		func(_ context.Context, req *sdk.GetPromptRequest) (*sdk.GetPromptResult, error) {
			run := req.Params.Arguments["run_id"]
			which := "the latest failed run"
			if run != "" {
				which = "run " + run
			}
			return prompt("Investigate a failed run", fmt.Sprintf(
				"Investigate %s of this strata project. Call diagnose_run (run_id %q) for its failed tasks, their errors at file:line, "+
					"and the partition checks that waited. For each failed model, call get_model to read its SQL and get_lineage "+
					"(direction up) to see what it reads; for a check that waited, get_partitions on the upstream model. Say what went wrong, "+
					"what to change in which file, and then call plan_backfill with the backfill arguments diagnose_run suggests to show "+
					"exactly what would be rebuilt. Do not run anything without asking.", which, run)), nil
		})
	s.srv.AddPrompt(&sdk.Prompt{Name: "explain_column", Title: "Explain where a column comes from",
		Description: "Trace a column to its sources, say how each hop transforms it, and what reads it.",
		Arguments:   []*sdk.PromptArgument{{Name: "column", Description: "model.column, e.g. orders.amount", Required: true}}},
		func(_ context.Context, req *sdk.GetPromptRequest) (*sdk.GetPromptResult, error) {
			col := req.Params.Arguments["column"]
			if col == "" {
				return nil, fmt.Errorf("column: give model.column, e.g. orders.amount")
			}
			return prompt("Explain a column", fmt.Sprintf(
				"Explain the column %s of this strata project. Call get_column_lineage for %q (direction up) and follow each hop to "+
					"its sources, saying for each whether the value is passed through (identity), computed (transformation) or aggregated, "+
					"and which filters, joins and groupings decide which rows it holds (the indirect edges). Read the SQL of the models "+
					"on the way with get_model where the hop is a transformation. Then call impact_analysis for %q to say what "+
					"would break if it changed. Mention anything get_column_lineage could not trace exactly.", col, col, col)), nil
		})
}

func prompt(desc, text string) *sdk.GetPromptResult {
	return &sdk.GetPromptResult{Description: desc, Messages: []*sdk.PromptMessage{{Role: "user", Content: &sdk.TextContent{Text: text}}}}
}

// watch polls the run history while someone is subscribed, and notifies them of each
// model (and partition) a finished run built: for a server whose runs happen in another
// process. In serve's own process the Observer does this as runs go.
func (s *Server) watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	since := time.Now().UTC()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		n := len(s.subs)
		s.mu.Unlock()
		if n == 0 {
			since = time.Now().UTC()
			continue
		}
		runs, err := s.opts.Backend.Runs(ctx, 20)
		if err != nil {
			continue
		}
		latest := since
		for _, r := range runs {
			if r.Ended == nil || !r.Ended.After(since) {
				continue
			}
			if r.Ended.After(latest) {
				latest = *r.Ended
			}
			d, err := s.opts.Backend.Run(ctx, r.RunID)
			if err != nil {
				continue
			}
			built := map[string]bool{}
			for _, t := range d.Tasks {
				if t.Status == string(engine.StatusSuccess) && !built[t.Node] {
					built[t.Node] = true
					s.notify(t.Node)
				}
			}
		}
		since = latest
	}
}

// notify tells the clients subscribed to a model that it changed.
func (s *Server) notify(model string) {
	uri := modelURI + model
	s.mu.Lock()
	subscribed := s.subs[uri] > 0
	s.mu.Unlock()
	if subscribed {
		_ = s.srv.ResourceUpdated(context.Background(), &sdk.ResourceUpdatedNotificationParams{URI: uri})
	}
}
