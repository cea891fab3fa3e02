package lineage

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/stratadata/strata/models"
)

// The analysis walks DuckDB's parse tree (json_serialize_sql) of each model. Names are
// resolved against a scope of relations whose columns carry their lineage back to graph
// nodes; a column's inputs are composed through CTEs and subqueries. Whatever cannot be
// resolved exactly degrades to "all columns of X" with a note, never to a wrong edge.

type jmap = map[string]any

// relCol is a column of a relation in scope, with its lineage to graph columns.
type relCol struct {
	name   string
	inputs []ColumnInput
}

// relation is a FROM item: a model, source, CTE, subquery or table function.
type relation struct {
	alias  string
	cols   []relCol
	opaque []string // nodes whose columns are unknown here: any ref may be any of their columns
}

type scope struct {
	rels   []*relation
	using  map[string]bool // USING columns, merged across the join
	parent *scope
}

type analyzer struct {
	s      *shadow
	node   string
	ctes   []map[string]*relation // innermost last
	notes  map[string]bool
	undecl map[string]bool
}

// analyzeAll parses every model with DuckDB (json_serialize_sql, 200 statements per
// query) and analyzes the trees on all cores.
func (s *shadow) analyzeAll(ctx context.Context) {
	var ids []string
	for _, n := range s.g.Nodes() {
		if _, ok := s.sqls[n.ID]; ok && !s.failed[n.ID] {
			ids = append(ids, n.ID)
			s.nodeColumns(n.ID)
		}
	}
	jobs := make(chan [2]string, 256) // node ID, serialized tree
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				var tree jmap
				nc := s.cat.Nodes[j[0]]
				if err := json.Unmarshal([]byte(j[1]), &tree); err != nil {
					nc.Notes = append(nc.Notes, "not analyzed: "+err.Error())
					continue
				}
				s.analyzeTree(j[0], tree)
			}
		}()
	}
	const batch = 200
	for i := 0; i < len(ids); i += batch {
		part := ids[i:min(i+batch, len(ids))]
		var b strings.Builder
		args := make([]any, len(part))
		b.WriteString("SELECT i, json_serialize_sql(q)::VARCHAR FROM (VALUES ")
		for k, id := range part {
			if k > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "(%d, ?::VARCHAR)", k)
			args[k] = s.sqls[id]
		}
		b.WriteString(") AS t(i, q)")
		rows, err := s.db.QueryContext(ctx, b.String(), args...)
		if err != nil {
			for _, id := range part {
				s.cat.Nodes[id].Notes = append(s.cat.Nodes[id].Notes, "not analyzed: "+models.FirstLine(err.Error()))
			}
			continue
		}
		for rows.Next() {
			var k int
			var tree string
			if err := rows.Scan(&k, &tree); err == nil {
				jobs <- [2]string{part[k], tree}
			}
		}
		rows.Close()
	}
	close(jobs)
	wg.Wait()
}

// analyzeTree computes one model's column lineage from its parse tree. It writes only
// that model's NodeColumns, so models are analyzed in parallel.
func (s *shadow) analyzeTree(id string, root jmap) {
	nc := s.cat.Nodes[id]
	stmts, _ := root["statements"].([]any)
	if b, _ := root["error"].(bool); b || len(stmts) != 1 {
		nc.Notes = append(nc.Notes, "not analyzed: DuckDB could not serialize the query")
		s.degradeAll(id, nc)
		return
	}
	a := &analyzer{s: s, node: id, notes: map[string]bool{}, undecl: map[string]bool{}}
	node, _ := stmts[0].(jmap)["node"].(jmap)
	outs, indirect := a.query(node, nil)
	if len(outs) != len(nc.Columns) {
		a.note(fmt.Sprintf("the select list gives %d columns where DuckDB sees %d; lineage is per input relation", len(outs), len(nc.Columns)))
		s.degradeAll(id, nc)
	} else {
		for i := range nc.Columns {
			nc.Columns[i].Inputs = dedupe(append(append([]ColumnInput{}, outs[i].inputs...), indirect...))
		}
	}
	for msg := range a.notes {
		nc.Notes = append(nc.Notes, msg)
	}
	sort.Strings(nc.Notes)
	for u := range a.undecl {
		nc.Undeclared = append(nc.Undeclared, u)
	}
	sort.Strings(nc.Undeclared)
}

// degradeAll makes every column of a node depend on every column of its parents.
func (s *shadow) degradeAll(id string, nc *NodeColumns) {
	var ins []ColumnInput
	for _, pid := range s.g.Parents(id) {
		for _, c := range s.cols[pid] {
			ins = append(ins, ColumnInput{From: ColumnRef{Node: pid, Column: c.Name}, Kind: AllColumns})
		}
	}
	for i := range nc.Columns {
		nc.Columns[i].Inputs = ins
	}
}

func (a *analyzer) note(msg string) { a.notes[msg] = true }

// query analyzes a query node: its output columns and the indirect inputs that decide
// its rows (filters, joins, group keys).
func (a *analyzer) query(node jmap, outer *scope) ([]relCol, []ColumnInput) {
	if node == nil {
		return nil, nil
	}
	pushed := a.pushCTEs(node, outer)
	if pushed {
		defer func() { a.ctes = a.ctes[:len(a.ctes)-1] }()
	}
	switch node["type"] {
	case "SELECT_NODE":
		return a.selectNode(node, outer)
	case "SET_OPERATION_NODE":
		l, li := a.query(asMap(node["left"]), outer)
		r, ri := a.query(asMap(node["right"]), outer)
		byName := strings.Contains(fmt.Sprint(node["setop_type"]), "BY_NAME")
		outs := make([]relCol, len(l))
		copy(outs, l)
		for i, rc := range r {
			j := i
			if byName {
				j = -1
				for k := range outs {
					if strings.EqualFold(outs[k].name, rc.name) {
						j = k
						break
					}
				}
				if j < 0 {
					outs = append(outs, rc)
					continue
				}
			}
			if j < len(outs) {
				outs[j].inputs = append(append([]ColumnInput{}, outs[j].inputs...), rc.inputs...)
			}
		}
		return outs, append(li, ri...)
	case "RECURSIVE_CTE_NODE":
		a.note("recursive CTE: lineage is per input relation")
		l, li := a.query(asMap(node["left"]), outer)
		return l, li
	}
	a.note(fmt.Sprintf("query node %v: lineage is per input relation", node["type"]))
	return nil, nil
}

// pushCTEs analyzes a node's WITH clause, in order (a CTE may read the ones before it).
func (a *analyzer) pushCTEs(node jmap, outer *scope) bool {
	cm := asMap(node["cte_map"])
	entries, _ := cm["map"].([]any)
	if len(entries) == 0 {
		return false
	}
	level := map[string]*relation{}
	a.ctes = append(a.ctes, level)
	for _, e := range entries {
		em := asMap(e)
		name := fmt.Sprint(em["key"])
		val := asMap(em["value"])
		q := asMap(asMap(val["query"])["node"])
		outs, ind := a.query(q, outer)
		for i := range outs {
			outs[i].inputs = append(append([]ColumnInput{}, outs[i].inputs...), ind...)
		}
		if aliases, _ := val["aliases"].([]any); len(aliases) > 0 {
			for i, al := range aliases {
				if i < len(outs) {
					outs[i].name = fmt.Sprint(al)
				}
			}
		}
		level[strings.ToLower(name)] = &relation{alias: name, cols: outs}
	}
	return true
}

func (a *analyzer) cte(name string) *relation {
	for i := len(a.ctes) - 1; i >= 0; i-- {
		if r, ok := a.ctes[i][strings.ToLower(name)]; ok {
			return r
		}
	}
	return nil
}

func (a *analyzer) selectNode(node jmap, outer *scope) ([]relCol, []ColumnInput) {
	sc := &scope{parent: outer, using: map[string]bool{}}
	var indirect []ColumnInput
	indirect = append(indirect, a.from(asMap(node["from_table"]), sc)...)
	list, _ := node["select_list"].([]any)
	var outs []relCol
	var exprs []jmap // the expression behind each output, nil for star columns
	aliases := map[string][]ColumnInput{}
	for _, it := range list {
		e := asMap(it)
		if e["type"] == "STAR" {
			for _, rc := range a.star(e, sc) {
				outs = append(outs, rc)
				exprs = append(exprs, nil)
			}
			continue
		}
		ins := a.expr(e, sc)
		name := exprName(e)
		outs = append(outs, relCol{name: name, inputs: ins})
		exprs = append(exprs, e)
		if al, _ := e["alias"].(string); al != "" {
			aliases[strings.ToLower(al)] = ins
		}
	}
	kinded := func(e any, kind EdgeKind) []ColumnInput {
		var out []ColumnInput
		for _, in := range a.refsIn(e, sc, aliases) {
			out = append(out, as(in, kind))
		}
		return out
	}
	indirect = append(indirect, kinded(node["where_clause"], Filter)...)
	indirect = append(indirect, kinded(node["having"], Filter)...)
	indirect = append(indirect, kinded(node["qualify"], Filter)...)
	groups, _ := node["group_expressions"].([]any)
	for _, g := range groups {
		gm := asMap(g)
		if gm["type"] == "VALUE_CONSTANT" { // GROUP BY 1: a select position
			if v, ok := asMap(gm["value"])["value"].(float64); ok && int(v) >= 1 && int(v) <= len(outs) {
				for _, in := range outs[int(v)-1].inputs {
					indirect = append(indirect, as(in, GroupBy))
				}
			}
			continue
		}
		indirect = append(indirect, kinded(g, GroupBy)...)
	}
	if node["aggregate_handling"] == "FORCE_AGGREGATES" { // GROUP BY ALL: the non-aggregates are the keys
		for i, e := range exprs {
			if e != nil && !a.hasAggregate(e) {
				for _, in := range outs[i].inputs {
					indirect = append(indirect, as(in, GroupBy))
				}
			}
		}
	}
	return outs, dedupe(indirect)
}
