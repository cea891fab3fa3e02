package models_test

import (
	"slices"
	"testing"

	"github.com/stratadata/strata/internal/testcorpus"
	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/models"
)

// TestStaticRenderMatchesGonja: every model of the corpus that loads without gonja
// renders to what gonja renders, with the same refs, sources, config, vars and positions.
func TestStaticRenderMatchesGonja(t *testing.T) {
	t.Parallel()
	env := testcorpus.Env
	static, all := 0, 0
	for name, dir := range testcorpus.Dirs(t, "..") {
		p, err := models.Load(dir, models.Options{Env: env})
		if err != nil {
			continue
		}
		all += len(p.Models)
		for _, m := range models.StaticRendered(p) {
			static++
			ok, diff := models.RenderBothWays(p, m, models.ModelSource(p.Models[m]))
			if !ok || diff != "" {
				t.Errorf("%s: model %s: static %v: %s", name, m, ok, diff)
			}
		}
	}
	if static < 200 || static == all {
		t.Errorf("%d of %d models rendered statically: want most, not all, of the corpus", static, all)
	}
}

// TestStaticRenderCases: what the static path takes and what it leaves to gonja; what it
// takes it renders as gonja does.
func TestStaticRenderCases(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	testproj.WriteFiles(t, dir, map[string]string{
		"strata.yml":   "name: shop\nwarehouse:\n  path: w.duckdb\n  schema: main\nvars:\n  n: 3\n  s: abc\n  b: true\n  f: 1.5\n  l: [1, 2]\n",
		"models/a.sql": "select 1 as id\n",
		"macros/m.sql": "{% macro twice(x) %}{{ x }} * 2{% endmacro %}\n",
	})
	p, err := models.Load(dir, models.Options{Env: cacheEnv(map[string]string{"HOME_SCHEMA": "app"})})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		src    string
		static bool
	}{
		{"select 1", true},
		{"select 1\n", true},
		{"select 1\r\nfrom x\r\n\n", true},
		{"select * from {{ ref('a') }}", true},
		{"select * from {{ref(\"a\")}}\n", true},
		{"select * from {{- ref('a') -}}  \n where 1", true},
		{"select *\n  {{- ref('a') }}\n{{ ref('a') -}}\n\nx", true},
		{"{{ config(materialized='table', tags=['x', 'y'], enabled=true, full_refresh=False) }}select 1", true},
		{"{{ config(materialized = 'table', tags = []) }}\nselect 1", true},
		{"select {{ var('n') }}, {{ var('s') }}, {{ var('b') }}, {{ var('f') }}, {{ var('l') }}", true},
		{"select {{ var('missing', 7) }}, {{ var('missing', 'x') }}", true},
		{"select '{{ env_var('HOME_SCHEMA') }}', '{{ env_var('NOPE', 'dflt') }}'", true},
		{"select * from {{ this }} where ds = '{{ ds }}' and t >= {{ partition_start }}", true},
		{"select * from {{ source('app', 'orders') }}", true}, // unknown: found after the render
		{"select * from {{ source('app') }}", false},
		{"select {{ var('missing') }}", false},                // an error: gonja's path reports it
		{"{{ config(materialised='table') }}select 1", false}, // an unknown key
		{"select {{ twice(3) }}", false},                      // a macro
		{"{% if true %}select 1{% endif %}", false},
		{"{# note #}select 1", true},
		{"select 1  {#- a note -#}  \n, 2 {# {{ ref('a') }} #}", true},
		{"select 1 {#+ kept +#}", false},
		{"select 1 {# unclosed", false},
		{"{{ config(materialized='table', meta={'owner': 'x', 'n': 2, 'l': [1]}) }}select 1", true},
		{"{{ config(meta={}, tags=none) }}select {{ var('missing', none) }}", true},
		{"{{ config(meta={'a': {'b': 1}}) }}select 1", false}, // its "}}" is gonja's to read
		{"select {{ var('}}') }}", false},
		{"{{ config(tags=['x',]) }}select 1", false},
		{"{{ config(meta={1: 'x'}) }}select 1", false},
		{"select {{ ref('a') | upper }}", false},
		{"select {{ ref('a').identifier }}", false},
		{"select {{ ref('a', ) }}", false},
		{"select {{ var('n') + 1 }}", false},
		{"select {{ var(\"it\\'s\") }}", false},
		{"select {{ 010 }}", false},
		{"select {{ undefined_name }}", false},
		{"select {{+ ref('a') }}", false},
		{"select '{{' || x", false},
	}
	for _, c := range cases {
		static, diff := models.RenderBothWays(p, "m", c.src)
		if diff != "" {
			t.Errorf("%q: %s", c.src, diff)
		}
		if static != c.static {
			t.Errorf("%q: static %v, want %v", c.src, static, c.static)
		}
	}
	if got := models.StaticRendered(p); !slices.Equal(got, []string{"a"}) {
		t.Errorf("static models %v, want [a]", got)
	}
}

// TestStaticRenderOverridden: a project that defines a macro named like one of the static
// functions (its own ref, say) never takes the static path for a model calling it.
func TestStaticRenderOverridden(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	testproj.WriteFiles(t, dir, map[string]string{
		"strata.yml":     "name: shop\nwarehouse:\n  path: w.duckdb\n  schema: main\n",
		"models/a.sql":   "select 1 as id\n",
		"macros/ref.sql": "{% macro ref(name) %}main.{{ name }}{% endmacro %}\n",
	})
	p, err := models.Load(dir, models.Options{Env: cacheEnv(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if static, _ := models.RenderBothWays(p, "m", "select * from {{ ref('a') }}"); static {
		t.Error("a model calling the project's own ref macro was rendered statically")
	}
}
