package models

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Granularity is the width of a partition window.
type Granularity string

// The granularities a partitioned model can have.
const (
	Hour  Granularity = "hour"
	Day   Granularity = "day"
	Month Granularity = "month"
)

// Window is a half-open time window [Start, End) in UTC.
type Window struct {
	Start, End time.Time
}

// Floor returns the start of the window of g holding t.
func (g Granularity) Floor(t time.Time) time.Time {
	t = t.UTC()
	switch g {
	case Hour:
		return t.Truncate(time.Hour)
	case Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Add moves a window start by n windows of g.
func (g Granularity) Add(t time.Time, n int) time.Time {
	switch g {
	case Hour:
		return t.Add(time.Duration(n) * time.Hour)
	case Month:
		return t.AddDate(0, n, 0)
	}
	return t.AddDate(0, 0, n)
}

// Window returns the window of g holding t.
func (g Granularity) Window(t time.Time) Window {
	s := g.Floor(t)
	return Window{Start: s, End: g.Add(s, 1)}
}

// Windows returns the windows of g from the one holding from to the one holding to, both
// included.
func (g Granularity) Windows(from, to time.Time) []Window {
	var out []Window
	for s := g.Floor(from); !s.After(to); s = g.Add(s, 1) {
		out = append(out, Window{Start: s, End: g.Add(s, 1)})
	}
	return out
}

// Name is how users write a partition: 2024-05-01T03, 2024-05-01, 2024-05.
func (g Granularity) Name(t time.Time) string {
	switch g {
	case Hour:
		return t.UTC().Format("2006-01-02T15")
	case Month:
		return t.UTC().Format("2006-01")
	}
	return t.UTC().Format("2006-01-02")
}

// Valid reports whether g is one of hour, day, month.
func (g Granularity) Valid() bool { return g == Hour || g == Day || g == Month }

var timeLayouts = []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15", "2006-01-02", "2006-01"}

// ParseTime reads a partition name or timestamp as UTC: 2024-05-01, 2024-05-01T03, 2024-05,
// 2024-05-01 03:00:00.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date or time (use 2024-05-01, 2024-05-01T03 or 2024-05)", s)
}

// SQLTimestamp renders t as a DuckDB timestamp literal.
func SQLTimestamp(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05") + "'"
}

// Check is a condition that must hold before a partition runs.
type Check struct {
	Upstream     string        // "all": every mapped upstream partition is built
	SQL          string        // a query (Jinja, rendered per partition) returning one true value
	Files        string        // a glob (Jinja) relative to the project folder; at least one file
	Timeout      time.Duration // keep poking until then; 0 checks once
	PokeInterval time.Duration
}

// Describe says what a check checks, for messages.
func (c Check) Describe() string {
	switch {
	case c.Upstream != "":
		return "upstream partitions present"
	case c.SQL != "":
		return "sql: " + c.SQL
	}
	return "files: " + c.Files
}

// PartitionSpec says how a partitioned model is cut into windows and what each window needs.
type PartitionSpec struct {
	Column      string
	Granularity Granularity
	Start       time.Time
	Lookback    int // re-run the last N windows with the latest one
	// Reads is the span of upstream time a window reads, in windows of this model relative
	// to it: {0, 0} reads the window itself; {-6, 0} the window and the 6 before it.
	ReadStart, ReadEnd int
	Checks             []Check
	// ChecksDeclared is false when the model says nothing of checks: then upstream
	// partitions are checked, as {'upstream': 'all'} would.
	ChecksDeclared bool
}

// Partition returns a partitioned model's spec, or nil for other kinds.
func (m *Model) Partition() *PartitionSpec { return m.partition }

// parsePartition reads a partitioned (or dbt microbatch) model's config into its spec.
func parsePartition(m *Model) (*PartitionSpec, Errors) {
	c := &m.Config
	var errs Errors
	bad := func(key, format string, args ...any) {
		p, ok := c.Where[key]
		if !ok {
			p = Pos{File: m.Path}
		}
		errs = append(errs, errorf(p.File, p.Line, p.Col, "model %q: %s", m.Name, fmt.Sprintf(format, args...)))
	}
	spec := &PartitionSpec{Granularity: Day}
	if c.Materialized == "incremental" { // dbt microbatch
		spec.Column = str(c.Raw["event_time"])
		if g := str(c.Raw["batch_size"]); g != "" {
			spec.Granularity = Granularity(g)
		}
		spec.Lookback = 1
		if spec.Column == "" {
			bad("incremental_strategy", "microbatch needs event_time: the timestamp column batches are cut on")
		}
		if s := str(c.Raw["begin"]); s != "" {
			c.Raw["start"] = s
			if p, ok := c.Where["begin"]; ok {
				c.Where["start"] = p
			}
		}
	} else {
		switch pb := c.Raw["partition_by"].(type) {
		case map[string]any:
			spec.Column = str(pb["column"])
			if g := str(pb["granularity"]); g != "" {
				spec.Granularity = Granularity(g)
			}
		case string:
			spec.Column = pb
		case nil:
			bad("materialized", "partitioned models need partition_by={'column': ..., 'granularity': 'day'}")
		default:
			bad("partition_by", "partition_by must be {'column': ..., 'granularity': hour|day|month}")
		}
		if spec.Column == "" && len(errs) == 0 {
			bad("partition_by", "partition_by needs a column")
		}
	}
	if !spec.Granularity.Valid() {
		key := "partition_by"
		if c.Materialized == "incremental" {
			key = "batch_size"
		}
		bad(key, "granularity %q must be hour, day or month", spec.Granularity)
	}
	if s, ok := c.Raw["start"]; ok {
		t, err := toTime(s)
		if err != nil {
			bad("start", "start: %v", err)
		}
		spec.Start = spec.Granularity.Floor(t)
	} else {
		bad("materialized", "partitioned models need start='YYYY-MM-DD': the first partition")
	}
	if v, ok := c.Raw["lookback"]; ok {
		n, err := toInt(v)
		if err != nil || n < 0 {
			bad("lookback", "lookback must be a whole number ≥ 0, not %v", v)
		}
		spec.Lookback = n
	}
	if v, ok := c.Raw["depends_on_past"]; ok {
		n, err := toInt(v)
		if err != nil || n < 1 {
			bad("depends_on_past", "depends_on_past must be the number of windows read (≥ 1), not %v", v)
		}
		spec.ReadStart = -(n - 1)
	}
	if v, ok := c.Raw["window"]; ok {
		w, isMap := v.(map[string]any)
		so, err1 := toInt(w["start_offset"])
		eo, err2 := toInt(w["end_offset"])
		if !isMap || err1 != nil || err2 != nil || so > eo {
			bad("window", "window must be {start_offset: N, end_offset: M} with N ≤ M (windows relative to the partition)")
		}
		spec.ReadStart, spec.ReadEnd = so, eo
	}
	if v, ok := c.Raw["checks"]; ok {
		spec.ChecksDeclared = true
		list, isList := v.([]any)
		if !isList {
			bad("checks", "checks must be a list like [{'upstream': 'all'}, {'sql': '...'}, {'files': '...'}]")
		}
		for _, item := range list {
			ch, err := parseCheck(item)
			if err != nil {
				bad("checks", "%v", err)
				continue
			}
			spec.Checks = append(spec.Checks, ch)
		}
	}
	return spec, errs
}

func parseCheck(v any) (Check, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Check{}, fmt.Errorf("a check is a mapping like {'upstream': 'all'}, not %v", v)
	}
	var c Check
	n := 0
	for k, x := range m {
		var err error
		switch k {
		case "upstream":
			c.Upstream, n = str(x), n+1
			if c.Upstream != "all" {
				return c, fmt.Errorf("check upstream: %q: only 'all' is supported", c.Upstream)
			}
		case "sql":
			c.SQL, n = str(x), n+1
		case "files":
			c.Files, n = str(x), n+1
		case "timeout":
			c.Timeout, err = toDuration(x)
		case "poke_interval":
			c.PokeInterval, err = toDuration(x)
		default:
			return c, fmt.Errorf("unknown check key %q%s", k, didYouMean(k, []string{"upstream", "sql", "files", "timeout", "poke_interval"}))
		}
		if err != nil {
			return c, fmt.Errorf("check %s: %v", k, err)
		}
	}
	if n != 1 {
		return c, fmt.Errorf("a check has exactly one of upstream, sql, files")
	}
	if c.PokeInterval == 0 {
		c.PokeInterval = min(30*time.Second, max(c.Timeout/10, time.Second))
	}
	return c, nil
}

func toInt(v any) (int, error) {
	switch v := v.(type) {
	case int:
		return v, nil
	case int64:
		return int(v), nil
	case float64:
		if v == float64(int(v)) {
			return int(v), nil
		}
	case string:
		return strconv.Atoi(v)
	}
	return 0, fmt.Errorf("not a whole number: %v", v)
}

func toTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case time.Time:
		return v.UTC(), nil
	case string:
		return ParseTime(v)
	}
	return ParseTime(fmt.Sprint(v))
}

// toDuration reads seconds (a number) or a Go duration ("90s", "5m").
func toDuration(v any) (time.Duration, error) {
	switch v := v.(type) {
	case int, int64, float64:
		f, _ := strconv.ParseFloat(fmt.Sprint(v), 64)
		return time.Duration(f * float64(time.Second)), nil
	case string:
		if d, err := time.ParseDuration(v); err == nil {
			return d, nil
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return time.Duration(f * float64(time.Second)), nil
		}
	}
	return 0, fmt.Errorf("%v is not a duration (seconds, or like 90s, 5m)", v)
}

// ReadWindow is the span of time a partition reads: its window widened by ReadStart and
// ReadEnd windows.
func (s *PartitionSpec) ReadWindow(w Window) Window {
	return Window{Start: s.Granularity.Add(w.Start, s.ReadStart), End: s.Granularity.Add(w.End, s.ReadEnd)}
}

// Due returns the windows a plain run builds at now: the latest complete window and the
// lookback windows before it, never before Start.
func (s *PartitionSpec) Due(now time.Time) []Window {
	last := s.Granularity.Add(s.Granularity.Floor(now), -1)
	first := s.Granularity.Add(last, -s.Lookback)
	if first.Before(s.Start) {
		first = s.Start
	}
	if last.Before(first) {
		return nil
	}
	return s.Granularity.Windows(first, last)
}

// Closed returns the windows that closed during [from, to) — those whose end lies in
// (from, to] — with the spec's lookback before the first of them, from its start on.
// Consecutive intervals of a schedule thus build each window once, whatever their grain.
func (s *PartitionSpec) Closed(from, to time.Time) []Window {
	g := s.Granularity
	first := g.Floor(from)
	if !g.Add(first, 1).After(from) {
		first = g.Add(first, 1)
	}
	var out []Window
	for st := first; !g.Add(st, 1).After(to); st = g.Add(st, 1) {
		out = append(out, Window{Start: st, End: g.Add(st, 1)})
	}
	if len(out) == 0 {
		return nil
	}
	for i := 0; i < s.Lookback; i++ {
		st := g.Add(out[0].Start, -1)
		out = append([]Window{{Start: st, End: g.Add(st, 1)}}, out...)
	}
	for len(out) > 0 && out[0].Start.Before(s.Start) {
		out = out[1:]
	}
	return out
}
