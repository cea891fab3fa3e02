package engine

import (
	"context"
	"database/sql"
	"time"

	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// MissingUpstream lists what a partition reads that is not there: upstream partitions
// not built (as "model partition") and unpartitioned upstream models never built (by the
// state's record of them). It is empty when the partition could run now.
func (s *PartitionState) MissingUpstream(g *lineage.Graph, built map[string]bool, model string, w models.Window) []string {
	spec := g.Node(model).Model.Partition()
	var out []string
	for _, pid := range g.Inputs(model) {
		pn := g.Node(pid)
		if pn.Model == nil {
			continue // a source: its checks say whether its data is there
		}
		up := pn.Model.Partition()
		if up == nil {
			if built != nil && !built[pid] {
				out = append(out, pid+" (never built)")
			}
			continue
		}
		for _, uw := range upstreamWindows(spec, up, w) {
			if _, ok := s.Get(pid, uw.Start); !ok {
				out = append(out, pid+" "+up.Granularity.Name(uw.Start))
			}
		}
	}
	return out
}

// Ready returns the windows of a partitioned model, starting in [from, to), that are
// missing and whose upstream is all there: what an upstream trigger runs. Windows whose
// last attempt failed or waited are left out unless retryFailed.
func (s *PartitionState) Ready(g *lineage.Graph, built map[string]bool, model string, from, to time.Time, retryFailed bool) []models.Window {
	spec := g.Node(model).Model.Partition()
	if from.Before(spec.Start) {
		from = spec.Start
	}
	last := spec.Granularity.Add(spec.Granularity.Floor(to), -1) // the latest closed window
	if last.Before(from) {
		return nil
	}
	var out []models.Window
	for _, w := range s.Missing(model, spec.Granularity, from, last) {
		if !w.End.After(to) && (retryFailed || !s.failedAt(model, w.Start)) && len(s.MissingUpstream(g, built, model, w)) == 0 {
			out = append(out, w)
		}
	}
	return out
}

func (s *PartitionState) failedAt(model string, start time.Time) bool {
	_, failed := s.Failure(model, start)
	return failed
}

// BuiltModels reads which models and seeds have ever been built, by node ID.
func (w *Warehouse) BuiltModels(ctx context.Context) (map[string]bool, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT DISTINCT node FROM _strata.tasks WHERE status = 'success'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[n] = true
	}
	return out, rows.Err()
}

// Explanation says where one partition stands and why: its status and reason, what it
// still waits on upstream, and its latest attempt.
type Explanation struct {
	PartitionInfo
	MissingUpstream []string    `json:"missing_upstream"`
	LastAttempt     *TaskRecord `json:"last_attempt,omitempty"`
}

// Explain explains one partition of a model.
func (w *Warehouse) Explain(ctx context.Context, g *lineage.Graph, model string, start time.Time) (*Explanation, error) {
	n := g.Node(model)
	if n == nil || n.Model == nil || n.Model.Partition() == nil {
		return nil, inputErrorf("partition", "%s is not a partitioned model", model)
	}
	spec := n.Model.Partition()
	st := spec.Granularity.Floor(start)
	if st.Before(spec.Start) {
		return nil, inputErrorf("partition", "%s starts at %s; %s is before it", model, spec.Granularity.Name(spec.Start), spec.Granularity.Name(st))
	}
	state, err := w.LoadPartitionState(ctx)
	if err != nil {
		return nil, err
	}
	built, err := w.BuiltModels(ctx)
	if err != nil {
		return nil, err
	}
	win := models.Window{Start: st, End: spec.Granularity.Add(st, 1)}
	ex := &Explanation{PartitionInfo: state.Status(g, fingerprints(g), model, win)}
	ex.MissingUpstream = state.MissingUpstream(g, built, model, win)
	if ex.MissingUpstream == nil {
		ex.MissingUpstream = []string{}
	}
	rows, err := w.db.QueryContext(ctx, `SELECT run_id, node, resource, coalesce(materialized, ''), status, started_at, ended_at,
		coalesce(rows_affected, 0), coalesce(fingerprint, ''), coalesce(relation, ''), coalesce(message, ''), coalesce(attempts, 0)
		FROM _strata.tasks WHERE node = ? AND partition_start = ? ORDER BY ended_at DESC LIMIT 1`, model, st)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if rows.Next() {
		var t TaskRecord
		var runID string
		var s, e sql.NullTime
		if err := rows.Scan(&runID, &t.Node, &t.Resource, &t.Materialized, &t.Status, &s, &e, &t.Rows, &t.Fingerprint, &t.Relation, &t.Message, &t.Attempts); err != nil {
			return nil, err
		}
		t.Started, t.Ended, t.RunID = timePtr(s), timePtr(e), runID
		t.Partition = &st
		ex.LastAttempt = &t
	}
	return ex, rows.Err()
}

// LastBuilt returns when each unpartitioned model or seed was last built, by node.
func (w *Warehouse) LastBuilt(ctx context.Context) (map[string]time.Time, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT node, built_at FROM _strata.model_state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var n string
		var t time.Time
		if err := rows.Scan(&n, &t); err != nil {
			return nil, err
		}
		out[n] = t.UTC()
	}
	return out, rows.Err()
}

// Waiting is a partition whose latest attempt waited: on upstream partitions or a check.
type Waiting struct {
	Model     string    `json:"model"`
	Partition time.Time `json:"partition_start"`
	Reason    string    `json:"reason"`
	Since     time.Time `json:"since"`
	RunID     string    `json:"run_id"`
}

// WaitingPartitions lists the partitions whose latest attempt waited, newest first.
func (w *Warehouse) WaitingPartitions(ctx context.Context, limit int) ([]Waiting, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT node, partition_start, message, ended_at, run_id FROM (
			SELECT node, partition_start, arg_max(status, ended_at) AS status, arg_max(coalesce(message, ''), ended_at) AS message,
				max(ended_at) AS ended_at, arg_max(run_id, ended_at) AS run_id
			FROM _strata.tasks WHERE partition_start IS NOT NULL GROUP BY node, partition_start)
		WHERE status = 'waiting_upstream' ORDER BY ended_at DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Waiting{}
	for rows.Next() {
		var x Waiting
		if err := rows.Scan(&x.Model, &x.Partition, &x.Reason, &x.Since, &x.RunID); err != nil {
			return nil, err
		}
		x.Partition, x.Since = x.Partition.UTC(), x.Since.UTC()
		out = append(out, x)
	}
	return out, rows.Err()
}
