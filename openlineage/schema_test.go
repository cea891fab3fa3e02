package openlineage_test

// The OpenLineage 2-0-2 schemas, loaded from testdata with no network, and the check
// that every event and facet validates against them.

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// olSchemas compiles the OpenLineage 2-0-2 schema and the facet schemas committed under
// testdata/spec and schema/, each registered under its $id, so nothing is fetched.
func olSchemas(t *testing.T) *jsonschema.Compiler {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat() // uuid, date-time and uri are checked, not just annotated
	c.UseLoader(offline{})
	paths, err := filepath.Glob(filepath.Join("testdata", "spec", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	facets, _ := filepath.Glob(filepath.Join("testdata", "spec", "facets", "*.json"))
	own, _ := filepath.Glob(filepath.Join("schema", "*.json")) // strata's own facets, as published
	for _, path := range append(append(paths, facets...), own...) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if id == "" {
			t.Fatalf("%s has no $id", path)
		}
		if err := c.AddResource(id, doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return c
}

// offline refuses every URL that was not added as a resource.
type offline struct{}

func (offline) Load(url string) (any, error) {
	return nil, &os.PathError{Op: "load", Path: url, Err: os.ErrNotExist}
}

// validateEvent checks one event against the RunEvent schema, and every facet in it
// against the schema its _schemaURL names.
func validateEvent(t *testing.T, c *jsonschema.Compiler, raw []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"https://openlineage.io/spec/2-0-2/OpenLineage.json", "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"} {
		sch, err := c.Compile(u)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("event does not validate against %s: %v\n%s", u, err, raw)
		}
	}
	ev := doc.(map[string]any)
	var facetMaps []map[string]any
	add := func(v any) {
		if m, ok := v.(map[string]any); ok {
			facetMaps = append(facetMaps, m)
		}
	}
	add(ev["run"].(map[string]any)["facets"])
	add(ev["job"].(map[string]any)["facets"])
	for _, list := range []string{"inputs", "outputs"} {
		ds, _ := ev[list].([]any)
		for _, d := range ds {
			add(d.(map[string]any)["facets"])
		}
	}
	for _, fm := range facetMaps {
		for name, f := range fm {
			u, _ := f.(map[string]any)["_schemaURL"].(string)
			sch, err := c.Compile(u)
			if err != nil {
				t.Errorf("facet %s: schema %q: %v", name, u, err)
				continue
			}
			if err := sch.Validate(f); err != nil {
				t.Errorf("facet %s does not validate against %s: %v", name, u, err)
			}
		}
	}
}

// TestOpenLineageSchemaRejects makes sure the validation above can fail: events broken in
// the ways a producer breaks them do not pass.
func TestOpenLineageSchemaRejects(t *testing.T) {
	t.Parallel()
	c := olSchemas(t)
	runEvent, err := c.Compile("https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent")
	if err != nil {
		t.Fatal(err)
	}
	columnLineage, err := c.Compile("https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet")
	if err != nil {
		t.Fatal(err)
	}
	good := `{"eventType":"START","eventTime":"2024-01-01T00:00:00.000Z","run":{"runId":"0190b3a0-0000-7000-8000-000000000000"},
		"job":{"namespace":"n","name":"j"},"producer":"https://github.com/stratadata/strata",
		"schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"}`
	bad := map[string]string{
		"good":           good,
		"runId not uuid": strings.Replace(good, "0190b3a0-0000-7000-8000-000000000000", "task-1", 1),
		"no job":         strings.Replace(good, `"job":{"namespace":"n","name":"j"},`, "", 1),
		"bad eventType":  strings.Replace(good, `"START"`, `"STARTED"`, 1),
		"bad eventTime":  strings.Replace(good, "2024-01-01T00:00:00.000Z", "yesterday", 1),
		"facet without _producer": strings.Replace(good, `"name":"j"}`,
			`"name":"j","facets":{"jobType":{"_schemaURL":"https://x/y","processingType":"BATCH","integration":"STRATA"}}}`, 1),
	}
	for name, doc := range bad {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		err = runEvent.Validate(v)
		if (err == nil) != (name == "good") {
			t.Errorf("%s: validation error = %v", name, err)
		}
	}
	facet := func(s string) any {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	base := `"_producer":"https://github.com/stratadata/strata","_schemaURL":"https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json"`
	if err := columnLineage.Validate(facet(`{` + base + `,"fields":{"a":{"inputFields":[{"namespace":"n","name":"t","field":"a","transformations":[{"type":"DIRECT","subtype":"IDENTITY","masking":false}]}]}}}`)); err != nil {
		t.Errorf("good column lineage: %v", err)
	}
	for name, s := range map[string]string{
		"no fields":                `{` + base + `}`,
		"input without field":      `{` + base + `,"fields":{"a":{"inputFields":[{"namespace":"n","name":"t"}]}}}`,
		"transformation sans type": `{` + base + `,"fields":{"a":{"inputFields":[{"namespace":"n","name":"t","field":"a","transformations":[{"subtype":"IDENTITY"}]}]}}}`,
	} {
		if err := columnLineage.Validate(facet(s)); err == nil {
			t.Errorf("%s: column lineage facet validates", name)
		}
	}
}
