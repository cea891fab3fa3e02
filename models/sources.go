package models

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// readSource reads one sources: entry.
func (l *loader) readSource(file string, n *yaml.Node) {
	name := scalar(get(n, "name"))
	if name == "" {
		l.add(errorf(file, n.Line, n.Column, "source entry without a name"))
		return
	}
	if prev, ok := l.p.Sources[name]; ok {
		l.add(errorf(file, n.Line, n.Column, "source %q is also declared in %s:%d", name, prev.Pos.File, prev.Pos.Line))
		return
	}
	s := &Source{Name: name, Schema: scalar(get(n, "schema")), Database: scalar(get(n, "database")),
		Description: l.renderDescription(file, get(n, "description")), Tables: map[string]*SourceTable{}, Pos: posOf(file, n)}
	if s.Schema == "" {
		s.Schema = name
	}
	if f := get(n, "freshness"); f != nil {
		l.p.Warnings = append(l.p.Warnings, fmt.Sprintf("%s:%d: source freshness is not checked by strata yet", file, f.Line))
	}
	srcLoc := locationOf(n)
	for _, tn := range seq(get(n, "tables")) {
		t := &SourceTable{Source: name, Name: scalar(get(tn, "name")), Identifier: scalar(get(tn, "identifier")),
			Description: l.renderDescription(file, get(tn, "description")), Pos: posOf(file, tn),
			Tags: toStrings(decode(get(tn, "tags")))}
		if t.Name == "" {
			l.add(errorf(file, tn.Line, tn.Column, "source table entry without a name"))
			continue
		}
		if t.Identifier == "" {
			t.Identifier = t.Name
		}
		t.Location = locationOf(tn)
		if t.Location == "" && srcLoc != "" {
			t.Location = strings.ReplaceAll(srcLoc, "{name}", t.Name)
		}
		for _, cn := range seq(get(tn, "columns")) {
			col := &Column{Name: scalar(get(cn, "name")), DataType: scalar(get(cn, "data_type")),
				Description: l.renderDescription(file, get(cn, "description")), Quote: boolOf(get(cn, "quote"))}
			t.Columns = append(t.Columns, col)
			for _, te := range l.testEntries(file, cn) {
				l.genericTest(file, te, t.ID(), col)
			}
		}
		for _, te := range l.testEntries(file, tn) {
			l.genericTest(file, te, t.ID(), nil)
		}
		s.Tables[t.Name] = t
	}
	l.p.Sources[name] = s
}

// locationOf reads a file glob for a source or table: strata's location:, or dbt-duckdb's
// external_location in meta: or config:.
func locationOf(n *yaml.Node) string {
	if v := scalar(get(n, "location")); v != "" {
		return v
	}
	for _, k := range []string{"meta", "config"} {
		if v := scalar(get(get(n, k), "external_location")); v != "" {
			return v
		}
	}
	return ""
}

// readExposure reads one exposures: entry.
func (l *loader) readExposure(file string, n *yaml.Node) {
	e := &Exposure{Name: scalar(get(n, "name")), Type: scalar(get(n, "type")), Pos: posOf(file, n),
		Description: scalar(get(n, "description")), Owner: scalar(get(get(n, "owner"), "name"))}
	if e.Name == "" {
		l.add(errorf(file, n.Line, n.Column, "exposure entry without a name"))
		return
	}
	for _, d := range seq(get(n, "depends_on")) {
		if m := refArgRe.FindStringSubmatch(d.Value); m != nil {
			e.DependsOn = append(e.DependsOn, m[1])
		} else if m := sourceArgRe.FindStringSubmatch(d.Value); m != nil {
			e.SourceDeps = append(e.SourceDeps, m[1]+"."+m[2])
		} else {
			l.add(errorf(file, d.Line, d.Column, "exposure depends_on entries are ref('model') or source('source', 'table')"))
		}
	}
	if l.p.Exposures == nil {
		l.p.Exposures = map[string]*Exposure{}
	}
	l.p.Exposures[e.Name] = e
}
