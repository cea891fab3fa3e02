package models

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// relation is what ref(), source() and this give a template, as dbt's Relation object.
// It is the text it renders as — a placeholder Compile resolves once schemas and aliases
// are known, or "schema"."table" — so it can key a dict as dbt's can (union_relations
// does); its attributes (.database, .schema, .identifier, .name, .type, .is_view,
// .render(), .include(), .incorporate(), .get(), the metadata dbt_utils checks) are the
// real ones once the project is read, and placeholders of their own while it is read.
//
// gonja takes a value for a string (a dict key) by its kind, so the relation is a pointer
// to a string: the first field of a box that holds the attributes.
type relation = *relText

type relText string

type relationBox struct {
	text  relText        // first: a *relText is a pointer to its box
	attrs map[string]any // schema, identifier, database, type when known; nil while loading
}

func newRelationText(text string, attrs map[string]any) relation {
	b := &relationBox{text: relText(text), attrs: attrs}
	return &b.text
}

// box is the relation's box: text is its first field, so they share an address, and the
// pointer keeps the whole box alive.
func (r *relText) box() *relationBox { return (*relationBox)(unsafe.Pointer(r)) }

// String is how the relation renders in SQL.
func (r *relText) String() string { return string(*r) }

// target is what the placeholder names: "ref:orders", "src:raw.orders"; "" for a
// relation written out.
func (r *relText) target() string {
	s := string(*r)
	if strings.HasPrefix(s, placeholderMark) && strings.HasSuffix(s, placeholderMark) && strings.Count(s, placeholderMark) == 2 {
		return strings.Trim(s, placeholderMark)
	}
	return ""
}

// parts is a written-out relation's schema and identifier.
func (r *relText) parts() (schema, ident string) {
	s := string(*r)
	if a, b, ok := strings.Cut(s, `"."`); ok {
		return strings.TrimPrefix(a, `"`), strings.TrimSuffix(b, `"`)
	}
	return "", strings.Trim(s, `"`)
}

// GetAttribute is how gonja reads relation.attribute.
func (r *relText) GetAttribute(name string) (*exec.Value, bool) {
	v, ok := r.attr(name)
	if !ok {
		return nil, false
	}
	return exec.AsValue(v), true
}

func (r *relText) attr(name string) (any, bool) {
	field := name
	switch name {
	case "name", "table", "alias":
		field = "identifier"
	case "is_table", "is_view":
		field = "type"
	}
	var v any
	switch field {
	case "schema", "identifier", "database", "type":
		if a := r.box().attrs; a != nil {
			v = a[field]
		} else if t := r.target(); t != "" {
			v = attrPlaceholder(field, t)
		} else {
			schema, ident := r.parts()
			v = map[string]string{"schema": schema, "identifier": ident, "database": "", "type": "table"}[field]
		}
	}
	switch name {
	case "is_table":
		return v != "view", true
	case "is_view":
		return v == "view", true
	case "is_cte":
		return false, true
	case "metadata":
		return relationMetadata, true
	case "schema", "identifier", "database", "type", "name", "table", "alias":
		return v, true
	case "render":
		return func() string { return string(*r) }, true
	case "include", "incorporate", "quote":
		return func(*exec.VarArgs) relation { return r }, true
	case "get":
		return func(args *exec.VarArgs) any {
			if len(args.Args) > 0 {
				if v, ok := r.attr(args.Args[0].String()); ok {
					return v
				}
			}
			if len(args.Args) > 1 {
				return args.Args[1].Interface()
			}
			return nil
		}, true
	}
	return nil, false
}

// newRelation is a relation written out: one that get_relation or api.Relation.create
// found or made.
func (p *Project) newRelation(schema, identifier, kind string) relation {
	return newRelationText(Quote(schema)+"."+Quote(identifier), map[string]any{"schema": schema, "identifier": identifier, "database": p.Warehouse.database(), "type": kind})
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
	return newRelationText(refPlaceholder(name), p.knownAttrs("ref:"+name))
}

// sourceRelation is source(source, table)'s relation.
func (p *Project) sourceRelation(source, table string) relation {
	return newRelationText(srcPlaceholder(source, table), p.knownAttrs("src:"+source+"."+table))
}

// knownAttrs are a relation's attributes, once the project is read; nil while it is read.
func (p *Project) knownAttrs(target string) map[string]any {
	if !p.loaded {
		return nil
	}
	a := map[string]any{}
	for _, f := range []string{"schema", "identifier", "database", "type"} {
		v, err := p.relationAttr(f + ":" + target)
		if err != nil {
			return nil
		}
		a[f] = v
	}
	return a
}

// relationAttr resolves an attribute placeholder's token ("schema:ref:orders").
func (p *Project) relationAttr(token string) (string, error) {
	field, target, _ := strings.Cut(token, ":")
	var schema, ident string
	kind := "table"
	switch {
	case strings.HasPrefix(target, "ref:"):
		m := p.Models[target[4:]]
		if m == nil {
			return "", fmt.Errorf("unknown ref %q%s", target[4:], didYouMean(target[4:], p.ModelNames()))
		}
		schema, ident = p.Schema(m), m.Identifier()
		if m.Kind == KindView || m.Kind == KindEphemeral {
			kind = "view"
		}
	case strings.HasPrefix(target, "src:"):
		t := p.SourceTable(target[4:])
		if t == nil {
			return "", fmt.Errorf("unknown source %q", target[4:])
		}
		schema, ident = p.Sources[t.Source].Schema, t.Identifier
	default:
		return "", fmt.Errorf("corrupt placeholder %q in compiled SQL", token)
	}
	switch field {
	case "schema":
		return schema, nil
	case "database":
		return p.Warehouse.database(), nil
	case "type":
		return kind, nil
	}
	return ident, nil
}

// relationName is the schema and identifier a value names: a relation, or a string
// "schema.table" or "table".
func relationName(p *Project, v *exec.Value) (schema, ident string, ok bool) {
	if r, isRel := v.Interface().(relation); isRel {
		if t := r.target(); t != "" {
			sc, err1 := p.relationAttr("schema:" + t)
			id, err2 := p.relationAttr("identifier:" + t)
			return sc, id, err1 == nil && err2 == nil && id != ""
		}
		sc, id := r.parts()
		if sc == "" {
			sc = p.Warehouse.Schema
		}
		return sc, id, id != ""
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
