package engine

import (
	"context"
	"database/sql"
	"time"
)

// NodeState is where a node's latest task left it: the status of its latest task that
// ran (an error, a success, a wait), and when it last succeeded.
type NodeState struct {
	Status  string     `json:"status"`
	Ended   *time.Time `json:"ended_at,omitempty"`
	Message string     `json:"message,omitempty"`
	LastOK  *time.Time `json:"last_success,omitempty"`
	RunID   string     `json:"run_id,omitempty"`
}

// NodeStates reads every node's latest task in one query, for the lineage diagram's
// colours. Skipped tasks and cancelled ones don't count: they did not build or fail.
func (w *Warehouse) NodeStates(ctx context.Context) (map[string]NodeState, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT node, arg_max(status, ended_at), max(ended_at),
		arg_max(coalesce(message, ''), ended_at), max(ended_at) FILTER (WHERE status = 'success'), arg_max(run_id, ended_at)
		FROM _strata.tasks WHERE ended_at IS NOT NULL AND status NOT IN ('skipped', 'cancelled')
		GROUP BY node`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]NodeState{}
	for rows.Next() {
		var node string
		var st NodeState
		var ended, ok sql.NullTime
		if err := rows.Scan(&node, &st.Status, &ended, &st.Message, &ok, &st.RunID); err != nil {
			return nil, err
		}
		if ended.Valid {
			st.Ended = &ended.Time
		}
		if ok.Valid {
			st.LastOK = &ok.Time
		}
		out[node] = st
	}
	return out, rows.Err()
}
