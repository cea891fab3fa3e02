package mcp_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

var readTools = []string{"diagnose_run", "get_column_lineage", "get_lineage", "get_model", "get_partitions", "impact_analysis",
	"lineage_path", "list_models", "list_runs", "plan_backfill", "query", "search"}

func TestToolsListedHonestly(t *testing.T) {
	t.Parallel()
	f := load(t, project)
	for _, writes := range []bool{false, true} {
		cs := connect(t, localServer(t, f, writes), nil)
		res, err := cs.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tl := range res.Tools {
			names = append(names, tl.Name)
			if tl.Description == "" || tl.Annotations == nil || tl.Annotations.Title == "" || tl.InputSchema == nil || tl.OutputSchema == nil {
				t.Errorf("%s: description, annotations, input and output schemas are all needed: %+v", tl.Name, tl)
			}
			write := tl.Name == "run_backfill" || tl.Name == "run_models"
			if tl.Annotations.ReadOnlyHint == write {
				t.Errorf("%s: readOnlyHint = %v", tl.Name, tl.Annotations.ReadOnlyHint)
			}
			if write && (tl.Annotations.DestructiveHint == nil || !*tl.Annotations.DestructiveHint) {
				t.Errorf("%s writes the warehouse: it must say it is destructive", tl.Name)
			}
			if tl.Annotations.OpenWorldHint == nil || *tl.Annotations.OpenWorldHint {
				t.Errorf("%s talks only to this project: openWorldHint must be false", tl.Name)
			}
		}
		slices.Sort(names)
		want := slices.Clone(readTools)
		if writes {
			want = append(want, "run_backfill", "run_models")
			slices.Sort(want)
		}
		if !slices.Equal(names, want) {
			t.Errorf("allow writes %v: tools %v, want %v", writes, names, want)
		}
	}
}

type modelList struct {
	Models []struct {
		Name, Type, Materialized, Path string
	}
	Total      int
	NextCursor string `json:"next_cursor"`
}

func TestModels(t *testing.T) {
	t.Parallel()
	f := load(t, project)
	cs := connect(t, localServer(t, f, false), nil)

	// paged with a cursor: every node once, in dependency order
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		l := call[modelList](t, cs, "list_models", map[string]any{"limit": 2, "cursor": cursor})
		if l.Total != 6 || len(l.Models) > 2 {
			t.Fatalf("page %d: %+v", pages, l)
		}
		for _, m := range l.Models {
			seen = append(seen, m.Name)
		}
		if cursor = l.NextCursor; cursor == "" {
			break
		}
	}
	if len(seen) != 6 || seen[0] != "raw_payments" || seen[1] != "stg_payments" {
		t.Errorf("models in pages: %v", seen)
	}
	if l := call[modelList](t, cs, "list_models", map[string]any{"select": "stg_payments+", "kind": "table"}); l.Total != 1 || l.Models[0].Name != "revenue" {
		t.Errorf("select stg_payments+ kind table: %+v", l)
	}
	if l := call[modelList](t, cs, "list_models", map[string]any{"tag": "staging"}); l.Total != 1 || l.Models[0].Name != "stg_payments" {
		t.Errorf("tag staging: %+v", l)
	}
	callErr(t, cs, "list_models", map[string]any{"cursor": "x"}, "bad cursor")
	callErr(t, cs, "list_models", map[string]any{"select": "nosuch+"}, "nosuch")
	callErr(t, cs, "list_models", map[string]any{"limit": "ten"}, "limit")

	type model struct {
		Name, Description, SQL string
		Compiled               string `json:"compiled_sql"`
		Columns                []struct {
			Name, Type, Description string
			Tests                   []string
		}
		Tests, Upstream, Downstream []string
	}
	m := call[model](t, cs, "get_model", map[string]any{"name": "stg_payments"})
	if m.Description != "One row per payment, amounts in dollars." || !strings.Contains(m.SQL, "ref('raw_payments')") ||
		!strings.Contains(m.Compiled, `"raw_payments"`) || len(m.Tests) != 2 {
		t.Errorf("get_model: %+v", m)
	}
	if !slices.Equal(m.Upstream, []string{"raw_payments"}) || !slices.Contains(m.Downstream, "revenue") || !slices.Contains(m.Downstream, "daily_payments") {
		t.Errorf("up %v down %v", m.Upstream, m.Downstream)
	}
	if len(m.Columns) != 4 || m.Columns[0].Name != "payment_id" || m.Columns[0].Description != "The payment's id." ||
		!slices.Equal(m.Columns[0].Tests, []string{"not_null", "unique"}) && !slices.Equal(m.Columns[0].Tests, []string{"unique", "not_null"}) ||
		m.Columns[2].Type == "" {
		t.Errorf("columns: %+v", m.Columns)
	}
	callErr(t, cs, "get_model", map[string]any{"name": "stg_paymnts"}, "stg_payments") // a suggestion
	callErr(t, cs, "get_model", map[string]any{}, "name")

	type found struct {
		Results []struct{ Name, Match string }
		Total   int
	}
	if s := call[found](t, cs, "search", map[string]any{"query": "dollars"}); s.Total == 0 || s.Results[0].Name != "stg_payments" {
		t.Errorf("search dollars: %+v", s)
	}
	callErr(t, cs, "search", map[string]any{"query": " "}, "words")
}

func TestLineageTools(t *testing.T) {
	t.Parallel()
	f := load(t, project)
	cs := connect(t, localServer(t, f, false), nil)

	type lin struct {
		Model *struct {
			Nodes     []struct{ Name string }
			Edges     [][2]string
			Truncated bool
			Total     int
		}
		Column *struct {
			Columns []struct{ Node, Column string }
			Edges   []struct{ Kind string }
		}
	}
	l := call[lin](t, cs, "get_lineage", map[string]any{"node": "revenue", "direction": "up"})
	if l.Model == nil || len(l.Model.Nodes) != 3 || !slices.Contains(l.Model.Edges, [2]string{"stg_payments", "revenue"}) {
		t.Errorf("get_lineage revenue up: %+v", l.Model)
	}
	if l := call[lin](t, cs, "get_lineage", map[string]any{"node": "raw_payments", "direction": "down", "depth": -1, "limit": 2}); !l.Model.Truncated || len(l.Model.Nodes) != 2 || l.Model.Total < 5 {
		t.Errorf("capped: %+v", l.Model)
	}
	if l := call[lin](t, cs, "get_lineage", map[string]any{"node": "revenue.revenue", "direction": "up"}); l.Column == nil || len(l.Column.Columns) < 3 {
		t.Errorf("column lineage: %+v", l.Column)
	}
	callErr(t, cs, "get_lineage", map[string]any{"node": "revenue", "direction": "sideways"}, "up, down or both")
	callErr(t, cs, "get_lineage", map[string]any{"node": "revenue.nope"}, "nope")

	type hops struct {
		Column string
		Hops   []struct{ From, To, Kind string }
	}
	h := call[hops](t, cs, "get_column_lineage", map[string]any{"column": "revenue.revenue"})
	kinds := map[string]string{}
	for _, hp := range h.Hops {
		kinds[hp.From+">"+hp.To] = hp.Kind
	}
	if kinds["stg_payments.amount>revenue.revenue"] != "aggregation" || kinds["raw_payments.amount>stg_payments.amount"] != "transformation" ||
		kinds["stg_payments.status>revenue.revenue"] != "filter" {
		t.Errorf("hops: %v", kinds)
	}

	type impact struct {
		Models    []struct{ Name string }
		Columns   []struct{ Node, Column string }
		Tests     []struct{ Name string }
		Exposures []struct{ Name string }
		Totals    map[string]int
	}
	im := call[impact](t, cs, "impact_analysis", map[string]any{"target": "stg_payments.amount"})
	if len(im.Models) == 0 || im.Models[0].Name != "revenue" || len(im.Exposures) != 1 || im.Exposures[0].Name != "finance_dashboard" || im.Totals["models"] != len(im.Models) {
		t.Errorf("impact of stg_payments.amount: %+v", im)
	}
	im = call[impact](t, cs, "impact_analysis", map[string]any{"target": "stg_payments"})
	if len(im.Models) != 3 || len(im.Tests) < 2 {
		t.Errorf("impact of stg_payments: %+v", im)
	}

	type path struct {
		Found     bool
		Direction string
		Path      []struct{ Name string }
	}
	if p := call[path](t, cs, "lineage_path", map[string]any{"from": "raw_payments", "to": "daily_checked"}); !p.Found || len(p.Path) != 4 {
		t.Errorf("path: %+v", p)
	}
	if p := call[path](t, cs, "lineage_path", map[string]any{"from": "revenue", "to": "raw_payments"}); !p.Found || p.Direction != "up" || len(p.Path) != 3 {
		t.Errorf("a path upstream: %+v", p)
	}
	if p := call[path](t, cs, "lineage_path", map[string]any{"from": "revenue", "to": "daily_payments"}); p.Found || len(p.Path) != 0 {
		t.Errorf("no path between siblings: %+v", p)
	}
	callErr(t, cs, "lineage_path", map[string]any{"from": "revenue", "to": "nosuch"}, "nosuch")
}

func TestResourcesAndPrompts(t *testing.T) {
	t.Parallel()
	f := load(t, project)
	f.build(t)
	cs := connect(t, localServer(t, f, false), nil)
	ctx := context.Background()

	tpl, err := cs.ListResourceTemplates(ctx, nil)
	if err != nil || len(tpl.ResourceTemplates) != 2 {
		t.Fatalf("templates: %+v, %v", tpl, err)
	}
	rd, err := cs.ReadResource(ctx, &sdk.ReadResourceParams{URI: "strata://models/stg_payments"})
	if err != nil {
		t.Fatal(err)
	}
	md := rd.Contents[0].Text
	for _, want := range []string{"# stg_payments", "| payment_id |", "## Downstream", "```sql", "## Last run"} {
		if !strings.Contains(md, want) {
			t.Errorf("model markdown lacks %q:\n%s", want, md)
		}
	}
	if _, err := cs.ReadResource(ctx, &sdk.ReadResourceParams{URI: "strata://models/nosuch"}); err == nil {
		t.Error("an unknown model's resource was read")
	}
	rd, err = cs.ReadResource(ctx, &sdk.ReadResourceParams{URI: "strata://lineage"})
	if err != nil || !strings.Contains(rd.Contents[0].Text, `["stg_payments","revenue"]`) || strings.Contains(rd.Contents[0].Text, "test:") {
		t.Errorf("lineage resource: %v %.300s", err, rd.Contents[0].Text)
	}
	runs := call[struct {
		Runs []struct {
			RunID string `json:"run_id"`
		}
	}](t, cs, "list_runs", nil)
	rd, err = cs.ReadResource(ctx, &sdk.ReadResourceParams{URI: "strata://runs/" + runs.Runs[0].RunID})
	if err != nil || !strings.Contains(rd.Contents[0].Text, `"tasks":[`) {
		t.Errorf("run resource: %v %+v", err, rd)
	}

	ps, err := cs.ListPrompts(ctx, nil)
	if err != nil || len(ps.Prompts) != 2 {
		t.Fatalf("prompts: %+v %v", ps, err)
	}
	for _, p := range ps.Prompts {
		if p.Description == "" {
			t.Errorf("prompt %s has no description", p.Name)
		}
	}
	gp, err := cs.GetPrompt(ctx, &sdk.GetPromptParams{Name: "explain_column", Arguments: map[string]string{"column": "revenue.revenue"}})
	if err != nil || !strings.Contains(gp.Messages[0].Content.(*sdk.TextContent).Text, "get_column_lineage") {
		t.Errorf("explain_column: %+v %v", gp, err)
	}
	if _, err := cs.GetPrompt(ctx, &sdk.GetPromptParams{Name: "investigate_failure"}); err != nil {
		t.Errorf("investigate_failure: %v", err)
	}

	// completions of prompt arguments and template variables
	complete := func(ref *sdk.CompleteReference, arg, value string) []string {
		t.Helper()
		res, err := cs.Complete(ctx, &sdk.CompleteParams{Ref: ref, Argument: sdk.CompleteParamsArgument{Name: arg, Value: value}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Completion.Values
	}
	explain := &sdk.CompleteReference{Type: "ref/prompt", Name: "explain_column"}
	if got := complete(explain, "column", "daily_"); !slices.Equal(got, []string{"daily_checked", "daily_payments"}) {
		t.Errorf("complete daily_: %v", got)
	}
	if got := complete(explain, "column", "stg_payments.am"); !slices.Equal(got, []string{"stg_payments.amount"}) {
		t.Errorf("complete stg_payments.am: %v", got)
	}
	if got := complete(&sdk.CompleteReference{Type: "ref/resource", URI: "strata://runs/{id}"}, "id", ""); len(got) != 2 {
		t.Errorf("complete run ids: %v", got)
	}
	if got := complete(&sdk.CompleteReference{Type: "ref/prompt", Name: "nosuch"}, "x", ""); len(got) != 0 {
		t.Errorf("complete an unknown prompt: %v", got)
	}
}
