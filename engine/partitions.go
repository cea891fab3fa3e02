package engine

import (
	"context"
	"database/sql"
	"sort"
	"sync"
	"time"

	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// PartitionRecord is one built partition of a model.
type PartitionRecord struct {
	Start, End  time.Time
	Fingerprint string
	BuiltAt     time.Time
	Rows        int64
	RunID       string
}

// modelParts is one model's built partitions, sorted by start, for binary search and merges.
type modelParts struct {
	starts []int64 // unix seconds
	recs   []PartitionRecord
}

func (mp *modelParts) find(start time.Time) (int, bool) {
	u := start.Unix()
	i := sort.Search(len(mp.starts), func(i int) bool { return mp.starts[i] >= u })
	return i, i < len(mp.starts) && mp.starts[i] == u
}

// PartitionState is every model's built partitions and failed attempts, kept current as a
// run writes. It is safe for concurrent use.
type PartitionState struct {
	mu     sync.RWMutex
	models map[string]*modelParts
	failed map[string]map[int64]failure // model → start → its last attempt's failure, when after the last build
}

// failure is a partition's failed last attempt: its message, and whether it waited (a
// check that did not pass) rather than failed.
type failure struct {
	msg     string
	waiting bool
}

// NewPartitionState returns an empty state.
func NewPartitionState() *PartitionState {
	return &PartitionState{models: map[string]*modelParts{}, failed: map[string]map[int64]failure{}}
}

// Get returns the record of a built partition.
func (s *PartitionState) Get(model string, start time.Time) (PartitionRecord, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mp := s.models[model]
	if mp == nil {
		return PartitionRecord{}, false
	}
	i, ok := mp.find(start)
	if !ok {
		return PartitionRecord{}, false
	}
	return mp.recs[i], true
}

// Put records a built partition, replacing an older build of the same window.
func (s *PartitionState) Put(model string, r PartitionRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mp := s.models[model]
	if mp == nil {
		mp = &modelParts{}
		s.models[model] = mp
	}
	i, ok := mp.find(r.Start)
	if ok {
		mp.recs[i] = r
	} else {
		mp.starts = append(mp.starts, 0)
		mp.recs = append(mp.recs, PartitionRecord{})
		copy(mp.starts[i+1:], mp.starts[i:])
		copy(mp.recs[i+1:], mp.recs[i:])
		mp.starts[i], mp.recs[i] = r.Start.Unix(), r
	}
	if f := s.failed[model]; f != nil {
		delete(f, r.Start.Unix())
	}
}

// remove forgets a partition's build (a group that built it rolled back).
func (s *PartitionState) remove(model string, start time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mp := s.models[model]
	if mp == nil {
		return
	}
	if i, ok := mp.find(start); ok {
		mp.starts = append(mp.starts[:i], mp.starts[i+1:]...)
		mp.recs = append(mp.recs[:i], mp.recs[i+1:]...)
	}
}

// Fail records that a partition's last attempt failed, or with waiting that it waited
// on upstream data or a check.
func (s *PartitionState) Fail(model string, start time.Time, msg string, waiting bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed[model] == nil {
		s.failed[model] = map[int64]failure{}
	}
	s.failed[model][start.Unix()] = failure{msg, waiting}
}

// Failure returns the message of a partition's failed last attempt, if it failed.
func (s *PartitionState) Failure(model string, start time.Time) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	f, ok := s.failed[model][start.Unix()]
	return f.msg, ok
}

// Missing returns the windows of g from from to to (both included) that model has not
// built, by merging the expected starts with the sorted built ones.
func (s *PartitionState) Missing(model string, g models.Granularity, from, to time.Time) []models.Window {
	s.mu.RLock()
	mp := s.models[model]
	var built []int64
	if mp != nil {
		built = mp.starts
	}
	s.mu.RUnlock()
	var out []models.Window
	j := 0
	switch g {
	case models.Hour, models.Day:
		step := int64(3600)
		if g == models.Day {
			step = 86400
		}
		end := to.Unix()
		for u := g.Floor(from).Unix(); u <= end; u += step {
			for j < len(built) && built[j] < u {
				j++
			}
			if j < len(built) && built[j] == u {
				continue
			}
			out = append(out, models.Window{Start: time.Unix(u, 0).UTC(), End: time.Unix(u+step, 0).UTC()})
		}
	default:
		for _, w := range g.Windows(from, to) {
			u := w.Start.Unix()
			for j < len(built) && built[j] < u {
				j++
			}
			if j < len(built) && built[j] == u {
				continue
			}
			out = append(out, w)
		}
	}
	return out
}

// LoadPartitionState reads the built partitions and the failures after them.
func (w *Warehouse) LoadPartitionState(ctx context.Context) (*PartitionState, error) {
	s := NewPartitionState()
	rows, err := w.db.QueryContext(ctx, `SELECT model, partition_start, partition_end, coalesce(fingerprint, ''), built_at, coalesce(rows, 0), coalesce(run_id, '')
		FROM _strata.partitions ORDER BY model, partition_start`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var m string
		var r PartitionRecord
		if err := rows.Scan(&m, &r.Start, &r.End, &r.Fingerprint, &r.BuiltAt, &r.Rows, &r.RunID); err != nil {
			return nil, err
		}
		r.Start, r.End, r.BuiltAt = r.Start.UTC(), r.End.UTC(), r.BuiltAt.UTC()
		mp := s.models[m]
		if mp == nil {
			mp = &modelParts{}
			s.models[m] = mp
		}
		mp.starts = append(mp.starts, r.Start.Unix())
		mp.recs = append(mp.recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	frows, err := w.db.QueryContext(ctx, `SELECT t.node, t.partition_start, arg_max(t.status, t.ended_at), arg_max(coalesce(t.message, ''), t.ended_at), max(t.ended_at)
		FROM _strata.tasks t WHERE t.partition_start IS NOT NULL GROUP BY ALL`)
	if err != nil {
		return nil, err
	}
	defer frows.Close()
	for frows.Next() {
		var m, status, msg string
		var start time.Time
		var ended sql.NullTime
		if err := frows.Scan(&m, &start, &status, &msg, &ended); err != nil {
			return nil, err
		}
		if status == string(StatusError) || status == string(StatusWaiting) {
			if rec, ok := s.Get(m, start.UTC()); !ok || (ended.Valid && ended.Time.After(rec.BuiltAt)) {
				s.Fail(m, start.UTC(), msg, status == string(StatusWaiting))
			}
		}
	}
	return s, frows.Err()
}

// PartitionStatus says where one partition stands.
type PartitionStatus string

// Partition statuses.
const (
	PartDone    PartitionStatus = "done"
	PartMissing PartitionStatus = "missing"
	PartStale   PartitionStatus = "stale"
	PartFailed  PartitionStatus = "failed"
	PartWaiting PartitionStatus = "waiting" // its last attempt waited: upstream data or a check was not there
)

// PartitionInfo is one partition's status with why.
type PartitionInfo struct {
	Model   string           `json:"model"`
	Name    string           `json:"partition"`
	Key     string           `json:"key"` // the task key that builds it
	Start   time.Time        `json:"start"`
	End     time.Time        `json:"end"`
	Window  models.Window    `json:"-"`
	Status  PartitionStatus  `json:"status"`
	Reason  string           `json:"reason,omitempty"`
	Record  *PartitionRecord `json:"-"`
	BuiltAt *time.Time       `json:"built_at,omitempty"`
	RunID   string           `json:"run_id,omitempty"` // the run that built it
	Rows    int64            `json:"rows"`
}

// built fills in what the partition's last build recorded.
func (i *PartitionInfo) built(rec PartitionRecord) {
	i.Record, i.BuiltAt, i.Rows, i.RunID = &rec, &rec.BuiltAt, rec.Rows, rec.RunID
}

// Status tells whether a partition is done, missing, stale (built from an older
// fingerprint, or before an upstream partition it read was rebuilt) or failed.
func (s *PartitionState) Status(g *lineage.Graph, fps map[string]string, model string, w models.Window) PartitionInfo {
	m := g.Node(model).Model
	spec := m.Partition()
	info := PartitionInfo{Model: model, Name: spec.Granularity.Name(w.Start), Key: TaskKey(model, w.Start), Start: w.Start, End: w.End, Window: w}
	rec, ok := s.Get(model, w.Start)
	s.mu.RLock()
	f, failed := s.failed[model][w.Start.Unix()]
	s.mu.RUnlock()
	if failed {
		info.Status, info.Reason = PartFailed, models.FirstLine(f.msg)
		if f.waiting {
			info.Status = PartWaiting
		}
		if ok {
			info.built(rec)
		}
		return info
	}
	if !ok {
		info.Status = PartMissing
		return info
	}
	info.built(rec)
	if fp := fps[model]; fp != "" && rec.Fingerprint != fp {
		info.Status, info.Reason = PartStale, "built from an older version of the model or its upstream (fingerprint "+rec.Fingerprint+", now "+fp+")"
		return info
	}
	for _, pid := range g.Parents(model) {
		pn := g.Node(pid)
		if pn.Model == nil || pn.Model.Partition() == nil {
			continue
		}
		for _, uw := range upstreamWindows(spec, pn.Model.Partition(), w) {
			if ur, ok := s.Get(pid, uw.Start); ok && ur.BuiltAt.After(rec.BuiltAt) {
				info.Status = PartStale
				info.Reason = "upstream " + pid + " " + pn.Model.Partition().Granularity.Name(uw.Start) + " was rebuilt after it"
				return info
			}
		}
	}
	info.Status = PartDone
	return info
}

// upstreamWindows maps a partition to the upstream partitions it reads: those of the
// upstream's grain overlapping the span the partition reads, from the upstream's start.
func upstreamWindows(spec, up *models.PartitionSpec, w models.Window) []models.Window {
	read := spec.ReadWindow(w)
	var out []models.Window
	for s := up.Granularity.Floor(read.Start); s.Before(read.End); s = up.Granularity.Add(s, 1) {
		if s.Before(up.Start) {
			continue
		}
		out = append(out, models.Window{Start: s, End: up.Granularity.Add(s, 1)})
	}
	return out
}

// PartitionSummary is where a partitioned model stands over a range of windows.
type PartitionSummary struct {
	Model       string          `json:"model"`
	Granularity string          `json:"granularity"`
	From        string          `json:"from"`
	To          string          `json:"to"`
	Counts      map[string]int  `json:"counts"`     // by status
	Partitions  []PartitionInfo `json:"partitions"` // the ones not done, or all of them
}

// Summarize reports a partitioned model's windows whose start lies in [from, end): by
// default from the model's start to the latest complete window at now. With all, done
// partitions are listed too; otherwise only those needing work.
func (s *PartitionState) Summarize(g *lineage.Graph, fps map[string]string, model string, from, end, now time.Time, all bool) PartitionSummary {
	spec := g.Node(model).Model.Partition()
	first, stop := spec.Start, spec.Granularity.Floor(now)
	if !from.IsZero() {
		first, stop = spec.Granularity.Floor(from), end
		if first.Before(spec.Start) {
			first = spec.Start
		}
	}
	sum := PartitionSummary{Model: model, Granularity: string(spec.Granularity), From: spec.Granularity.Name(first),
		Counts: map[string]int{string(PartDone): 0, string(PartMissing): 0, string(PartStale): 0, string(PartFailed): 0, string(PartWaiting): 0}, Partitions: []PartitionInfo{}}
	for st := first; st.Before(stop); st = spec.Granularity.Add(st, 1) {
		info := s.Status(g, fps, model, models.Window{Start: st, End: spec.Granularity.Add(st, 1)})
		sum.Counts[string(info.Status)]++
		if all || info.Status != PartDone {
			sum.Partitions = append(sum.Partitions, info)
		}
		sum.To = spec.Granularity.Name(st)
	}
	return sum
}

// Partitions summarizes the selected partitioned models' windows: by default from each
// model's start to its latest complete window at now, or those starting in the range
// from..to (as a user writes them) when given. With all, done partitions are listed too.
// w may be nil: before anything is built every partition is missing.
func Partitions(ctx context.Context, g *lineage.Graph, w *Warehouse, sel, exclude []string, from, to string, all bool, now time.Time) ([]PartitionSummary, error) {
	ids, err := g.Select(sel, exclude)
	if err != nil {
		return nil, err
	}
	var rangeFrom, rangeEnd time.Time
	if from != "" || to != "" {
		if from == "" || to == "" {
			return nil, inputErrorf("from", "give both ends of the range, or neither")
		}
		f, _, end, err := ParseRange(from, to)
		if err != nil {
			return nil, err
		}
		rangeFrom, rangeEnd = f, end
	}
	state := NewPartitionState()
	if w != nil {
		if state, err = w.LoadPartitionState(ctx); err != nil {
			return nil, err
		}
	}
	fps := fingerprints(g)
	out := []PartitionSummary{}
	for _, id := range g.Sorted(ids) {
		if n := g.Node(id); n.Type == lineage.TypeModel && n.Model.Partition() != nil {
			out = append(out, state.Summarize(g, fps, id, rangeFrom, rangeEnd, now, all))
		}
	}
	return out, nil
}
