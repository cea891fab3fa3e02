package models_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/models"
)

// writeProject writes files (path → content) under a new temporary folder and returns it.
// A minimal strata.yml (project "proj") is added when files has no project file.
func writeProject(t testing.TB, files map[string]string) string {
	t.Helper()
	return testproj.WriteProject(t, "proj", files)
}

// noEnv is an environment with no variables set, so tests do not depend on the machine's.
func noEnv(string) (string, bool) { return "", false }

// mustLoad writes and loads a project, failing the test on any error.
func mustLoad(t testing.TB, files map[string]string, opts models.Options) *models.Project {
	t.Helper()
	if opts.Env == nil {
		opts.Env = noEnv
	}
	p, err := models.Load(writeProject(t, files), opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return p
}

// loadErrs writes and loads a project that must fail, and returns its errors.
func loadErrs(t testing.TB, files map[string]string, opts models.Options) models.Errors {
	t.Helper()
	if opts.Env == nil {
		opts.Env = noEnv
	}
	p, err := models.Load(writeProject(t, files), opts)
	if err == nil {
		t.Fatalf("Load succeeded with models %v, want errors", p.ModelNames())
	}
	var errs models.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load error is %T (%v), want models.Errors", err, err)
	}
	return errs
}

// compile compiles one model, failing the test on error.
func compile(t testing.TB, p *models.Project, name string, opts models.CompileOptions) string {
	t.Helper()
	m := p.Models[name]
	if m == nil {
		t.Fatalf("no model %q; have %v", name, p.ModelNames())
	}
	sql, err := p.Compile(m, opts)
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return sql
}

// wantErr is an expected error: its exact place and words its message must contain.
type wantErr struct {
	File      string
	Line, Col int
	Msg       []string
}

type place struct {
	File      string
	Line, Col int
}

// checkErrs compares errors with the expected ones: places exactly and in order, messages
// by the words they must contain.
func checkErrs(t *testing.T, got models.Errors, want []wantErr) {
	t.Helper()
	var gotPlaces, wantPlaces []place
	for _, e := range got {
		gotPlaces = append(gotPlaces, place{e.File, e.Line, e.Col})
	}
	for _, w := range want {
		wantPlaces = append(wantPlaces, place{w.File, w.Line, w.Col})
	}
	if diff := cmp.Diff(wantPlaces, gotPlaces); diff != "" {
		t.Errorf("error places (-want +got):\n%s\nerrors:\n%v", diff, got)
		return
	}
	for i, w := range want {
		for _, s := range w.Msg {
			if !strings.Contains(got[i].Msg, s) {
				t.Errorf("error %d = %q, want it to contain %q", i, got[i].Error(), s)
			}
		}
	}
}

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
			want: []wantErr{{"models/orders.sql", 2, 16, []string{`unknown source "rwa"`, `did you mean "raw"?`}}},
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
			want: []wantErr{{"models/schema.yml", 4, 0, []string{"bad YAML"}}},
		},
		{
			name: "bad YAML in strata.yml",
			files: map[string]string{
				"strata.yml":   "name: proj\nvars:\n  a: 1\n b: 2\n",
				"models/a.sql": "select 1",
			},
			// " b: 2" on line 4 is the badly indented line; yaml.v3 says line 3.
			want: []wantErr{{"strata.yml", 4, 0, []string{"bad YAML"}}},
		},
		{
			name: "bad YAML: tab indentation",
			files: map[string]string{
				"models/a.sql":      "select 1",
				"models/schema.yml": "version: 2\nmodels:\n\t- name: a\n",
			},
			want: []wantErr{{"models/schema.yml", 3, 0, []string{"bad YAML"}}},
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
			name: "snapshots folder",
			files: map[string]string{
				"models/a.sql":           "select 1",
				"snapshots/orders_h.sql": "{% snapshot orders_h %}select 1{% endsnapshot %}",
			},
			want: []wantErr{{"snapshots/orders_h.sql", 1, 1, []string{"snapshots"}}},
		},
		{
			name: "snapshot block in a model",
			files: map[string]string{
				"models/a.sql": "-- history\n{% snapshot a %}select 1{% endsnapshot %}",
			},
			want: []wantErr{{"models/a.sql", 2, 1, []string{"snapshot"}}},
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
			want: []wantErr{{"models/a.sql", 1, 4, []string{`"snapshot"`, "not support"}}},
		},
		{
			name: "Python model",
			files: map[string]string{
				"models/a.sql": "select 1",
				"models/b.py":  "def model(dbt, session):\n    return dbt.ref('a')\n",
			},
			want: []wantErr{{"models/b.py", 1, 1, []string{"Python models"}}},
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
			name: "unit_tests in a property file",
			files: map[string]string{
				"models/a.sql":      "select 1 as id",
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\nunit_tests:\n  - name: t\n    model: a\n",
			},
			want: []wantErr{{"models/schema.yml", 4, 1, []string{"unit_tests"}}},
		},
		{
			name: "model versions",
			files: map[string]string{
				"models/a.sql":      "select 1 as id",
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    versions:\n      - v: 1\n",
			},
			want: []wantErr{{"models/schema.yml", 4, 5, []string{"versions"}}},
		},
		{
			name: "on-run-start in dbt_project.yml",
			files: map[string]string{
				"dbt_project.yml": "name: proj\nprofile: proj\non-run-start:\n  - \"create schema if not exists x\"\n",
				"profiles.yml":    "proj:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: ':memory:'\n",
				"models/a.sql":    "select 1",
			},
			want: []wantErr{{"dbt_project.yml", 3, 1, []string{"on-run-start"}}},
		},
		{
			name: "run_query in a model",
			files: map[string]string{
				"models/a.sql": "select 1\n{% set r = run_query('select 1') %}\n",
			},
			want: []wantErr{{"models/a.sql", 2, 0, []string{"run_query"}}},
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

const jaffleProject = "name: jaffle\nprofile: jaffle\nversion: '1.0.0'\nconfig-version: 2\n"

func TestProfiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		profiles string
		opts     models.Options
		want     models.Warehouse // Path relative to the project folder
		errs     []wantErr
	}{
		{
			name:     "duckdb target",
			profiles: "jaffle:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: jaffle.duckdb\n      schema: analytics\n      threads: 4\n",
			want:     models.Warehouse{Type: "duckdb", Path: "jaffle.duckdb", Schema: "analytics", Threads: 4, Target: "dev"},
		},
		{
			name:     "in-memory duckdb, schema defaults to main",
			profiles: "jaffle:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: ':memory:'\n",
			want:     models.Warehouse{Type: "duckdb", Path: ":memory:", Schema: "main", Target: "dev"},
		},
		{
			name:     "target chosen by option",
			profiles: "jaffle:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: dev.duckdb\n    prod:\n      type: duckdb\n      path: prod.duckdb\n      schema: prod\n",
			opts:     models.Options{Target: "prod"},
			want:     models.Warehouse{Type: "duckdb", Path: "prod.duckdb", Schema: "prod", Target: "prod"},
		},
		{
			name:     "env_var in profiles.yml",
			profiles: "jaffle:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: \"{{ env_var('JAFFLE_DB') }}\"\n",
			opts: models.Options{Env: func(k string) (string, bool) {
				return map[string]string{"JAFFLE_DB": "from_env.duckdb"}[k], k == "JAFFLE_DB"
			}},
			want: models.Warehouse{Type: "duckdb", Path: "from_env.duckdb", Schema: "main", Target: "dev"},
		},
		{
			name:     "non-duckdb target",
			profiles: "jaffle:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: localhost\n",
			errs:     []wantErr{{"profiles.yml", 5, 7, []string{`"postgres"`, "duckdb"}}},
		},
		{
			name:     "missing profile",
			profiles: "jafle:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n",
			errs:     []wantErr{{"profiles.yml", 0, 0, []string{`profile "jaffle" not found`, `did you mean "jafle"?`}}},
		},
		{
			name:     "missing target",
			profiles: "jaffle:\n  target: dev\n  outputs:\n    prod:\n      type: duckdb\n",
			errs:     []wantErr{{"profiles.yml", 2, 3, []string{`no target "dev"`}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{
				"dbt_project.yml": jaffleProject,
				"profiles.yml":    tc.profiles,
				"models/a.sql":    "select 1",
			}
			if tc.errs != nil {
				checkErrs(t, loadErrs(t, files, tc.opts), tc.errs)
				return
			}
			p := mustLoad(t, files, tc.opts)
			got := p.Warehouse
			if got.Path != ":memory:" {
				rel, err := filepath.Rel(p.Dir, got.Path)
				if err != nil {
					t.Fatal(err)
				}
				got.Path = rel
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("warehouse (-want +got):\n%s", diff)
			}
			if p.Flavor != "dbt" || p.Name != "jaffle" {
				t.Errorf("flavor, name = %q, %q; want dbt, jaffle", p.Flavor, p.Name)
			}
		})
	}
}

// TestNoProfilesFile changes HOME, so it cannot run in parallel with other tests.
func TestNoProfilesFile(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	dir := writeProject(t, map[string]string{"dbt_project.yml": jaffleProject, "models/a.sql": "select 1"})
	_, err := models.Load(dir, models.Options{Env: noEnv, ProfilesDir: t.TempDir()})
	var errs models.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load = %v, want models.Errors", err)
	}
	checkErrs(t, errs, []wantErr{{"dbt_project.yml", 0, 0, []string{"no profiles.yml", `"jaffle"`, "duckdb"}}})
}

// TestProfilesDir checks that Options.ProfilesDir is where profiles.yml is looked for first.
func TestProfilesDir(t *testing.T) {
	t.Parallel()
	pdir := t.TempDir()
	if err := os.WriteFile(filepath.Join(pdir, "profiles.yml"), []byte("jaffle:\n  outputs:\n    dev:\n      type: duckdb\n      path: ':memory:'\n      schema: elsewhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := mustLoad(t, map[string]string{
		"dbt_project.yml": jaffleProject,
		"profiles.yml":    "jaffle:\n  outputs:\n    dev:\n      type: duckdb\n      path: ':memory:'\n      schema: here\n",
		"models/a.sql":    "select 1",
	}, models.Options{ProfilesDir: pdir})
	if p.Warehouse.Schema != "elsewhere" {
		t.Errorf("schema = %q, want the one from ProfilesDir (elsewhere)", p.Warehouse.Schema)
	}
}

func TestStrataTargets(t *testing.T) {
	t.Parallel()
	files := func() map[string]string {
		return map[string]string{
			"strata.yml":   "name: proj\nwarehouse:\n  path: dev.duckdb\n  schema: dev\ntargets:\n  prod:\n    path: prod.duckdb\n    schema: analytics\n    threads: 8\n",
			"models/a.sql": "select '{{ target.name }}' as t, '{{ target.schema }}' as s",
		}
	}
	for _, tc := range []struct {
		target, wantSchema, wantFile, wantSQL string
		threads                               int
	}{
		{"", "dev", "dev.duckdb", "select 'dev' as t, 'dev' as s", 0},
		{"prod", "analytics", "prod.duckdb", "select 'prod' as t, 'analytics' as s", 8},
	} {
		t.Run("target="+tc.target, func(t *testing.T) {
			t.Parallel()
			p := mustLoad(t, files(), models.Options{Target: tc.target})
			w := p.Warehouse
			if w.Schema != tc.wantSchema || filepath.Base(w.Path) != tc.wantFile || w.Threads != tc.threads {
				t.Errorf("warehouse = %+v, want schema %s, file %s, threads %d", w, tc.wantSchema, tc.wantFile, tc.threads)
			}
			if got := compile(t, p, "a", models.CompileOptions{}); got != tc.wantSQL {
				t.Errorf("compiled = %q, want %q", got, tc.wantSQL)
			}
		})
	}
	t.Run("unknown target", func(t *testing.T) {
		t.Parallel()
		errs := loadErrs(t, files(), models.Options{Target: "prd"})
		if len(errs) != 1 || !strings.Contains(errs[0].Msg, `unknown target "prd"`) || !strings.Contains(errs[0].Msg, `did you mean "prod"?`) {
			t.Errorf("errors = %v, want one unknown target with a suggestion", errs)
		}
	})
}

// testFacts is what TestProperties compares about each test.
type testFacts struct {
	Generic, Model, Column, Severity, Where string
	DependsOn, SourceDeps                   []string
}

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
		"unique stg_orders.order_id": `select order_id as unique_field, count(*) as n_records
from "main"."stg_orders"
where order_id is not null
group by order_id
having count(*) > 1`,
		"accepted_values stg_orders.status": `with all_values as (
  select status as value_field, count(*) as n_records
  from "main"."stg_orders"
  group by status
)
select *
from all_values
where value_field not in ('placed', 'shipped')`,
		"accepted_values stg_orders.status where order_id > 10": `with all_values as (
  select status as value_field, count(*) as n_records
  from (select * from "main"."stg_orders" where order_id > 10) dbt_subquery
  group by status
)
select *
from all_values
where value_field not in (1, 2)`,
		"not_null orders.customer_id where status <> 'placed'": `select *
from (select * from "main"."orders" where status <> 'placed') dbt_subquery
where customer_id is null`,
		"relationships orders.customer_id": `with child as (
  select customer_id as from_field
  from "main"."orders"
  where customer_id is not null
),
parent as (
  select id as to_field
  from "main"."customers"
)
select from_field
from child
left join parent on child.from_field = parent.to_field
where parent.to_field is null`,
		"unique app.events.id": `select id as unique_field, count(*) as n_records
from "app"."events"
where id is not null
group by id
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
