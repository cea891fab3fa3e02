package models_test

import (
	"errors"
	"testing"

	"github.com/stratadata/strata/models"
)

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	sources := "version: 2\nsources:\n  - name: raw\n    tables:\n      - name: orders\n      - name: customers\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []wantErr
	}{
		{
			name: "unknown ref with did-you-mean",
			files: map[string]string{
				"models/stg_orders.sql": "select 1 as id",
				"models/orders.sql":     "select *\nfrom {{ ref('stg_ordrs') }}\n",
			},
			want: []wantErr{{"models/orders.sql", 2, 13, []string{`unknown ref "stg_ordrs"`, `did you mean "stg_orders"?`}}},
		},
		{
			name: "unknown ref in double quotes",
			files: map[string]string{
				"models/stg_orders.sql": "select 1 as id",
				"models/orders.sql":     "select *\n  from {{ ref(\"stg_ordrs\") }}\n",
			},
			want: []wantErr{{"models/orders.sql", 2, 15, []string{`unknown ref "stg_ordrs"`, `did you mean "stg_orders"?`}}},
		},
		{
			// The name also appears earlier in the file as SQL text; the error must point at
			// the ref() call, not at the first place the text happens to appear.
			name: "unknown ref after the same text in SQL",
			files: map[string]string{
				"models/stg_orders.sql": "select 1 as id",
				"models/orders.sql":     "select 'stg_ordrs' as label\nfrom {{ ref('stg_ordrs') }}\n",
			},
			want: []wantErr{{"models/orders.sql", 2, 13, []string{`unknown ref "stg_ordrs"`}}},
		},
		{
			name: "unknown ref without a close name",
			files: map[string]string{
				"models/orders.sql": "select * from {{ ref('zzzzzzzz') }}",
			},
			want: []wantErr{{"models/orders.sql", 1, 22, []string{`unknown ref "zzzzzzzz"`}}},
		},
		{
			name: "unknown source",
			files: map[string]string{
				"models/sources.yml": sources,
				"models/orders.sql":  "select *\nfrom {{ source('rwa', 'orders') }}\n",
			},
			want: []wantErr{{"models/orders.sql", 2, 16, []string{`unknown source "rwa.orders"`, `no source "rwa" is declared`, `did you mean "raw"?`}}},
		},
		{
			name: "unknown source table",
			files: map[string]string{
				"models/sources.yml": sources,
				"models/orders.sql":  "select *\nfrom {{ source('raw', 'ordrs') }}\n",
			},
			want: []wantErr{{"models/orders.sql", 2, 16, []string{`source "raw" has no table "ordrs"`, `did you mean "orders"?`}}},
		},
		{
			name: "source declared twice",
			files: map[string]string{
				"models/a.yml": "version: 2\nsources:\n  - name: app\n    tables: [{name: t}]\n",
				"models/b.yml": "version: 2\n\nsources:\n  - name: app\n",
			},
			want: []wantErr{{"models/b.yml", 4, 5, []string{`source "app"`, "models/a.yml:3"}}},
		},
		{
			name: "bad YAML in a property file",
			files: map[string]string{
				"models/a.sql":      "select 1",
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    description: [unclosed\n",
			},
			// yaml.v3 reports the line before the unclosed "[" (line 3); the "[" is on line 4.
			want: []wantErr{{"models/schema.yml", 4, 5, []string{"bad YAML"}}},
		},
		{
			name: "bad YAML in strata.yml",
			files: map[string]string{
				"strata.yml":   "name: proj\nvars:\n  a: 1\n b: 2\n",
				"models/a.sql": "select 1",
			},
			// " b: 2" on line 4 is the badly indented line; yaml.v3 says line 3.
			want: []wantErr{{"strata.yml", 4, 2, []string{"bad YAML"}}},
		},
		{
			name: "bad YAML: tab indentation",
			files: map[string]string{
				"models/a.sql":      "select 1",
				"models/schema.yml": "version: 2\nmodels:\n\t- name: a\n",
			},
			want: []wantErr{{"models/schema.yml", 3, 2, []string{"bad YAML"}}},
		},
		{
			name: "bad YAML: a key dedented to no block",
			files: map[string]string{
				"models/a.sql":      "select 1",
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    description: x\n   columns:\n      - name: id\n",
			},
			// yaml.v3 says line 2 ("did not find expected '-' indicator"); " columns:" is it
			want: []wantErr{{"models/schema.yml", 5, 4, []string{"bad YAML", "indentation"}}},
		},
		{
			// yaml.v3 accepts duplicate keys in a node tree; the second models: would be
			// silently ignored by the folder config, so it must be an error.
			name: "duplicate key in strata.yml",
			files: map[string]string{
				"strata.yml":   "name: proj\nmodels:\n  proj:\n    +materialized: table\nmodels:\n  proj:\n    +tags: [x]\n",
				"models/a.sql": "select 1",
			},
			want: []wantErr{{"strata.yml", 5, 1, []string{`"models"`}}},
		},
		{
			name: "property file that is a list",
			files: map[string]string{
				"models/a.sql":      "select 1",
				"models/schema.yml": "- name: a\n",
			},
			want: []wantErr{{"models/schema.yml", 1, 1, []string{"bad YAML", "mapping"}}},
		},
		{
			name: "duplicate model names",
			files: map[string]string{
				"models/a/orders.sql": "select 1",
				"models/b/orders.sql": "select 2",
			},
			want: []wantErr{{"models/b/orders.sql", 1, 1, []string{`duplicate model name "orders"`, "models/a/orders.sql"}}},
		},
		{
			name: "seed and model share a name",
			files: map[string]string{
				"models/orders.sql": "select 1",
				"seeds/orders.csv":  "id\n1\n",
			},
			want: []wantErr{{"seeds/orders.csv", 1, 1, []string{`"orders"`, "models/orders.sql"}}},
		},
		{
			name: "Jinja syntax error in an expression",
			files: map[string]string{
				"models/a.sql": "select 1\n-- two\nselect {{ ref('b' }}\n",
			},
			want: []wantErr{{"models/a.sql", 3, 19, []string{"Jinja syntax error"}}},
		},
		{
			name: "Jinja syntax error in a for tag",
			files: map[string]string{
				"models/a.sql": "select 1\n{% for x in %}{{ x }}{% endfor %}\n",
			},
			want: []wantErr{{"models/a.sql", 2, 13, []string{"Jinja syntax error", "for"}}},
		},
		{
			name: "endif without if",
			files: map[string]string{
				"models/a.sql": "select 1\n  {% endif %}\n",
			},
			want: []wantErr{{"models/a.sql", 2, 6, []string{"Jinja syntax error", "endif"}}},
		},
		{
			name: "unknown materialization in config()",
			files: map[string]string{
				"models/a.sql": "-- a\n  {{ config(materialized='tabel') }}\nselect 1\n",
			},
			want: []wantErr{{"models/a.sql", 2, 6, []string{`unknown materialization "tabel"`, `did you mean "table"?`}}},
		},
		{
			name: "unknown materialization in YAML",
			files: map[string]string{
				"models/a.sql":      "select 1",
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    config:\n      materialized: viw\n",
			},
			want: []wantErr{{"models/schema.yml", 5, 7, []string{`unknown materialization "viw"`, `did you mean "view"?`}}},
		},
		{
			name: "unknown materialization in the folder config",
			files: map[string]string{
				"strata.yml":   "name: proj\nmodels:\n  proj:\n    +materialized: tables\n",
				"models/a.sql": "select 1",
			},
			want: []wantErr{{"strata.yml", 4, 5, []string{`unknown materialization "tables"`, `did you mean "table"?`}}},
		},
		{
			name: "unknown strata.yml key",
			files: map[string]string{
				"strata.yml":   "name: proj\nmodel:\n  proj: {}\n",
				"models/a.sql": "select 1",
			},
			want: []wantErr{{"strata.yml", 2, 1, []string{`unknown key "model"`, `did you mean "models"?`}}},
		},
		{
			name: "unknown warehouse key",
			files: map[string]string{
				"strata.yml":   "name: proj\nwarehouse:\n  path: x.duckdb\n  shema: analytics\n",
				"models/a.sql": "select 1",
			},
			want: []wantErr{{"strata.yml", 4, 3, []string{`"shema"`, `did you mean "schema"?`}}},
		},
		{
			name: "missing project name",
			files: map[string]string{
				"strata.yml":   "warehouse:\n  path: x.duckdb\n",
				"models/a.sql": "select 1",
			},
			want: []wantErr{{"strata.yml", 1, 1, []string{"'name'"}}},
		},
		{
			name: "unknown model property",
			files: map[string]string{
				"models/a.sql":      "select 1",
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    descripton: the a model\n",
			},
			want: []wantErr{{"models/schema.yml", 4, 5, []string{`unknown model property "descripton"`, `did you mean "description"?`}}},
		},
		{
			name: "unknown column property",
			files: map[string]string{
				"models/a.sql":      "select 1 as id",
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        test:\n          - unique\n",
			},
			want: []wantErr{{"models/schema.yml", 6, 9, []string{`unknown column property "test"`, `did you mean "tests"?`}}},
		},
		{
			name: "properties for an unknown model",
			files: map[string]string{
				"models/orders.sql": "select 1",
				"models/schema.yml": "version: 2\nmodels:\n  - name: order\n",
			},
			want: []wantErr{{"models/schema.yml", 3, 5, []string{`unknown model "order"`, `did you mean "orders"?`}}},
		},
		{
			name: "unknown top-level key in a property file",
			files: map[string]string{
				"models/a.sql":      "select 1",
				"models/schema.yml": "version: 2\nmodel:\n  - name: a\n",
			},
			want: []wantErr{{"models/schema.yml", 2, 1, []string{`unknown key "model"`, `did you mean "models"?`}}},
		},
		{
			name: "unknown generic test",
			files: map[string]string{
				"models/a.sql":      "select 1 as id",
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        tests:\n          - uniqe\n",
			},
			want: []wantErr{{"models/schema.yml", 7, 13, []string{`unknown generic test "uniqe"`, `did you mean "unique"?`}}},
		},
		{
			name: "missing var",
			files: map[string]string{
				"models/a.sql": "select *\nfrom t\nwhere x > {{ var('min_amount') }}\n",
			},
			want: []wantErr{{"models/a.sql", 3, 14, []string{`"min_amount"`}}},
		},
		{
			name: "missing env var",
			files: map[string]string{
				"models/a.sql": "select '{{ env_var('STRATA_TEST_UNSET') }}' as x\n",
			},
			want: []wantErr{{"models/a.sql", 1, 12, []string{"STRATA_TEST_UNSET"}}},
		},
		{
			name: "unknown doc in a description",
			files: map[string]string{
				"models/docs.md":    "{% docs orders_status %}status{% enddocs %}",
				"models/a.sql":      "select 1",
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    description: '{{ doc(\"order_status\") }}'\n",
			},
			want: []wantErr{{"models/schema.yml", 4, 18, []string{`"order_status"`, `did you mean "orders_status"?`}}},
		},
		{
			name: "merge without unique_key",
			files: map[string]string{
				"models/a.sql": "{{ config(materialized='incremental', incremental_strategy='merge') }}\nselect 1",
			},
			want: []wantErr{{"models/a.sql", 1, 4, []string{"unique_key"}}},
		},
		{
			name: "bad severity",
			files: map[string]string{
				"models/a.sql":      "select 1 as id",
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        tests:\n          - unique:\n              config:\n                severity: fatal\n",
			},
			want: []wantErr{{"models/schema.yml", 9, 17, []string{`severity "fatal"`}}},
		},
		{
			name: "several errors in model and property files, sorted",
			files: map[string]string{
				"models/b.sql":      "select 1\nfrom {{ ref('nope_b') }}\n",
				"models/a.sql":      "select 1\n\n\nfrom {{ ref('nope_a2') }}\n-- {{ ref('nope_a1') }}\n",
				"models/c.sql":      "select {{ config(materialized='tabel') }} 1",
				"models/schema.yml": "version: 2\nmodels:\n  - name: b\n    colums: []\n",
			},
			want: []wantErr{
				{"models/a.sql", 4, 13, []string{`unknown ref "nope_a2"`}},
				{"models/a.sql", 5, 11, []string{`unknown ref "nope_a1"`}},
				{"models/b.sql", 2, 13, []string{`unknown ref "nope_b"`}},
				{"models/c.sql", 1, 11, []string{`unknown materialization "tabel"`}},
				{"models/schema.yml", 4, 5, []string{`"colums"`, `did you mean "columns"?`}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkErrs(t, loadErrs(t, tc.files, models.Options{}), tc.want)
		})
	}
}

// TestUnsupportedDbtFeatures checks that dbt features strata does not run fail by name,
// at the place they are used, instead of being silently ignored.
func TestUnsupportedDbtFeatures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []wantErr
	}{
		{
			name: "snapshot without its config",
			files: map[string]string{
				"models/a.sql":           "select 1",
				"snapshots/orders_h.sql": "-- history\n{% snapshot orders_h %}select 1{% endsnapshot %}",
			},
			want: []wantErr{{"snapshots/orders_h.sql", 2, 1, []string{"unique_key"}}, {"snapshots/orders_h.sql", 2, 1, []string{"strategy"}}},
		},
		{
			name: "snapshot block in a model",
			files: map[string]string{
				"models/a.sql": "-- history\n{% snapshot a %}select 1{% endsnapshot %}",
			},
			want: []wantErr{{"models/a.sql", 2, 1, []string{"snapshot", "snapshots/"}}},
		},
		{
			name: "custom materialization in macros",
			files: map[string]string{
				"models/a.sql":       "select 1",
				"macros/my_mat.sql":  "\n\n{% materialization my_mat, default %}{% endmaterialization %}",
				"macros/helpers.sql": "{% macro one() %}1{% endmacro %}",
			},
			want: []wantErr{{"macros/my_mat.sql", 3, 1, []string{"materialization"}}},
		},
		{
			name: "materialized snapshot",
			files: map[string]string{
				"models/a.sql": "{{ config(materialized='snapshot') }}select 1",
			},
			want: []wantErr{{"models/a.sql", 1, 4, []string{"snapshot", "block in snapshots/"}}},
		},
		{
			name: "Python model reading an unknown model",
			files: map[string]string{
				"models/a.sql": "select 1",
				"models/b.py":  "def model(dbt, session):\n    return dbt.ref('nope')\n",
			},
			want: []wantErr{{"models/b.py", 2, 12, []string{"nope"}}},
		},
		{
			name: "packages.yml with packages",
			files: map[string]string{
				"models/a.sql": "select 1",
				"packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.1.1\n",
			},
			want: []wantErr{{"packages.yml", 2, 3, []string{"packages", "packages.yml"}}},
		},
		{
			name: "a unit test without expect, and one of an unknown model",
			files: map[string]string{
				"models/a.sql":      "select 1 as id",
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\nunit_tests:\n  - name: t\n    model: a\n  - name: u\n    model: b\n    expect: {rows: []}\n",
			},
			want: []wantErr{{"models/schema.yml", 5, 5, []string{"needs expect"}}, {"models/schema.yml", 7, 5, []string{`unknown model "b"`}}},
		},
		{
			name: "model versions",
			files: map[string]string{
				"models/a.sql":      "select 1 as id",
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    versions:\n      - v: 1\n",
			},
			want: []wantErr{{"models/schema.yml", 4, 5, []string{"versions"}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkErrs(t, loadErrs(t, tc.files, models.Options{}), tc.want)
		})
	}
}

// TestEmptyPackagesFile checks that a packages.yml without packages is no error.
func TestEmptyPackagesFile(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, map[string]string{"models/a.sql": "select 1", "packages.yml": "packages: []\n"}, models.Options{})
	if p.Models["a"] == nil {
		t.Fatal("model a missing")
	}
}

func TestNoProject(t *testing.T) {
	t.Parallel()
	_, err := models.Load(t.TempDir(), models.Options{Env: noEnv})
	if !errors.Is(err, models.ErrNoProject) {
		t.Fatalf("Load of an empty folder = %v, want ErrNoProject", err)
	}
}
