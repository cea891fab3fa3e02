package models

import (
	"fmt"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// relation is what ref(), source() and this give a template, as dbt's Relation object: it
// renders as the relation (a placeholder Compile resolves once schemas and aliases are
// known), and has .database, .schema, .identifier, .name, .type, .render(),
// .include(), .incorporate() and the metadata dbt_utils checks (_is_relation).
type relation map[string]any

// String is how the relation renders in SQL.
func (r relation) String() string {
	s, _ := r["__sql"].(string)
	return s
}

// newRelation builds the relation of a placeholder: schema and identifier as far as the
// project knows them now (at load, a model's own config may not be read yet).
func (p *Project) newRelation(placeholder, schema, identifier, kind string) relation {
	r := make(relation, 16)
	r["__sql"] = placeholder
	r["database"] = p.Warehouse.database()
	r["schema"] = schema
	r["identifier"], r["name"], r["table"], r["alias"] = identifier, identifier, identifier, identifier
	r["type"], r["is_table"], r["is_view"], r["is_cte"] = kind, kind == "table", kind == "view", false
	r["metadata"] = relationMetadata
	same := func(_ *exec.VarArgs) relation { return r }
	r["render"] = func() string { return placeholder }
	r["include"], r["incorporate"], r["quote"] = same, same, same
	return r
}

// relationMetadata is what dbt_utils' _is_relation looks for.
var relationMetadata = map[string]any{"type": "DuckDBRelation"}

// attrPrefix marks a relation attribute's placeholder: a model's schema and alias, a
// source's schema and identifier are known only once the whole project is read, so
// .schema, .identifier and .name render as placeholders Compile resolves like the
// relation itself.
const attrPrefix = placeholderMark + "attr:"

func attrPlaceholder(field, target string) string {
	return attrPrefix + field + ":" + target + placeholderMark
}

// refRelation is ref(name)'s relation.
func (p *Project) refRelation(name string) relation {
	kind := "table"
	if m := p.Models[name]; m != nil && (m.Kind == KindView || m.Kind == KindEphemeral) {
		kind = "view"
	}
	target := "ref:" + name
	return p.newRelation(refPlaceholder(name), attrPlaceholder("schema", target), attrPlaceholder("identifier", target), kind)
}

// sourceRelation is source(source, table)'s relation.
func (p *Project) sourceRelation(source, table string) relation {
	target := "src:" + source + "." + table
	return p.newRelation(srcPlaceholder(source, table), attrPlaceholder("schema", target), attrPlaceholder("identifier", target), "table")
}

// relationAttr resolves an attribute placeholder's token ("schema:ref:orders").
func (p *Project) relationAttr(token string) (string, error) {
	field, target, _ := strings.Cut(token, ":")
	var schema, ident string
	switch {
	case strings.HasPrefix(target, "ref:"):
		m := p.Models[target[4:]]
		if m == nil {
			return "", fmt.Errorf("unknown ref %q%s", target[4:], didYouMean(target[4:], p.ModelNames()))
		}
		schema, ident = p.Schema(m), m.Identifier()
	case strings.HasPrefix(target, "src:"):
		t := p.SourceTable(target[4:])
		if t == nil {
			return "", fmt.Errorf("unknown source %q", target[4:])
		}
		schema, ident = p.Sources[t.Source].Schema, t.Identifier
	default:
		return "", fmt.Errorf("corrupt placeholder %q in compiled SQL", token)
	}
	if field == "schema" {
		return schema, nil
	}
	return ident, nil
}

// relationName is the schema and identifier a value names: a relation, or a string
// "schema.table" or "table".
func relationName(p *Project, v *exec.Value) (schema, ident string, ok bool) {
	if r, isRel := v.Interface().(relation); isRel {
		sc, err1 := p.resolve(fmt.Sprint(r["schema"]), "", 0, nil)
		id, err2 := p.resolve(fmt.Sprint(r["identifier"]), "", 0, nil)
		return sc, id, err1 == nil && err2 == nil && id != ""
	}
	s := strings.Trim(v.String(), `"`)
	if s == "" {
		return "", "", false
	}
	if a, b, dotted := strings.Cut(s, "."); dotted {
		return strings.Trim(a, `"`), strings.Trim(b, `"`), true
	}
	return p.Warehouse.Schema, s, true
}

// database is the DuckDB catalog the warehouse file attaches as: its file name without
// the extension, as dbt-duckdb names it.
func (w Warehouse) database() string {
	if w.Path == "" || w.Path == ":memory:" {
		return "memory"
	}
	base := w.Path[strings.LastIndexAny(w.Path, `/\`)+1:]
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	return base
}
