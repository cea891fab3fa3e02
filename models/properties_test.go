package models_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stratadata/strata/models"
)

func TestProperties(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"seeds/raw_orders.csv": "id,customer_id,status\n1,1,placed\n",
		"models/customers.sql": "select 1 as id",
		"models/stg_orders.sql": "select id as order_id, customer_id, status\nfrom {{ ref('raw_orders') }}\n" +
			"join {{ source('app', 'events') }} using (id)",
		"models/orders.sql": "select * from {{ ref('stg_orders') }}",
		"models/schema.yml": `version: 2
models:
  - name: stg_orders
    description: Orders.
    columns:
      - name: order_id
        description: Primary key.
        data_type: integer
        tests:
          - unique
          - not_null:
              config:
                severity: warn
      - name: status
        data_tests:
          - accepted_values:
              values: ['placed', 'shipped']
          - accepted_values:
              arguments:
                values: [1, 2]
                quote: false
              config:
                where: "order_id > 10"
  - name: orders
    columns:
      - name: customer_id
        tests:
          - relationships:
              to: ref('customers')
              field: id
              severity: warn
          - not_null:
              where: "status <> 'placed'"
`,
		"models/sources.yml": `version: 2
sources:
  - name: app
    tables:
      - name: events
        columns:
          - name: id
            tests:
              - unique
`,
	}
	p := mustLoad(t, files, models.Options{})
	want := map[string]testFacts{
		"unique stg_orders.order_id": {Generic: "unique", Model: "stg_orders", Column: "order_id", Severity: "error",
			DependsOn: []string{"stg_orders"}},
		"not_null stg_orders.order_id": {Generic: "not_null", Model: "stg_orders", Column: "order_id", Severity: "warn",
			DependsOn: []string{"stg_orders"}},
		"accepted_values stg_orders.status": {Generic: "accepted_values", Model: "stg_orders", Column: "status", Severity: "error",
			DependsOn: []string{"stg_orders"}},
		"accepted_values stg_orders.status where order_id > 10": {Generic: "accepted_values", Model: "stg_orders", Column: "status", Severity: "error",
			Where: "order_id > 10", DependsOn: []string{"stg_orders"}},
		"relationships orders.customer_id": {Generic: "relationships", Model: "orders", Column: "customer_id", Severity: "warn",
			DependsOn: []string{"orders", "customers"}},
		"not_null orders.customer_id where status <> 'placed'": {Generic: "not_null", Model: "orders", Column: "customer_id", Severity: "error",
			Where: "status <> 'placed'", DependsOn: []string{"orders"}},
		"unique app.events.id": {Generic: "unique", Model: "app.events", Column: "id", Severity: "error",
			SourceDeps: []string{"app.events"}},
	}
	// Tests are keyed by what they check; their names are TestTestNames' business.
	key := func(tt *models.Test) string {
		k := tt.Generic + " " + tt.Model + "." + tt.Column
		if tt.Where != "" {
			k += " where " + tt.Where
		}
		return k
	}
	got := map[string]testFacts{}
	byKey := map[string]*models.Test{}
	for _, tt := range p.Tests {
		got[key(tt)] = testFacts{tt.Generic, tt.Model, tt.Column, tt.Severity, tt.Where, tt.DependsOn, tt.SourceDeps}
		byKey[key(tt)] = tt
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tests (-want +got):\n%s", diff)
	}

	m := p.Models["stg_orders"]
	if m.Description != "Orders." || len(m.Columns) != 2 || m.Columns[0].Description != "Primary key." || m.Columns[0].DataType != "integer" {
		t.Errorf("stg_orders properties = %q %+v", m.Description, m.Columns)
	}
	if diff := cmp.Diff([]string{"raw_orders"}, m.DependsOn); diff != "" {
		t.Errorf("stg_orders DependsOn (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"app.events"}, m.SourceDeps); diff != "" {
		t.Errorf("stg_orders SourceDeps (-want +got):\n%s", diff)
	}

	sqls := map[string]string{
		"unique stg_orders.order_id": `select "order_id" as unique_field, count(*) as n_records
from "main"."stg_orders"
where "order_id" is not null
group by "order_id"
having count(*) > 1`,
		"accepted_values stg_orders.status": `with all_values as (
  select "status" as value_field, count(*) as n_records
  from "main"."stg_orders"
  group by "status"
)
select *
from all_values
where value_field not in ('placed', 'shipped')`,
		"accepted_values stg_orders.status where order_id > 10": `with all_values as (
  select "status" as value_field, count(*) as n_records
  from (select * from "main"."stg_orders" where order_id > 10) dbt_subquery
  group by "status"
)
select *
from all_values
where value_field not in (1, 2)`,
		"not_null orders.customer_id where status <> 'placed'": `select *
from (select * from "main"."orders" where status <> 'placed') dbt_subquery
where "customer_id" is null`,
		"relationships orders.customer_id": `with child as (
  select "customer_id" as from_field
  from "main"."orders"
  where "customer_id" is not null
),
parent as (
  select "id" as to_field
  from "main"."customers"
)
select from_field
from child
left join parent on child.from_field = parent.to_field
where parent.to_field is null`,
		"unique app.events.id": `select "id" as unique_field, count(*) as n_records
from "app"."events"
where "id" is not null
group by "id"
having count(*) > 1`,
	}
	for name, want := range sqls {
		tt := byKey[name]
		if tt == nil {
			t.Errorf("no test %s", name)
			continue
		}
		got, err := p.CompileTest(tt)
		if err != nil {
			t.Errorf("CompileTest(%s): %v", name, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("CompileTest(%s) (-want +got):\n%s", name, diff)
		}
	}
}

// TestModelLevelColumnName checks a model-level test given column_name: as an argument,
// which dbt treats as the tested column (often an expression over several columns).
func TestModelLevelColumnName(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, map[string]string{
		"models/orders.sql": "select 1 as order_id, 1 as line",
		"models/schema.yml": "version: 2\nmodels:\n  - name: orders\n    tests:\n      - not_null:\n          column_name: order_id\n",
	}, models.Options{})
	if diff := cmp.Diff([]string{"not_null_orders_order_id"}, p.TestNames()); diff != "" {
		t.Errorf("test names (-want +got):\n%s", diff)
	}
	for _, tt := range p.Tests {
		if tt.Column != "order_id" {
			t.Errorf("test %s: Column = %q, want order_id", tt.Name, tt.Column)
		}
		sql, err := p.CompileTest(tt)
		if err != nil {
			t.Fatal(err)
		}
		if want := "select *\nfrom \"main\".\"orders\"\nwhere order_id is null"; sql != want {
			t.Errorf("CompileTest = %q, want %q", sql, want)
		}
	}
}

// TestTestNames checks generic test names against the names dbt gives the same tests.
func TestTestNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yml string
		files     map[string]string
		want      []string
	}{
		{
			name: "accepted_values",
			yml:  "      - name: status\n        tests:\n          - accepted_values:\n              values: ['placed', 'shipped']\n",
			want: []string{"accepted_values_stg_orders_status__placed__shipped"},
		},
		{
			name: "relationships",
			yml:  "      - name: customer_id\n        tests:\n          - relationships:\n              to: ref('customers')\n              field: id\n",
			want: []string{"relationships_stg_orders_customer_id__id__ref_customers_"},
		},
		{
			name: "accepted_values in the arguments form",
			yml:  "      - name: status\n        data_tests:\n          - accepted_values:\n              arguments:\n                values: ['placed', 'shipped']\n              config:\n                severity: warn\n",
			want: []string{"accepted_values_stg_orders_status__placed__shipped"},
		},
		{
			// dbt flattens each argument with Python's str(): false is "False".
			name: "accepted_values with quote false",
			yml:  "      - name: status\n        tests:\n          - accepted_values:\n              values: [1, 2]\n              quote: false\n",
			want: []string{"accepted_values_stg_orders_status__False__1__2"},
		},
		{
			// dbt prefixes the tests of source tables with source_.
			name:  "tests on a source",
			yml:   "      - name: status\n",
			files: map[string]string{"models/sources.yml": "version: 2\nsources:\n  - name: app\n    tables:\n      - name: events\n        columns:\n          - name: id\n            tests: [unique, not_null]\n"},
			want:  []string{"source_not_null_app_events_id", "source_unique_app_events_id"},
		},
		{
			name: "custom name",
			yml:  "      - name: status\n        tests:\n          - not_null:\n              name: status_is_set\n",
			want: []string{"status_is_set"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{
				"models/customers.sql":  "select 1 as id",
				"models/stg_orders.sql": "select 1 as customer_id, 'placed' as status",
				"models/schema.yml":     "version: 2\nmodels:\n  - name: stg_orders\n    columns:\n" + tc.yml,
			}
			for k, v := range tc.files {
				files[k] = v
			}
			p := mustLoad(t, files, models.Options{})
			if diff := cmp.Diff(tc.want, p.TestNames()); diff != "" {
				t.Errorf("test names (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSources(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, map[string]string{
		"models/sources.yml": `version: 2
sources:
  - name: app
    description: The app's database.
    tables:
      - name: orders
      - name: users
        identifier: users_v2
  - name: erp
    schema: erp_raw
    tables:
      - name: invoices
  - name: lake
    tables:
      - name: events
        location: "s3://lake/events/*.parquet"
      - name: clicks
        location: "/data/clicks/*.csv"
      - name: pages
        location: "/data/pages/*.ndjson"
      - name: logs
        location: "/data/logs/*.json.gz"
      - name: visits
        meta:
          external_location: "/data/visits/*.csv.gz"
  - name: landing
    location: "/landing/{name}/*.parquet"
    tables:
      - name: a
      - name: b
`,
		"models/m.sql": "select * from {{ source('app', 'orders') }}\n" +
			"union all select * from {{ source('app', 'users') }}\n" +
			"union all select * from {{ source('erp', 'invoices') }}\n" +
			"union all select * from {{ source('lake', 'events') }}\n" +
			"union all select * from {{ source('lake', 'clicks') }}\n" +
			"union all select * from {{ source('lake', 'pages') }}\n" +
			"union all select * from {{ source('lake', 'logs') }}\n" +
			"union all select * from {{ source('lake', 'visits') }}\n" +
			"union all select * from {{ source('landing', 'b') }}",
	}, models.Options{})
	want := `select * from "app"."orders"
union all select * from "app"."users_v2"
union all select * from "erp_raw"."invoices"
union all select * from read_parquet('s3://lake/events/*.parquet')
union all select * from read_csv_auto('/data/clicks/*.csv')
union all select * from read_json_auto('/data/pages/*.ndjson')
union all select * from read_json_auto('/data/logs/*.json.gz')
union all select * from read_csv_auto('/data/visits/*.csv.gz')
union all select * from read_parquet('/landing/b/*.parquet')`
	if diff := cmp.Diff(want, compile(t, p, "m", models.CompileOptions{})); diff != "" {
		t.Errorf("compiled (-want +got):\n%s", diff)
	}
	wantDeps := []string{"app.orders", "app.users", "erp.invoices", "lake.events", "lake.clicks", "lake.pages", "lake.logs", "lake.visits", "landing.b"}
	if diff := cmp.Diff(wantDeps, p.Models["m"].SourceDeps); diff != "" {
		t.Errorf("SourceDeps (-want +got):\n%s", diff)
	}
	if got := p.Sources["app"].Description; got != "The app's database." {
		t.Errorf("source description = %q", got)
	}
	if st := p.SourceTable("app.users"); st == nil || st.Identifier != "users_v2" || st.Pos.File != "models/sources.yml" || st.Pos.Line != 7 {
		t.Errorf("SourceTable(app.users) = %+v", st)
	}
}

func TestSeeds(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, map[string]string{
		"seeds/raw_orders.csv": "id,order_date\n1,2024-01-01\n",
		"seeds/raw/nested.csv": "id\n1\n",
		"seeds/seeds.yml":      "version: 2\nseeds:\n  - name: raw_orders\n    config:\n      column_types:\n        order_date: date\n      delimiter: ';'\n",
		"models/a.sql":         "select * from {{ ref('raw_orders') }} join {{ ref('nested') }} using (id)",
	}, models.Options{})
	m := p.Models["raw_orders"]
	if m == nil || m.Kind != models.KindSeed || m.Path != "seeds/raw_orders.csv" {
		t.Fatalf("seed raw_orders = %+v", m)
	}
	if diff := cmp.Diff(map[string]string{"order_date": "date"}, m.Config.ColumnTypes); diff != "" {
		t.Errorf("column_types (-want +got):\n%s", diff)
	}
	if m.Config.Delimiter != ";" {
		t.Errorf("delimiter = %q", m.Config.Delimiter)
	}
	if got, want := compile(t, p, "a", models.CompileOptions{}), `select * from "main"."raw_orders" join "main"."nested" using (id)`; got != want {
		t.Errorf("compiled = %q, want %q", got, want)
	}
	sql := p.SeedSQL(m)
	for _, s := range []string{"read_csv('" + filepath.Join(p.Dir, "seeds", "raw_orders.csv") + "'", "delim = ';'", "'order_date': 'date'"} {
		if !strings.Contains(sql, s) {
			t.Errorf("SeedSQL = %q, want it to contain %q", sql, s)
		}
	}
}

func TestSingularTests(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, map[string]string{
		"models/orders.sql":                 "select 1 as amount",
		"tests/assert_positive.sql":         "-- no negative amounts\nselect * from {{ ref('orders') }} where amount < 0",
		"tests/nested/assert_something.sql": "{{ config(severity='warn') }}select * from {{ ref('orders') }} where false",
	}, models.Options{})
	if diff := cmp.Diff([]string{"assert_positive", "assert_something"}, p.TestNames()); diff != "" {
		t.Fatalf("tests (-want +got):\n%s", diff)
	}
	tt := p.Tests["assert_positive"]
	if tt.Generic != "" || tt.Path != "tests/assert_positive.sql" || tt.Severity != "error" {
		t.Errorf("assert_positive = %+v", tt)
	}
	if diff := cmp.Diff([]string{"orders"}, tt.DependsOn); diff != "" {
		t.Errorf("DependsOn (-want +got):\n%s", diff)
	}
	sql, err := p.CompileTest(tt)
	if err != nil {
		t.Fatal(err)
	}
	if want := "-- no negative amounts\nselect * from \"main\".\"orders\" where amount < 0"; sql != want {
		t.Errorf("CompileTest = %q, want %q", sql, want)
	}
	if s := p.Tests["assert_something"].Severity; s != "warn" {
		t.Errorf("config(severity='warn') in a singular test: severity = %q", s)
	}
}

func TestExposures(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, map[string]string{
		"models/orders.sql":  "select 1",
		"models/sources.yml": "version: 2\nsources:\n  - name: app\n    tables:\n      - name: users\n",
		"models/exposures.yml": "version: 2\nexposures:\n  - name: dashboard\n    type: dashboard\n    owner:\n      name: Ann\n" +
			"    depends_on:\n      - ref('orders')\n      - source('app', 'users')\n",
	}, models.Options{})
	e := p.Exposures["dashboard"]
	if e == nil || e.Owner != "Ann" || e.Type != "dashboard" {
		t.Fatalf("exposure = %+v", e)
	}
	if diff := cmp.Diff([]string{"orders"}, e.DependsOn); diff != "" {
		t.Errorf("DependsOn (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"app.users"}, e.SourceDeps); diff != "" {
		t.Errorf("SourceDeps (-want +got):\n%s", diff)
	}
	errs := loadErrs(t, map[string]string{
		"models/orders.sql":    "select 1",
		"models/exposures.yml": "version: 2\nexposures:\n  - name: dashboard\n    depends_on:\n      - ref('order')\n",
	}, models.Options{})
	checkErrs(t, errs, []wantErr{{"models/exposures.yml", 3, 5, []string{`unknown model "order"`, `did you mean "orders"?`}}})
}
