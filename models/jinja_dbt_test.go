package models_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/models"
)

// compileOne loads a project and compiles its model a.
func compileOne(t *testing.T, files map[string]string) (string, error) {
	t.Helper()
	if _, ok := files["strata.yml"]; !ok {
		files["strata.yml"] = "name: p\n"
	}
	p, err := models.Load(writeProject(t, files), models.Options{})
	if err != nil {
		return "", err
	}
	return p.Compile(p.Models["a"], models.CompileOptions{})
}

// TestJinjaRuntime: what dbt's Jinja does and gonja alone does not, each compiled as a
// model's SQL.
func TestJinjaRuntime(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"append in a for loop", "{% set xs = [] %}{% for i in [1, 2] %}{% do xs.append(i) %}{% endfor %}{{ xs | join(',') }}", "1,2"},
		{"append in an if", "{% set xs = [] %}{% if true %}{% do xs.append('a') %}{% endif %}{{ xs }}", "['a']"},
		{"append in a macro's loop", "{% macro m() %}{% set xs = [] %}{% for i in [1, 2] %}{% do xs.append(i * 2) %}{% endfor %}{{ xs | join('+') }}{% endmacro %}{{ m() }}", "2+4"},
		{"extend and pop", "{% set xs = [1] %}{% for _ in [0] %}{% do xs.extend([2, 3]) %}{% do xs.pop() %}{% endfor %}{{ xs }}", "[1, 2]"},
		{"dict update in a loop", "{% set d = {} %}{% for i in [1, 2] %}{% do d.update({'k' ~ i: i}) %}{% endfor %}{{ d['k1'] }}{{ d['k2'] }}", "12"},
		{"conditional expression", "{{ 'yes' if 1 > 0 else 'no' }} {{ 'yes' if 1 < 0 else 'no' }}", "yes no"},
		{"conditional takes one branch", "{% set xs = [] %}{{ xs[3] if xs else 'empty' }}", "empty"},
		{"nested conditionals", "{% set n = 2 %}{{ 'one' if n == 1 else 'two' if n == 2 else 'many' }}", "two"},
		{"conditional without else", "{% set x = 'a' if false %}{{ x is none }}", "True"},
		{"conditional in parentheses", "{{ 'x' ~ ('a' if true else 'b') ~ 'y' }}", "xay"},
		{"trailing commas", "{{ [1, 2,] | length }} {{ dict(a=1,)['a'] }} {{ {'k': 1,}['k'] }}", "2 1 1"},
		{"return from a macro", "{% macro two() %}{{ return([1, 2]) }}{% endmacro %}{% for x in two() %}{{ x }};{% endfor %}", "1;2;"},
		{"return ends the macro", "{% macro m() %}{{ return('early') }}late{% endmacro %}{{ m() }}", "early"},
		{"star arguments", "{% macro m(a, b, c=0) %}{{ a }}{{ b }}{{ c }}{% endmacro %}{% set rest = [2] %}{% set kw = {'c': 3} %}{{ m(1, *rest, **kw) }}", "123"},
		{"namespace", "{% set ns = namespace(n=0) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}", "6"},
		{"dbt cross-database macros", "{{ dbt.dateadd('day', 1, 'd') }}|{{ dbt.type_string() }}|{{ dbt.hash('x') }}|{{ dbt.safe_cast('x', dbt.type_int()) }}", "(d + interval (1) day)|varchar|md5(cast(x as varchar))|try_cast(x as integer)"},
		{"dbt macros unqualified", "{{ concat(['a', 'b']) }} {{ string_literal('s') }} {{ escape_single_quotes(\"it's\") }}", "a || b 's' it''s"},
		{"adapter.quote", "{{ adapter.quote('my col') }}", `"my col"`},
		{"tojson and fromjson", `{{ tojson({'a': [1, 2]}) }} {{ fromjson('{"k": 3}')['k'] }}`, `{"a":[1,2]} 3`},
		{"toyaml and fromyaml", "{{ fromyaml('a: [1, 2]')['a'][1] }}", "2"},
		{"as_bool, as_number, as_native", "{{ as_bool('true') }} {{ as_number('41') + 1 }} {{ as_native('[1, 2]') | length }}", "True 42 2"},
		{"zip and set", "{% for a, b in zip([1, 2], ['x', 'y']) %}{{ a }}{{ b }};{% endfor %} {{ set([1, 1, 2]) | length }}", "1x;2y; 2"},
		{"modules.re", "{{ modules.re.sub('[0-9]+', '#', 'a1b22') }} {{ modules.re.match('(a)(b)', 'abc').group(2) }}", "a#b# b"},
		{"modules.datetime", "{{ modules.datetime.datetime.strptime('2024-03-05', '%Y-%m-%d').strftime('%d/%m/%Y') }}", "05/03/2024"},
		{"the model", "{{ model.resource_type }} {{ model.name }} {{ model.fqn | join('.') }} {{ node.package_name }} {{ model.original_file_path }}", "model a p.a p models/a.sql"},
		{"api.Relation.create", "{{ api.Relation.create(schema='s', identifier='t') }}", `"s"."t"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := compileOne(t, map[string]string{"models/a.sql": "select 1 -- " + tc.src})
			if err != nil {
				t.Fatalf("%s: %v", tc.src, err)
			}
			if got := strings.TrimPrefix(got, "select 1 -- "); got != tc.want {
				t.Errorf("%s\n got %q\nwant %q", tc.src, got, tc.want)
			}
		})
	}
}

// TestJinjaRuntimeErrors: return() outside a macro, and an adapter.dispatch of nothing.
func TestJinjaRuntimeErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"{{ return(1) }}", "return() is for macros"},
		{"{{ exceptions.raise_compiler_error('bad {}'.format('input')) }}", "bad input"},
		{"{{ adapter.dispatch('nope', 'dbt')() }}", "no macro nope found (looked for p.duckdb__nope, p.default__nope, dbt.duckdb__nope, dbt.default__nope)"},
	} {
		_, err := compileOne(t, map[string]string{"models/a.sql": "select 1 -- " + tc.src})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.src, err, tc.want)
		}
	}
}

// fixture is a dbt package from the shared fixtures, copied into a project's
// dbt_packages/.
func fixture(t *testing.T, files map[string]string, name string) {
	t.Helper()
	root := filepath.Join(testproj.NeedDBTPackages(t), name)
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(filepath.Join("dbt_packages", name, rel))] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPackages: namespaces, dispatch's search order, the project's overrides, package
// vars, and a package file that does not parse failing only what it defines.
func TestPackages(t *testing.T) {
	files := map[string]string{
		"strata.yml": "name: p\nvars:\n  dbt_date:\n    time_zone: Europe/Paris\n",
		"models/a.sql": `select {{ dbt_utils.generate_surrogate_key(['a']) }} as k,
  {{ dbt.dateadd('day', 1, 'x') }} as d,
  '{{ var('time_zone') }}' as tz, '{{ var('own_default') }}' as own`,
		// the project's own duckdb__dateadd comes first for dbt's namespace
		"macros/dates.sql":                    "{% macro duckdb__dateadd(datepart, interval, from_date_or_timestamp) %}mine({{ from_date_or_timestamp }}){% endmacro %}",
		"dbt_packages/broken/dbt_project.yml": "name: broken\nvars:\n  own_default: from_package\n",
		"dbt_packages/broken/macros/bad.sql":  "{% macro bad() %}{{ oops( %}{% endmacro %}",
		"dbt_packages/broken/macros/good.sql": "{% macro good() %}fine{% endmacro %}",
	}
	fixture(t, files, "dbt_utils")
	fixture(t, files, "dbt_date")
	got, err := compileOne(t, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"md5(cast(coalesce(cast(a as varchar), '_dbt_utils_surrogate_key_null_') as varchar)) as k", "mine(x) as d", "'Europe/Paris' as tz", "'from_package' as own"} {
		if !strings.Contains(got, want) {
			t.Errorf("compiled SQL lacks %q:\n%s", want, got)
		}
	}
	files["models/b.sql"] = "select '{{ broken.good() }}' as g"
	if _, err := compileOne(t, files); err != nil {
		t.Errorf("a good macro of a package with a broken file: %v", err)
	}
	files["models/b.sql"] = "select '{{ broken.bad() }}' as g"
	_, err = compileOne(t, files)
	if err == nil || !strings.Contains(err.Error(), "macro broken.bad cannot be used: dbt_packages/broken/macros/bad.sql:1") {
		t.Errorf("calling the broken file's macro: %v", err)
	}
}

// TestRelations: ref(), source() and this are dbt's Relation objects: they render as the
// relation and have its attributes and metadata.
func TestRelations(t *testing.T) {
	got, err := compileOne(t, map[string]string{
		"strata.yml":     "name: p\nwarehouse:\n  path: shop.duckdb\n",
		"models/b.sql":   "{{ config(schema='marts', alias='bee') }}select 1 as x",
		"models/src.yml": "version: 2\nsources:\n  - name: raw\n    schema: landing\n    tables:\n      - name: orders\n        identifier: orders_v2\n",
		"models/a.sql": "select * from {{ ref('b') }} -- {{ ref('b').identifier }} {{ ref('b').schema }} {{ ref('b').database }} " +
			"{{ ref('b').metadata.type }} {{ source('raw', 'orders').identifier }} {{ source('raw', 'orders').schema }} {{ this.name }} " +
			"{{ 'rel' if ref('b') is mapping else 'str' }} {{ ref('b').include(database=false) }} {{ target.database }}",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `select * from "main_marts"."bee" -- bee main_marts shop DuckDBRelation orders_v2 landing a rel "main_marts"."bee" shop`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestGenerateSchemaNameNode: the project's generate_schema_name gets dbt's node, with
// its resource_type, fqn and config.
func TestGenerateSchemaNameNode(t *testing.T) {
	got, err := compileOne(t, map[string]string{
		"macros/schema.sql":  "{% macro generate_schema_name(custom, node) %}{{ node.resource_type }}_{{ node.fqn[1] }}_{{ node.config.materialized }}{% endmacro %}",
		"models/marts/b.sql": "{{ config(materialized='table', schema='x') }}select 1 as x",
		"models/a.sql":       "select * from {{ ref('b') }}",
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := `select * from "model_marts_table"."b"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestJinjaProjectConfigs: configs in dbt_project.yml written with Jinja take their
// rendered values: enabled from a var, a schema, a list of tags.
func TestJinjaProjectConfigs(t *testing.T) {
	files := map[string]string{
		"dbt_project.yml": "name: p\nprofile: p\nvars:\n  use_b: false\nmodels:\n  p:\n    +schema: \"{{ 'st' ~ 'g' }}\"\n    b:\n      +enabled: \"{{ var('use_b', true) }}\"\n    a:\n      +tags: \"{{ ['x', 'y'] }}\"\n      +post-hook: \"select '{{ this }}'\"\n",
		"profiles.yml":    "p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: p.duckdb\n",
		"models/a.sql":    "select 1 as x",
		"models/b.sql":    "select 2 as x",
	}
	p, err := models.Load(writeProject(t, files), models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Models["b"] != nil {
		t.Error("b is enabled: its +enabled renders false")
	}
	a := p.Models["a"]
	if got := strings.Join(a.Config.Tags, ","); got != "x,y" {
		t.Errorf("tags %q, want x,y", got)
	}
	if got := p.Schema(a); got != "main_stg" {
		t.Errorf("schema %q, want main_stg", got)
	}
	if len(a.Config.PostHook) != 1 || !strings.Contains(a.Config.PostHook[0], "{{ this }}") {
		t.Errorf("the post-hook renders when it runs: %q", a.Config.PostHook)
	}
}

// TestOneRootError: a model whose file fails to render is that one error, not also an
// unknown ref at every model reading it and unknown properties in its YAML.
func TestOneRootError(t *testing.T) {
	for name, src := range map[string]string{
		"syntax":        "select {{ oops( }} 1",
		"unknown macro": "select {{ undefined_macro() }} 1",
		"empty":         "  \n",
	} {
		t.Run(name, func(t *testing.T) {
			errs := loadErrs(t, map[string]string{
				"strata.yml":        "name: p\n",
				"models/b.sql":      src,
				"models/c.sql":      "select * from {{ ref('b') }}",
				"models/d.sql":      "select * from {{ ref('c') }}",
				"models/schema.yml": "version: 2\nmodels:\n  - name: b\n    columns:\n      - name: x\n        data_tests: [not_null]\n",
			}, models.Options{})
			if len(errs) != 1 || errs[0].File != "models/b.sql" {
				t.Errorf("want one error, in models/b.sql:\n%v", errs)
			}
		})
	}
}

// TestMacroErrorPlace: an error raised in a macro is placed at the macro's own file and
// line, and says which model called it, through which macros.
func TestMacroErrorPlace(t *testing.T) {
	errs := loadErrs(t, map[string]string{
		"strata.yml":   "name: p\n",
		"macros/m.sql": "{% macro outer(x) %}\n  {{ inner(x) }}\n{% endmacro %}\n\n{% macro inner(x) %}\n  select\n  {{ exceptions.raise_compiler_error('boom ' ~ x) }}\n{% endmacro %}\n",
		"models/a.sql": "select 1\n-- a\n{{ outer(3) }}\n",
	}, models.Options{})
	want := "macros/m.sql:7: in macro inner, called from models/a.sql:3 (outer → inner): boom 3"
	if len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("got %v\nwant %s", errs, want)
	}
}

// TestPackageModels: a package's models are nodes of the project, refs to them resolve,
// and they know their package.
func TestPackageModels(t *testing.T) {
	got, err := compileOne(t, map[string]string{
		"models/a.sql":                          "select * from {{ ref('pkg_model') }} -- {{ model.package_name }}",
		"dbt_packages/pk/dbt_project.yml":       "name: pk\n",
		"dbt_packages/pk/models/pkg_model.sql":  "select 1 as x -- {{ model.package_name }} {{ model.fqn | join('.') }}",
		"dbt_packages/pk/models/other/more.sql": "select 2 as y",
		"dbt_packages/pk/seeds/codes.csv":       "code\n1\n",
		"models/b.sql":                          "select * from {{ ref('codes') }}",
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := `select * from "main"."pkg_model" -- p`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	p, err := models.Load(writeProject(t, map[string]string{
		"strata.yml":                           "name: p\n",
		"dbt_packages/pk/dbt_project.yml":      "name: pk\n",
		"dbt_packages/pk/models/pkg_model.sql": "select 1 as x -- {{ model.package_name }} {{ model.fqn | join('.') }}",
	}), models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := p.Models["pkg_model"]
	if m == nil || m.Package != "pk" {
		t.Fatalf("the package's model: %+v", m)
	}
	sql, err := p.Compile(m, models.CompileOptions{})
	if err != nil || sql != "select 1 as x -- pk pk.pkg_model" {
		t.Errorf("the package's model compiles to %q, %v", sql, err)
	}
}

// TestPackageTestHints: a package's generic test that is not there names the package's
// tests, or says to install the package; never advice to define {% test pkg.name %}.
func TestPackageTestHints(t *testing.T) {
	files := map[string]string{
		"strata.yml":   "name: p\n",
		"models/a.sql": "select 1 as x",
		"models/schema.yml": "version: 2\nmodels:\n  - name: a\n    data_tests:\n      - dbt_utils.expresion_is_true:\n          arguments: {expression: 'x = 1'}\n" +
			"      - dbt_expectations.expect_column_to_exist\n",
	}
	fixture(t, files, "dbt_utils")
	errs := loadErrs(t, files, models.Options{})
	want := []string{
		`models/schema.yml:5:9: package dbt_utils has no generic test expresion_is_true (did you mean "expression_is_true"?)`,
		"models/schema.yml:7:9: generic test dbt_expectations.expect_column_to_exist: no package dbt_expectations is installed: list it in packages.yml and run strata deps",
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestGraph: dbt's graph, with the project's nodes and sources by unique id.
func TestGraph(t *testing.T) {
	p, err := models.Load(writeProject(t, map[string]string{
		"strata.yml":     "name: p\n",
		"models/src.yml": "version: 2\nsources:\n  - name: raw\n    tables:\n      - name: orders\n",
		"models/b.sql":   "select 1 as x from {{ source('raw', 'orders') }}",
		"models/a.sql": "select 1 -- {% for n in graph.nodes.values() | sort(attribute='name') %}{{ n.unique_id }}({{ n.depends_on.nodes | join(',') }}) {% endfor %}" +
			"{% for s in graph.sources.values() %}{{ s.unique_id }}{% endfor %}",
	}), models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Compile(p.Models["a"], models.CompileOptions{Live: noRows{}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "select 1 -- model.p.a() model.p.b(source.p.raw.orders) source.p.raw.orders"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// noRows is a warehouse with nothing in it.
type noRows struct{}

func (noRows) Query(string) ([]string, [][]any, error) { return nil, nil, nil }

// TestConditionalArguments: a conditional inside a call's or filter's arguments (gonja
// alone parses it as several arguments, silently), also as a keyword argument and a
// macro's default.
func TestConditionalArguments(t *testing.T) {
	for src, want := range map[string]string{
		"{{ dict(k='view' if false else 'table')['k'] }}":                         "table",
		"{% macro m(x) %}{{ x }}{% endmacro %}{{ m('a' if false else 'b') }}":     "b",
		"{{ ['x','y'] | join(', ' if true else ',') }}":                           "x, y",
		"{{ range(1 if false else 3) | list | length }}":                          "3",
		"{{ dict(k='a' if true else 'b', z=1,)['k'] }}":                           "a",
		"{% macro m(x, y='d' if true else 'e') %}{{ y }}{% endmacro %}{{ m(1) }}": "d",
		// SQL's own else beside it; a "}}" in a string before it, inside the tag
		"case when true then 1 else 2 end {{ dict(k='a' if false else 'b')['k'] }}": "case when true then 1 else 2 end b",
		"{{ dict(s='}}', k='a' if false else 'b')['k'] }}":                          "b",
	} {
		got, err := compileOne(t, map[string]string{"models/a.sql": "select 1 -- " + src})
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if got = strings.TrimPrefix(got, "select 1 -- "); got != want {
			t.Errorf("%s: got %q want %q", src, got, want)
		}
	}
	p, err := models.Load(writeProject(t, map[string]string{"strata.yml": "name: p\n", "models/a.sql": "{{ config(materialized='table' if false else 'view') }}select 1"}), models.Options{})
	if err != nil || p.Models["a"].Kind != models.KindView {
		t.Errorf("config with a conditional: %v %v", err, p.Models["a"].Kind)
	}
}

// TestMacroFilePanics: a macro file whose top level panics in gonja is an error of the
// load, whichever path defines the macros (generate_schema_name here), never a crash.
func TestMacroFilePanics(t *testing.T) {
	errs := loadErrs(t, map[string]string{
		"strata.yml":        "name: p\n",
		"macros/bad.sql":    "{% set z = 1 % 0 %}",
		"macros/schema.sql": "{% macro generate_schema_name(custom, node) %}s_{{ custom }}{% endmacro %}",
		"models/a.sql":      "{{ config(schema='x') }}select 1",
	}, models.Options{})
	if len(errs) == 0 {
		t.Fatal("a macro file that divides by zero loads")
	}
}

// TestSetLists: a list a set makes holds plain values: strings from split() take any
// append, filters (tojson) see the values, and reverse and sort work in place.
func TestSetLists(t *testing.T) {
	for src, want := range map[string]string{
		"{% set xs = 'a,b'.split(',') %}{% do xs.append('c') %}{% do xs.append(1) %}{{ xs | join('-') }}": "a-b-c-1",
		"{% set xs=[1,2] %}{{ xs | tojson }} {{ {'a': xs} | tojson }}":                                    `[1,2] {"a":[1,2]}`,
		"{% set xs=[1,2,3] %}{% do xs.reverse() %}{{ xs }}":                                               "[3, 2, 1]",
		"{% set xs=[3,1,2] %}{% for _ in [0] %}{% do xs.sort() %}{% endfor %}{{ xs }}":                    "[1, 2, 3]",
		"{% set xs=['b','a'] %}{% do xs.sort(reverse=true) %}{{ xs }}":                                    "['b', 'a']",
		"{% set xs=[[1],[2]] %}{{ xs[1][0] }} {{ xs | length }}":                                          "2 2",
	} {
		got, err := compileOne(t, map[string]string{"models/a.sql": "select 1 -- " + src})
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if got = strings.TrimPrefix(got, "select 1 -- "); got != want {
			t.Errorf("%s: got %q want %q", src, got, want)
		}
	}
}

// TestNestedLists: a namespace's lists and lists in lists keep what is appended, in
// loops too.
func TestNestedLists(t *testing.T) {
	for src, want := range map[string]string{
		"{% set ns = namespace(xs=[]) %}{% do ns.xs.append(1) %}{% for i in [2,3] %}{% do ns.xs.append(i) %}{% endfor %}{{ ns.xs | join(',') }}": "1,2,3",
		"{% set xs=[[],[]] %}{% for i in [1,2] %}{% do xs[0].append(i) %}{% endfor %}{{ xs[0] | join(',') }} {{ xs | length }}":                  "1,2 2",
		"{% set xs=[[1],[2]] %}{{ xs | tojson }}":                                                          "[[1],[2]]",
		"{% set ns = namespace(n=0) %}{% for i in [1,2] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}": "3",
	} {
		got, err := compileOne(t, map[string]string{"models/a.sql": "select 1 -- " + src})
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if got = strings.TrimPrefix(got, "select 1 -- "); got != want {
			t.Errorf("%s: got %q want %q", src, got, want)
		}
	}
}

// TestCallBlocks: {% call %} reaches caller() in macros defined in the model file
// itself, nested calls included.
func TestCallBlocks(t *testing.T) {
	for src, want := range map[string]string{
		"{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% macro outer() %}{% call wrap() %}in{% endcall %}{% endmacro %}{{ outer() }}": "[in]",
		"{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}{% call wrap() %}x{% endcall %}{% endcall %}":                  "[[x]]",
		"{% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}top{% endcall %}":                                              "<top>",
	} {
		got, err := compileOne(t, map[string]string{"models/a.sql": "select 1 -- " + src})
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if got = strings.TrimPrefix(got, "select 1 -- "); got != want {
			t.Errorf("%s: got %q want %q", src, got, want)
		}
	}
}

// TestRelationAttributesInLogic: a model that reads its relations' attributes renders
// again once the project is read, so comparing them works: an alias set in the model's
// own config, a view's type.
func TestRelationAttributesInLogic(t *testing.T) {
	got, err := compileOne(t, map[string]string{
		"models/b.sql": "{{ config(alias='bee', materialized='view') }}select 1 as x",
		"models/a.sql": "select 1 -- {{ 'yes' if ref('b').name == 'bee' else 'no' }} {{ ref('b').is_view }} {{ this.name | upper }} {{ ref('b').identifier | length }}",
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "select 1 -- yes True A 3"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestPackagesNotInstalled: packages.yml listing more packages than are installed is one
// error saying to run strata deps, as dbt's.
func TestPackagesNotInstalled(t *testing.T) {
	errs := loadErrs(t, map[string]string{
		"strata.yml":                      "name: p\n",
		"models/a.sql":                    "select 1",
		"packages.yml":                    "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.1.1\n  - local: ../other\n",
		"dbt_packages/pk/dbt_project.yml": "name: pk\n",
	}, models.Options{})
	want := "packages.yml:2:3: packages.yml lists 2 packages and 1 are installed in dbt_packages/: run strata deps"
	if len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("got %v\nwant %s", errs, want)
	}
}
