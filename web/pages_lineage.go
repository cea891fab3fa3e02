package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/web/ui"
)

const (
	diagramNodes = 150 // nodes a diagram draws at most: a neighbourhood, never a hairball
	wholeProject = 60  // a project this small opens whole, with nothing focused
)

// lineageQuery is what the explorer's URL asks for.
type lineageQuery struct {
	Focus, Select, Mode, Query, Column string
	Up, Down                           int
	Expand                             []string
}

func parseLineageQuery(q url.Values) (lineageQuery, error) {
	lq := lineageQuery{Focus: strings.TrimSpace(q.Get("focus")), Select: strings.TrimSpace(q.Get("select")),
		Mode: q.Get("mode"), Query: strings.TrimSpace(q.Get("q")), Column: q.Get("col"), Up: 2, Down: 2}
	if lq.Mode != "column" {
		lq.Mode = "table"
	}
	for _, f := range []struct {
		name string
		to   *int
	}{{"up", &lq.Up}, {"down", &lq.Down}} {
		if v := q.Get(f.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 50 {
				return lq, badRequest("%s %q: give a depth from 0 to 50", f.name, v)
			}
			*f.to = n
		}
	}
	for _, e := range q["expand"] {
		for _, name := range strings.Split(e, ",") {
			if name = strings.TrimSpace(name); name != "" && !slices.Contains(lq.Expand, name) {
				lq.Expand = append(lq.Expand, name)
			}
		}
	}
	slices.Sort(lq.Expand)
	if lq.Column != "" {
		if i := strings.LastIndex(lq.Column, "."); i > 0 && !slices.Contains(lq.Expand, lq.Column[:i]) && lq.Mode == "table" {
			lq.Expand = append(lq.Expand, lq.Column[:i])
			slices.Sort(lq.Expand)
		}
	}
	return lq, nil
}

// url is the explorer's URL for q, with change applied to a copy.
func (lq lineageQuery) url(path string, change func(*lineageQuery)) string {
	c := lq
	c.Expand = slices.Clone(lq.Expand)
	if change != nil {
		change(&c)
	}
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("focus", c.Focus)
	set("select", c.Select)
	if c.Up != 2 {
		v.Set("up", strconv.Itoa(c.Up))
	}
	if c.Down != 2 {
		v.Set("down", strconv.Itoa(c.Down))
	}
	if c.Mode == "column" {
		v.Set("mode", "column")
	}
	if len(c.Expand) > 0 && c.Mode != "column" {
		v.Set("expand", strings.Join(c.Expand, ","))
	}
	set("col", c.Column)
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

func (s *Server) lineagePage(w http.ResponseWriter, r *http.Request, m ui.Meta) (templ.Component, error) {
	m.Title, m.Nav = "Lineage", "lineage"
	v, err := s.lineageView(r.Context(), m, r.URL.Query())
	if err != nil {
		return nil, err
	}
	return ui.LineagePage(v), nil
}

// lineageSVG is the diagram alone, as a file to save.
func (s *Server) lineageSVG(w http.ResponseWriter, r *http.Request) {
	v, err := s.lineageView(r.Context(), ui.Meta{}, r.URL.Query())
	if err != nil {
		writeError(w, err)
		return
	}
	if v.Diagram == nil {
		writeError(w, badRequest("give focus or select to draw"))
		return
	}
	css, _ := staticFiles.ReadFile("static/app.css")
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Content-Disposition", `attachment; filename="lineage.svg"`)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	_ = ui.StandaloneGraph(*v.Diagram, v.Column, string(css)).Render(r.Context(), w)
}

// lineageView computes the explorer's view: what the query reaches, laid out.
func (s *Server) lineageView(ctx context.Context, m ui.Meta, q url.Values) (ui.LineageView, error) {
	lq, err := parseLineageQuery(q)
	if err != nil {
		return ui.LineageView{}, err
	}
	v := ui.LineageView{Meta: m, Focus: lq.Focus, Select: lq.Select, Mode: lq.Mode, Query: lq.Query, Up: lq.Up, Down: lq.Down,
		Expand: lq.Expand, Column: lq.Column}
	v.SVGHref = lq.url("/lineage.svg", nil)
	v.ModeHref = lq.url("/lineage", func(c *lineageQuery) {
		if c.Mode == "column" {
			c.Mode = "table"
		} else {
			c.Mode, c.Expand = "column", nil
		}
	})
	// columns only when asked for: the first shadow catalog of a big project takes seconds
	var cg *lineage.ColumnGraph
	var cerr error
	if lq.Query != "" || lq.Mode == "column" || len(lq.Expand) > 0 {
		cg, _, cerr = s.columns(ctx)
	}
	if lq.Query != "" {
		v.Matches = s.Graph.Search(lq.Query, cg)
		if len(v.Matches) > 60 {
			v.Matches = v.Matches[:60]
		}
	}
	res, root, err := s.reach(ctx, lq)
	if err != nil {
		return v, err
	}
	if res == nil {
		v.Suggest = suggestions(s.Graph)
		return v, nil
	}
	var nodes []lineage.NodeRef
	keep := map[string]bool{}
	for _, n := range res.Nodes {
		if shown(n.Type) {
			nodes = append(nodes, n)
			keep[n.ID] = true
		}
	}
	var edges [][2]string
	for _, e := range res.Edges {
		if keep[e[0]] && keep[e[1]] {
			edges = append(edges, e)
		}
	}
	v.Shown, v.Total = len(nodes), len(nodes)
	if res.Truncated {
		v.Total = res.Total
		v.Note = fmt.Sprintf("the nearest %d: lower the depth or narrow the selector to see the rest", len(nodes))
	}
	in := layoutInput{Focus: root, Nodes: nodes, Edges: edges, Columns: map[string][]lineage.Column{}}
	expanded := map[string]bool{}
	for _, name := range lq.Expand {
		if ref, err := lineage.ParseRef(s.Graph, name); err == nil {
			expanded[ref.Node] = true
		}
	}
	if (lq.Mode == "column" || len(expanded) > 0) && cerr != nil {
		v.ColumnError = cerr.Error()
	}
	if cg != nil {
		for _, n := range nodes {
			if lq.Mode == "column" || expanded[n.ID] {
				if nc := cg.Nodes[n.ID]; nc != nil {
					in.Columns[n.ID] = nc.Columns
				} else {
					in.Columns[n.ID] = nil
				}
			}
		}
	}
	key := fmt.Sprintf("%s|%s|%d|%d|%s|%v|%v", root, lq.Select, lq.Up, lq.Down, lq.Mode, lq.Expand, cg != nil)
	d, err := s.layouts.layout(ctx, key, in)
	if err != nil {
		return v, err
	}
	v.Diagram = s.draw(ctx, d, lq)
	if m.Static { // an export's links are its files; columns light with app.js alone
		for i := range v.Diagram.Nodes {
			n := &v.Diagram.Nodes[i]
			n.Href, n.ToggleHref = m.LineageURL(n.Name), ""
			for j := range n.Columns {
				n.Columns[j].Href = "#" + n.Columns[j].Key
			}
		}
	}
	return v, nil
}

// reach is the nodes and edges the query asks for: a selector's nodes, the focus's
// neighbourhood, or a small project whole; nil when nothing is asked of a big one.
func (s *Server) reach(ctx context.Context, lq lineageQuery) (*lineage.Result, string, error) {
	g := s.Graph
	switch {
	case lq.Select != "":
		args := strings.Fields(lq.Select)
		sel, err := g.Select(args, nil)
		if err != nil {
			return nil, "", err
		}
		if un := g.Unmatched(args); len(un) > 0 {
			return nil, "", badRequest("the selector %s matches no node", strings.Join(un, " "))
		}
		return subgraph(g, sel, diagramNodes), "", nil
	case lq.Focus != "":
		l, err := s.lineageOf(ctx, lq.Focus, true, true, lq.Up, lq.Down, diagramNodes/2)
		if err != nil {
			return nil, "", err
		}
		if l.Model == nil { // a column: focus on its model
			ref, err := lineage.ParseRef(g, lq.Focus)
			if err != nil {
				return nil, "", err
			}
			r := g.Around(ref.Node, true, true, lq.Up, lq.Down, diagramNodes/2)
			return &r, ref.Node, nil
		}
		return l.Model, l.Model.Root, nil
	}
	all := map[string]bool{}
	for _, n := range g.Nodes() {
		if shown(n.Type) {
			all[n.ID] = true
		}
	}
	if len(all) > wholeProject {
		return nil, "", nil
	}
	return subgraph(g, all, diagramNodes), "", nil
}

// subgraph is a set of nodes and the edges among them, as a lineage result: the first
// limit in the graph's order when there are more.
func subgraph(g *lineage.Graph, ids map[string]bool, limit int) *lineage.Result {
	order := g.Sorted(ids)
	r := &lineage.Result{Total: len(order), Nodes: []lineage.NodeRef{}, Edges: [][2]string{}}
	if len(order) > limit {
		order, r.Truncated = order[:limit], true
	}
	in := map[string]bool{}
	for _, id := range order {
		in[id] = true
		r.Nodes = append(r.Nodes, g.Ref(id, 0))
	}
	for _, id := range order {
		for _, p := range g.Parents(id) {
			if in[p] {
				r.Edges = append(r.Edges, [2]string{p, id})
			}
		}
	}
	return r
}

// suggestions are where to start in a big project: its exposures and the models most
// read, then the rest by name.
func suggestions(g *lineage.Graph) []lineage.NodeRef {
	var out []lineage.NodeRef
	for _, n := range g.Nodes() {
		if n.Type == lineage.TypeExposure || n.Type == lineage.TypeModel {
			out = append(out, g.Ref(n.ID, 0))
		}
	}
	slices.SortStableFunc(out, func(a, b lineage.NodeRef) int {
		if d := len(g.Children(b.ID)) - len(g.Children(a.ID)); d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out[:min(len(out), 30)]
}

// draw turns a cached layout into the page's diagram: links, statuses and the
// highlighted column's path, which change between requests of one layout.
func (s *Server) draw(ctx context.Context, d *diagram, lq lineageQuery) *ui.Diagram {
	states := s.nodeStates(ctx)
	out := &ui.Diagram{Width: d.Width, Height: d.Height}
	ups, downs := walkColumns(d, lq.Column, true), walkColumns(d, lq.Column, false)
	lit := map[string]bool{}
	for k := range ups {
		lit[k] = true
	}
	for k := range downs {
		lit[k] = true
	}
	for _, n := range d.Nodes {
		un := ui.Node{ID: n.ID, Name: n.Name, Type: n.Type, Focus: n.Focus, X: n.X, Y: n.Y, W: n.W, H: n.H,
			Expanded: n.Expanded, MoreColumns: n.MoreColumns, Status: s.nodeStatus(n.ID, states)}
		name := n.Name
		un.Href = lq.url("/lineage", func(c *lineageQuery) { c.Focus, c.Select, c.Column = name, "", "" })
		if lq.Mode != "column" && n.Type != string(lineage.TypeExposure) {
			un.ToggleHref = lq.url("/lineage", func(c *lineageQuery) {
				if i := slices.Index(c.Expand, name); i >= 0 {
					c.Expand = slices.Delete(c.Expand, i, i+1)
				} else {
					c.Expand = append(c.Expand, name)
					slices.Sort(c.Expand)
				}
			})
		}
		for _, c := range n.Columns {
			k := n.Name + "." + c.Name
			un.Columns = append(un.Columns, ui.ColumnRow{Name: c.Name, Type: c.Type, Y: c.Y, Key: k, Lit: lit[k],
				Href: lq.url("/lineage", func(q *lineageQuery) { q.Column = k })})
		}
		out.Nodes = append(out.Nodes, un)
	}
	for _, e := range d.Edges {
		out.Edges = append(out.Edges, ui.Edge{From: s.name(e.From), To: s.name(e.To), Path: e.Path})
	}
	for _, e := range d.ColumnEdges {
		out.ColumnEdges = append(out.ColumnEdges, ui.ColumnEdge{From: e.From, To: e.To, Kind: e.Kind, Path: e.Path,
			Lit: ups[e.From] && ups[e.To] || downs[e.From] && downs[e.To]})
	}
	return out
}

func (s *Server) name(id string) string {
	if n := s.Graph.Node(id); n != nil {
		return n.Name
	}
	return id
}

// walkColumns is a column with everything it comes from (up) or feeds, along the
// diagram's column edges: what app.js lights on a click, for a page loaded with col=.
func walkColumns(d *diagram, col string, up bool) map[string]bool {
	seen := map[string]bool{}
	if col == "" {
		return seen
	}
	next := map[string][]string{}
	for _, e := range d.ColumnEdges {
		if up {
			next[e.To] = append(next[e.To], e.From)
		} else {
			next[e.From] = append(next[e.From], e.To)
		}
	}
	seen[col] = true
	stack := []string{col}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, n := range next[c] {
			if !seen[n] {
				seen[n] = true
				stack = append(stack, n)
			}
		}
	}
	return seen
}

// nodeStates is every node's latest task, read once per change of what runs.
func (s *Server) nodeStates(ctx context.Context) map[string]engine.NodeState {
	if s.Warehouse == nil {
		return nil
	}
	var version uint64
	if s.Live != nil {
		version, _ = s.Live.wait()
	}
	s.statesMu.Lock()
	defer s.statesMu.Unlock()
	if s.states != nil && s.statesVersion == version && s.Live != nil {
		return s.states
	}
	st, err := s.Warehouse.NodeStates(ctx)
	if err != nil {
		return nil
	}
	s.states, s.statesVersion = st, version
	return st
}

// nodeStatus is a node's colour: running or waiting now, else failed or ok by its
// latest task, stale when something it reads was built after it.
func (s *Server) nodeStatus(id string, states map[string]engine.NodeState) string {
	n := s.Graph.Node(id)
	if n == nil || n.Model == nil {
		return ""
	}
	if live := s.Live.state(n.Name); live != "" {
		return live
	}
	st, ok := states[n.Name]
	if !ok {
		return ""
	}
	switch st.Status {
	case string(engine.StatusError), string(engine.StatusFail):
		return "failed"
	case string(engine.StatusWaiting):
		return "waiting"
	}
	if st.LastOK == nil {
		return ""
	}
	for _, p := range s.Graph.Parents(id) {
		pn := s.Graph.Node(p)
		if pn == nil || pn.Model == nil {
			continue
		}
		if ps, ok := states[pn.Name]; ok && ps.LastOK != nil && ps.LastOK.After(*st.LastOK) {
			return "stale"
		}
	}
	return "ok"
}
