package engine

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/models"
)

// rawShape is <model>__raw: one row per key, its latest document, whether it is deleted,
// and the source position and time of the event that set it.
const rawShape = `(_key VARCHAR, _key_doc JSON, _doc JSON, _deleted BOOLEAN, _position VARCHAR, _updated_at TIMESTAMP)`

// cdcMerge applies the window's events to <model>__raw in one transaction: the latest
// event per key by source position, deduplicated before MERGE INTO (DuckDB applies
// duplicate source keys silently), and only where it is newer than what is stored — so
// replays, duplicates and snapshot rows that arrive late change nothing. Partial events
// (TOAST placeholders, MongoDB updateDescription) patch the stored document.
func (r *runner) cdcMerge(ctx context.Context, c *duckdb.Conn, t *Task) error {
	p := r.plan.Project
	m := t.node.Model
	s := m.CDC()
	rel := p.Relation(m)
	ext := p.Relation(p.Models[s.ExtractName()])
	if r.w.kind(p.Schema(m), m.Identifier()) != "table" {
		if _, err := c.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+rel+" "+rawShape); err != nil {
			return r.sqlError(t, "", "", err)
		}
		r.w.setKind(p.Schema(m), m.Identifier(), "table")
	}
	win := models.SQLTimestamp(t.Window.Start)
	latest := models.Quote("__strata_cdc_latest")
	fail := func(err error) error { return r.sqlError(t, "", "", err) }
	return r.inTask(ctx, c, t, fail, func() (int64, error) {
		// a truncate (Debezium op t) deletes every key stored before it, and the window's
		// events before it no longer count
		trunc := "(SELECT coalesce(max(_position), '') FROM " + ext + " WHERE _window = " + win + " AND _op = 'truncate')"
		k, err := c.Exec(ctx, "UPDATE "+rel+" SET _deleted = true, _position = "+trunc+" WHERE _position < "+trunc)
		if err != nil {
			return 0, err
		}
		if _, err := c.Exec(ctx, "CREATE OR REPLACE TEMP TABLE "+latest+" AS SELECT * FROM "+ext+
			" WHERE _window = "+win+" AND _op <> 'truncate' AND _position > "+trunc+
			" QUALIFY row_number() OVER (PARTITION BY _key ORDER BY _position DESC) = 1"); err != nil {
			return 0, err
		}
		defer c.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+latest)
		n, err := mergeInto(ctx, c, rel, "(SELECT * FROM "+latest+" WHERE NOT _partial)")
		if err != nil {
			return 0, err
		}
		j, err := r.cdcPatch(ctx, c, s, rel, ext, latest, win, trunc)
		return n + j + k, err
	})
}

// mergeInto applies rows of (key, key_doc, op, position, updated_at, doc) newer than the
// stored ones. A delete keeps the last known document, flagged.
func mergeInto(ctx context.Context, c *duckdb.Conn, rel, src string) (int64, error) {
	return c.Exec(ctx, `MERGE INTO `+rel+` AS t USING `+src+` AS s ON t._key = s._key
WHEN MATCHED AND s._position > t._position THEN UPDATE SET
  _key_doc = s._key_doc,
  _doc = CASE WHEN s._op = 'delete' THEN coalesce(t._doc, s._doc) ELSE s._doc END,
  _deleted = s._op = 'delete', _position = s._position, _updated_at = s._updated_at
WHEN NOT MATCHED THEN INSERT (_key, _key_doc, _doc, _deleted, _position, _updated_at)
  VALUES (s._key, s._key_doc, s._doc, s._op = 'delete', s._position, s._updated_at)`)
}

// cdcPatch folds, for each key whose latest event is partial, the window's events newer
// than the stored one onto the stored document, in position order, and merges the result.
func (r *runner) cdcPatch(ctx context.Context, c *duckdb.Conn, s *models.CDCSpec, rel, ext, latest, win, trunc string) (int64, error) {
	res, err := c.Query(ctx, `SELECT e._key, CAST(e._key_doc AS VARCHAR), e._op, e._position, e._updated_at,
  CAST(e._doc AS VARCHAR), CAST(e._patch AS VARCHAR), e._partial, CAST(r._doc AS VARCHAR), r._deleted
FROM `+ext+` AS e
JOIN (SELECT _key FROM `+latest+` WHERE _partial) AS k ON e._key = k._key
LEFT JOIN `+rel+` AS r ON r._key = e._key
WHERE e._window = `+win+` AND e._position > `+trunc+` AND (r._position IS NULL OR e._position > r._position)
ORDER BY e._key, e._position`, -1)
	if err != nil {
		return 0, err
	}
	if len(res.Rows) == 0 {
		return 0, nil
	}
	tmp := models.Quote("__strata_cdc_patched")
	if _, err := c.Exec(ctx, "CREATE OR REPLACE TEMP TABLE "+tmp+" (_key VARCHAR, _key_doc JSON, _op VARCHAR, _position VARCHAR, _updated_at TIMESTAMP, _doc JSON)"); err != nil {
		return 0, err
	}
	defer c.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+tmp)
	var batch []any
	insert := func() error {
		if len(batch) == 0 {
			return nil
		}
		q := "INSERT INTO " + tmp + " VALUES (?, ?, ?, ?, ?, ?)" + strings.Repeat(", (?, ?, ?, ?, ?, ?)", len(batch)/6-1)
		_, err := c.Exec(ctx, q, batch...)
		batch = batch[:0]
		return err
	}
	flush := func(f *fold) error {
		if f == nil || f.last == nil {
			return nil
		}
		op := "upsert"
		if f.deleted {
			op = "delete"
		}
		var doc any
		if f.doc != nil {
			b, err := marshalDoc(f.doc)
			if err != nil {
				return err
			}
			doc = string(b)
		}
		batch = append(batch, f.key, f.keyDoc, op, f.last.position, f.last.updated, doc)
		if len(batch) >= 6*500 {
			return insert()
		}
		return nil
	}
	var cur *fold
	for _, row := range res.Rows {
		key := str(row[0])
		if cur == nil || cur.key != key {
			if err := flush(cur); err != nil {
				return 0, err
			}
			cur = newFold(key, str(row[1]), str(row[8]), row[9])
		}
		ev := &foldEvent{op: str(row[2]), position: str(row[3]), doc: str(row[5]), patch: str(row[6])}
		ev.partial, _ = row[7].(bool)
		if ts, ok := row[4].(time.Time); ok {
			ev.updated = ts
		}
		if err := cur.apply(ev, s.Format); err != nil {
			return 0, fmt.Errorf("key %s at position %s: %w", key, ev.position, err)
		}
	}
	if err := flush(cur); err != nil {
		return 0, err
	}
	if err := insert(); err != nil {
		return 0, err
	}
	return mergeInto(ctx, c, rel, tmp)
}

func str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case sql.NullString:
		return v.String
	}
	return fmt.Sprint(v)
}
