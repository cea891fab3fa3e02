package models

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"time"
)

// The parse cache's models and tests, the bulk of a large project, are written field by
// field here rather than through gob: gob decodes every value, and every map entry,
// through reflection, which was most of a cached load (140 ms of 10,000 models against
// about 15 ms this way). The strings of a decoded project are slices of the cache's one
// copy of its bytes. TestWireRoundTrip fills every field of each type through
// reflection and reads it back, so a field added to Model, Config, Column or Test and
// not written here fails it.

type wire struct{ b []byte }

func (w *wire) uv(x uint64) { w.b = binary.AppendUvarint(w.b, x) }
func (w *wire) iv(x int64)  { w.b = binary.AppendVarint(w.b, x) }
func (w *wire) str(s string) {
	w.uv(uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *wire) boolean(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

// count writes a length that tells nil (0) from empty (1).
func (w *wire) count(n int, isNil bool) {
	if isNil {
		w.uv(0)
		return
	}
	w.uv(uint64(n) + 1)
}

func (w *wire) strs(ss []string) {
	w.count(len(ss), ss == nil)
	for _, s := range ss {
		w.str(s)
	}
}

func (w *wire) pos(p Pos) {
	w.str(p.File)
	w.iv(int64(p.Line))
	w.iv(int64(p.Col))
}

func (w *wire) optBool(b *bool) {
	switch {
	case b == nil:
		w.uv(0)
	case *b:
		w.uv(2)
	default:
		w.uv(1)
	}
}

// The dynamic values of configs, metas and test arguments: what YAML and Jinja give.
const (
	tagNil = iota
	tagFalse
	tagTrue
	tagInt
	tagFloat
	tagString
	tagList
	tagMap
	tagStrings
	tagTime
	tagInt64
	tagUint64
)

func (w *wire) anyv(v any) error {
	switch v := v.(type) {
	case nil:
		w.uv(tagNil)
	case bool:
		if v {
			w.uv(tagTrue)
		} else {
			w.uv(tagFalse)
		}
	case int:
		w.uv(tagInt)
		w.iv(int64(v))
	case int64:
		w.uv(tagInt64)
		w.iv(v)
	case uint64:
		w.uv(tagUint64)
		w.uv(v)
	case float64:
		w.uv(tagFloat)
		w.uv(math.Float64bits(v))
	case string:
		w.uv(tagString)
		w.str(v)
	case []any:
		w.uv(tagList)
		w.count(len(v), v == nil)
		for _, x := range v {
			if err := w.anyv(x); err != nil {
				return err
			}
		}
	case map[string]any:
		w.uv(tagMap)
		return w.anyMap(v)
	case []string:
		w.uv(tagStrings)
		w.strs(v)
	case time.Time:
		w.uv(tagTime)
		b, err := v.MarshalBinary()
		if err != nil {
			return err
		}
		w.str(string(b))
	default:
		return fmt.Errorf("the parse cache cannot hold a %T", v)
	}
	return nil
}

func (w *wire) anyMap(m map[string]any) error {
	w.count(len(m), m == nil)
	for k, v := range m {
		w.str(k)
		if err := w.anyv(v); err != nil {
			return err
		}
	}
	return nil
}

func (w *wire) refs(rs []Ref) {
	w.count(len(rs), rs == nil)
	for _, r := range rs {
		w.str(r.Name)
		w.pos(r.Pos)
	}
}

func (w *wire) sourceRefs(rs []SourceRef) {
	w.count(len(rs), rs == nil)
	for _, r := range rs {
		w.str(r.Source)
		w.str(r.Table)
		w.pos(r.Pos)
	}
}

// rare is what few models have, carried by gob.
type rare struct {
	Partition *PartitionSpec
	CDC       *CDCSpec
	Snapshot  *SnapshotSpec
}

func (w *wire) model(m *Model) error {
	w.str(m.Name)
	w.str(string(m.Kind))
	w.str(m.Path)
	w.str(m.Description)
	w.str(m.Package)
	w.count(len(m.Columns), m.Columns == nil)
	for _, c := range m.Columns {
		if err := w.column(c); err != nil {
			return err
		}
	}
	if err := w.config(&m.Config); err != nil {
		return err
	}
	w.boolean(m.Patch != nil)
	if m.Patch != nil {
		w.pos(*m.Patch)
	}
	w.boolean(m.Freshness != nil)
	if m.Freshness != nil {
		w.iv(int64(m.Freshness.WarnAfter))
		w.iv(int64(m.Freshness.ErrorAfter))
	}
	w.refs(m.Refs)
	w.sourceRefs(m.Sources)
	w.strs(m.DependsOn)
	w.strs(m.SourceDeps)
	hasRare := m.partition != nil || m.cdc != nil || m.snapshot != nil
	w.boolean(hasRare)
	if hasRare {
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(rare{m.partition, m.cdc, m.snapshot}); err != nil {
			return err
		}
		w.str(buf.String())
	}
	w.str(m.absSchema)
	w.pos(m.blockPos)
	w.set(m.varsRead)
	w.set(m.envsRead)
	w.str(m.raw)
	w.str(m.rendered)
	w.boolean(m.tmpl != nil)
	w.boolean(m.static)
	w.strs(m.warned)
	if err := w.anyMap(m.fileConfig.values); err != nil {
		return err
	}
	w.posMap(m.fileConfig.pos)
	if m.propConfig.values != nil {
		return errors.New("a model's YAML config layer outlived the load") // merged into Config by applyConfigs
	}
	return nil
}

func (w *wire) column(c *Column) error {
	w.str(c.Name)
	w.str(c.Description)
	w.str(c.DataType)
	w.strs(c.Tags)
	w.optBool(c.Quote)
	return w.anyMap(c.Meta)
}

func (w *wire) config(c *Config) error {
	for _, s := range []string{c.Materialized, c.Schema, c.Alias, c.Database, c.IncrementalStrategy, c.OnSchemaChange, c.Delimiter} {
		w.str(s)
	}
	w.strs(c.Tags)
	w.boolean(c.Enabled)
	w.strs(c.UniqueKey)
	w.optBool(c.FullRefresh)
	w.strs(c.PreHook)
	w.strs(c.PostHook)
	w.count(len(c.ColumnTypes), c.ColumnTypes == nil)
	for k, v := range c.ColumnTypes {
		w.str(k)
		w.str(v)
	}
	if err := w.anyMap(c.Meta); err != nil {
		return err
	}
	if err := w.anyMap(c.Raw); err != nil {
		return err
	}
	w.posMap(c.Where)
	return nil
}

// posMap writes where each key was set.
func (w *wire) posMap(m map[string]Pos) {
	w.count(len(m), m == nil)
	for k, p := range m {
		w.str(k)
		w.pos(p)
	}
}

func (w *wire) test(t *Test) error {
	for _, s := range []string{t.Name, t.Generic, t.Model, t.Column, t.Severity, t.Where, t.WarnIf, t.ErrorIf, t.FailCalc, t.StoreFailuresAs, t.Path, t.rendered} {
		w.str(s)
	}
	w.iv(int64(t.Limit))
	w.boolean(t.StoreFailures)
	w.boolean(t.colExpr)
	w.boolean(t.colQuote)
	w.strs(t.Tags)
	w.pos(t.Pos)
	w.strs(t.DependsOn)
	w.strs(t.SourceDeps)
	w.refs(t.refs)
	w.sourceRefs(t.sources)
	if t.config.values != nil {
		return errors.New("a test's config layer outlived the load")
	}
	return w.anyMap(t.args)
}

// set writes a set of names (every value true).
func (w *wire) set(m map[string]bool) {
	w.count(len(m), m == nil)
	for k := range m {
		w.str(k)
	}
}
