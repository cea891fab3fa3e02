package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// DefaultMaxTasks is the most tasks a backfill plans unless told otherwise: a range of
// centuries of hours would otherwise plan millions of tasks and exhaust memory.
const DefaultMaxTasks = 100_000

// ParseRange reads a range's two ends: each names a partition as a user reads it
// (2024-01-01, 2024-01-01T03, 2024-01), and the range includes both, to the end of what
// to names. It returns from, to, and the end of the range.
func ParseRange(from, to string) (time.Time, time.Time, time.Time, error) {
	f, err := models.ParseTime(from)
	if err != nil {
		return time.Time{}, time.Time{}, time.Time{}, inputErrorf("from", "%v", err)
	}
	t, err := models.ParseTime(to)
	if err != nil {
		return time.Time{}, time.Time{}, time.Time{}, inputErrorf("to", "%v", err)
	}
	var end time.Time
	switch len(strings.TrimSpace(to)) {
	case len("2006-01"):
		end = t.AddDate(0, 1, 0)
	case len("2006-01-02"):
		end = t.AddDate(0, 0, 1)
	case len("2006-01-02T15"):
		end = t.Add(time.Hour)
	default:
		end = t.Add(time.Second)
	}
	if !f.Before(end) {
		return time.Time{}, time.Time{}, time.Time{}, inputErrorf("from", "the range starts at %s, after its end %s", from, to)
	}
	return f, t, end, nil
}

// selectedModels are the models a backfill's selection names, in graph order.
func selectedModels(g *lineage.Graph, opts BackfillOptions) []*models.Model {
	ids, err := g.Select(opts.Select, opts.Exclude)
	if err != nil {
		return nil
	}
	var out []*models.Model
	for _, id := range g.Sorted(ids) {
		if n := g.Node(id); n.Type == lineage.TypeModel && n.Model.Kind != models.KindEphemeral {
			out = append(out, n.Model)
		}
	}
	return out
}

// checkSize refuses a backfill that would plan more than max tasks, counting windows
// without making them.
func checkSize(g *lineage.Graph, opts BackfillOptions, max int) error {
	total, biggest, most := 0, "", 0
	for _, m := range selectedModels(g, opts) {
		n := 1
		if spec := m.Partition(); spec != nil {
			from := spec.Granularity.Floor(opts.From)
			if from.Before(spec.Start) {
				from = spec.Start
			}
			n = countWindows(spec.Granularity, from, opts.ToEnd, max+1)
		}
		total += n
		if n > most {
			biggest, most = m.Name, n
		}
		if total > max {
			count := fmt.Sprint(most)
			if most > max {
				count = fmt.Sprintf("more than %d", max)
			}
			return inputErrorf("to", "the range %s to %s is more than %d tasks (%s alone has %s partitions in it): backfill a shorter range, or raise the task cap",
				opts.From.Format(time.DateOnly), opts.To.Format(time.DateOnly), max, biggest, count)
		}
	}
	return nil
}

// countWindows counts the windows of g starting in [from, end), up to limit.
func countWindows(g models.Granularity, from, end time.Time, limit int) int {
	if !from.Before(end) {
		return 0
	}
	secs := end.Unix() - from.Unix() // not end.Sub: a Duration overflows past 292 years
	switch g {
	case models.Hour:
		return int(min((secs+3599)/3600, int64(limit)))
	case models.Day:
		return int(min((secs+86399)/86400, int64(limit)))
	}
	n := 0
	for s := from; s.Before(end) && n < limit; s = g.Add(s, 1) {
		n++
	}
	return n
}

// emptyBackfill explains a backfill with nothing in it: a selection of no models, or a
// range wholly before the models' starts.
func emptyBackfill(g *lineage.Graph, opts BackfillOptions) error {
	sel := strings.Join(opts.Select, " ")
	var early []string
	for _, m := range selectedModels(g, opts) {
		if spec := m.Partition(); spec != nil && !opts.ToEnd.After(spec.Start) {
			early = append(early, fmt.Sprintf("%s starts at %s", m.Name, spec.Granularity.Name(spec.Start)))
		}
	}
	if len(early) > 0 {
		return inputErrorf("to", "the range %s to %s ends before the models' first partition: %s",
			opts.From.Format(time.DateOnly), opts.To.Format(time.DateOnly), strings.Join(early, ", "))
	}
	return inputErrorf("select", "the selection %q has no models to backfill", sel)
}
