package models

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"math"
	"time"
)

// unwire reads what wire wrote, from src (the cache's bytes as one string, so that
// every string read is a slice of it). A short or malformed input sets err; every read
// after that returns zero values.
type unwire struct {
	src string
	i   int
	err error
}

var errWire = errors.New("the parse cache is malformed")

func (u *unwire) fail() {
	if u.err == nil {
		u.err = errWire
	}
	u.i = len(u.src)
}

func (u *unwire) uv() uint64 {
	var x uint64
	var s uint
	for n := 0; ; n++ {
		if u.i >= len(u.src) || n == binary.MaxVarintLen64 {
			u.fail()
			return 0
		}
		b := u.src[u.i]
		u.i++
		if b < 0x80 {
			return x | uint64(b)<<s
		}
		x |= uint64(b&0x7f) << s
		s += 7
	}
}

func (u *unwire) iv() int64 {
	ux := u.uv()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (u *unwire) int() int { return int(u.iv()) }

func (u *unwire) str() string {
	n := u.uv()
	if n > uint64(len(u.src)-u.i) {
		u.fail()
		return ""
	}
	s := u.src[u.i : u.i+int(n)]
	u.i += int(n)
	return s
}

func (u *unwire) boolean() bool {
	if u.i >= len(u.src) {
		u.fail()
		return false
	}
	b := u.src[u.i]
	u.i++
	return b == 1
}

// count reads a length written by wire.count: -1 for nil.
func (u *unwire) count() int {
	n := u.uv()
	if n > uint64(len(u.src)-u.i)+1 { // every element takes a byte at least
		u.fail()
		return -1
	}
	return int(n) - 1
}

func (u *unwire) strs() []string {
	n := u.count()
	if n < 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = u.str()
	}
	return out
}

func (u *unwire) pos() Pos { return Pos{File: u.str(), Line: u.int(), Col: u.int()} }

func (u *unwire) optBool() *bool {
	switch u.uv() {
	case 0:
		return nil
	case 1:
		b := false
		return &b
	}
	b := true
	return &b
}

func (u *unwire) anyv(depth int) any {
	if depth > 100 {
		u.fail()
		return nil
	}
	switch u.uv() {
	case tagNil:
		return nil
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagInt:
		return u.int()
	case tagInt64:
		return u.iv()
	case tagUint64:
		return u.uv()
	case tagFloat:
		return math.Float64frombits(u.uv())
	case tagString:
		return u.str()
	case tagList:
		n := u.count()
		if n < 0 {
			return []any(nil)
		}
		out := make([]any, n)
		for i := range out {
			out[i] = u.anyv(depth + 1)
		}
		return out
	case tagMap:
		return u.anyMap(depth + 1)
	case tagStrings:
		return u.strs()
	case tagTime:
		var t time.Time
		if t.UnmarshalBinary([]byte(u.str())) != nil {
			u.fail()
		}
		return t
	}
	u.fail()
	return nil
}

func (u *unwire) anyMap(depth int) map[string]any {
	n := u.count()
	if n < 0 {
		return nil
	}
	m := make(map[string]any, n)
	for range n {
		k := u.str()
		m[k] = u.anyv(depth)
	}
	return m
}

func (u *unwire) refs() []Ref {
	n := u.count()
	if n < 0 {
		return nil
	}
	out := make([]Ref, n)
	for i := range out {
		out[i] = Ref{Name: u.str(), Pos: u.pos()}
	}
	return out
}

func (u *unwire) sourceRefs() []SourceRef {
	n := u.count()
	if n < 0 {
		return nil
	}
	out := make([]SourceRef, n)
	for i := range out {
		out[i] = SourceRef{Source: u.str(), Table: u.str(), Pos: u.pos()}
	}
	return out
}

// model reads a model; template says it had a parsed template (parsed again by the
// caller).
func (u *unwire) model() (m *Model, template bool) {
	m = &Model{Name: u.str(), Kind: Kind(u.str()), Path: u.str(), Description: u.str(), Package: u.str()}
	if n := u.count(); n >= 0 {
		m.Columns = make([]*Column, n)
		for i := range m.Columns {
			m.Columns[i] = u.column()
		}
	}
	u.config(&m.Config)
	if u.boolean() {
		p := u.pos()
		m.Patch = &p
	}
	if u.boolean() {
		m.Freshness = &Freshness{WarnAfter: time.Duration(u.iv()), ErrorAfter: time.Duration(u.iv())}
	}
	m.Refs, m.Sources = u.refs(), u.sourceRefs()
	m.DependsOn, m.SourceDeps = u.strs(), u.strs()
	if u.boolean() {
		var r rare
		if gob.NewDecoder(bytes.NewReader([]byte(u.str()))).Decode(&r) != nil {
			u.fail()
		}
		m.partition, m.cdc, m.snapshot = r.Partition, r.CDC, r.Snapshot
	}
	m.absSchema = u.str()
	m.blockPos = u.pos()
	m.varsRead, m.envsRead = u.set(), u.set()
	m.raw, m.rendered = u.str(), u.str()
	template = u.boolean()
	m.static = u.boolean()
	m.warned = u.strs()
	m.fileConfig.values, m.fileConfig.pos = u.anyMap(0), u.posMap()
	return m, template
}

// set reads what wire.set wrote.
func (u *unwire) set() map[string]bool {
	n := u.count()
	if n < 0 {
		return nil
	}
	m := make(map[string]bool, n)
	for range n {
		m[u.str()] = true
	}
	return m
}

func (u *unwire) column() *Column {
	c := &Column{Name: u.str(), Description: u.str(), DataType: u.str(), Tags: u.strs(), Quote: u.optBool()}
	c.Meta = u.anyMap(0)
	return c
}

func (u *unwire) config(c *Config) {
	c.Materialized, c.Schema, c.Alias, c.Database = u.str(), u.str(), u.str(), u.str()
	c.IncrementalStrategy, c.OnSchemaChange, c.Delimiter = u.str(), u.str(), u.str()
	c.Tags = u.strs()
	c.Enabled = u.boolean()
	c.UniqueKey = u.strs()
	c.FullRefresh = u.optBool()
	c.PreHook, c.PostHook = u.strs(), u.strs()
	if n := u.count(); n >= 0 {
		c.ColumnTypes = make(map[string]string, n)
		for range n {
			k := u.str()
			c.ColumnTypes[k] = u.str()
		}
	}
	c.Meta = u.anyMap(0)
	c.Raw = u.anyMap(0)
	c.Where = u.posMap()
}

// posMap reads what wire.posMap wrote.
func (u *unwire) posMap() map[string]Pos {
	n := u.count()
	if n < 0 {
		return nil
	}
	m := make(map[string]Pos, n)
	for range n {
		k := u.str()
		m[k] = u.pos()
	}
	return m
}

func (u *unwire) test() *Test {
	t := &Test{Name: u.str(), Generic: u.str(), Model: u.str(), Column: u.str(), Severity: u.str(), Where: u.str(),
		WarnIf: u.str(), ErrorIf: u.str(), FailCalc: u.str(), StoreFailuresAs: u.str(), Path: u.str(), rendered: u.str()}
	t.Limit = u.int()
	t.StoreFailures, t.colExpr, t.colQuote = u.boolean(), u.boolean(), u.boolean()
	t.Tags = u.strs()
	t.Pos = u.pos()
	t.DependsOn, t.SourceDeps = u.strs(), u.strs()
	t.refs, t.sources = u.refs(), u.sourceRefs()
	t.args = u.anyMap(0)
	return t
}
