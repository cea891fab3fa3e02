package models

import (
	"errors"
	"strings"
)

// StateSchema is the schema strata keeps its own state in; no node may build there.
const StateSchema = "_strata"

// checkRelations refuses two nodes that would build one relation — names differing only
// by case (DuckDB's identifiers are case-insensitive), equal aliases, a model aliased
// onto a seed — since each would overwrite the other while the state says both are
// built; and any node that would land in strata's own state schema.
func (l *loader) checkRelations() {
	type owner struct {
		m   *Model
		rel string
	}
	seen := map[string]owner{}
	if ms := l.p.macros; ms != nil && ms.names["generate_schema_name"] != "" && len(l.p.Models) > 0 {
		// the project's schema macro must run: a failure would silently give the default
		m := l.p.Models[l.p.ModelNames()[0]]
		if _, err := l.p.callMacro("generate_schema_name", nilIfEmpty(m.Config.Schema), l.p.nodeObject(m.Name, m.Path)); err != nil {
			var errs Errors
			if errors.As(err, &errs) {
				l.add(errs...)
			} else {
				l.add(errorf(ms.names["generate_schema_name"], 0, 0, "generate_schema_name: %v", err))
			}
			return
		}
	}
	for _, name := range l.p.ModelNames() {
		m := l.p.Models[name]
		if m.Kind == KindEphemeral {
			continue // inlined where used: it builds no relation
		}
		schema, ident := l.p.Schema(m), m.Identifier()
		rel := schema + "." + ident
		at := m.relationPos()
		if strings.EqualFold(schema, StateSchema) {
			l.add(errorf(at.File, at.Line, at.Col, "%s %q would build %s in the schema %s, where strata keeps its run history; give it another schema",
				m.kindWord(), m.Name, rel, StateSchema))
			continue
		}
		key := strings.ToLower(rel)
		if prev, ok := seen[key]; ok {
			l.add(errorf(at.File, at.Line, at.Col, "%s %q builds %s, as %s %q (%s) does: one would overwrite the other; rename one, or give it another alias or schema",
				m.kindWord(), m.Name, rel, prev.m.kindWord(), prev.m.Name, prev.m.Path))
			continue
		}
		seen[key] = owner{m, rel}
	}
}

// relationPos is where a node's relation is decided: its alias or schema config when
// set, else its file.
func (m *Model) relationPos() Pos {
	for _, k := range []string{"alias", "schema"} {
		if p, ok := m.Config.Where[k]; ok && p.File != "" {
			return p
		}
	}
	return Pos{File: m.Path, Line: 1, Col: 1}
}

// kindWord names a node's kind in messages.
func (m *Model) kindWord() string {
	if m.Kind == KindSeed {
		return "seed"
	}
	return "model"
}
