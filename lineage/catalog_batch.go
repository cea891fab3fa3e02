package lineage

import (
	"context"

	"github.com/stratadata/strata/internal/duckdb"
)

// The shadow catalog creates its models' empty tables in batches (duckdb.ExecBatch): one
// call to the driver for many CREATE TABLE … LIMIT 0 instead of one each, which on 10,000
// models is most of `strata check`'s time. A batch that fails is rolled back and its
// statements run again one at a time, in order, so that every error is the one a model's
// statement gives alone and what is downstream of it is skipped as before.

// batchSize is how many models' tables one call creates: past a few dozen the calls cost
// nothing more, and a failed batch runs fewer statements twice.
const batchSize = 64

// pendingCreate is a model's CREATE TABLE waiting for its batch.
type pendingCreate struct {
	n       *Node
	head, q string // the statement is head + q + "\n) LIMIT 0"
}

func (pc pendingCreate) stmt() string { return pc.head + pc.q + "\n) LIMIT 0" }

// create queues a model's table, or creates it now when its text cannot share a batch.
func (s *shadow) create(ctx context.Context, pc pendingCreate) {
	if !duckdb.Whole(pc.stmt()) {
		s.flush(ctx)
		s.createAlone(ctx, pc)
		return
	}
	s.pending = append(s.pending, pc)
	if len(s.pending) >= batchSize {
		s.flush(ctx)
	}
}

// flush creates the queued tables.
func (s *shadow) flush(ctx context.Context) {
	batch := s.pending
	s.pending = nil
	if len(batch) == 0 {
		return
	}
	stmts := make([]string, len(batch))
	for i, pc := range batch {
		stmts[i] = pc.stmt()
	}
	if s.conn.ExecBatch(ctx, stmts) == nil {
		return
	}
	for _, pc := range batch {
		s.createAlone(ctx, pc)
	}
}

// createAlone runs one model's statement by itself, unless a model it reads failed.
func (s *shadow) createAlone(ctx context.Context, pc pendingCreate) {
	if s.upstreamFailed(pc.n) {
		delete(s.sqls, pc.n.ID)
		return
	}
	if err := s.exec(ctx, pc.stmt()); err != nil {
		s.fail(pc.n, s.placeError(pc.n, pc.q, pc.head, err))
	}
}

// upstreamFailed marks a node failed, with a note saying why, when a node it reads failed.
func (s *shadow) upstreamFailed(n *Node) bool {
	for _, pid := range s.g.Parents(n.ID) {
		if s.failed[pid] {
			s.failed[n.ID] = true
			if s.missing[pid] {
				s.missing[n.ID] = true
				if pn := s.g.Node(pid); pn.Type == TypeSource {
					s.note(n.ID, "not checked: it reads "+pn.Name+", which is not in the warehouse yet")
				} else {
					s.note(n.ID, "not checked: it reads "+pn.Name+", which reads a source not in the warehouse yet")
				}
			} else {
				s.note(n.ID, "not checked: upstream "+s.g.Node(pid).Name+" has errors")
			}
			return true
		}
	}
	return false
}
