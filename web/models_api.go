package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/web/api"
)

// The read endpoints over the project's nodes: a list, one node in full, lineage and
// impact. Each handler only reads its query; the answer is computed by a method of its
// own (modelList, modelDetail, lineageOf, impact) that pages call too.

const (
	defaultModels = 100 // nodes a page of GET /models lists by default
	maxModels     = 1000
	defaultNodes  = 100 // nodes (or columns) a lineage or impact answer lists by default
	maxNodes      = 2000
	defaultDepth  = 2
	recentRuns    = 10 // the tasks a model's detail lists
)

func (s *Server) getModels(r *http.Request) (any, error) {
	q := r.URL.Query()
	limit, err := intParam(q, "limit", 0)
	if err != nil {
		return nil, err
	}
	return s.modelList(api.ModelQuery{Select: q.Get("select"), Tag: q.Get("tag"), Kind: q.Get("kind"), Limit: limit, Cursor: q.Get("cursor")})
}

func (s *Server) getModel(r *http.Request) (any, error) {
	return s.modelDetail(r.Context(), r.PathValue("name"))
}

func (s *Server) getLineage(r *http.Request) (any, error) {
	q := r.URL.Query()
	up, down, err := direction(q.Get("direction"))
	if err != nil {
		return nil, err
	}
	upDepth, err := depthParam(q, "up")
	if err != nil {
		return nil, err
	}
	downDepth, err := depthParam(q, "down")
	if err != nil {
		return nil, err
	}
	limit, err := intParam(q, "limit", 0)
	if err != nil {
		return nil, err
	}
	if limit, err = pageLimit(limit, defaultNodes, maxNodes); err != nil {
		return nil, err
	}
	return s.lineageOf(r.Context(), r.PathValue("node"), up, down, upDepth, downDepth, limit)
}

func (s *Server) getImpact(r *http.Request) (any, error) {
	limit, err := intParam(r.URL.Query(), "limit", 0)
	if err != nil {
		return nil, err
	}
	if limit, err = pageLimit(limit, defaultNodes, maxNodes); err != nil {
		return nil, err
	}
	return s.impact(r.Context(), r.PathValue("target"), limit)
}

// modelList is one page of the nodes a query picks, tests aside, in dependency order,
// as MCP's list_models answers. A selector term that matches nothing is refused: a typo
// should not read as "no models".
func (s *Server) modelList(mq api.ModelQuery) (*api.ModelList, error) {
	limit, err := pageLimit(mq.Limit, defaultModels, maxModels)
	if err != nil {
		return nil, err
	}
	g := s.Graph
	var sel []string
	if strings.TrimSpace(mq.Select) != "" {
		sel = []string{mq.Select}
	}
	ids, err := g.Select(sel, nil)
	if err != nil {
		return nil, err
	}
	if un := g.Unmatched(sel); len(un) > 0 {
		return nil, badRequest("%s", strings.Join(un, "; "))
	}
	all := []api.ModelSummary{}
	for _, id := range g.Sorted(ids) {
		n := g.Node(id)
		if n.Type == lineage.TypeTest || (mq.Tag != "" && !slices.Contains(n.Tags, mq.Tag)) {
			continue
		}
		m := api.ModelSummary{Name: n.Name, Type: string(n.Type), Path: n.Path, Tags: n.Tags}
		if n.Model != nil {
			m.Materialized, m.Description = string(n.Model.Kind), n.Model.Description
		} else if n.Source != nil {
			m.Description = n.Source.Description
		}
		if mq.Kind != "" && mq.Kind != m.Type && mq.Kind != m.Materialized {
			continue
		}
		all = append(all, m)
	}
	off := 0
	if mq.Cursor != "" {
		if off, err = strconv.Atoi(mq.Cursor); err != nil || off < 0 {
			return nil, badRequest("cursor %q: pass the next_cursor of the previous page", mq.Cursor)
		}
	}
	off = min(off, len(all))
	end := min(off+limit, len(all))
	out := &api.ModelList{Models: all[off:end], Total: len(all)}
	if end < len(all) {
		out.NextCursor = strconv.Itoa(end)
	}
	return out, nil
}

// modelDetail is one node in full: what MCP's get_model answers, uncut, with the
// column lineage one hop up and the node's latest tasks. Without a column catalog it
// still answers, with the documented columns and why in ColumnsError.
func (s *Server) modelDetail(ctx context.Context, name string) (*api.Model, error) {
	n, err := s.nodeNamed(name)
	if err != nil {
		return nil, err
	}
	g, p := s.Graph, s.Project
	out := &api.Model{Name: n.Name, Type: string(n.Type), Path: n.Path, Columns: []api.ModelColumn{}, Tests: []string{},
		Upstream: []string{}, Downstream: []string{}, RecentRuns: []engine.TaskRecord{}}
	readers := g.ReadersOf(n.ID)
	out.Tests, out.Downstream = readers.Tests, readers.Downstream
	tests := readers.ColumnTest
	for _, pid := range g.Parents(n.ID) {
		out.Upstream = append(out.Upstream, g.Node(pid).Name)
	}
	var documented []*models.Column
	if m := n.Model; m != nil {
		out.Materialized, out.Description, documented = string(m.Kind), m.Description, m.Columns
		out.Relation, out.SQL = p.Relation(m), m.Raw()
		if m.Kind != models.KindSeed {
			var q string
			var err error
			if s.Warehouse != nil {
				q, err = s.Warehouse.Compile(ctx, p, m) // as it runs
			} else {
				q, err = p.Compile(m, models.CompileOptions{})
			}
			if err != nil {
				out.CompileError = err.Error()
			} else {
				out.CompiledSQL = q
			}
		}
		out.Config = compactConfig(m.Config.Raw)
		out.Freshness = m.Freshness
		if sc, ok := p.Schedules[m.Name]; ok {
			out.Schedule = sc.Cron
		}
		if m.Partition() != nil && s.Warehouse != nil { // without one, every partition would read as missing
			if out.Partitions, err = s.partitionCounts(ctx, m.Name); err != nil {
				return nil, err
			}
		}
	} else if n.Source != nil {
		out.Description, documented = n.Source.Description, n.Source.Columns
	}
	switch n.Type {
	case lineage.TypeModel, lineage.TypeSeed, lineage.TypeSnapshot, lineage.TypeTest, lineage.TypeUnitTest: // what runs as tasks
		if s.Warehouse != nil {
			if out.RecentRuns, err = s.Warehouse.NodeTasks(ctx, n.Name, recentRuns); err != nil {
				return nil, fmt.Errorf("recent runs of %s: %w", n.Name, err)
			}
		}
	}

	docs := map[string]*models.Column{}
	for _, c := range documented {
		docs[strings.ToLower(c.Name)] = c
	}
	testsOf := func(name string) []string {
		if t := tests[strings.ToLower(name)]; t != nil {
			return t
		}
		return []string{}
	}
	var cols []lineage.Column
	if cg, _, err := s.columns(ctx); err != nil {
		out.ColumnsError = err.Error()
	} else if nc := cg.Nodes[n.ID]; nc != nil {
		cols = nc.Columns
	}
	seen := map[string]bool{}
	for _, c := range cols {
		mc := api.ModelColumn{Name: c.Name, Type: c.Type, Tests: testsOf(c.Name), Inputs: c.Inputs}
		if mc.Inputs == nil {
			mc.Inputs = []lineage.ColumnInput{}
		}
		if d := docs[strings.ToLower(c.Name)]; d != nil {
			mc.Description = d.Description
		}
		seen[strings.ToLower(c.Name)] = true
		out.Columns = append(out.Columns, mc)
	}
	for _, d := range documented {
		if !seen[strings.ToLower(d.Name)] {
			out.Columns = append(out.Columns, api.ModelColumn{Name: d.Name, Type: d.DataType, Description: d.Description,
				Tests: testsOf(d.Name), Inputs: []lineage.ColumnInput{}})
		}
	}
	return out, nil
}

// partitionCounts is a partitioned model's partitions by status, without their list.
func (s *Server) partitionCounts(ctx context.Context, model string) (*engine.PartitionSummary, error) {
	parts, err := engine.Partitions(ctx, s.Graph, s.Warehouse, []string{model}, nil, "", "", false, time.Now())
	if err != nil {
		return nil, fmt.Errorf("partitions of %s: %w", model, err)
	}
	for _, sum := range parts {
		if sum.Model == model {
			sum.Partitions = []engine.PartitionInfo{} // GET /partitions lists them
			return &sum, nil
		}
	}
	return nil, nil
}

// lineageOf is what a model, source table or column reads (when up, within upDepth
// generations) and what reads it (when down, within downDepth), at most limit nodes each
// way; a depth below 0 reaches all. A column's lineage needs the column catalog.
func (s *Server) lineageOf(ctx context.Context, node string, up, down bool, upDepth, downDepth, limit int) (*api.Lineage, error) {
	ref, err := lineage.ParseRef(s.Graph, node)
	if err != nil {
		return nil, notFound(err)
	}
	if ref.Column == "" {
		r := s.Graph.Around(ref.Node, up, down, upDepth, downDepth, limit)
		return &api.Lineage{Model: &r}, nil
	}
	cg, _, err := s.columns(ctx)
	if err != nil {
		return nil, fmt.Errorf("column lineage: %w", err)
	}
	col, err := cg.Column(ref)
	if err != nil {
		return nil, notFound(err)
	}
	ref.Column = col.Name
	r := cg.Around(ref, up, down, upDepth, downDepth, limit)
	return &api.Lineage{Column: &r}, nil
}

// impact is what changing or dropping a column (model.column) or a whole model affects
// downstream. A column's report lists its limit nearest columns; the models, tests and
// exposures are always complete. A model's has no columns: everything that reads it,
// directly or not, is affected.
func (s *Server) impact(ctx context.Context, target string, limit int) (*api.Impact, error) {
	g := s.Graph
	ref, err := lineage.ParseRef(g, target)
	if err != nil {
		return nil, notFound(err)
	}
	if ref.Column != "" {
		cg, _, err := s.columns(ctx)
		if err != nil {
			return nil, fmt.Errorf("column lineage: %w", err)
		}
		col, err := cg.Column(ref)
		if err != nil {
			return nil, notFound(err)
		}
		ref.Column = col.Name
		rep := lineage.ImpactN(g, cg, ref, limit)
		return &rep, nil
	}
	rep := &api.Impact{Column: ref, Columns: []lineage.ImpactColumn{}, Models: []lineage.NodeRef{}, Tests: []lineage.ImpactTest{}, Exposures: []lineage.NodeRef{}}
	ids, dist := g.Descendants(ref.Node)
	for _, id := range ids { // nearest first, then by ID
		switch n := g.Node(id); n.Type {
		case lineage.TypeTest:
			t := lineage.ImpactTest{ID: n.ID, Name: n.Name, Path: n.Path, Model: n.Test.Model, Column: n.Test.Column, Reason: "reads"}
			if t.Model != "" && g.Node(t.Model) == nil {
				t.Model = lineage.SourceID(t.Model) // tests on source tables name them "s.t"
			}
			rep.Tests = append(rep.Tests, t)
		case lineage.TypeExposure:
			rep.Exposures = append(rep.Exposures, g.Ref(id, dist[id]))
		default:
			rep.Models = append(rep.Models, g.Ref(id, dist[id]))
		}
	}
	slices.SortFunc(rep.Tests, func(a, b lineage.ImpactTest) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(rep.Exposures, func(a, b lineage.NodeRef) int { return cmp.Compare(a.Name, b.Name) })
	return rep, nil
}

// nodeNamed resolves a node by the name a path gives, answering 404 when the project
// has no such node.
func (s *Server) nodeNamed(name string) (*lineage.Node, error) {
	ref, err := lineage.ParseRef(s.Graph, name)
	if err != nil {
		return nil, notFound(err)
	}
	if ref.Column != "" {
		return nil, &httpError{status: http.StatusNotFound, kind: "not_found",
			msg: fmt.Sprintf("no model %q: that names column %q of %s", name, ref.Column, s.Graph.Node(ref.Node).Name)}
	}
	return s.Graph.Node(ref.Node), nil
}

// notFound makes an unknown name 404: the name is in the path, so what it names is
// missing, not the request malformed. The message keeps the closest names.
func notFound(err error) error {
	var re *lineage.RefError
	if errors.As(err, &re) {
		return &httpError{status: http.StatusNotFound, kind: "not_found", msg: err.Error()}
	}
	return err
}

// compactConfig drops a config's empty values, as MCP's get_model does.
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

// direction reads a lineage query's direction: both by default.
func direction(d string) (up, down bool, err error) {
	switch d {
	case "", "both":
		return true, true, nil
	case "up":
		return true, false, nil
	case "down":
		return false, true, nil
	}
	return false, false, badRequest("direction %q: use up, down or both", d)
}

// depthParam reads a lineage depth: 2 by default, -1 for all.
func depthParam(q url.Values, name string) (int, error) {
	d, err := intParam(q, name, defaultDepth)
	if err != nil {
		return 0, err
	}
	if d < -1 {
		return 0, badRequest("%s %d: give a depth of 0 or more, or -1 for all", name, d)
	}
	return d, nil
}

// intParam reads a whole-number query parameter, def when it is absent.
func intParam(q url.Values, name string, def int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badRequest("%s %q: give a whole number", name, v)
	}
	return n, nil
}

// pageLimit is a list's size: def when n is 0, at most most.
func pageLimit(n, def, most int) (int, error) {
	switch {
	case n == 0:
		return def, nil
	case n < 0:
		return 0, badRequest("limit %d: give a positive number", n)
	}
	return min(n, most), nil
}
