package models_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadata/strata/models"
)

// TestJinjaContext compiles one model per case and compares its SQL: every function and
// variable dbt puts in a model's Jinja context, and Jinja's control flow.
func TestJinjaContext(t *testing.T) {
	t.Parallel()
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	for _, tc := range []struct {
		name  string
		files map[string]string // model "m" is compiled; strata.yml defaults to "name: proj"
		opts  models.Options
		copts models.CompileOptions
		want  string
	}{
		{
			name:  "ref with one argument",
			files: map[string]string{"models/up.sql": "select 1 as id", "models/m.sql": "select * from {{ ref('up') }}"},
			want:  `select * from "main"."up"`,
		},
		{
			name:  "ref with the project's own name",
			files: map[string]string{"models/up.sql": "select 1 as id", "models/m.sql": "select * from {{ ref('proj', 'up') }}"},
			want:  `select * from "main"."up"`,
		},
		{
			name:  "ref with double quotes",
			files: map[string]string{"models/up.sql": "select 1 as id", "models/m.sql": `select * from {{ ref("up") }}`},
			want:  `select * from "main"."up"`,
		},
		{
			name: "source",
			files: map[string]string{
				"models/src.yml": "version: 2\nsources:\n  - name: app\n    schema: app_raw\n    tables:\n      - name: users\n",
				"models/m.sql":   "select * from {{ source('app', 'users') }}",
			},
			want: `select * from "app_raw"."users"`,
		},
		{
			name:  "config renders nothing",
			files: map[string]string{"models/m.sql": "{{ config(materialized='table') }}\nselect 1"},
			want:  "\nselect 1",
		},
		{
			name:  "var from the project",
			files: map[string]string{"strata.yml": "name: proj\nvars:\n  min_amount: 5\n", "models/m.sql": "select * from t where amount > {{ var('min_amount') }}"},
			want:  "select * from t where amount > 5",
		},
		{
			name:  "var default",
			files: map[string]string{"models/m.sql": "select {{ var('missing', 42) }}, '{{ var(\"word\", \"hi\") }}'"},
			want:  "select 42, 'hi'",
		},
		{
			name:  "project var wins over var() default",
			files: map[string]string{"strata.yml": "name: proj\nvars:\n  x: 7\n", "models/m.sql": "select {{ var('x', 1) }}"},
			want:  "select 7",
		},
		{
			name:  "Options.Vars override project vars",
			files: map[string]string{"strata.yml": "name: proj\nvars:\n  x: 7\n  y: 8\n", "models/m.sql": "select {{ var('x') }}, {{ var('y') }}"},
			opts:  models.Options{Vars: map[string]any{"x": 100}},
			want:  "select 100, 8",
		},
		{
			name:  "project-scoped vars",
			files: map[string]string{"strata.yml": "name: proj\nvars:\n  proj:\n    x: 1\n", "models/m.sql": "select {{ var('x') }}"},
			want:  "select 1",
		},
		{
			// dbt: a var scoped to the project wins over a global var of the same name,
			// wherever the two are written in the file.
			name:  "project-scoped var wins over a global one written after it",
			files: map[string]string{"strata.yml": "name: proj\nvars:\n  proj:\n    x: 1\n  x: 0\n", "models/m.sql": "select {{ var('x') }}"},
			want:  "select 1",
		},
		{
			name:  "project-scoped var wins over a global one written before it",
			files: map[string]string{"strata.yml": "name: proj\nvars:\n  x: 0\n  proj:\n    x: 1\n", "models/m.sql": "select {{ var('x') }}"},
			want:  "select 1",
		},
		{
			name:  "Options.Vars override project-scoped vars",
			files: map[string]string{"strata.yml": "name: proj\nvars:\n  proj:\n    x: 1\n", "models/m.sql": "select {{ var('x') }}"},
			opts:  models.Options{Vars: map[string]any{"x": 2}},
			want:  "select 2",
		},
		{
			name: "vars in a dbt project",
			files: map[string]string{
				"dbt_project.yml": "name: jaffle\nprofile: jaffle\nvars:\n  jaffle:\n    start_date: '2024-01-01'\n",
				"profiles.yml":    "jaffle:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: ':memory:'\n",
				"models/m.sql":    "select * from t where d >= '{{ var(\"start_date\") }}'",
			},
			want: "select * from t where d >= '2024-01-01'",
		},
		{
			name:  "env_var default",
			files: map[string]string{"models/m.sql": "select '{{ env_var('STRATA_NOT_SET', 'fallback') }}'"},
			opts:  models.Options{Env: env(nil)},
			want:  "select 'fallback'",
		},
		{
			name:  "env_var from Options.Env",
			files: map[string]string{"models/m.sql": "select '{{ env_var('REGION', 'fallback') }}', '{{ env_var(\"TEAM\") }}'"},
			opts:  models.Options{Env: env(map[string]string{"REGION": "eu", "TEAM": "data"})},
			want:  "select 'eu', 'data'",
		},
		{
			name:  "this",
			files: map[string]string{"models/m.sql": "select * from {{ this }}"},
			want:  `select * from "main"."m"`,
		},
		{
			name:  "this with custom schema and alias",
			files: map[string]string{"models/m.sql": "{{ config(schema='marts', alias='m_v2') }}select * from {{ this }}"},
			want:  `select * from "main_marts"."m_v2"`,
		},
		{
			name:  "target name and schema",
			files: map[string]string{"strata.yml": "name: proj\nwarehouse:\n  schema: analytics\n", "models/m.sql": "select '{{ target.name }}', '{{ target.schema }}', '{{ target.type }}'"},
			want:  "select 'dev', 'analytics', 'duckdb'",
		},
		{
			name:  "model name and project_name",
			files: map[string]string{"models/m.sql": "select '{{ model.name }}', '{{ project_name }}'"},
			want:  "select 'm', 'proj'",
		},
		{
			name: "is_incremental false at load",
			files: map[string]string{"models/m.sql": "{{ config(materialized='incremental') }}select * from t" +
				"{% if is_incremental() %} where ts > (select max(ts) from {{ this }}){% endif %}"},
			want: "select * from t",
		},
		{
			name: "is_incremental true when compiled incrementally",
			files: map[string]string{"models/m.sql": "{{ config(materialized='incremental') }}select * from t" +
				"{% if is_incremental() %} where ts > (select max(ts) from {{ this }}){% endif %}"},
			copts: models.CompileOptions{Incremental: true},
			want:  `select * from t where ts > (select max(ts) from "main"."m")`,
		},
		{
			name: "is_incremental stays false for a table",
			files: map[string]string{"models/m.sql": "{{ config(materialized='table') }}select * from t" +
				"{% if is_incremental() %} where false{% endif %}"},
			copts: models.CompileOptions{Incremental: true},
			want:  "select * from t",
		},
		{
			name:  "set",
			files: map[string]string{"models/m.sql": "{% set cols = ['a', 'b'] %}{% set n = 3 %}select {{ cols | join(', ') }}, {{ n * 2 }}"},
			want:  "select a, b, 6",
		},
		{
			name:  "for with loop.last",
			files: map[string]string{"models/m.sql": "select {% for c in ['a', 'b', 'c'] %}{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}"},
			want:  "select a, b, c",
		},
		{
			name:  "if elif else",
			files: map[string]string{"strata.yml": "name: proj\nvars:\n  mode: two\n", "models/m.sql": "select {% if var('mode') == 'one' %}1{% elif var('mode') == 'two' %}2{% else %}3{% endif %}"},
			want:  "select 2",
		},
		{
			name:  "whitespace control",
			files: map[string]string{"models/m.sql": "select\n    {%- for c in ['a', 'b'] %}\n    {{ c }},\n    {%- endfor %}\n    1"},
			want:  "select\n    a,\n    b,\n    1",
		},
		{
			name:  "whitespace kept without control",
			files: map[string]string{"models/m.sql": "{% set x = 1 %}\nselect {{ x }}\n"},
			want:  "\nselect 1",
		},
		{
			name:  "comments",
			files: map[string]string{"models/m.sql": "{# a comment #}select 1{#- trimmed -#} as x"},
			want:  "select 1as x",
		},
		{
			name:  "filters",
			files: map[string]string{"models/m.sql": "select '{{ 'Abc' | lower }}', '{{ 'abc' | upper }}', {{ [3, 1, 2] | sort | first }}"},
			want:  "select 'abc', 'ABC', 1",
		},
		{
			name: "macro with default args",
			files: map[string]string{
				"macros/money.sql": "{% macro cents_to_dollars(column_name, scale=2) %}round({{ column_name }} / 100.0, {{ scale }}){% endmacro %}",
				"models/m.sql":     "select {{ cents_to_dollars('price') }}, {{ cents_to_dollars('tax', 4) }}, {{ cents_to_dollars(column_name='fee', scale=0) }}",
			},
			want: "select round(price / 100.0, 2), round(tax / 100.0, 4), round(fee / 100.0, 0)",
		},
		{
			name: "macro calling another macro and ref",
			files: map[string]string{
				"macros/a.sql":  "{% macro inner(x) %}{{ x }} + 1{% endmacro %}\n{% macro outer(x) %}({{ inner(x) }}) * 2{% endmacro %}",
				"macros/b.sql":  "{% macro from_up() %}{{ ref('up') }}{% endmacro %}",
				"models/up.sql": "select 1 as id",
				"models/m.sql":  "select {{ outer('id') }} from {{ from_up() }}",
			},
			want: `select (id + 1) * 2 from "main"."up"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := mustLoad(t, tc.files, tc.opts)
			if diff := cmp.Diff(tc.want, compile(t, p, "m", tc.copts)); diff != "" {
				t.Errorf("compiled (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRefDependencies checks that refs made in a macro, in a loop or twice are recorded
// once each, in order.
func TestRefDependencies(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, map[string]string{
		"macros/m.sql": "{% macro from_b() %}{{ ref('b') }}{% endmacro %}",
		"models/a.sql": "select 1",
		"models/b.sql": "select 1",
		"models/c.sql": "select 1",
		"models/m.sql": "select * from {{ ref('c') }}, {{ from_b() }}\n{% for n in ['a', 'c'] %}, {{ ref(n) }}{% endfor %}",
	}, models.Options{})
	if diff := cmp.Diff([]string{"c", "b", "a"}, p.Models["m"].DependsOn); diff != "" {
		t.Errorf("DependsOn (-want +got):\n%s", diff)
	}
}

func TestRefToOtherPackage(t *testing.T) {
	t.Parallel()
	errs := loadErrs(t, map[string]string{
		"models/up.sql": "select 1",
		"models/m.sql":  "select *\nfrom {{ ref('dbt_utils', 'up') }}",
	}, models.Options{})
	checkErrs(t, errs, []wantErr{{"models/m.sql", 2, 13, []string{`"dbt_utils"`, `"proj"`, "packages"}}})
}

func TestDocs(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, map[string]string{
		"models/docs.md":    "{% docs orders_status %}\n\nOne of placed, shipped.\n\n{% enddocs %}\n\n{%- docs orders -%}All the orders.{%- enddocs -%}",
		"macros/macros.md":  "{% docs money %}Money.{% enddocs %}",
		"models/orders.sql": "select 'placed' as status",
		"models/schema.yml": "version: 2\nmodels:\n  - name: orders\n    description: '{{ doc(\"orders\") }}'\n" +
			"    columns:\n      - name: status\n        description: \"Status: {{ doc('orders_status') }}\"\n",
	}, models.Options{})
	want := map[string]string{"orders_status": "One of placed, shipped.", "orders": "All the orders.", "money": "Money."}
	if diff := cmp.Diff(want, p.Docs); diff != "" {
		t.Errorf("docs (-want +got):\n%s", diff)
	}
	m := p.Models["orders"]
	if m.Description != "All the orders." {
		t.Errorf("model description = %q", m.Description)
	}
	if len(m.Columns) != 1 || m.Columns[0].Description != "Status: One of placed, shipped." {
		t.Errorf("column description = %+v", m.Columns)
	}
}

// TestCustomGenericTest defines tests with {% test %} blocks in macros/ and uses them from
// YAML, with and without extra arguments.
func TestCustomGenericTest(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, map[string]string{
		"macros/tests.sql": "{% test is_positive(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} <= 0\n{% endtest %}\n" +
			"{%- test at_least(model, column_name, min_value=0) -%}\nselect * from {{ model }} where {{ column_name }} < {{ min_value }}\n{%- endtest -%}\n" +
			"{% test has_rows(model) %}select 1 where not exists (select 1 from {{ model }}){% endtest %}",
		"models/orders.sql": "select 1 as amount",
		"models/schema.yml": "version: 2\nmodels:\n  - name: orders\n    tests:\n      - has_rows\n    columns:\n      - name: amount\n        tests:\n" +
			"          - is_positive\n          - at_least:\n              min_value: 5\n          - at_least:\n              arguments:\n                min_value: 7\n              config:\n                severity: warn\n",
	}, models.Options{})
	want := map[string]string{
		"is_positive_orders_amount": "\nselect * from \"main\".\"orders\" where amount <= 0\n",
		"at_least_orders_amount__5": "select * from \"main\".\"orders\" where amount < 5",
		"at_least_orders_amount__7": "select * from \"main\".\"orders\" where amount < 7",
		"has_rows_orders":           "select 1 where not exists (select 1 from \"main\".\"orders\")",
	}
	got := map[string]string{}
	for _, name := range p.TestNames() {
		tt := p.Tests[name]
		sql, err := p.CompileTest(tt)
		if err != nil {
			t.Errorf("CompileTest(%s): %v", name, err)
			continue
		}
		got[name] = sql
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("compiled tests (-want +got):\n%s", diff)
	}
	if tt := p.Tests["at_least_orders_amount__7"]; tt != nil && tt.Severity != "warn" {
		t.Errorf("at_least_orders_amount__7 severity = %q, want warn", tt.Severity)
	}
	if tt := p.Tests["is_positive_orders_amount"]; tt != nil && (tt.Generic != "is_positive" || tt.Column != "amount" || tt.Model != "orders") {
		t.Errorf("is_positive test = %+v", tt)
	}
}

// TestCompileInline checks the command line's inline queries and hooks: the same context
// as a model.
func TestCompileInline(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, map[string]string{
		"strata.yml":    "name: proj\nvars:\n  n: 3\n",
		"models/up.sql": "{{ config(post_hook=\"analyze {{ this }}\") }}select 1",
	}, models.Options{})
	got, err := p.CompileInline("select * from {{ ref('up') }} limit {{ var('n') }}")
	if err != nil {
		t.Fatal(err)
	}
	if want := `select * from "main"."up" limit 3`; got != want {
		t.Errorf("CompileInline = %q, want %q", got, want)
	}
	if _, err := p.CompileInline("select * from {{ ref('nope') }}"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("CompileInline with an unknown ref = %v, want an error naming it", err)
	}
	up := p.Models["up"]
	if diff := cmp.Diff([]string{"analyze {{ this }}"}, up.Config.PostHook); diff != "" {
		t.Fatalf("post-hook (-want +got):\n%s", diff)
	}
	hook, err := p.RenderHook(up, up.Config.PostHook[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := `analyze "main"."up"`; hook != want {
		t.Errorf("RenderHook = %q, want %q", hook, want)
	}
}
