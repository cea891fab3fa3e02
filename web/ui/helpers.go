package ui

import (
	"github.com/stratadata/strata/web/api"
	"strings"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/scheduler"
)

func jobWhat(j *scheduler.Job) string {
	r := j.Request
	s := string(r.Command)
	if j.Schedule != "" {
		s = j.Schedule + ": " + s
	}
	if len(r.Select) > 0 {
		s += " " + strings.Join(r.Select, " ")
	}
	if r.From != "" {
		s += " " + r.From + " → " + r.To
	}
	return s
}

func joinSel(sel []string) string { return strings.Join(sel, " ") }

func pauseAction(paused bool) string {
	if paused {
		return "resume"
	}
	return "pause"
}

func pauseLabel(paused bool) string {
	if paused {
		return "Resume"
	}
	return "Pause"
}

func waitingText(w engine.Waiting) string {
	return w.Model + " @ " + w.Partition.UTC().Format("2006-01-02 15:04") + ": " + w.Reason
}

type apiColumn = api.ModelColumn

// nodeName is a graph node's ID as the name its page is under.
func nodeName(id string) string { return strings.TrimPrefix(id, "source:") }

func countsOf(s *engine.PartitionSummary) []Count {
	var out []Count
	for _, st := range []string{"done", "missing", "stale", "failed", "waiting"} {
		if n := s.Counts[st]; n > 0 {
			out = append(out, Count{Status: st, N: n})
		}
	}
	return out
}

func freshnessLines(m *api.Model) []string {
	f := m.Freshness
	if f == nil {
		return nil
	}
	var out []string
	if f.WarnAfter > 0 {
		out = append(out, "warn when older than "+f.WarnAfter.String())
	}
	if f.ErrorAfter > 0 {
		out = append(out, "error when older than "+f.ErrorAfter.String())
	}
	return out
}
