package models

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"
)

// Schedule says when strata serve runs a selection: a cron in a time zone, how it
// catches up on what it missed, its priority, limits and retries. It comes from
// strata.yml's schedules: or from a model's schedule config.
type Schedule struct {
	Name          string
	Select        []string
	Cron          string
	Timezone      string        // IANA name; UTC when empty
	Catchup       bool          // run every missed interval, oldest first; else only the latest
	CatchupWindow time.Duration // how far back catch-up reaches; 0 for no bound
	Priority      string        // high, medium or low
	MaxActiveRuns int           // runs of this schedule at once
	Retries       int           // re-runs of a failed interval, with backoff
	RetryDelay    time.Duration // the first backoff; it doubles, with jitter, to a cap
	Overlap       string        // when an interval is due while one runs: queue or skip
	Paused        bool          // starts paused
	Command       string        // run (models, the default), build (models and their tests) or test
	Model         string        // set when the schedule is a model's own (config(schedule=...))
	Pos           Pos

	cron cron.Schedule
	loc  *time.Location
}

// Priorities, from first served to last.
var Priorities = []string{"high", "medium", "low"}

// Next returns the first fire time strictly after t, in UTC. The cron is read in the
// schedule's zone (a DST change moves when it fires); the instants are UTC. A wall time
// that happens twice when the clocks go back fires once, the first time; one that does
// not happen when they go forward does not fire, and the next interval is longer by the
// missing one (its windows are built by that interval: nothing is lost).
func (s *Schedule) Next(t time.Time) time.Time {
	n := s.cron.Next(t.In(s.loc))
	for i := 0; i < 4 && repeatedWallTime(n); i++ {
		n = s.cron.Next(n)
	}
	return n.UTC()
}

// repeatedWallTime reports whether t's wall clock already happened shortly before t:
// the hour repeated when the clocks go back.
func repeatedWallTime(t time.Time) bool {
	_, before := t.Add(-3 * time.Hour).Zone()
	_, now := t.Zone()
	if before <= now {
		return false
	}
	earlier := t.Add(-time.Duration(before-now) * time.Second)
	return earlier.Format("2006-01-02 15:04") == t.Format("2006-01-02 15:04")
}

// Location is the schedule's time zone.
func (s *Schedule) Location() *time.Location { return s.loc }

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// parseCron reads a five-field cron (or @hourly, @daily, …) in a zone.
func parseCron(spec, tz string) (cron.Schedule, *time.Location, error) {
	loc := time.UTC
	if tz != "" {
		var err error
		if loc, err = time.LoadLocation(tz); err != nil {
			return nil, nil, fmt.Errorf("unknown timezone %q: use an IANA name such as Europe/Berlin or Asia/Seoul", tz)
		}
	}
	if f := strings.Fields(spec); len(f) != 5 && !strings.HasPrefix(spec, "@") {
		return nil, nil, fmt.Errorf("bad cron %q: expected 5 fields (minute hour day-of-month month day-of-week), got %d", spec, len(f))
	}
	c, err := cronParser.Parse(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("bad cron %q: %v", spec, err)
	}
	return c, loc, nil
}

var scheduleKeys = []string{"select", "command", "cron", "timezone", "catchup", "catchup_window", "priority", "max_active_runs", "retries", "retry_delay", "overlap", "paused"}

// readSchedules reads strata.yml's schedules: mapping.
func (l *loader) readSchedules(file string, n *yaml.Node) {
	for _, kv := range pairs(n) {
		s := &Schedule{Name: kv.Key, Pos: posOf(file, kv.KeyN)}
		at := func(key string) Pos {
			if v := get(kv.Value, key); v != nil {
				return posOf(file, v)
			}
			return s.Pos
		}
		bad := func(key, format string, args ...any) {
			p := at(key)
			l.add(errorf(p.File, p.Line, p.Col, "schedule %s: field '%s': %s", s.Name, key, fmt.Sprintf(format, args...)))
		}
		if kv.Value.Kind != yaml.MappingNode {
			l.add(errorf(file, kv.KeyN.Line, kv.KeyN.Column, "schedule %s: give it a mapping, e.g. {select: \"tag:hourly+\", cron: \"5 * * * *\"}", s.Name))
			continue
		}
		for _, f := range pairs(kv.Value) {
			if !slices.Contains(scheduleKeys, f.Key) {
				l.add(errorf(file, f.KeyN.Line, f.KeyN.Column, "schedule %s: unknown field %q%s", s.Name, f.Key, didYouMean(f.Key, scheduleKeys)))
			}
		}
		s.Select = toStrings(decode(get(kv.Value, "select")))
		if len(s.Select) == 0 {
			bad("select", "missing: say what the schedule runs, e.g. select: \"tag:hourly+\"")
		}
		s.Cron = scalar(get(kv.Value, "cron"))
		s.Timezone = scalar(get(kv.Value, "timezone"))
		if s.Cron == "" {
			bad("cron", "missing: say when it runs, e.g. cron: \"0 2 * * *\"")
		}
		s.Catchup = boolValue(get(kv.Value, "catchup"), false, func(msg string) { bad("catchup", "%s", msg) })
		s.Paused = boolValue(get(kv.Value, "paused"), false, func(msg string) { bad("paused", "%s", msg) })
		s.CatchupWindow = durationValue(get(kv.Value, "catchup_window"), 0, func(msg string) { bad("catchup_window", "%s", msg) })
		s.RetryDelay = durationValue(get(kv.Value, "retry_delay"), 30*time.Second, func(msg string) { bad("retry_delay", "%s", msg) })
		s.Priority = strings.ToLower(scalar(get(kv.Value, "priority")))
		s.MaxActiveRuns = intValue(get(kv.Value, "max_active_runs"), 1, func(msg string) { bad("max_active_runs", "%s", msg) })
		s.Retries = intValue(get(kv.Value, "retries"), 0, func(msg string) { bad("retries", "%s", msg) })
		s.Overlap = strings.ToLower(scalar(get(kv.Value, "overlap")))
		s.Command = strings.ToLower(scalar(get(kv.Value, "command")))
		l.finishSchedule(s, bad)
	}
}

// finishSchedule fills defaults and validates what every schedule shares.
func (l *loader) finishSchedule(s *Schedule, bad func(key, format string, args ...any)) {
	if s.Priority == "" {
		s.Priority = "medium"
	}
	if !slices.Contains(Priorities, s.Priority) {
		bad("priority", "%q: use high, medium or low", s.Priority)
	}
	if s.Overlap == "" {
		s.Overlap = "queue"
	}
	switch s.Command {
	case "":
		s.Command = "run"
	case "run", "build", "test":
	default:
		bad("command", "%q: use run (models), build (models and their tests) or test", s.Command)
	}
	if s.Overlap != "queue" && s.Overlap != "skip" {
		bad("overlap", "%q: use queue or skip", s.Overlap)
	}
	if s.MaxActiveRuns < 1 {
		bad("max_active_runs", "%d: give at least 1", s.MaxActiveRuns)
	}
	if s.Retries < 0 {
		bad("retries", "%d: give 0 or more", s.Retries)
	}
	if s.Cron != "" {
		c, loc, err := parseCron(s.Cron, s.Timezone)
		if err != nil {
			key := "cron"
			if strings.HasPrefix(err.Error(), "unknown timezone") {
				key = "timezone"
			}
			bad(key, "%v", err)
		} else {
			s.cron, s.loc = c, loc
		}
	}
	if l.p.Schedules == nil {
		l.p.Schedules = map[string]*Schedule{}
	}
	if prev, ok := l.p.Schedules[s.Name]; ok {
		l.add(errorf(s.Pos.File, s.Pos.Line, s.Pos.Col, "schedule %q is also defined at %s:%d; rename one", s.Name, prev.Pos.File, prev.Pos.Line))
		return
	}
	l.p.Schedules[s.Name] = s
}

// modelSchedules turns models' schedule configs into schedules of their own, named
// after the model, and checks their other scheduling configs.
func (l *loader) modelSchedules() {
	for _, name := range l.p.ModelNames() {
		m := l.p.Models[name]
		c := m.Config
		bad := func(key, format string, args ...any) {
			p := c.Where[key]
			if p.File == "" {
				p = Pos{File: m.Path, Line: 1, Col: 1}
			}
			l.add(errorf(p.File, p.Line, p.Col, "model %s: config '%s': %s", m.Name, key, fmt.Sprintf(format, args...)))
		}
		if t := str(c.Raw["trigger"]); t != "" && t != "upstream" && t != "schedule" {
			bad("trigger", "%q: use upstream (run as soon as upstream partitions land) or schedule", t)
		} else if t == "upstream" && m.Partition() == nil {
			bad("trigger", "upstream triggers partitions: give the model materialized='partitioned'")
		}
		if f, ok := c.Raw["freshness"]; ok {
			m.Freshness = parseFreshness(f, func(msg string) { bad("freshness", "%s", msg) })
		}
		spec := str(c.Raw["schedule"])
		if spec == "" {
			continue
		}
		s := &Schedule{Name: m.Name, Select: []string{m.Name}, Cron: spec, Model: m.Name, Pos: c.Where["schedule"],
			Priority: strings.ToLower(str(c.Raw["priority"])), MaxActiveRuns: 1, Overlap: "queue", RetryDelay: 30 * time.Second,
			Catchup: m.Partition() != nil, Timezone: str(c.Raw["timezone"])}
		if s.Pos.File == "" {
			s.Pos = Pos{File: m.Path, Line: 1, Col: 1}
		}
		if v, ok := c.Raw["retries"]; ok {
			n, err := toInt(v)
			if err != nil {
				bad("retries", "%v", err)
			}
			s.Retries = n
		}
		l.finishSchedule(s, func(key, format string, args ...any) {
			if key == "cron" {
				key = "schedule"
			}
			bad(key, format, args...)
		})
	}
}

// Freshness is how late a model may be before it is reported: warn_after, then
// error_after, since its last build (for a partitioned model: since its latest owed
// window closed without being built).
type Freshness struct {
	WarnAfter  time.Duration `json:"warn_after,omitempty"`
	ErrorAfter time.Duration `json:"error_after,omitempty"`
}

func parseFreshness(v any, bad func(string)) *Freshness {
	m, ok := v.(map[string]any)
	if !ok {
		bad("give {warn_after: 2h, error_after: 6h}")
		return nil
	}
	f := &Freshness{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		d, err := parseDuration(str(m[k]))
		switch {
		case k != "warn_after" && k != "error_after":
			bad(fmt.Sprintf("unknown key %q: use warn_after and error_after", k))
		case err != nil:
			bad(fmt.Sprintf("%s: %v", k, err))
		case k == "warn_after":
			f.WarnAfter = d
		default:
			f.ErrorAfter = d
		}
	}
	return f
}

// parseDuration reads 90s, 30m, 2h, 3d (days) or 1w.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			if v, err := strconv.ParseFloat(n, 64); err == nil && v >= 0 {
				return time.Duration(v * float64(unit)), nil
			}
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (use 90s, 30m, 2h or 3d)", s)
	}
	return d, nil
}

func durationValue(n *yaml.Node, def time.Duration, bad func(string)) time.Duration {
	if n == nil {
		return def
	}
	d, err := parseDuration(n.Value)
	if err != nil {
		bad(err.Error())
		return def
	}
	return d
}

func intValue(n *yaml.Node, def int, bad func(string)) int {
	if n == nil {
		return def
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		bad(fmt.Sprintf("%q is not a whole number", n.Value))
		return def
	}
	return v
}

func boolValue(n *yaml.Node, def bool, bad func(string)) bool {
	if n == nil {
		return def
	}
	if b := boolOf(n); b != nil {
		return *b
	}
	bad(fmt.Sprintf("%q: use true or false", n.Value))
	return def
}
