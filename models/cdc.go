package models

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The three stages of a CDC model, each a node of its own.
const (
	KindCDCExtract Kind = "cdc_extract" // the window's change events, normalised
	KindCDCMerge   Kind = "cdc_merge"   // the latest document per key: <model>__raw
	KindCDC        Kind = "cdc"         // the typed table users query: <model>
)

// CDC formats: the change-event envelopes strata reads.
const (
	FormatDebezium = "debezium"
	FormatMongoDB  = "mongodb"
)

// CDCSpec is a CDC model's configuration (config.cdc in YAML), shared by its three stages.
type CDCSpec struct {
	Model          string // the typed model's name; its stages are Model__extract and Model__raw
	Format         string // debezium or mongodb
	Path           string // the window's event files: a glob with Jinja (ds, hour), relative to the project
	Key            []string
	Granularity    Granularity
	Start          time.Time
	Lookback       int
	OnSchemaChange string // append_new_columns (default), fail, ignore
	SoftDelete     bool   // keep deleted keys with _deleted = true
	MetaColumns    bool   // add _cdc_position and _cdc_updated_at
	EmptyWindows   bool   // missing_files: empty — a window without files has no events (else it waits for them)
	Verify         *CDCVerify
	Columns        []*Column // the declared columns, in order
	Pos            Pos       // where config.cdc is
}

// CDCVerify says where the source's own dump is, for strata verify.
type CDCVerify struct {
	Snapshot string // a file glob (parquet, csv, json) relative to the project
	Table    string // or a relation in the warehouse
}

// ExtractName and RawName are the names of a CDC model's first two stages.
func (s *CDCSpec) ExtractName() string { return s.Model + "__extract" }

// RawName is the name of the merge stage and its table.
func (s *CDCSpec) RawName() string { return s.Model + "__raw" }

// CDC returns the spec of a CDC model's stage, or nil for other models.
func (m *Model) CDC() *CDCSpec { return m.cdc }

var cdcKeys = []string{"format", "path", "key", "granularity", "start", "lookback", "on_schema_change", "soft_delete", "metadata_columns", "missing_files", "verify"}

// isCDCEntry reports whether a YAML model entry declares a CDC model (which has no SQL file).
func isCDCEntry(n *yaml.Node) bool {
	return scalar(get(get(n, "config"), "materialized")) == "cdc"
}

// newCDCModel makes the typed model of a CDC entry; its stages are added by expandCDC.
func (l *loader) newCDCModel(file string, n *yaml.Node) *Model {
	name := scalar(get(n, "name"))
	if sql, ok := l.p.Models[name]; ok {
		l.add(errorf(file, n.Line, n.Column, "model %q is declared as materialized: cdc here but also has the file %s; a CDC model is YAML only: delete the file", name, sql.Path))
		return nil
	}
	m := &Model{Name: name, Path: file, Kind: KindCDC}
	spec, errs := parseCDC(file, name, get(get(n, "config"), "cdc"), get(get(n, "config"), "materialized"))
	l.add(errs...)
	if spec == nil {
		return nil
	}
	m.cdc = spec
	m.raw = fmt.Sprintf("cdc %s %s", file, name)
	l.p.Models[name] = m
	return m
}

// parseCDC reads config.cdc with each problem placed at its key.
func parseCDC(file, model string, n, at *yaml.Node) (*CDCSpec, Errors) {
	var errs Errors
	bad := func(n *yaml.Node, format string, args ...any) {
		errs = append(errs, errorf(file, n.Line, n.Column, "cdc model %q: %s", model, fmt.Sprintf(format, args...)))
	}
	if n == nil || n.Kind != yaml.MappingNode {
		bad(at, "materialized: cdc needs a cdc: block with format, path, key and start (see docs/cdc.md)")
		return nil, errs
	}
	s := &CDCSpec{Model: model, Granularity: Hour, OnSchemaChange: "append_new_columns", Pos: posOf(file, n)}
	seen := map[string]bool{}
	for _, kv := range pairs(n) {
		seen[kv.Key] = true
		v := kv.Value
		switch kv.Key {
		case "format":
			s.Format = scalar(v)
			if s.Format != FormatDebezium && s.Format != FormatMongoDB {
				bad(v, "format %q is not one strata reads; use debezium or mongodb%s", s.Format, didYouMean(s.Format, []string{FormatDebezium, FormatMongoDB}))
			}
		case "path":
			s.Path = scalar(v)
			if s.Path == "" {
				bad(v, "path must be a file glob like landing/orders/dt={{ ds }}/hour={{ hour }}/*.jsonl")
			}
		case "key":
			s.Key = toStrings(decode(v))
		case "granularity":
			s.Granularity = Granularity(scalar(v))
			if s.Granularity != Hour && s.Granularity != Day {
				bad(v, "granularity %q: use hour or day", scalar(v))
			}
		case "start":
			t, err := ParseTime(scalar(v))
			if err != nil {
				bad(v, "start: %v", err)
			}
			s.Start = t
		case "lookback":
			k, err := toInt(decode(v))
			if err != nil || k < 0 {
				bad(v, "lookback must be a whole number of windows, 0 or more")
			}
			s.Lookback = k
		case "on_schema_change":
			s.OnSchemaChange = scalar(v)
			if !slices.Contains([]string{"append_new_columns", "fail", "ignore"}, s.OnSchemaChange) {
				bad(v, "on_schema_change %q: use append_new_columns, fail or ignore", s.OnSchemaChange)
			}
		case "soft_delete", "metadata_columns":
			b := boolOf(v)
			if b == nil {
				bad(v, "%s must be true or false", kv.Key)
				continue
			}
			if kv.Key == "soft_delete" {
				s.SoftDelete = *b
			} else {
				s.MetaColumns = *b
			}
		case "missing_files":
			switch scalar(v) {
			case "wait":
			case "empty":
				s.EmptyWindows = true
			default:
				bad(v, "missing_files %q: use wait (a window waits for its files) or empty (a window without files has no events)", scalar(v))
			}
		case "verify":
			s.Verify = &CDCVerify{Snapshot: scalar(get(v, "snapshot")), Table: scalar(get(v, "table"))}
			if (s.Verify.Snapshot == "") == (s.Verify.Table == "") {
				bad(v, "verify needs one of snapshot: (a file glob of the source's dump) or table: (a relation)")
			}
		default:
			bad(kv.KeyN, "unknown cdc key %q%s", kv.Key, didYouMean(kv.Key, cdcKeys))
		}
	}
	for _, k := range []string{"format", "path", "key", "start"} {
		if !seen[k] {
			bad(n, "cdc needs %s:", k)
		}
	}
	if seen["key"] && len(s.Key) == 0 {
		bad(get(n, "key"), "key must name the source's primary key columns, like [id]")
	}
	return s, errs
}

// expandCDC checks each CDC model against its declared columns and adds its extract and
// merge stages as models of their own: three nodes, three tasks per window.
func (l *loader) expandCDC() {
	for _, name := range l.p.ModelNames() {
		m := l.p.Models[name]
		if m.Kind != KindCDC || m.cdc == nil || m.Config.Materialized != "cdc" {
			continue
		}
		s := m.cdc
		s.Columns = m.Columns
		if s.Format == FormatMongoDB && len(s.Key) == 1 && s.Key[0] != "_id" {
			at := s.Pos
			l.add(errorf(at.File, at.Line, at.Col, "cdc model %q: a MongoDB change stream's key is the document's _id: use key: [_id]", name))
		}
		for _, k := range s.Key {
			if !slices.ContainsFunc(m.Columns, func(c *Column) bool { return c.Name == k }) {
				l.add(errorf(m.Patch.File, m.Patch.Line, m.Patch.Col, "cdc model %q: key column %q is not among its columns: declare it with its data_type", name, k))
			}
		}
		for _, c := range m.Columns {
			if c.DataType == "" {
				l.add(errorf(m.Patch.File, m.Patch.Line, m.Patch.Col, "cdc model %q: column %q needs a data_type (the typed table casts each field to it)", name, c.Name))
			}
		}
		for _, stage := range []string{s.ExtractName(), s.RawName()} {
			if prev, ok := l.p.Models[stage]; ok {
				l.add(errorf(m.Patch.File, m.Patch.Line, m.Patch.Col, "cdc model %q needs the name %q for its stage, but %s uses it; rename one", name, stage, prev.Path))
			}
		}
		part := func(checks ...Check) *PartitionSpec {
			return &PartitionSpec{Granularity: s.Granularity, Start: s.Start, Lookback: s.Lookback, Checks: checks, ChecksDeclared: len(checks) > 0}
		}
		stage := func(name string, kind Kind, sql string, refs ...string) *Model {
			st := &Model{Name: name, Kind: kind, Path: m.Path, Patch: m.Patch, Config: m.Config, cdc: s, raw: m.raw, rendered: sql}
			st.Config.Materialized = string(kind)
			st.Config.Raw = maps.Clone(m.Config.Raw)
			st.Config.Raw["materialized"] = string(kind)
			if m.Config.Alias != "" {
				st.Config.Alias = m.Config.Alias + strings.TrimPrefix(name, m.Name)
			}
			for _, r := range refs {
				st.Refs = append(st.Refs, Ref{Name: r, Pos: *m.Patch})
			}
			return st
		}
		ext := stage(s.ExtractName(), KindCDCExtract, CDCExtractShape)
		ext.Description = "Change events of " + name + " per window, normalised (strata CDC extract stage)."
		ext.partition = part(Check{Files: s.Path})
		if s.EmptyWindows {
			ext.partition = part()
		}
		raw := stage(s.RawName(), KindCDCMerge, "select _key, _key_doc, _doc, _op = 'delete' as _deleted, _position, _updated_at from "+refPrefix+s.ExtractName()+placeholderMark, s.ExtractName())
		raw.Description = "The latest document per key of " + name + " (strata CDC merge stage)."
		raw.partition = part()
		l.p.Models[ext.Name], l.p.Models[raw.Name] = ext, raw
		m.Refs = []Ref{{Name: raw.Name, Pos: *m.Patch}}
		m.rendered = s.TypedSelect(refPrefix+raw.Name+placeholderMark, nil)
		m.partition = part()
		if s.Verify != nil {
			l.addTest(&Test{Name: "cdc_verify_" + name, Generic: CDCVerifyTest, Model: name, Severity: "error", Path: m.Path,
				Pos: s.Pos, Tags: m.Config.Tags})
		}
	}
}

// CDCVerifyTest is the generic test a CDC model with verify: gets: strata verify as a
// test, so it runs with strata test and build and on any schedule that selects it; a
// mismatch fails it with the count of keys that differ.
const CDCVerifyTest = "cdc_verify"

// CDCExtractShape is the extract stage's columns, as a query reading nothing: the shape of
// <model>__extract for the planner and column lineage.
const CDCExtractShape = `select cast(null as timestamp) as _window, cast(null as varchar) as _key, cast(null as json) as _key_doc,
  cast(null as varchar) as _op, cast(null as varchar) as _position, cast(null as timestamp) as _updated_at,
  cast(null as json) as _doc, cast(null as json) as _patch, cast(null as boolean) as _partial,
  cast(null as varchar) as _file
where false`

// CDCColumn is one typed column of a CDC model: a declared one, or one found in events.
type CDCColumn struct {
	Name, Type string
}

// TypedColumns are the declared columns, then the evolved ones not declared.
func (s *CDCSpec) TypedColumns(evolved []CDCColumn) []CDCColumn {
	var out []CDCColumn
	for _, c := range s.Columns {
		out = append(out, CDCColumn{Name: c.Name, Type: c.DataType})
	}
	for _, c := range evolved {
		if !slices.ContainsFunc(out, func(d CDCColumn) bool { return strings.EqualFold(d.Name, c.Name) }) {
			out = append(out, c)
		}
	}
	return out
}

// TypedSelect is the query that turns the raw table (rel) into the typed one: each
// column cast from its document field, deleted keys dropped or flagged.
func (s *CDCSpec) TypedSelect(rel string, evolved []CDCColumn) string {
	var cols []string
	for _, c := range s.TypedColumns(evolved) {
		cols = append(cols, "  "+CDCFieldExpr(s.Format, "_doc", c.Name, c.Type)+" as "+Quote(c.Name))
	}
	if s.SoftDelete {
		cols = append(cols, "  _deleted")
	}
	if s.MetaColumns {
		cols = append(cols, "  _position as _cdc_position", "  _updated_at as _cdc_updated_at")
	}
	q := "select\n" + strings.Join(cols, ",\n") + "\nfrom " + rel
	if !s.SoftDelete {
		q += "\nwhere not _deleted"
	}
	return q
}

// CDCFieldExpr reads one field of a JSON document column as typ: MongoDB's Extended JSON
// ($oid, $date as a number or ISO text, $numberLong, $numberDecimal, …) and Debezium's
// temporal integers (epoch days for dates, epoch milli- or microseconds for timestamps)
// become the values they stand for.
func CDCFieldExpr(format, doc, field, typ string) string {
	path := "'$." + jsonPathKey(field) + "'"
	j := "json_extract(" + doc + ", " + path + ")"
	text := "json_extract_string(" + doc + ", " + path + ")"
	if format == FormatMongoDB {
		text = "(case when json_type(" + j + ") = 'OBJECT' then coalesce(" +
			"json_extract_string(" + j + ", '$.\"$oid\"'), json_extract_string(" + j + ", '$.\"$numberLong\"'), " +
			"json_extract_string(" + j + ", '$.\"$numberDecimal\"'), json_extract_string(" + j + ", '$.\"$numberInt\"'), " +
			"json_extract_string(" + j + ", '$.\"$numberDouble\"'), " +
			"case json_type(" + j + ", '$.\"$date\"') when 'OBJECT' then strftime(make_timestamp(cast(json_extract_string(" + j + ", '$.\"$date\".\"$numberLong\"') as bigint) * 1000), '%Y-%m-%d %H:%M:%S.%f') " +
			"when 'VARCHAR' then json_extract_string(" + j + ", '$.\"$date\"') " +
			"when null then null else strftime(make_timestamp(cast(json_extract_string(" + j + ", '$.\"$date\"') as bigint) * 1000), '%Y-%m-%d %H:%M:%S.%f') end, " +
			"json_extract_string(" + j + ", '$')) else " + text + " end)"
	}
	t := strings.ToLower(strings.TrimSpace(typ))
	switch {
	case t == "date" && format == FormatDebezium:
		return "(case when json_type(" + j + ") in ('BIGINT', 'UBIGINT') then cast(date '1970-01-01' + cast(" + text + " as integer) as date) else try_cast(" + text + " as date) end)"
	case strings.HasPrefix(t, "timestamp") && format == FormatDebezium:
		return "(case when json_type(" + j + ") in ('BIGINT', 'UBIGINT') then cast(case when abs(cast(" + text + " as bigint)) >= 100000000000000 then make_timestamp(cast(" + text + " as bigint)) else make_timestamp(cast(" + text + " as bigint) * 1000) end as " + typ + ") else cast(" + text + " as " + typ + ") end)"
	case t == "json":
		return j
	}
	return "cast(" + text + " as " + typ + ")"
}

// jsonPathKey quotes a field name for a JSON path; a dotted name reads a nested field.
func jsonPathKey(field string) string {
	parts := strings.Split(field, ".")
	for i, p := range parts {
		parts[i] = `"` + strings.ReplaceAll(strings.ReplaceAll(p, `\`, `\\`), `"`, `\"`) + `"`
	}
	return strings.ReplaceAll(strings.Join(parts, "."), "'", "''")
}
