package engine

import (
	"context"
	"sync"

	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/models"
)

// buildCDC runs one window of one stage of a CDC model: extract, merge or materialize.
// Like every partition, its checks come first (the extract stage's: the window's files
// exist; the others': the stage before has the window) and its state row commits with its
// data. A stage's windows run one at a time, so two windows never race on the same keys.
func (r *runner) buildCDC(ctx context.Context, c *duckdb.Conn, t *Task) error {
	m := t.node.Model
	if ok, err := r.checksPass(ctx, c, t); !ok {
		return err
	}
	mu := r.stageLock(m.Name)
	mu.Lock()
	defer mu.Unlock()
	var err error
	switch m.Kind {
	case models.KindCDCExtract:
		err = r.cdcExtract(ctx, c, t)
	case models.KindCDCMerge:
		err = r.cdcMerge(ctx, c, t)
	default:
		err = r.cdcMaterialize(ctx, c, t)
	}
	if err != nil {
		return err
	}
	r.parts.Put(t.Name, PartitionRecord{Start: t.Window.Start, End: t.Window.End, Fingerprint: t.Fingerprint, BuiltAt: t.Ended, Rows: t.Rows, RunID: r.res.RunID})
	return nil
}

// stageLock is the lock of one CDC stage.
func (r *runner) stageLock(name string) *sync.Mutex {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stages == nil {
		r.stages = map[string]*sync.Mutex{}
	}
	mu := r.stages[name]
	if mu == nil {
		mu = &sync.Mutex{}
		r.stages[name] = mu
	}
	return mu
}
