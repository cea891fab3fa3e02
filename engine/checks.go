package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/models"
)

// checkResult is one partition check's outcome.
type checkResult struct {
	ok     bool
	reason string // why it did not pass
}

// runChecks evaluates a partition's checks, poking failed ones until their timeout. It
// returns "" when all pass, or why the partition must wait; an error means a check itself
// is broken (its SQL fails), which is the task's error, not a wait.
func (r *runner) runChecks(ctx context.Context, conn *duckdb.Conn, t *Task) (string, error) {
	spec := t.partition()
	checks := spec.Checks
	if !spec.ChecksDeclared {
		checks = []models.Check{{Upstream: "all"}}
	}
	start := time.Now()
	for {
		var waiting []string
		var poke time.Duration
		retry := false
		for _, c := range checks {
			res, err := r.check(ctx, conn, t, c)
			if err != nil {
				return "", err
			}
			if res.ok {
				continue
			}
			waiting = append(waiting, res.reason)
			if time.Since(start) < c.Timeout {
				retry = true
				if poke == 0 || c.PokeInterval < poke {
					poke = c.PokeInterval
				}
			}
		}
		if len(waiting) == 0 {
			return "", nil
		}
		if !retry {
			return strings.Join(waiting, "; "), nil
		}
		select {
		case <-r.stop:
			return strings.Join(waiting, "; "), nil
		case <-time.After(poke):
		}
	}
}

func (r *runner) check(ctx context.Context, conn *duckdb.Conn, t *Task, c models.Check) (checkResult, error) {
	p := r.plan.Project
	m := t.node.Model
	switch {
	case c.Upstream != "":
		return r.checkUpstream(t), nil
	case c.SQL != "":
		q, err := p.RenderText(m, c.SQL, t.Window)
		if err != nil {
			return checkResult{}, fmt.Errorf("check sql: %w", err)
		}
		row, err := conn.QueryRow(ctx, q)
		if err != nil {
			return checkResult{}, &SQLError{Node: t.Label(), Path: t.Path, Err: err, Msg: fmt.Sprintf("check sql %q: %s", oneLine(q), cleanMessage(err))}
		}
		v := row[0]
		if truthyValue(v) {
			return checkResult{ok: true}, nil
		}
		return checkResult{reason: fmt.Sprintf("check sql returned %v: %s", v, oneLine(q))}, nil
	default:
		glob, err := p.RenderText(m, c.Files, t.Window)
		if err != nil {
			return checkResult{}, fmt.Errorf("check files: %w", err)
		}
		pattern := glob
		if !filepath.IsAbs(pattern) {
			pattern = filepath.Join(p.Dir, pattern)
		}
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return checkResult{}, fmt.Errorf("check files %q: %w", glob, err)
		}
		if len(matches) == 0 {
			return checkResult{reason: "no files match " + glob}, nil
		}
		return checkResult{ok: true}, nil
	}
}

// checkUpstream checks that every upstream partition the task reads is built, and that
// unpartitioned upstream models exist.
func (r *runner) checkUpstream(t *Task) checkResult {
	g := r.plan.Graph
	spec := t.partition()
	var missing []string
	for _, pid := range g.Parents(t.node.ID) {
		pn := g.Node(pid)
		if pn.Model == nil || pn.Model.Kind == models.KindEphemeral {
			continue
		}
		up := pn.Model.Partition()
		if up == nil {
			if r.w.kind(r.plan.Project.Schema(pn.Model), pn.Model.Identifier()) == "" {
				missing = append(missing, pid+" (not built)")
			}
			continue
		}
		var gone []string
		wins := upstreamWindows(spec, up, *t.Window)
		for _, uw := range wins {
			if _, ok := r.parts.Get(pid, uw.Start); !ok {
				gone = append(gone, up.Granularity.Name(uw.Start))
			}
		}
		if len(gone) > 0 {
			list := strings.Join(gone, ", ")
			if len(gone) > 4 {
				list = strings.Join(gone[:3], ", ") + ", …"
			}
			missing = append(missing, fmt.Sprintf("%s %s (%d of %d missing)", pid, list, len(gone), len(wins)))
		}
	}
	if len(missing) == 0 {
		return checkResult{ok: true}
	}
	return checkResult{reason: "upstream partitions missing: " + strings.Join(missing, "; ")}
}

func truthyValue(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case int64:
		return v != 0
	case int32:
		return v != 0
	case float64:
		return v != 0
	case string:
		return v != "" && v != "0" && !strings.EqualFold(v, "false")
	case nil:
		return false
	}
	return fmt.Sprint(v) != "0"
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
