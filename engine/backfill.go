package engine

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// Reprocess modes: which already-attempted partitions a backfill runs again.
const (
	ReprocessDefault = ""        // everything not done: missing, stale and failed
	ReprocessFailed  = "failed"  // only partitions whose last attempt failed
	ReprocessMissing = "missing" // only partitions never built
	ReprocessStale   = "stale"   // only partitions built from an older model or upstream
	ReprocessAll     = "all"     // everything, like --force
)

// BackfillOptions say what a backfill covers.
type BackfillOptions struct {
	Select    []string  `json:"select"`
	Exclude   []string  `json:"exclude,omitempty"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"` // the start of the last partition named, as the user wrote it
	ToEnd     time.Time `json:"to_end"`
	Force     bool      `json:"force,omitempty"`
	Reprocess string    `json:"reprocess,omitempty"`
	MaxTasks  int       `json:"-"` // the most tasks to plan; DefaultMaxTasks when 0
}

// Backfill is a durable run over a date range: recorded when it starts, every task's state
// written as it changes, resumable after any crash.
type Backfill struct {
	ID      string
	Options BackfillOptions
	Status  string
	Created time.Time
	Resumed bool // an earlier, unfinished backfill is being continued

	done map[string]bool // task IDs done by this backfill already
	seen map[string]bool // task IDs recorded in _strata.backfill_tasks
}

// PlanBackfill plans a backfill: the selected models' partitions whose start lies in the
// range, in dependency and time order, minus those already done (unless forced). With
// resume set, it continues that backfill; otherwise an unfinished backfill asking for the
// same thing is continued, so rerunning the same command finishes the job. A range of
// more than maxTasks tasks (DefaultMaxTasks when 0) is refused before any is planned.
func PlanBackfill(ctx context.Context, w *Warehouse, g *lineage.Graph, opts BackfillOptions, resume string) (*Plan, error) {
	switch opts.Reprocess {
	case ReprocessDefault, ReprocessFailed, ReprocessMissing, ReprocessStale, ReprocessAll:
	default:
		return nil, inputErrorf("reprocess", "%q: use failed, missing, stale or all", opts.Reprocess)
	}
	maxTasks := opts.MaxTasks
	bf, err := w.findBackfill(ctx, opts, resume)
	if err != nil {
		return nil, err
	}
	opts = bf.Options
	if maxTasks == 0 {
		maxTasks = DefaultMaxTasks
	}
	if err := checkSize(g, opts, maxTasks); err != nil {
		return nil, err
	}
	state, err := w.LoadPartitionState(ctx)
	if err != nil {
		return nil, err
	}
	fps := fingerprints(g)
	windows := func(m *models.Model) []models.Window {
		spec := m.Partition()
		from := spec.Granularity.Floor(opts.From)
		if from.Before(spec.Start) {
			from = spec.Start
		}
		var out []models.Window
		for s := from; s.Before(opts.ToEnd); s = spec.Granularity.Add(s, 1) {
			out = append(out, models.Window{Start: s, End: spec.Granularity.Add(s, 1)})
		}
		return out
	}
	keep := func(t *Task) string {
		if bf.done[t.Key()] {
			return "done in this backfill"
		}
		if t.Window == nil || opts.Force || opts.Reprocess == ReprocessAll {
			return ""
		}
		info := state.Status(g, fps, t.node.ID, *t.Window)
		switch opts.Reprocess {
		case ReprocessFailed, ReprocessMissing, ReprocessStale:
			if string(info.Status) != opts.Reprocess {
				return fmt.Sprintf("%s, not %s", info.Status, opts.Reprocess)
			}
			return ""
		}
		if info.Status == PartDone {
			return "already done (built " + info.Record.BuiltAt.Format("2006-01-02 15:04:05") + ", fingerprint current)"
		}
		return ""
	}
	plan, err := newPlan(g, PlanOptions{Command: CommandRun, Select: opts.Select, Exclude: opts.Exclude}, windows, keep)
	if err != nil {
		return nil, err
	}
	plan.Backfill = bf
	plan.Selector = strings.Join(opts.Select, " ") + excludeText(opts.Exclude)
	plan.parts = state
	if len(plan.Tasks)+len(plan.Skipped) == 0 {
		return nil, emptyBackfill(g, opts)
	}
	return plan, nil
}

// findBackfill returns the backfill to continue (by ID, or an unfinished one asking for
// the same thing), or a new one.
func (w *Warehouse) findBackfill(ctx context.Context, opts BackfillOptions, resume string) (*Backfill, error) {
	if resume == "" {
		id, err := w.unfinishedBackfill(ctx, opts)
		if err != nil {
			return nil, err
		}
		if id == "" {
			b := make([]byte, 3)
			_, _ = rand.Read(b)
			now := time.Now().UTC()
			return &Backfill{ID: "bf-" + now.Format("20060102-150405") + "-" + hex.EncodeToString(b), Options: opts,
				Status: "new", Created: now, done: map[string]bool{}, seen: map[string]bool{}}, nil
		}
		resume = id
	}
	bf := &Backfill{ID: resume, Resumed: true, done: map[string]bool{}, seen: map[string]bool{}}
	var optJSON string
	err := w.db.QueryRowContext(ctx, `SELECT options, status, created_at FROM _strata.backfills WHERE backfill_id = ?`, resume).
		Scan(&optJSON, &bf.Status, &bf.Created)
	if err == sql.ErrNoRows {
		return nil, inputErrorf("resume", "no backfill %q", resume)
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(optJSON), &bf.Options); err != nil {
		return nil, fmt.Errorf("backfill %s: bad options: %w", resume, err)
	}
	rows, err := w.db.QueryContext(ctx, `SELECT node, partition_start, status FROM (`+backfillTaskState+`)`, resume)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var node, status string
		var start sql.NullTime
		if err := rows.Scan(&node, &start, &status); err != nil {
			return nil, err
		}
		id := TaskKey(node, start.Time)
		bf.seen[id] = true
		if status == string(StatusSuccess) {
			bf.done[id] = true
		}
	}
	return bf, rows.Err()
}

// unfinishedBackfill finds the latest unfinished backfill whose stored options mean the
// same as opts: the same selection (in any order), range and reprocessing, however the
// JSON was written.
func (w *Warehouse) unfinishedBackfill(ctx context.Context, opts BackfillOptions) (string, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT backfill_id, options FROM _strata.backfills WHERE status <> 'success' ORDER BY created_at DESC`)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	for rows.Next() {
		var id, raw string
		if err := rows.Scan(&id, &raw); err != nil {
			return "", err
		}
		var stored BackfillOptions
		if json.Unmarshal([]byte(raw), &stored) == nil && stored.sameAs(opts) {
			return id, nil
		}
	}
	return "", rows.Err()
}

// sameAs reports whether two backfills ask for the same thing.
func (o BackfillOptions) sameAs(p BackfillOptions) bool {
	set := func(xs []string) string {
		ys := slices.Clone(xs)
		slices.Sort(ys)
		return strings.Join(slices.Compact(ys), "\x00")
	}
	reprocess := func(b BackfillOptions) string {
		if b.Force {
			return ReprocessAll
		}
		return b.Reprocess
	}
	return set(o.Select) == set(p.Select) && set(o.Exclude) == set(p.Exclude) &&
		o.From.Equal(p.From) && o.ToEnd.Equal(p.ToEnd) && reprocess(o) == reprocess(p)
}

// startBackfill records the backfill and the tasks it plans before any runs.
func (w *Warehouse) startBackfill(ctx context.Context, plan *Plan) error {
	bf := plan.Backfill
	now := time.Now().UTC()
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !bf.Resumed {
		key, _ := json.Marshal(bf.Options)
		if _, err := tx.ExecContext(ctx, `INSERT INTO _strata.backfills (backfill_id, selector, from_ts, to_ts, options, status,
			created_at, updated_at, tasks_total, tasks_done, tasks_failed, tasks_waiting, runs) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, 0, 0, 0, 0)`,
			bf.ID, plan.Selector, bf.Options.From, bf.Options.To, string(key), now, now, len(plan.Tasks)); err != nil {
			return err
		}
	} else if _, err := tx.ExecContext(ctx, `UPDATE _strata.backfills SET status = 'running', updated_at = ? WHERE backfill_id = ?`, now, bf.ID); err != nil {
		return err
	}
	var vals []string
	var args []any
	flush := func() error {
		if len(vals) == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO _strata.backfill_tasks (backfill_id, node, partition_start) VALUES "+strings.Join(vals, ", "), args...)
		vals, args = vals[:0], args[:0]
		return err
	}
	for _, t := range plan.Tasks {
		if bf.seen[t.Key()] {
			continue
		}
		var start any
		if t.Window != nil {
			start = t.Window.Start
		}
		vals = append(vals, "(?, ?, ?)")
		args = append(args, bf.ID, t.Name, start)
		if len(vals) == 500 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return tx.Commit()
}

// backfillTaskState is each planned task of a backfill with the outcome of its latest
// attempt in the backfill's runs (pending when none).
const backfillTaskState = `
	SELECT bt.node, bt.partition_start,
		coalesce(arg_max(t.status, t.ended_at), 'pending') AS status,
		coalesce(sum(t.attempts), 0)::INTEGER AS attempts,
		coalesce(arg_max(t.message, t.ended_at), '') AS message,
		max(t.ended_at) AS updated_at
	FROM _strata.backfill_tasks bt
	LEFT JOIN (
		SELECT t.* FROM _strata.tasks t JOIN _strata.runs r USING (run_id) WHERE r.backfill_id = $1
	) t ON t.node = bt.node AND t.partition_start IS NOT DISTINCT FROM bt.partition_start
	WHERE bt.backfill_id = $1
	GROUP BY bt.node, bt.partition_start`

// endBackfill writes the backfill's outcome and counts.
func (w *Warehouse) endBackfill(ctx context.Context, bf *Backfill, res *Result) error {
	var total, done, failed, waiting int
	err := w.db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (status = 'success'),
		count(*) FILTER (status IN ('error', 'skipped')), count(*) FILTER (status = 'waiting_upstream')
		FROM (`+backfillTaskState+`)`, bf.ID).Scan(&total, &done, &failed, &waiting)
	if err != nil {
		return err
	}
	status := "success"
	switch {
	case res.Status == "cancelled":
		status = "interrupted"
	case failed > 0:
		status = "failed"
	case waiting > 0:
		status = "waiting"
	case done < total:
		status = "incomplete"
	}
	bf.Status = status
	_, err = w.db.ExecContext(ctx, `UPDATE _strata.backfills SET status = ?, updated_at = ?, tasks_total = ?, tasks_done = ?,
		tasks_failed = ?, tasks_waiting = ?, runs = coalesce(runs, 0) + 1 WHERE backfill_id = ?`,
		status, time.Now().UTC(), total, done, failed, waiting, bf.ID)
	return err
}

// BackfillRecord is a backfill as listed by `strata backfills`.
type BackfillRecord struct {
	ID       string          `json:"backfill_id"`
	Selector string          `json:"selector"`
	From     time.Time       `json:"from"`
	To       time.Time       `json:"to"`
	Status   string          `json:"status"`
	Created  time.Time       `json:"created_at"`
	Updated  time.Time       `json:"updated_at"`
	Total    int             `json:"tasks_total"`
	Done     int             `json:"tasks_done"`
	Failed   int             `json:"tasks_failed"`
	Waiting  int             `json:"tasks_waiting"`
	Runs     int             `json:"runs"`
	Options  json.RawMessage `json:"options"` // what was asked: selection, range, reprocessing
}

// Backfills lists backfills, newest first. A backfill still marked running when the
// warehouse could be opened was cut off (only one process writes at a time): it is
// reported as interrupted.
func (w *Warehouse) Backfills(ctx context.Context, id string) ([]BackfillRecord, error) {
	q := `SELECT backfill_id, selector, from_ts, to_ts, status, created_at, updated_at, coalesce(tasks_total, 0),
		coalesce(tasks_done, 0), coalesce(tasks_failed, 0), coalesce(tasks_waiting, 0), coalesce(runs, 0), options FROM _strata.backfills`
	var args []any
	if id != "" {
		q += ` WHERE backfill_id = ? OR backfill_id LIKE ?`
		args = append(args, id, id+"%")
	}
	rows, err := w.db.QueryContext(ctx, q+` ORDER BY created_at DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []BackfillRecord{}
	for rows.Next() {
		var b BackfillRecord
		var opts string
		if err := rows.Scan(&b.ID, &b.Selector, &b.From, &b.To, &b.Status, &b.Created, &b.Updated, &b.Total, &b.Done, &b.Failed, &b.Waiting, &b.Runs, &opts); err != nil {
			return nil, err
		}
		if b.Options = json.RawMessage(opts); !json.Valid(b.Options) {
			b.Options = json.RawMessage("{}")
		}
		if b.Status == "running" {
			b.Status = "interrupted"
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// BackfillTask is one task of a backfill as recorded.
type BackfillTask struct {
	Key       string     `json:"key"`
	Node      string     `json:"node"`
	Partition *time.Time `json:"partition_start,omitempty"`
	Status    string     `json:"status"`
	Attempts  int        `json:"attempts"`
	Message   string     `json:"message,omitempty"`
	Updated   *time.Time `json:"updated_at,omitempty"`
}

// BackfillTasks returns a backfill's tasks in partition order.
func (w *Warehouse) BackfillTasks(ctx context.Context, id string) ([]BackfillTask, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT node, partition_start, status, attempts, message, updated_at
		FROM (`+backfillTaskState+`) ORDER BY partition_start NULLS LAST, node`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []BackfillTask{}
	for rows.Next() {
		var t BackfillTask
		var p, u sql.NullTime
		if err := rows.Scan(&t.Node, &p, &t.Status, &t.Attempts, &t.Message, &u); err != nil {
			return nil, err
		}
		if u.Valid {
			t.Updated = &u.Time
		}
		if p.Valid {
			pt := p.Time.UTC()
			t.Partition = &pt
		}
		t.Key = TaskKey(t.Node, p.Time)
		out = append(out, t)
	}
	return out, rows.Err()
}
