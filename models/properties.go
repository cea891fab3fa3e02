package models

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// propsFile is one parsed YAML property file (dbt's schema.yml shape).
type propsFile struct {
	file string
	root *yaml.Node
}

var (
	propsKeys           = []string{"version", "models", "sources", "seeds", "snapshots", "exposures", "macros", "data_tests", "groups", "semantic_models", "metrics", "saved_queries", "unit_tests"}
	propsUnsupported    = []string{"analyses"}
	modelPropKeys       = []string{"name", "relation", "description", "config", "columns", "tests", "data_tests", "docs", "meta", "tags", "access", "group", "constraints", "versions", "latest_version", "deprecation_date"}
	columnPropKeys      = []string{"name", "description", "data_type", "tests", "data_tests", "meta", "tags", "quote", "constraints", "policy_tags", "granularity"}
	refArgRe            = regexp.MustCompile(`^\s*ref\(\s*['"]([^'"]+)['"]\s*\)\s*$`)
	sourceArgRe         = regexp.MustCompile(`^\s*source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*$`)
	testNameCleanRe     = regexp.MustCompile(`[^0-9a-zA-Z_]+`)
	builtinGenericTests = []string{"unique", "not_null", "accepted_values", "relationships"}
)

// propertyFiles are the YAML property files under the model, seed and snapshot paths.
func (l *loader) propertyFiles() []string {
	paths := append(append(append([]string{}, l.layout.modelPaths...), l.layout.seedPaths...), l.layout.snapshotPaths...)
	return l.walk(paths, ".yml", ".yaml")
}

// parseProps reads and parses one property file; nil when it cannot (the error is added).
func (l *loader) parseProps(path string) *propsFile {
	file := l.rel(path)
	data, err := l.in.readFile(path)
	if err != nil {
		l.add(fileError(file, err))
		return nil
	}
	root, perr := parseYAML(file, data)
	if perr != nil {
		l.add(perr)
		return nil
	}
	return &propsFile{file: file, root: root}
}

// readProperties applies the property files readModels parsed, in file order.
func (l *loader) readProperties() {
	for _, pf := range l.props {
		if pf != nil {
			l.readPropsFile(pf)
		}
	}
	l.props = nil
}

func (l *loader) readPropsFile(pf *propsFile) {
	file := pf.file
	for _, kv := range pairs(pf.root) {
		switch {
		case kv.Key == "version":
			if kv.Value.Value != "2" {
				l.add(errorf(file, kv.Value.Line, kv.Value.Column, "property files must say version: 2"))
			}
		case kv.Key == "models" || kv.Key == "seeds" || kv.Key == "snapshots":
			for _, entry := range kv.Value.Content {
				l.readModelProps(file, entry, strings.TrimSuffix(kv.Key, "s"))
			}
		case kv.Key == "sources":
			for _, entry := range kv.Value.Content {
				l.readSource(file, entry)
			}
		case kv.Key == "unit_tests":
			for _, entry := range kv.Value.Content {
				l.readUnitTest(file, entry)
			}
		case semanticKinds[kv.Key] != "":
			for _, entry := range kv.Value.Content {
				l.readSemantic(file, kv.Key, entry)
			}
		case kv.Key == "exposures":
			for _, entry := range kv.Value.Content {
				l.readExposure(file, entry)
			}
		case kv.Key == "macros" || kv.Key == "groups" || kv.Key == "data_tests":
			// documentation of macros and groups: nothing to run
		case slices.Contains(propsUnsupported, kv.Key):
			l.add(errorf(file, kv.KeyN.Line, kv.KeyN.Column, "%s are a dbt feature strata does not support yet; remove this block", kv.Key))
		default:
			l.add(errorf(file, kv.KeyN.Line, kv.KeyN.Column, "unknown key %q%s", kv.Key, didYouMean(kv.Key, propsKeys)))
		}
	}
}

func (l *loader) readModelProps(file string, n *yaml.Node, what string) {
	name := scalar(get(n, "name"))
	if name == "" {
		l.add(errorf(file, n.Line, n.Column, "%s entry without a name", what))
		return
	}
	kindOf := func(m *Model) string {
		switch m.Kind {
		case KindSeed:
			return "seed"
		case KindSnapshot:
			return "snapshot"
		}
		return "model"
	}
	m, ok := l.p.Models[name]
	switch {
	case what == "model" && isCDCEntry(n):
		if m = l.newCDCModel(file, n); m == nil {
			return
		}
		ok = true
	case what == "snapshot" && get(n, "relation") != nil:
		if m = l.newYAMLSnapshot(file, n); m == nil {
			return
		}
		ok = true
	}
	if !ok && l.failed[name] {
		return // the model's own file says what is wrong
	}
	if !ok || kindOf(m) != what {
		var names []string
		for _, x := range l.p.Models {
			if kindOf(x) == what {
				names = append(names, x.Name)
			}
		}
		l.add(errorf(file, n.Line, n.Column, "properties for unknown %s %q%s", what, name, didYouMean(name, names)))
		return
	}
	if m.Patch != nil {
		l.add(errorf(file, n.Line, n.Column, "%s %q already has properties in %s:%d; keep one entry", what, name, m.Patch.File, m.Patch.Line))
		return
	}
	m.Patch = &Pos{File: file, Line: n.Line, Col: n.Column}
	for _, kv := range pairs(n) {
		if !slices.Contains(modelPropKeys, kv.Key) {
			l.add(errorf(file, kv.KeyN.Line, kv.KeyN.Column, "unknown %s property %q%s", what, kv.Key, didYouMean(kv.Key, modelPropKeys)))
		}
		if (kv.Key == "versions" || kv.Key == "constraints") && truthy(decode(kv.Value)) {
			l.add(errorf(file, kv.KeyN.Line, kv.KeyN.Column, "model %s are a dbt feature strata does not support yet", kv.Key))
		}
	}
	m.Description = l.renderDescription(file, get(n, "description"))
	m.propConfig = layerOf(file, get(n, "config"))
	// legacy top-level tags and meta add to the config block's, as in dbt
	if v := get(n, "tags"); v != nil {
		m.propConfig.values["tags"] = appendUnique(toStrings(m.propConfig.values["tags"]), toStrings(decode(v))...)
		m.propConfig.pos["tags"] = posOf(file, v)
	}
	if v, ok := decode(get(n, "meta")).(map[string]any); ok {
		merged := map[string]any{}
		for k, x := range v {
			merged[k] = x
		}
		if inner, ok := m.propConfig.values["meta"].(map[string]any); ok {
			for k, x := range inner {
				merged[k] = x
			}
		}
		m.propConfig.values["meta"] = merged
	}
	for _, t := range l.testEntries(file, n) {
		l.genericTest(file, t, name, nil)
	}
	for _, cn := range seq(get(n, "columns")) {
		col := &Column{Name: scalar(get(cn, "name")), DataType: scalar(get(cn, "data_type")), Quote: boolOf(get(cn, "quote"))}
		if col.Name == "" {
			l.add(errorf(file, cn.Line, cn.Column, "column entry without a name"))
			continue
		}
		for _, kv := range pairs(cn) {
			if !slices.Contains(columnPropKeys, kv.Key) {
				if strings.HasSuffix(kv.Key, ")") && !strings.Contains(kv.Key, "(") {
					// {name: amount, data_type: decimal(12,2)}: in a {…} mapping a comma ends the value
					l.add(errorf(file, kv.KeyN.Line, kv.KeyN.Column, "column %s: a comma inside {…} ends the value, so %q became a property: quote the type, like data_type: 'decimal(12,2)'", col.Name, kv.Key))
					continue
				}
				l.add(errorf(file, kv.KeyN.Line, kv.KeyN.Column, "unknown column property %q%s", kv.Key, didYouMean(kv.Key, columnPropKeys)))
			}
		}
		col.Description = l.renderDescription(file, get(cn, "description"))
		col.Tags = toStrings(decode(get(cn, "tags")))
		if q := get(cn, "quote"); q != nil && col.Quote == nil {
			l.add(errorf(file, q.Line, q.Column, "column %s: quote must be true or false", col.Name))
		}
		if meta, ok := decode(get(cn, "meta")).(map[string]any); ok {
			col.Meta = meta
		}
		m.Columns = append(m.Columns, col)
		for _, t := range l.testEntries(file, cn) {
			l.genericTest(file, t, name, col)
		}
	}
}

// testEntries returns the items of tests: or data_tests:, reporting a node with both.
func (l *loader) testEntries(file string, n *yaml.Node) []*yaml.Node {
	a, b := get(n, "tests"), get(n, "data_tests")
	if a != nil && b != nil {
		l.add(errorf(file, b.Line, b.Column, "both tests: and data_tests: given; use data_tests: only"))
	}
	return append(seq(a), seq(b)...)
}

func seq(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// renderDescription renders {{ doc('x') }} in a description.
func (l *loader) renderDescription(file string, n *yaml.Node) string {
	d := scalar(n)
	if !strings.Contains(d, "{{") {
		return d
	}
	t, perr := parseTemplate(file, d)
	if perr != nil {
		perr.Line, perr.Col = n.Line, n.Column
		l.add(perr)
		return d
	}
	st := &renderState{file: file, raw: d}
	out, rerr := l.re.render(t, "", st)
	if rerr != nil {
		rerr.Line, rerr.Col = n.Line, n.Column
		l.add(rerr)
		return d
	}
	return out
}

// genericTest builds one generic test from its YAML entry, attached to model (a model,
// seed or "source.table") and, for column tests, col.
func (l *loader) genericTest(file string, n *yaml.Node, model string, col *Column) {
	column, expr, quote := "", false, false
	if col != nil {
		column = col.Name
		expr = col.Quote != nil && !*col.Quote
		quote = col.Quote != nil && *col.Quote
	}
	var kind string
	args := map[string]any{}
	var cfgNode *yaml.Node
	custom := ""
	switch n.Kind {
	case yaml.ScalarNode:
		kind = n.Value
	case yaml.MappingNode:
		ps := pairs(n)
		if tn := get(n, "test_name"); tn != nil {
			kind = tn.Value
			for _, kv := range ps {
				if kv.Key != "test_name" {
					args[kv.Key] = decode(kv.Value)
				}
			}
		} else if len(ps) == 1 {
			kind = ps[0].Key
			if m, ok := decode(ps[0].Value).(map[string]any); ok {
				args = m
			}
			cfgNode = get(ps[0].Value, "config")
		} else {
			l.add(errorf(file, n.Line, n.Column, "a test entry names one test: `- unique` or `- accepted_values: {values: [...]}`"))
			return
		}
	default:
		l.add(errorf(file, n.Line, n.Column, "a test entry names one test: `- unique` or `- accepted_values: {values: [...]}`"))
		return
	}
	if inner, ok := args["arguments"].(map[string]any); ok {
		delete(args, "arguments")
		for k, v := range inner {
			args[k] = v
		}
	}
	if name, ok := args["name"].(string); ok {
		custom = name
		delete(args, "name")
	}
	if c, ok := args["column_name"].(string); ok && column == "" {
		column, expr = c, true // dbt's "test an expression": SQL as written
		delete(args, "column_name")
	}
	cfg := layerOf(file, cfgNode)
	delete(args, "config")
	for _, k := range []string{"severity", "where", "tags", "enabled", "store_failures", "store_failures_as", "limit", "warn_if", "error_if", "fail_calc"} {
		if v, ok := args[k]; ok {
			cfg.values[k] = v
			cfg.pos[k] = posOf(file, n)
			delete(args, k)
		}
	}
	if !slices.Contains(builtinGenericTests, kind) {
		if l.p.macros == nil || l.p.macros.names[genericTestMacro(kind)] == "" {
			l.add(l.unknownGenericTest(file, n, kind))
			return
		}
	}
	t := &Test{Generic: kind, Model: model, Column: column, colExpr: expr, colQuote: quote, Path: file, Pos: posOf(file, n), Severity: "error", args: args}
	switch kind {
	case "accepted_values":
		if _, ok := args["values"].([]any); !ok {
			l.add(errorf(file, n.Line, n.Column, "accepted_values needs values: a list of the allowed values"))
			return
		}
	case "relationships":
		to, _ := args["to"].(string)
		field, _ := args["field"].(string)
		if to == "" || field == "" {
			l.add(errorf(file, n.Line, n.Column, "relationships needs to: ref('model') and field: column"))
			return
		}
		if m := refArgRe.FindStringSubmatch(to); m != nil {
			t.refs = append(t.refs, Ref{Name: m[1], Pos: t.Pos})
		} else if m := sourceArgRe.FindStringSubmatch(to); m != nil {
			t.sources = append(t.sources, SourceRef{Source: m[1], Table: m[2], Pos: t.Pos})
		} else {
			l.add(errorf(file, n.Line, n.Column, "relationships to: %q must be ref('model') or source('source', 'table')", to))
			return
		}
	}
	t.config = cfg
	if custom != "" {
		t.Name = custom
	} else {
		t.Name = testName(kind, model, column, args)
	}
	l.addTest(t)
}

// testName builds dbt's name for a generic test: kind_model_column__arg__arg.
func testName(kind, model, column string, args map[string]any) string {
	if strings.Contains(model, ".") {
		kind = "source_" + kind // dbt names tests on sources source_<test>_<source>_<table>
	}
	parts := []string{kind, strings.ReplaceAll(model, ".", "_")}
	if column != "" {
		parts = append(parts, column)
	}
	name := strings.Join(parts, "_")
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var flat []string
	for _, k := range keys {
		flat = append(flat, flatten(args[k])...)
	}
	if len(flat) > 0 {
		name += "__" + strings.Join(flat, "__")
	}
	return testNameCleanRe.ReplaceAllString(name, "_")
}

func flatten(v any) []string {
	switch v := v.(type) {
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, flatten(x)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			out = append(out, flatten(v[k])...)
		}
		return out
	}
	if b, ok := v.(bool); ok { // dbt writes Python's True and False
		if b {
			return []string{"True"}
		}
		return []string{"False"}
	}
	return []string{fmt.Sprint(v)}
}

func (l *loader) addTest(t *Test) {
	l.mu.Lock()
	defer l.mu.Unlock()
	base := t.Name
	for i := 2; l.p.Tests[t.Name] != nil; i++ {
		t.Name = fmt.Sprintf("%s_%d", base, i)
	}
	l.p.Tests[t.Name] = t
}

// boolOf reads a YAML boolean; nil when absent or not a boolean.
func boolOf(n *yaml.Node) *bool {
	if v, ok := decode(n).(bool); ok {
		return &v
	}
	return nil
}

// unknownGenericTest is the error for a generic test no macro defines, with a hint that
// can be followed: a package's test names the package's tests, or says to install it.
func (l *loader) unknownGenericTest(file string, n *yaml.Node, kind string) *Error {
	pkg, name, qualified := strings.Cut(kind, ".")
	if !qualified {
		return errorf(file, n.Line, n.Column, "unknown generic test %q%s: strata has unique, not_null, accepted_values, relationships; define others with {%% test %s(model, column_name) %%} in macros/", kind, didYouMean(kind, builtinGenericTests), kind)
	}
	for _, p := range l.p.Packages {
		if p.Name != pkg {
			continue
		}
		var tests []string
		if l.p.macros != nil {
			for key := range l.p.macros.names {
				if t, ok := strings.CutPrefix(key, pkg+".test_"); ok {
					tests = append(tests, t)
				}
			}
		}
		return errorf(file, n.Line, n.Column, "package %s has no generic test %s%s", pkg, name, didYouMean(name, tests))
	}
	return errorf(file, n.Line, n.Column, "generic test %s: no package %s is installed: list it in packages.yml and run strata deps", kind, pkg)
}
