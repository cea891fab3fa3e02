package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// Caps keep every answer within an agent's context.
const (
	defaultLimit = 50
	maxLimit     = 200
	maxText      = 600  // a description in a list
	maxSQL       = 6000 // a model's SQL (and again its compiled SQL) in get_model
)

func clampLimit(n, def int) int {
	switch {
	case n <= 0:
		return def
	case n > maxLimit:
		return maxLimit
	}
	return n
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "… (cut)"
}

// page cuts a list at an opaque cursor (an offset).
func page[T any](all []T, cursor string, limit int) ([]T, string, error) {
	off := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 0 {
			return nil, "", fmt.Errorf("bad cursor %q: pass the next_cursor of the previous answer", cursor)
		}
		off = n
	}
	if off > len(all) {
		off = len(all)
	}
	end := min(off+limit, len(all))
	next := ""
	if end < len(all) {
		next = strconv.Itoa(end)
	}
	return all[off:end], next, nil
}

// ModelSummary is one model in a list.
type ModelSummary struct {
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	Materialized string   `json:"materialized,omitempty"`
	Path         string   `json:"path"`
	Description  string   `json:"description,omitempty"`
	Tags         []string `json:"tags,omitempty"`
}

type listModelsIn struct {
	Select string `json:"select,omitempty" jsonschema:"a dbt selector: +orders, tag:daily, path:models/marts, 2+orders+1; all models when empty"`
	Tag    string `json:"tag,omitempty" jsonschema:"only nodes with this tag"`
	Kind   string `json:"kind,omitempty" jsonschema:"only this materialization (view, table, incremental, partitioned, ephemeral, seed) or resource type (model, seed, source, test, exposure)"`
	Cursor string `json:"cursor,omitempty" jsonschema:"next_cursor of the previous page"`
	Limit  int    `json:"limit,omitempty" jsonschema:"items per page, 50 by default, 200 at most"`
}

type listModelsOut struct {
	Models     []ModelSummary `json:"models"`
	Total      int            `json:"total"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

type getModelIn struct {
	Name string `json:"name" jsonschema:"the model, seed or source table (source.table)"`
}

// ColumnInfo is a column with its type, description and tests.
type ColumnInfo struct {
	Name        string   `json:"name"`
	Type        string   `json:"type,omitempty"`
	Description string   `json:"description,omitempty"`
	Tests       []string `json:"tests,omitempty"`
}

type getModelOut struct {
	Name         string                   `json:"name"`
	Type         string                   `json:"type"`
	Materialized string                   `json:"materialized,omitempty"`
	Path         string                   `json:"path"`
	Relation     string                   `json:"relation,omitempty"`
	Description  string                   `json:"description,omitempty"`
	Columns      []ColumnInfo             `json:"columns"`
	MoreColumns  int                      `json:"columns_not_listed,omitempty"`
	Tests        []string                 `json:"tests"`
	SQL          string                   `json:"sql,omitempty"`
	CompiledSQL  string                   `json:"compiled_sql,omitempty"`
	Config       map[string]any           `json:"config,omitempty"`
	Upstream     []string                 `json:"upstream"`
	Downstream   []string                 `json:"downstream"`
	MoreDown     int                      `json:"downstream_not_listed,omitempty"`
	LastRun      *engine.RunRecord        `json:"last_run,omitempty"`
	Partitions   *engine.PartitionSummary `json:"partitions,omitempty"`
	Freshness    *models.Freshness        `json:"freshness,omitempty"`
	Schedule     string                   `json:"schedule,omitempty"`
}

type searchIn struct {
	Query string `json:"query" jsonschema:"words to find in node names, tags, columns and descriptions"`
	Limit int    `json:"limit,omitempty" jsonschema:"at most this many results, 50 by default"`
}

type searchOut struct {
	Results []lineage.NodeRef `json:"results"`
	Total   int               `json:"total"`
}

func (s *Server) addModelTools() {
	tool(s, &sdk.Tool{Name: "list_models", Annotations: readOnly("List models"),
		Description: "List the project's models, seeds and sources, filtered by a dbt selector, a tag or a kind, in dependency order. Paged: follow next_cursor."},
		s.listModels)
	tool(s, &sdk.Tool{Name: "get_model", Annotations: readOnly("Describe a model"),
		Description: "One model in full: description, columns with types and tests, SQL and compiled SQL, config, upstream and downstream names, its last run, partitions and freshness."},
		s.getModel)
	tool(s, &sdk.Tool{Name: "search", Annotations: readOnly("Search the project"),
		Description: "Find models, sources, tests and exposures whose name, tags, columns or description match the words, best first."},
		s.search)
}

func (s *Server) listModels(_ context.Context, in listModelsIn) (listModelsOut, error) {
	g := s.opts.Graph
	sel, err := s.selection(in.Select)
	if err != nil {
		return listModelsOut{}, err
	}
	ids, err := g.Select(sel, nil)
	if err != nil {
		return listModelsOut{}, err
	}
	var all []ModelSummary
	for _, id := range g.Sorted(ids) {
		n := g.Node(id)
		if n.Type == lineage.TypeTest || (in.Tag != "" && !slices.Contains(n.Tags, in.Tag)) {
			continue
		}
		m := ModelSummary{Name: n.Name, Type: string(n.Type), Path: n.Path, Tags: n.Tags}
		if n.Model != nil {
			m.Materialized = string(n.Model.Kind)
			m.Description = clip(n.Model.Description, maxText)
		} else if n.Source != nil {
			m.Description = clip(n.Source.Description, maxText)
		}
		if in.Kind != "" && in.Kind != m.Type && in.Kind != m.Materialized {
			continue
		}
		all = append(all, m)
	}
	out, _, err := shrink(clampLimit(in.Limit, defaultLimit), func(limit int) (listModelsOut, error) {
		items, next, err := page(all, in.Cursor, limit)
		return listModelsOut{Models: items, Total: len(all), NextCursor: next}, err
	})
	return out, err
}

// selection splits a selector into its words, and refuses one that matches nothing:
// an agent's typo should not read as "no models".
func (s *Server) selection(sel string) ([]string, error) {
	words := strings.Fields(sel)
	if len(words) == 0 {
		return nil, nil
	}
	if _, err := s.opts.Graph.Select(words, nil); err != nil {
		return nil, err
	}
	if un := s.opts.Graph.Unmatched(words); len(un) > 0 {
		return nil, fmt.Errorf("%s matches no node: list_models lists them, search finds one by name", strings.Join(un, ", "))
	}
	return words, nil
}

func (s *Server) node(name string) (*lineage.Node, error) {
	ref, err := lineage.ParseRef(s.opts.Graph, name)
	if err != nil {
		return nil, err
	}
	if ref.Column != "" {
		return nil, fmt.Errorf("%q names a column; give the model alone", name)
	}
	return s.opts.Graph.Node(ref.Node), nil
}

func (s *Server) getModel(ctx context.Context, in getModelIn) (getModelOut, error) {
	n, err := s.node(in.Name)
	if err != nil {
		return getModelOut{}, err
	}
	g, p := s.opts.Graph, s.opts.Project
	out := getModelOut{Name: n.Name, Type: string(n.Type), Path: n.Path, Columns: []ColumnInfo{}, Tests: []string{}, Upstream: []string{}, Downstream: []string{}}
	readers := g.ReadersOf(n.ID)
	out.Tests, out.Downstream = readers.Tests, readers.Downstream
	tests := readers.ColumnTest
	if len(out.Downstream) > defaultLimit {
		out.MoreDown = len(out.Downstream) - defaultLimit
		out.Downstream = out.Downstream[:defaultLimit]
	}
	for _, pid := range g.Parents(n.ID) {
		out.Upstream = append(out.Upstream, g.Node(pid).Name)
	}
	var documented []*models.Column
	if m := n.Model; m != nil {
		out.Materialized, out.Description, documented = string(m.Kind), m.Description, m.Columns
		out.Relation = p.Relation(m)
		out.SQL = clip(m.Raw(), maxSQL)
		if m.Kind != models.KindSeed {
			if q, err := p.Compile(m, models.CompileOptions{}); err == nil {
				out.CompiledSQL = clip(q, maxSQL)
			}
		}
		out.Config = compactConfig(m.Config.Raw)
		out.Freshness = m.Freshness
		if sc, ok := p.Schedules[m.Name]; ok {
			out.Schedule = sc.Cron
		}
		if m.Partition() != nil {
			if parts, err := s.opts.Backend.Partitions(ctx, []string{m.Name}, "", ""); err == nil && len(parts) == 1 {
				sum := parts[0]
				sum.Partitions = []engine.PartitionInfo{} // the counts; get_partitions lists them
				out.Partitions = &sum
			}
		}
		out.LastRun = s.lastRun(ctx, m.Name)
	} else if n.Source != nil {
		out.Description, documented = n.Source.Description, n.Source.Columns
	}
	docs := map[string]*models.Column{}
	for _, c := range documented {
		docs[strings.ToLower(c.Name)] = c
	}
	var cols []lineage.Column
	if cg, _, err := s.columns(ctx); err == nil {
		if nc := cg.Nodes[n.ID]; nc != nil {
			cols = nc.Columns
		}
	}
	seen := map[string]bool{}
	for _, c := range cols {
		ci := ColumnInfo{Name: c.Name, Type: c.Type, Tests: tests[strings.ToLower(c.Name)]}
		if d := docs[strings.ToLower(c.Name)]; d != nil {
			ci.Description = clip(d.Description, maxText)
		}
		seen[strings.ToLower(c.Name)] = true
		out.Columns = append(out.Columns, ci)
	}
	for _, d := range documented {
		if !seen[strings.ToLower(d.Name)] {
			out.Columns = append(out.Columns, ColumnInfo{Name: d.Name, Type: d.DataType, Description: clip(d.Description, maxText), Tests: tests[strings.ToLower(d.Name)]})
		}
	}
	// a very wide model: its columns fit in what the rest leaves of the budget
	rest := out
	rest.Columns = nil
	b, _ := json.Marshal(rest)
	var cut bool
	all := len(out.Columns)
	if out.Columns, cut = fit(out.Columns, budget-len(b)); cut {
		out.MoreColumns = all - len(out.Columns)
	}
	return out, nil
}

// lastRun is the latest run that built a model.
func (s *Server) lastRun(ctx context.Context, model string) *engine.RunRecord {
	runs, err := s.opts.Backend.Runs(ctx, 50)
	if err != nil {
		return nil
	}
	sel := func(r engine.RunRecord) bool {
		for _, f := range strings.Fields(r.Selector) {
			if strings.Trim(f, "+@") == model {
				return true
			}
		}
		return r.Selector == "" && (r.Command == "run" || r.Command == "build")
	}
	for _, r := range runs {
		if sel(r) {
			return &r
		}
	}
	return nil
}

// compactConfig keeps the config keys an agent reads, without empty values.
func compactConfig(raw map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range raw {
		if v == nil || fmt.Sprint(v) == "" || fmt.Sprint(v) == "[]" || fmt.Sprint(v) == "map[]" {
			continue
		}
		out[k] = v
	}
	return out
}

func (s *Server) search(ctx context.Context, in searchIn) (searchOut, error) {
	if strings.TrimSpace(in.Query) == "" {
		return searchOut{}, fmt.Errorf("give words to search for")
	}
	cg, _, _ := s.columns(ctx)
	res := s.opts.Graph.Search(in.Query, cg)
	out, _, err := shrink(clampLimit(in.Limit, defaultLimit), func(limit int) (searchOut, error) {
		items, _ := capList(res, limit, false)
		return searchOut{Results: items, Total: len(res)}, nil
	})
	return out, err
}

// ago is how long ago a time was, for people reading a status.
func ago(t time.Time) string { return time.Since(t).Round(time.Second).String() }
