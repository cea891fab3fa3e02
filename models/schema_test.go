package models_test

import (
	"testing"

	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/models"
)

// generate_schema_name may look at the node: its answer is cached per model, never
// shared between models with the same custom schema.
func TestGenerateSchemaNamePerNode(t *testing.T) {
	t.Parallel()
	dir := testproj.WriteProject(t, "proj", map[string]string{
		"macros/schema.sql": "{% macro generate_schema_name(custom_schema_name, node) %}{{ custom_schema_name }}_{{ node.name }}{% endmacro %}",
		"models/a.sql":      "{{ config(schema='x') }} select 1",
		"models/b.sql":      "{{ config(schema='x') }} select * from {{ ref('a') }}",
	})
	p, err := models.Load(dir, models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // the second round reads the cache
		for name, want := range map[string]string{"a": `"x_a"."a"`, "b": `"x_b"."b"`} {
			if got := p.Relation(p.Models[name]); got != want {
				t.Errorf("round %d: relation of %s = %s, want %s", i, name, got, want)
			}
		}
	}
	sql, err := p.Compile(p.Models["b"], models.CompileOptions{})
	if err != nil || sql != ` select * from "x_a"."a"` {
		t.Errorf("b compiles to %q (%v)", sql, err)
	}
}
