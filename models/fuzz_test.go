package models_test

import (
	"errors"
	"testing"

	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/models"
)

// writeFiles writes files (path → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	testproj.WriteFiles(t, dir, files)
}

// checkLoadResult checks Load's contract: a project, or a non-empty models.Errors (or an
// error wrapping ErrNoProject), never both and never neither.
func checkLoadResult(t *testing.T, p *models.Project, err error) {
	t.Helper()
	if err == nil {
		if p == nil {
			t.Fatal("Load returned neither a project nor an error")
		}
		return
	}
	if p != nil {
		t.Fatalf("Load returned a project and an error: %v", err)
	}
	if errors.Is(err, models.ErrNoProject) {
		t.Fatalf("Load says there is no project, but strata.yml is there: %v", err)
	}
	var errs models.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load error is %T, want models.Errors: %v", err, err)
	}
	if len(errs) == 0 {
		t.Fatal("Load returned an empty models.Errors")
	}
	for _, e := range errs {
		if e == nil || e.Msg == "" {
			t.Fatalf("Load returned an empty error in %v", errs)
		}
		if e.Line < 0 || e.Col < 0 || (e.Line == 0 && e.Col != 0) {
			t.Fatalf("error with a bad place %d:%d: %v", e.Line, e.Col, e)
		}
	}
}

// compileAll compiles every model (also incrementally) and every test of a loaded
// project; errors are fine, panics are not.
func compileAll(p *models.Project) {
	for _, name := range p.ModelNames() {
		m := p.Models[name]
		if m.Kind == models.KindSeed {
			continue
		}
		_, _ = p.Compile(m, models.CompileOptions{})
		_, _ = p.Compile(m, models.CompileOptions{Incremental: true})
	}
	for _, name := range p.TestNames() {
		_, _ = p.CompileTest(p.Tests[name])
	}
}

// fuzzModels are the fixed files of the fuzzed projects.
var fuzzModels = map[string]string{
	"models/stg_orders.sql": "select 1 as order_id, 2 as customer_id, 'placed' as status",
	"models/orders.sql":     "{{ config(materialized='table') }}select * from {{ ref('stg_orders') }}",
	"models/events.sql":     "select * from {{ source('app', 'events') }}",
	"models/sources.yml":    "version: 2\nsources:\n  - name: app\n    tables:\n      - name: events\n      - name: users\n        location: /data/users/*.parquet\n",
	"macros/money.sql":      "{% macro cents(x, scale=2) %}round({{ x }} / 100.0, {{ scale }}){% endmacro %}\n{% test positive(model, column_name) %}select * from {{ model }} where {{ column_name }} < 0{% endtest %}",
	"models/docs.md":        "{% docs status %}The status.{% enddocs %}",
	"seeds/raw.csv":         "id\n1\n",
	"tests/assert_x.sql":    "select * from {{ ref('orders') }} where false",
}

// loadSeeds are realistic (strata.yml, schema.yml) pairs, good and bad, to start from.
var loadSeeds = [][2]string{
	{"name: shop\n", "version: 2\n"},
	{"name: shop\nwarehouse:\n  path: shop.duckdb\n  schema: main\n  threads: 4\nvars:\n  min_order_amount: 0\n  shop:\n    x: 1\nmodels:\n  shop:\n    staging:\n      +materialized: view\n    marts:\n      +materialized: table\n      +tags: ['marts']\n",
		"version: 2\nmodels:\n  - name: orders\n    description: '{{ doc(\"status\") }}'\n    config:\n      tags: ['finance']\n    columns:\n      - name: order_id\n        tests:\n          - unique\n          - not_null\n      - name: status\n        data_tests:\n          - accepted_values:\n              values: ['placed', 'shipped']\n              quote: false\n      - name: customer_id\n        tests:\n          - relationships:\n              to: ref('stg_orders')\n              field: customer_id\n              severity: warn\n"},
	{"name: shop\ntarget: prod\ntargets:\n  prod:\n    path: ':memory:'\n    schema: prod\nopenlineage:\n  file: ol.jsonl\n  url: http://localhost:5000/\n  namespace: ns\n",
		"version: 2\nsources:\n  - name: lake\n    location: /lake/{name}/*.parquet\n    freshness: {warn_after: {count: 1, period: hour}}\n    tables:\n      - name: a\n        identifier: a_v1\n        columns:\n          - name: id\n            tests: [unique]\n"},
	{"name: shop\nmodels:\n  shop:\n    +materialized: incremental\n    +unique_key: order_id\n    +incremental_strategy: merge\n", "version: 2\nmodels:\n  - name: events\n    config:\n      materialized: partitioned\n      partition_by: {column: ts, granularity: day}\n      start: '2024-01-01'\n"},
	{"name: shop\nmodels:\n  shop:\n    +materialized: partitioned\n    +partition_by:\n      column: ts\n      granularity: hour\n    +lookback: 2\n", "version: 2\nexposures:\n  - name: dash\n    depends_on: [\"ref('orders')\", \"source('app', 'events')\"]\n"},
	{"name: shop\nseeds:\n  shop:\n    +column_types: {id: integer}\n    +delimiter: ';'\ndata_tests:\n  +severity: warn\n", "version: 2\nseeds:\n  - name: raw\n    config:\n      enabled: false\n"},
	{"name: shop\nmodel-paths: [models, other]\nmacro-paths: [macros]\n", "version: 2\nmodels:\n  - name: stg_orders\n    data_tests:\n      - positive:\n          column_name: order_id\n    columns:\n      - name: order_id\n        tests:\n          - positive\n          - accepted_values:\n              arguments:\n                values: [1, 2]\n              config:\n                where: 'order_id > 0'\n"},
	{"name: [a, b]\nvars: 3\nmodels: []\n", "version: 3\nmodels: {a: 1}\nsources: [1, [2]]\n"},
	{"name: shop\nwarehouse: {type: postgres, threads: -1}\n", "unit_tests:\n  - name: x\nsnapshots: []\n"},
	{"- a\n- b\n", "- name: orders\n"},
	{"name: &a shop\nvars: *a\n", "version: 2\nmodels:\n  - &m {name: orders}\n  - *m\n"},
	{"name: x\n\tbad: tab\n", "models:\n  - name: orders\n    columns:\n      - name: a\n        tests:\n          - {}\n          - [unique]\n          - relationships: {to: 'nope', field: a}\n"},
	{"name: \"{{ var('x') }}\"\n", "version: 2\nmodels:\n  - name: orders\n    description: '{{ doc(\"nope\") }} {% if %}'\n"},
	{"", ""},
}

// FuzzLoadStrataYML fuzzes strata.yml and a property file: Load never panics, and
// returns a project or models.Errors.
func FuzzLoadStrataYML(f *testing.F) {
	for _, seed := range loadSeeds {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, strataYML, schemaYML string) {
		dir := t.TempDir()
		files := map[string]string{"strata.yml": strataYML, "models/schema.yml": schemaYML}
		for k, v := range fuzzModels {
			files[k] = v
		}
		writeFiles(t, dir, files)
		p, err := models.Load(dir, models.Options{Env: noEnv})
		checkLoadResult(t, p, err)
		if p != nil {
			compileAll(p)
		}
	})
}

// FuzzJinjaModel fuzzes a model's SQL text: Load and Compile never panic.
func FuzzJinjaModel(f *testing.F) {
	for _, seed := range []string{
		"select 1",
		"select * from {{ ref('stg_orders') }}",
		"select * from {{ ref('shop', 'stg_orders') }} join {{ source('app', 'events') }} using (id)",
		"{{ config(materialized='incremental', unique_key='order_id') }}\nselect * from {{ ref('orders') }}\n{% if is_incremental() %}where order_id > (select max(order_id) from {{ this }}){% endif %}",
		"{% set methods = ['a', 'b'] %}select {% for m in methods -%}\n sum({{ m }}) as {{ m }}{% if not loop.last %},{% endif %}\n{%- endfor %} from t",
		"select {{ cents('price') }}, {{ cents('tax', 4) }}, '{{ var('min', 0) }}', '{{ env_var('HOME', '/') }}', '{{ target.name }}'",
		"{{ config(materialized='partitioned', partition_by={'column': 'ts', 'granularity': 'day'}, start='2024-01-01') }}select * from {{ ref('events') }} where ts >= {{ partition_start }} and ts < {{ partition_end }}",
		"{{ config(materialized='ephemeral') }}select {{ 1 + 2 * 3 }} as x, '{{ 'a' | upper }}' as y, {{ [1,2] | length }} as z",
		"{%- if true -%} select 1 {%- else -%} select 2 {%- endif -%}",
		"{# comment #}{{ this }}{{ model.name }}{{ doc('status') }}",
		"{% macro local(x) %}{{ x }}{% endmacro %}select {{ local(1) }}",
		"{{ ref('nope') }}{{ source('nope', 'x') }}{{ var('nope') }}{{ env_var('NOPE') }}",
		"{{ config(enabled=false) }}select 1",
		"{% snapshot s %}select 1{% endsnapshot %}",
		"{{ run_query('select 1') }}{{ adapter.get_relation() }}",
		"{{ ref() }}{{ ref(1, 2, 3) }}{{ source('a') }}{{ var() }}{{ config(1) }}",
		"{{ exceptions.raise_compiler_error('boom') }}",
		"{% for %}",
		"{{",
		"{% if x %}",
		"\x1fref:orders\x1f",
		"\x1fref:nope",
		"{{ '\x1f' }}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		dir := t.TempDir()
		files := map[string]string{
			"strata.yml":      "name: shop\nvars:\n  shop:\n    x: 1\n",
			"models/fuzz.sql": sql,
		}
		for k, v := range fuzzModels {
			files[k] = v
		}
		writeFiles(t, dir, files)
		p, err := models.Load(dir, models.Options{Env: noEnv})
		checkLoadResult(t, p, err)
		if p != nil {
			compileAll(p)
			if m := p.Models["fuzz"]; m != nil {
				_, _ = p.RenderHook(m, sql)
			}
			_, _ = p.CompileInline(sql)
		}
	})
}
