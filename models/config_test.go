package models_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadata/strata/models"
)

// cfgFacts is what TestConfigs compares about a model's merged config.
type cfgFacts struct {
	Kind                models.Kind
	Materialized        string
	Schema, Alias       string
	Tags                []string
	UniqueKey           []string
	IncrementalStrategy string
}

func factsOf(m *models.Model) cfgFacts {
	return cfgFacts{m.Kind, m.Config.Materialized, m.Config.Schema, m.Config.Alias, m.Config.Tags, m.Config.UniqueKey, m.Config.IncrementalStrategy}
}

const dbtProfiles = "proj:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: ':memory:'\n"

// dbtFiles returns a dbt project named proj whose dbt_project.yml has models: cfg.
func dbtFiles(cfg string, files map[string]string) map[string]string {
	out := map[string]string{
		"dbt_project.yml": "name: proj\nprofile: proj\nconfig-version: 2\nmodels:\n" + cfg,
		"profiles.yml":    dbtProfiles,
	}
	for k, v := range files {
		out[k] = v
	}
	return out
}

func TestConfigs(t *testing.T) {
	t.Parallel()
	layout := map[string]string{
		"models/top.sql":                   "select 1",
		"models/staging/stg_a.sql":         "select 1",
		"models/staging/stg_b.sql":         "select 1",
		"models/marts/fct.sql":             "select 1",
		"models/marts/finance/revenue.sql": "select 1",
	}
	for _, tc := range []struct {
		name     string
		files    map[string]string
		want     map[string]cfgFacts
		anyOrder bool // tags compared as sets
	}{
		{
			name:  "default is a view",
			files: map[string]string{"models/a.sql": "select 1"},
			want:  map[string]cfgFacts{"a": {Kind: models.KindView, Materialized: "view"}},
		},
		{
			name:  "folder configs without +",
			files: dbtFiles("  proj:\n    materialized: table\n    staging:\n      materialized: view\n    marts:\n      finance:\n        materialized: incremental\n", layout),
			want: map[string]cfgFacts{
				"top":     {Kind: models.KindTable, Materialized: "table"},
				"stg_a":   {Kind: models.KindView, Materialized: "view"},
				"stg_b":   {Kind: models.KindView, Materialized: "view"},
				"fct":     {Kind: models.KindTable, Materialized: "table"},
				"revenue": {Kind: models.KindIncremental, Materialized: "incremental", IncrementalStrategy: "append"},
			},
		},
		{
			name:  "folder configs with +",
			files: dbtFiles("  proj:\n    +materialized: table\n    staging:\n      +materialized: view\n      +schema: staging\n    marts:\n      +tags: ['marts']\n      finance:\n        +tags: finance\n", layout),
			want: map[string]cfgFacts{
				"top":     {Kind: models.KindTable, Materialized: "table"},
				"stg_a":   {Kind: models.KindView, Materialized: "view", Schema: "staging"},
				"stg_b":   {Kind: models.KindView, Materialized: "view", Schema: "staging"},
				"fct":     {Kind: models.KindTable, Materialized: "table", Tags: []string{"marts"}},
				"revenue": {Kind: models.KindTable, Materialized: "table", Tags: []string{"marts", "finance"}},
			},
		},
		{
			// A folder may be named like a config key; with "+" the key is a config, and a
			// mapping under a name is a folder.
			name: "folder named like a config key",
			files: dbtFiles("  proj:\n    schema:\n      +materialized: table\n", map[string]string{
				"models/schema/a.sql": "select 1",
				"models/b.sql":        "select 1",
			}),
			want: map[string]cfgFacts{
				"a": {Kind: models.KindTable, Materialized: "table"},
				"b": {Kind: models.KindView, Materialized: "view"},
			},
		},
		{
			name:  "config for one model in the folder tree",
			files: dbtFiles("  proj:\n    staging:\n      +materialized: view\n      stg_b:\n        +materialized: table\n        +alias: b_table\n", layout),
			want: map[string]cfgFacts{
				"top":     {Kind: models.KindView, Materialized: "view"},
				"stg_a":   {Kind: models.KindView, Materialized: "view"},
				"stg_b":   {Kind: models.KindTable, Materialized: "table", Alias: "b_table"},
				"fct":     {Kind: models.KindView, Materialized: "view"},
				"revenue": {Kind: models.KindView, Materialized: "view"},
			},
		},
		{
			name: "strata.yml folder configs",
			files: map[string]string{
				"strata.yml":           "name: proj\nmodels:\n  proj:\n    staging:\n      +materialized: view\n    marts:\n      +materialized: table\n",
				"models/staging/s.sql": "select 1",
				"models/marts/m.sql":   "select 1",
			},
			want: map[string]cfgFacts{
				"s": {Kind: models.KindView, Materialized: "view"},
				"m": {Kind: models.KindTable, Materialized: "table"},
			},
		},
		{
			name: "YAML config block",
			files: map[string]string{
				"models/a.sql":      "select 1",
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    config:\n      materialized: table\n      schema: marts\n      alias: a_v2\n      tags: ['x']\n",
			},
			want: map[string]cfgFacts{"a": {Kind: models.KindTable, Materialized: "table", Schema: "marts", Alias: "a_v2", Tags: []string{"x"}}},
		},
		{
			name: "precedence: folder < YAML < config()",
			files: map[string]string{
				"strata.yml":        "name: proj\nmodels:\n  proj:\n    +materialized: table\n    +schema: folder\n    +alias: folder_alias\n",
				"models/a.sql":      "{{ config(materialized='incremental') }}select 1",
				"models/b.sql":      "select 1",
				"models/c.sql":      "{{ config(schema='file') }}select 1",
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    config:\n      materialized: view\n      schema: yaml\n  - name: b\n    config:\n      materialized: ephemeral\n",
			},
			want: map[string]cfgFacts{
				"a": {Kind: models.KindIncremental, Materialized: "incremental", Schema: "yaml", Alias: "folder_alias", IncrementalStrategy: "append"},
				"b": {Kind: models.KindEphemeral, Materialized: "ephemeral", Schema: "folder", Alias: "folder_alias"},
				"c": {Kind: models.KindTable, Materialized: "table", Schema: "file", Alias: "folder_alias"},
			},
		},
		{
			name: "tags accumulate across layers",
			files: map[string]string{
				"strata.yml":            "name: proj\nmodels:\n  +tags: all\n  proj:\n    +tags: ['project']\n    marts:\n      +tags: ['marts', 'project']\n",
				"models/marts/a.sql":    "{{ config(tags=['file', 'marts']) }}select 1",
				"models/marts/b.sql":    "{{ config(tags='file_b') }}select 1",
				"models/schema.yml":     "version: 2\nmodels:\n  - name: a\n    config:\n      tags: ['yaml']\n",
				"models/marts/more.yml": "version: 2\nmodels:\n  - name: b\n    tags: ['yaml_b']\n",
			},
			want: map[string]cfgFacts{
				"a": {Kind: models.KindView, Materialized: "view", Tags: []string{"all", "project", "marts", "yaml", "file"}},
				"b": {Kind: models.KindView, Materialized: "view", Tags: []string{"all", "project", "marts", "yaml_b", "file_b"}},
			},
		},
		{
			// dbt reads a model's tags from both its top-level tags: and its config: block.
			name: "YAML tags: and config: tags both count",
			files: map[string]string{
				"models/a.sql":      "select 1",
				"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    tags: ['top']\n    config:\n      tags: ['in_config']\n",
			},
			want:     map[string]cfgFacts{"a": {Kind: models.KindView, Materialized: "view", Tags: []string{"in_config", "top"}}},
			anyOrder: true,
		},
		{
			name: "incremental without unique_key appends",
			files: map[string]string{
				"models/a.sql": "{{ config(materialized='incremental') }}select 1",
			},
			want: map[string]cfgFacts{"a": {Kind: models.KindIncremental, Materialized: "incremental", IncrementalStrategy: "append"}},
		},
		{
			name: "incremental with unique_key deletes and inserts",
			files: map[string]string{
				"models/a.sql": "{{ config(materialized='incremental', unique_key='id') }}select 1 as id",
				"models/b.sql": "{{ config(materialized='incremental', unique_key=['id', 'day']) }}select 1 as id, 2 as day",
				"models/c.sql": "{{ config(materialized='incremental', unique_key='id', incremental_strategy='merge') }}select 1 as id",
			},
			want: map[string]cfgFacts{
				"a": {Kind: models.KindIncremental, Materialized: "incremental", UniqueKey: []string{"id"}, IncrementalStrategy: "delete+insert"},
				"b": {Kind: models.KindIncremental, Materialized: "incremental", UniqueKey: []string{"id", "day"}, IncrementalStrategy: "delete+insert"},
				"c": {Kind: models.KindIncremental, Materialized: "incremental", UniqueKey: []string{"id"}, IncrementalStrategy: "merge"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := mustLoad(t, tc.files, models.Options{})
			got := map[string]cfgFacts{}
			for name, m := range p.Models {
				got[name] = factsOf(m)
				if tc.anyOrder {
					slices.Sort(got[name].Tags)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("configs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConfigWhere checks that a merged config remembers where each key was last set.
func TestConfigWhere(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, map[string]string{
		"strata.yml":        "name: proj\nmodels:\n  proj:\n    +materialized: table\n    +schema: s\n",
		"models/a.sql":      "-- a\n{{ config(materialized='view') }}select 1",
		"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    config:\n      alias: a2\n",
	}, models.Options{})
	want := map[string]models.Pos{
		"materialized": {File: "models/a.sql", Line: 2, Col: 4},
		"schema":       {File: "strata.yml", Line: 5, Col: 5},
		"alias":        {File: "models/schema.yml", Line: 5, Col: 7},
	}
	if diff := cmp.Diff(want, p.Models["a"].Config.Where); diff != "" {
		t.Errorf("Config.Where (-want +got):\n%s", diff)
	}
}

func TestEnabledFalse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{
		{"config()", map[string]string{"models/off.sql": "{{ config(enabled=false) }}select 1"}},
		{"YAML", map[string]string{"models/off.sql": "select 1", "models/off.yml": "version: 2\nmodels:\n  - name: off\n    config:\n      enabled: false\n"}},
		{"folder", map[string]string{"strata.yml": "name: proj\nmodels:\n  proj:\n    old:\n      +enabled: false\n", "models/old/off.sql": "select 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{"models/on.sql": "select 1 as id"}
			for k, v := range tc.files {
				files[k] = v
			}
			files["models/tests.yml"] = "version: 2\nmodels:\n  - name: on\n    columns:\n      - name: id\n        tests: [unique]\n"
			p := mustLoad(t, files, models.Options{})
			if diff := cmp.Diff([]string{"on"}, p.ModelNames()); diff != "" {
				t.Errorf("models (-want +got):\n%s", diff)
			}

			// A ref to a disabled model is an error that says so.
			files = map[string]string{"models/on.sql": "select *\nfrom {{ ref('off') }}"}
			for k, v := range tc.files {
				files[k] = v
			}
			errs := loadErrs(t, files, models.Options{})
			checkErrs(t, errs, []wantErr{{"models/on.sql", 2, 13, []string{`"off"`, "disabled"}}})
		})
	}
	t.Run("tests of a disabled model are dropped", func(t *testing.T) {
		t.Parallel()
		p := mustLoad(t, map[string]string{
			"models/off.sql": "{{ config(enabled=false) }}select 1 as id",
			"models/s.yml":   "version: 2\nmodels:\n  - name: off\n    columns:\n      - name: id\n        tests: [unique, not_null]\n",
		}, models.Options{})
		if len(p.Tests) != 0 {
			t.Errorf("tests = %v, want none", p.TestNames())
		}
	})
}

// TestSchemaAndAlias checks the relation each model builds and that refs compile to it.
func TestSchemaAndAlias(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // compiled SQL of model "m" that refs "up"
	}{
		{
			name:  "default schema",
			files: map[string]string{"models/up.sql": "select 1"},
			want:  `select * from "main"."up"`,
		},
		{
			name:  "warehouse schema",
			files: map[string]string{"strata.yml": "name: proj\nwarehouse:\n  schema: analytics\n", "models/up.sql": "select 1"},
			want:  `select * from "analytics"."up"`,
		},
		{
			name:  "custom schema",
			files: map[string]string{"strata.yml": "name: proj\nwarehouse:\n  schema: analytics\n", "models/up.sql": "{{ config(schema='marts') }}select 1"},
			want:  `select * from "analytics_marts"."up"`,
		},
		{
			name:  "custom schema from a dbt profile",
			files: dbtFiles("  proj:\n    +schema: staging\n", map[string]string{"profiles.yml": dbtProfiles + "      schema: dev_ann\n", "models/up.sql": "select 1"}),
			want:  `select * from "dev_ann_staging"."up"`,
		},
		{
			name:  "alias",
			files: map[string]string{"models/up.sql": "{{ config(alias='up_v2') }}select 1"},
			want:  `select * from "main"."up_v2"`,
		},
		{
			name: "generate_schema_name macro",
			files: map[string]string{
				"macros/schema.sql": "{% macro generate_schema_name(custom_schema_name, node) %}{% if custom_schema_name %}{{ custom_schema_name | trim }}{% else %}{{ target.schema }}{% endif %}{% endmacro %}",
				"models/up.sql":     "{{ config(schema='marts') }}select 1",
			},
			want: `select * from "marts"."up"`,
		},
		{
			name:  "ephemeral model inlined",
			files: map[string]string{"models/up.sql": "{{ config(materialized='ephemeral') }}select 1 as id"},
			want:  "select * from (\nselect 1 as id\n)",
		},
		{
			name:  "quoted identifiers",
			files: map[string]string{"models/up.sql": "{{ config(alias='we\"ird') }}select 1"},
			want:  `select * from "main"."we""ird"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{"models/m.sql": "select * from {{ ref('up') }}"}
			for k, v := range tc.files {
				files[k] = v
			}
			p := mustLoad(t, files, models.Options{})
			if diff := cmp.Diff(tc.want, compile(t, p, "m", models.CompileOptions{})); diff != "" {
				t.Errorf("compiled (-want +got):\n%s", diff)
			}
			if up := p.Models["up"]; up.Kind != models.KindEphemeral {
				rel := p.Relation(up)
				if !strings.Contains(tc.want, rel) {
					t.Errorf("Relation(up) = %s, not in %s", rel, tc.want)
				}
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, sql string
		want      []string
	}{
		{"insert_overwrite", "{{ config(materialized='incremental', incremental_strategy='insert_overwrite') }}select 1", []string{"insert_overwrite", "not supported"}},
		{"unknown strategy", "{{ config(materialized='incremental', incremental_strategy='upsert') }}select 1", []string{`"upsert"`}},
		{"on_schema_change", "{{ config(materialized='incremental', on_schema_change='sync_all_columns') }}select 1", []string{"sync_all_columns"}},
		{"contract", "{{ config(contract={'enforced': true}) }}select 1", []string{"contract"}},
		{"materialized_view", "{{ config(materialized='materialized_view') }}select 1", []string{"materialized_view", "not support"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			errs := loadErrs(t, map[string]string{"models/a.sql": tc.sql}, models.Options{})
			want := []wantErr{{"models/a.sql", 1, 4, tc.want}}
			checkErrs(t, errs, want)
		})
	}
}

// TestConfigCallKwargs checks that every keyword of config() lands in the config, strata's
// own keys and dbt's list and map values included.
func TestConfigCallKwargs(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, map[string]string{
		"models/a.sql": "{{ config(materialized='table', priority='high', schedule='0 * * * *', meta={'owner': 'ann'}, " +
			"post_hook=['analyze {{ this }}', 'select 1'], pre_hook='select 0', full_refresh=false, on_schema_change='append_new_columns') }}select 1",
		"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    config:\n      meta:\n        team: data\n",
	}, models.Options{})
	c := p.Models["a"].Config
	if c.Raw["priority"] != "high" || c.Raw["schedule"] != "0 * * * *" {
		t.Errorf("strata keys: priority %v, schedule %v", c.Raw["priority"], c.Raw["schedule"])
	}
	if diff := cmp.Diff(map[string]any{"owner": "ann", "team": "data"}, c.Meta); diff != "" {
		t.Errorf("meta merges YAML and config() (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"analyze {{ this }}", "select 1"}, c.PostHook); diff != "" {
		t.Errorf("post-hook (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"select 0"}, c.PreHook); diff != "" {
		t.Errorf("pre-hook (-want +got):\n%s", diff)
	}
	if c.FullRefresh == nil || *c.FullRefresh {
		t.Errorf("full_refresh = %v, want false", c.FullRefresh)
	}
	if c.OnSchemaChange != "append_new_columns" {
		t.Errorf("on_schema_change = %q", c.OnSchemaChange)
	}
}

// TestSeedConfigs checks the seeds: tree of the project file and seed properties.
func TestSeedConfigs(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, dbtFiles("  proj:\n    +materialized: table\n", map[string]string{
		"dbt_project.yml":           "name: proj\nprofile: proj\nseeds:\n  proj:\n    +schema: raw\n    +tags: ['seed']\n    lookups:\n      +column_types:\n        code: varchar\n",
		"seeds/orders.csv":          "id\n1\n",
		"seeds/lookups/country.csv": "code,name\n01,Andorra\n",
		"seeds/props.yml":           "version: 2\nseeds:\n  - name: country\n    description: Countries.\n    config:\n      alias: countries\n",
		"models/a.sql":              "select * from {{ ref('country') }}",
	}), models.Options{})
	country := p.Models["country"]
	if country.Kind != models.KindSeed || country.Config.Materialized != "seed" {
		t.Errorf("country kind %s, materialized %q", country.Kind, country.Config.Materialized)
	}
	got := cfgFacts{country.Kind, country.Config.Materialized, country.Config.Schema, country.Config.Alias, country.Config.Tags, nil, ""}
	want := cfgFacts{Kind: models.KindSeed, Materialized: "seed", Schema: "raw", Alias: "countries", Tags: []string{"seed"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("country config (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"code": "varchar"}, country.Config.ColumnTypes); diff != "" {
		t.Errorf("column_types (-want +got):\n%s", diff)
	}
	if country.Description != "Countries." {
		t.Errorf("description = %q", country.Description)
	}
	if ct := p.Models["orders"].Config.ColumnTypes; ct != nil {
		t.Errorf("orders column_types = %v, want none", ct)
	}
	if got, want := compile(t, p, "a", models.CompileOptions{}), `select * from "main_raw"."countries"`; got != want {
		t.Errorf("compiled = %q, want %q", got, want)
	}
}

// TestUnusedConfigPaths checks that a folder config that applies to no model (a misspelt
// project or folder name) is reported, as dbt warns, instead of silently doing nothing.
func TestUnusedConfigPaths(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, cfg, want string
	}{
		{"misspelt project", "  prj:\n    +materialized: table\n", "prj"},
		{"misspelt folder", "  proj:\n    stagin:\n      +materialized: table\n", "stagin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := mustLoad(t, map[string]string{
				"strata.yml":               "name: proj\nmodels:\n" + tc.cfg,
				"models/staging/stg_a.sql": "select 1",
			}, models.Options{})
			if m := p.Models["stg_a"]; m.Config.Materialized != "view" {
				t.Fatalf("stg_a materialized = %q, want view (the config applies to nothing)", m.Config.Materialized)
			}
			found := false
			for _, w := range p.Warnings {
				if strings.Contains(w, tc.want) && strings.Contains(w, "strata.yml") {
					found = true
				}
			}
			if !found {
				t.Errorf("warnings = %q, want one naming the unused config path %q in strata.yml", p.Warnings, tc.want)
			}
		})
	}
}
