package mcp_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/mcp"
	"github.com/stratadata/strata/models"
)

// project is a small shop with a partitioned model whose 2024-01-03 fails.
var project = map[string]string{
	"strata.yml":             "name: shop\nwarehouse:\n  path: shop.duckdb\n",
	"seeds/raw_payments.csv": "id,order_id,amount,status\n1,10,500,paid\n2,10,250,paid\n3,11,990,refunded\n",
	"models/staging/stg_payments.sql": "{{ config(materialized='view', tags=['staging']) }}\n" +
		"select id as payment_id, order_id, amount / 100.0 as amount, status from {{ ref('raw_payments') }}",
	"models/staging/stg_payments.yml": `models:
  - name: stg_payments
    description: One row per payment, amounts in dollars.
    columns:
      - name: payment_id
        description: The payment's id.
        tests: [unique, not_null]
      - name: amount
        description: Dollars.
`,
	"models/marts/revenue.sql": "{{ config(materialized='table') }}\n" +
		"select order_id, sum(amount) as revenue from {{ ref('stg_payments') }} where status = 'paid' group by order_id",
	"models/marts/exposures.yml": `exposures:
  - name: finance_dashboard
    type: dashboard
    owner: {name: finance}
    depends_on: [ref('revenue')]
`,
	"models/daily/daily_payments.sql": "{{ config(materialized='partitioned', partition_by={'column': 'day', 'granularity': 'day'}, start='2024-01-01') }}\n" +
		"select cast({{ partition_start }} as date) as day, count(*) as payments from {{ ref('stg_payments') }}",
	"models/daily/daily_checked.sql": "{{ config(materialized='partitioned', partition_by={'column': 'day', 'granularity': 'day'}, start='2024-01-01') }}\n" +
		"select day,\n  cast(case when day = date '2024-01-03' then 'x' || payments else '1' end as integer) as ok\nfrom {{ ref('daily_payments') }} where day = cast({{ partition_start }} as date)",
}

type fixture struct {
	p   *models.Project
	g   *lineage.Graph
	dir string
}

func load(t *testing.T, files map[string]string) fixture {
	t.Helper()
	dir := testproj.Write(t, files)
	p, g := testgraph.Load(t, dir)
	return fixture{p: p, g: g, dir: dir}
}

// build seeds and runs everything, then backfills the daily models over four days
// (2024-01-03 fails in daily_checked).
func (f fixture) build(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	w, err := engine.Open(ctx, f.p)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	plan, err := engine.NewPlan(f.g, engine.PlanOptions{Command: engine.CommandBuild, Select: []string{"raw_payments", "stg_payments", "revenue"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.Run(ctx, w, plan, engine.RunOptions{Threads: 1}); err != nil {
		t.Fatal(err)
	}
	from, to, end, err := engine.ParseRange("2024-01-01", "2024-01-04")
	if err != nil {
		t.Fatal(err)
	}
	bp, err := engine.PlanBackfill(ctx, w, f.g, engine.BackfillOptions{Select: []string{"daily_payments+"}, From: from, To: to, ToEnd: end}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.Run(ctx, w, bp, engine.RunOptions{Threads: 1}); err != nil {
		t.Fatal(err)
	}
}

// connect starts the server and a client on the SDK's in-memory transports.
func connect(t *testing.T, s *mcp.Server, copts *sdk.ClientOptions) *sdk.ClientSession {
	t.Helper()
	ctx := context.Background()
	ct, st := sdk.NewInMemoryTransports()
	ss, err := s.MCP().Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "test", Version: "1"}, copts).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func localServer(t *testing.T, f fixture, writes bool) *mcp.Server {
	t.Helper()
	s := mcp.New(mcp.Options{Project: f.p, Graph: f.g, AllowWrites: writes})
	s.SetBackend(mcp.Local{Project: f.p, Graph: f.g, Observers: []engine.Observer{s.Observer()}})
	return s
}

// call calls a tool that must succeed and decodes its structured answer.
func call[T any](t *testing.T, cs *sdk.ClientSession, name string, args map[string]any) T {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s(%v): %v", name, args, err)
	}
	if res.IsError {
		t.Fatalf("%s(%v) is an error: %s", name, args, text(res))
	}
	var out T
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v in %s", name, err, b)
	}
	return out
}

// callErr calls a tool that must fail with a tool error containing want.
func callErr(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any, want string) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s(%v): a protocol error, not a tool error: %v", name, args, err)
	}
	if !res.IsError {
		t.Fatalf("%s(%v) succeeded; want an error containing %q: %s", name, args, want, text(res))
	}
	if !strings.Contains(text(res), want) {
		t.Fatalf("%s(%v) error = %q; want it to contain %q", name, args, text(res), want)
	}
}

func text(res *sdk.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// rawSize is the size of a tool's answer as the client receives it.
func rawSize(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any) int {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil || res.IsError {
		t.Fatalf("%s: %v %v", name, err, res)
	}
	return len(text(res))
}
