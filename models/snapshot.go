package models

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// KindSnapshot is a dbt snapshot: a type-2 slowly changing history of a query's rows.
const KindSnapshot Kind = "snapshot"

// SnapshotSpec is how a snapshot records history, as dbt configures it.
type SnapshotSpec struct {
	Strategy    string   // timestamp or check
	UniqueKey   []string // one or several columns
	UpdatedAt   string   // the timestamp strategy's column
	CheckCols   []string // the check strategy's columns; nil with CheckAll
	CheckAll    bool     // check_cols: all
	HardDeletes string   // ignore, invalidate or new_record
	// ValidToCurrent is the SQL value of dbt_valid_to on current rows (dbt_valid_to_current);
	// "" means NULL.
	ValidToCurrent string
	Meta           SnapshotColumns
}

// SnapshotColumns are the names of a snapshot's meta columns
// (snapshot_meta_column_names).
type SnapshotColumns struct {
	ValidFrom, ValidTo, SCDID, UpdatedAt, IsDeleted string
}

// Snapshot returns a snapshot's spec, or nil for other nodes.
func (m *Model) Snapshot() *SnapshotSpec { return m.snapshot }

var (
	snapshotBlockRe = regexp.MustCompile(`(?s)\{%-?\s*snapshot\s+([A-Za-z_][A-Za-z0-9_]*)\s*-?%\}(.*?)\{%-?\s*endsnapshot\s*-?%\}`)
	snapshotKeys    = []string{"strategy", "unique_key", "updated_at", "check_cols", "hard_deletes", "invalidate_hard_deletes", "snapshot_meta_column_names", "dbt_valid_to_current", "target_schema", "target_database"}
)

// readSnapshots reads every {% snapshot name %} … {% endsnapshot %} block under the
// snapshot paths; each is rendered once like a model, with its lines where the file has them.
func (l *loader) readSnapshots() {
	for _, path := range l.walk(l.layout.snapshotPaths, ".sql") {
		file := l.rel(path)
		data, err := l.in.readFile(path)
		if err != nil {
			l.add(fileError(file, err))
			continue
		}
		src := string(data)
		blocks := snapshotBlockRe.FindAllStringSubmatchIndex(src, -1)
		if len(blocks) == 0 {
			if strings.TrimSpace(src) != "" {
				l.add(errorf(file, 1, 1, "no snapshot block: write {%% snapshot NAME %%} {{ config(...) }} select … {%% endsnapshot %%}"))
			}
			continue
		}
		for _, b := range blocks {
			name := src[b[2]:b[3]]
			before := src[:b[4]]
			line := strings.Count(before, "\n")
			col := b[4] - strings.LastIndex(before, "\n") - 1
			body := strings.Repeat("\n", line) + strings.Repeat(" ", col) + src[b[4]:b[5]]
			if prev, ok := l.p.Models[name]; ok {
				l.add(errorf(file, line+1, 1, "duplicate name %q: snapshot and %s share it; rename one", name, prev.Path))
				continue
			}
			m := l.modelFromSource(file, name, body)
			if m == nil {
				continue
			}
			m.Kind = KindSnapshot
			m.blockPos = Pos{File: file, Line: line + 1, Col: 1}
			l.p.Models[name] = m
		}
	}
}

// newYAMLSnapshot makes a snapshot from a snapshots: entry with relation: (dbt ≥ 1.9).
func (l *loader) newYAMLSnapshot(file string, n *yaml.Node) *Model {
	name := scalar(get(n, "name"))
	rel := get(n, "relation")
	if prev, ok := l.p.Models[name]; ok {
		l.add(errorf(file, n.Line, n.Column, "duplicate name %q: snapshot and %s share it; rename one", name, prev.Path))
		return nil
	}
	m := &Model{Name: name, Path: file, Kind: KindSnapshot, raw: "relation: " + scalar(rel), blockPos: posOf(file, n)}
	pos := posOf(file, rel)
	if r := refArgRe.FindStringSubmatch(scalar(rel)); r != nil {
		m.Refs = []Ref{{Name: r[1], Pos: pos}}
		m.rendered = "select * from " + refPlaceholder(r[1])
	} else if r := sourceArgRe.FindStringSubmatch(scalar(rel)); r != nil {
		m.Sources = []SourceRef{{Source: r[1], Table: r[2], Pos: pos}}
		m.rendered = "select * from " + srcPlaceholder(r[1], r[2])
	} else {
		l.add(errorf(file, rel.Line, rel.Column, "snapshot %s: relation must be ref('model') or source('source', 'table')", name))
		return nil
	}
	l.p.Models[name] = m
	return m
}

// parseSnapshot reads a snapshot's merged config into its spec, placing each problem at
// the key that caused it.
func parseSnapshot(m *Model) (*SnapshotSpec, Errors) {
	c := &m.Config
	var errs Errors
	bad := func(key, format string, args ...any) {
		p, ok := c.Where[key]
		if !ok {
			p = m.blockPos
		}
		errs = append(errs, errorf(p.File, p.Line, p.Col, "snapshot %s: %s", m.Name, fmt.Sprintf(format, args...)))
	}
	s := &SnapshotSpec{Strategy: str(c.Raw["strategy"]), UniqueKey: c.UniqueKey, UpdatedAt: str(c.Raw["updated_at"]), HardDeletes: "ignore",
		Meta: SnapshotColumns{ValidFrom: "dbt_valid_from", ValidTo: "dbt_valid_to", SCDID: "dbt_scd_id", UpdatedAt: "dbt_updated_at", IsDeleted: "dbt_is_deleted"}}
	if len(s.UniqueKey) == 0 {
		bad("unique_key", "needs a unique_key: the column (or list of columns) that identifies a row")
	}
	switch s.Strategy {
	case "timestamp":
		if s.UpdatedAt == "" {
			bad("strategy", "the timestamp strategy needs updated_at: the column that says when a row last changed")
		}
	case "check":
		switch v := c.Raw["check_cols"].(type) {
		case string:
			if v == "all" {
				s.CheckAll = true
			} else {
				s.CheckCols = []string{v}
			}
		case []any:
			s.CheckCols = toStrings(v)
		}
		if !s.CheckAll && len(s.CheckCols) == 0 {
			bad("strategy", "the check strategy needs check_cols: a list of columns, or 'all'")
		}
	case "":
		bad("materialized", "needs a strategy: timestamp (with updated_at) or check (with check_cols)")
	default:
		bad("strategy", "unknown strategy %q; use timestamp or check%s", s.Strategy, didYouMean(s.Strategy, []string{"timestamp", "check"}))
	}
	if v, ok := c.Raw["invalidate_hard_deletes"].(bool); ok && v {
		s.HardDeletes = "invalidate"
	}
	if v := str(c.Raw["hard_deletes"]); v != "" {
		if !slices.Contains([]string{"ignore", "invalidate", "new_record"}, v) {
			bad("hard_deletes", "hard_deletes %q: use ignore, invalidate or new_record", v)
		}
		s.HardDeletes = v
	}
	s.ValidToCurrent = str(c.Raw["dbt_valid_to_current"])
	if names, ok := c.Raw["snapshot_meta_column_names"].(map[string]any); ok {
		for k, v := range names {
			dst := map[string]*string{"dbt_valid_from": &s.Meta.ValidFrom, "dbt_valid_to": &s.Meta.ValidTo, "dbt_scd_id": &s.Meta.SCDID,
				"dbt_updated_at": &s.Meta.UpdatedAt, "dbt_is_deleted": &s.Meta.IsDeleted}[k]
			if dst == nil {
				bad("snapshot_meta_column_names", "unknown meta column %q; rename dbt_valid_from, dbt_valid_to, dbt_scd_id, dbt_updated_at or dbt_is_deleted", k)
				continue
			}
			*dst = str(v)
		}
	}
	if ts := str(c.Raw["target_schema"]); ts != "" {
		m.absSchema = ts // legacy: the schema itself, not a custom suffix
	}
	return s, errs
}

// SnapshotShape is a snapshot's select with its meta columns, as the snapshot table has
// them: what the shadow catalog builds for it.
func (s *SnapshotSpec) SnapshotShape(q string) string {
	cols := []string{
		"cast(null as varchar) as " + Quote(s.Meta.SCDID),
		"cast(null as timestamp) as " + Quote(s.Meta.UpdatedAt),
		"cast(null as timestamp) as " + Quote(s.Meta.ValidFrom),
		"cast(null as timestamp) as " + Quote(s.Meta.ValidTo),
	}
	if s.HardDeletes == "new_record" {
		cols = append(cols, "cast(null as varchar) as "+Quote(s.Meta.IsDeleted))
	}
	return "select *, " + strings.Join(cols, ", ") + " from (\n" + q + "\n) as dbt_snapshot"
}
