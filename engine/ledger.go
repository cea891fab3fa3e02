package engine

import (
	"context"
	"database/sql"
	"time"
)

// Interval is one entry of the scheduler's ledger: a schedule's window [Start, End), owed
// once End has passed, and where it stands. Its run records its state: running when it
// starts, and done, failed or interrupted in the statement that ends the run.
type Interval struct {
	Schedule string     `json:"schedule"`
	Start    time.Time  `json:"start"`
	End      time.Time  `json:"end"`
	State    string     `json:"state"` // queued, running, done, failed, skipped, interrupted
	Kind     string     `json:"kind"`  // scheduled, catchup or manual
	RunID    string     `json:"run_id,omitempty"`
	Attempts int        `json:"attempts"`
	Queued   *time.Time `json:"queued_at,omitempty"`
	Started  *time.Time `json:"started_at,omitempty"`
	Ended    *time.Time `json:"ended_at,omitempty"`
	Error    string     `json:"error,omitempty"`
}

// Interval states.
const (
	IntervalQueued      = "queued"
	IntervalRunning     = "running"
	IntervalDone        = "done"
	IntervalFailed      = "failed"
	IntervalSkipped     = "skipped"
	IntervalInterrupted = "interrupted"
)

// IntervalKey is the one identity of an interval: schedule@end, the end in RFC 3339.
func IntervalKey(schedule string, end time.Time) string {
	return schedule + "@" + end.UTC().Format(time.RFC3339)
}

// Key is the interval's identity.
func (iv *Interval) Key() string { return IntervalKey(iv.Schedule, iv.End) }

// QueueIntervals records intervals as queued, each once: an interval already in the
// ledger is left as it is, so queueing twice (after a crash, say) never duplicates.
// It returns the intervals it added.
func (w *Warehouse) QueueIntervals(ctx context.Context, ivs []Interval) ([]Interval, error) {
	var added []Interval
	c, err := w.conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	err = c.InTx(ctx, func() error {
		for _, iv := range ivs {
			n, err := c.QueryInt(ctx, `SELECT count(*) FROM _strata.intervals WHERE schedule = ? AND interval_end = ?`, iv.Schedule, iv.End)
			if err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			now := time.Now().UTC()
			state := iv.State
			if state == "" {
				state = IntervalQueued
			}
			if _, err := c.Exec(ctx, `INSERT INTO _strata.intervals (schedule, interval_start, interval_end, state, kind, attempts, queued_at, error)
				VALUES (?, ?, ?, ?, ?, 0, ?, ?)`, iv.Schedule, iv.Start, iv.End, state, iv.Kind, now, nullString(iv.Error)); err != nil {
				return err
			}
			iv.State, iv.Queued = state, &now
			added = append(added, iv)
		}
		return nil
	})
	return added, err
}

// SetInterval sets an interval's state and error (for one the scheduler decides on
// without a run: skipped, or queued again for a retry).
func (w *Warehouse) SetInterval(ctx context.Context, schedule string, end time.Time, state, msg string) error {
	_, err := w.db.ExecContext(ctx, `UPDATE _strata.intervals SET state = ?, error = ? WHERE schedule = ? AND interval_end = ?`,
		state, nullString(sanitize(msg)), schedule, end)
	return err
}

// Intervals lists the ledger, newest first: of one schedule when schedule is set, those
// ending after since when it is not zero.
func (w *Warehouse) Intervals(ctx context.Context, schedule string, since time.Time, limit int) ([]Interval, error) {
	q := `SELECT schedule, interval_start, interval_end, state, coalesce(kind, ''), coalesce(run_id, ''), coalesce(attempts, 0),
		queued_at, started_at, ended_at, coalesce(error, '') FROM _strata.intervals WHERE interval_end > ?`
	args := []any{since}
	if schedule != "" {
		q += ` AND schedule = ?`
		args = append(args, schedule)
	}
	q += ` ORDER BY interval_end DESC, schedule LIMIT ?`
	args = append(args, limit)
	rows, err := w.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Interval{}
	for rows.Next() {
		var iv Interval
		var qd, st, en sql.NullTime
		if err := rows.Scan(&iv.Schedule, &iv.Start, &iv.End, &iv.State, &iv.Kind, &iv.RunID, &iv.Attempts, &qd, &st, &en, &iv.Error); err != nil {
			return nil, err
		}
		iv.Start, iv.End = iv.Start.UTC(), iv.End.UTC()
		iv.Queued, iv.Started, iv.Ended = timePtr(qd), timePtr(st), timePtr(en)
		out = append(out, iv)
	}
	return out, rows.Err()
}

// LatestIntervals returns, for each schedule, the end of its latest interval in the
// ledger, whatever its state: what is owed comes after it.
func (w *Warehouse) LatestIntervals(ctx context.Context) (map[string]time.Time, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT schedule, max(interval_end) FROM _strata.intervals GROUP BY schedule`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var s string
		var t time.Time
		if err := rows.Scan(&s, &t); err != nil {
			return nil, err
		}
		out[s] = t.UTC()
	}
	return out, rows.Err()
}

// UnfinishedIntervals are the intervals queued, running or interrupted: owed work a
// restart picks up again, oldest first.
func (w *Warehouse) UnfinishedIntervals(ctx context.Context) ([]Interval, error) {
	all, err := w.Intervals(ctx, "", time.Time{}, 1<<30)
	if err != nil {
		return nil, err
	}
	var out []Interval
	for i := len(all) - 1; i >= 0; i-- {
		switch all[i].State {
		case IntervalQueued, IntervalRunning, IntervalInterrupted:
			out = append(out, all[i])
		}
	}
	return out, nil
}

// ScheduleState is what the ledger keeps of a schedule itself.
type ScheduleState struct {
	Paused    bool
	FirstSeen time.Time
}

// ScheduleStates reads every schedule's state; a schedule seen for the first time is
// recorded with now as its first sight.
func (w *Warehouse) ScheduleStates(ctx context.Context, names []string, paused map[string]bool, now time.Time) (map[string]ScheduleState, error) {
	out := map[string]ScheduleState{}
	rows, err := w.db.QueryContext(ctx, `SELECT schedule, paused, first_seen FROM _strata.schedule_state`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var s string
		var st ScheduleState
		if err := rows.Scan(&s, &st.Paused, &st.FirstSeen); err != nil {
			rows.Close()
			return nil, err
		}
		st.FirstSeen = st.FirstSeen.UTC()
		out[s] = st
	}
	rows.Close()
	for _, n := range names {
		if _, ok := out[n]; ok {
			continue
		}
		st := ScheduleState{Paused: paused[n], FirstSeen: now.UTC()}
		if _, err := w.db.ExecContext(ctx, `INSERT INTO _strata.schedule_state (schedule, paused, first_seen, updated_at) VALUES (?, ?, ?, ?)`,
			n, st.Paused, st.FirstSeen, now.UTC()); err != nil {
			return nil, err
		}
		out[n] = st
	}
	return out, nil
}

// SetPaused pauses or resumes a schedule, durably.
func (w *Warehouse) SetPaused(ctx context.Context, schedule string, paused bool) error {
	_, err := w.db.ExecContext(ctx, `UPDATE _strata.schedule_state SET paused = ?, updated_at = ? WHERE schedule = ?`, paused, time.Now().UTC(), schedule)
	return err
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
