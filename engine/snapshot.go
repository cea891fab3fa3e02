package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/stratadata/strata/internal/duckdb"
	"github.com/stratadata/strata/models"
)

// snapshot records a dbt snapshot's new history (type-2: a row per version of each key,
// valid from … to) inside the task's transaction, so a killed snapshot leaves the history
// as it was and a rerun with the same source changes nothing. It follows dbt's snapshot
// semantics: the timestamp strategy compares updated_at with the current row's valid_from,
// the check strategy compares check_cols; hard deletes are ignored, invalidated, or
// recorded as a new row.
func (r *runner) snapshot(ctx context.Context, c *duckdb.Conn, t *Task, rel, existing string, q, head *string) (int64, error) {
	p := r.plan.Project
	m := t.node.Model
	s := m.Snapshot()
	var err error
	if *q, err = p.Compile(m, models.CompileOptions{Live: liveConn(ctx, c), Flags: r.flags()}); err != nil {
		return 0, err
	}
	mc := s.Meta
	at := time.Now().UTC().Format("2006-01-02 15:04:05.000000")
	now := "TIMESTAMP '" + at + "'" // the run's time, in UTC
	upd := now
	if s.UpdatedAt != "" { // the timestamp strategy's column; the check strategy's too, when set
		upd = s.UpdatedAt
	}
	var keyCols, keyOn, keyNames []string
	for i, k := range s.UniqueKey {
		name := fmt.Sprintf("__strata_key_%d", i+1)
		keyNames = append(keyNames, name)
		keyCols = append(keyCols, "("+k+") AS "+name)
		keyOn = append(keyOn, "a."+name+" = b."+name)
	}
	on := strings.Join(keyOn, " AND ")
	src := models.Quote("__strata_snapshot_source")
	*head = "CREATE OR REPLACE TEMP TABLE " + src + " AS SELECT *, " + strings.Join(keyCols, ", ") + ", (" + upd + ") AS __strata_updated_at FROM (\n"
	if _, err := c.Exec(ctx, *head+*q+"\n) AS dbt_snapshot_source"); err != nil {
		return 0, r.sqlError(t, *q, *head, err)
	}
	defer c.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+src)
	*head = ""
	dup, err := c.QueryRow(ctx, "SELECT count(*), any_value(CAST("+keyNames[0]+" AS VARCHAR)) FROM (SELECT "+strings.Join(keyNames, ", ")+" FROM "+src+" GROUP BY ALL HAVING count(*) > 1)")
	if err != nil {
		return 0, err
	}
	if n, _ := duckdb.Int64(dup[0]); n > 0 {
		return 0, inputErrorf("unique_key", "snapshot %s: unique_key %s is not unique in its source: %d keys appear more than once (%v is one); a snapshot needs one row per key", m.Name, strings.Join(s.UniqueKey, ", "), n, dup[1])
	}
	srcCols, err := columns(ctx, c, "temp", "main", "__strata_snapshot_source")
	if err != nil {
		return 0, err
	}
	// the run's time as the history's time columns have it: an instant for TIMESTAMPTZ
	for _, col := range srcCols {
		if col.name == "__strata_updated_at" && strings.Contains(strings.ToUpper(col.typ), "TIME ZONE") {
			now = "TIMESTAMPTZ '" + at + "+00'"
		}
	}
	var data []string // the source's own columns
	for _, col := range srcCols {
		if !strings.HasPrefix(col.name, "__strata_") {
			data = append(data, col.name)
		}
	}
	hash := func(alias string) string {
		var parts []string
		for _, k := range keyNames {
			parts = append(parts, "coalesce(CAST("+alias+"."+k+" AS VARCHAR), '')")
		}
		parts = append(parts, "coalesce(CAST("+alias+".__strata_updated_at AS VARCHAR), '')")
		return "md5(" + strings.Join(parts, " || '|' || ") + ")"
	}
	validTo := "nullif(__strata_updated_at, __strata_updated_at)"
	if s.ValidToCurrent != "" {
		validTo = "coalesce(" + validTo + ", " + s.ValidToCurrent + ")"
	}
	newRows := func(from string, deleted string) string {
		sel := "SELECT " + quoteList("a.", data) + ", " + hash("a") + " AS " + models.Quote(mc.SCDID) +
			", a.__strata_updated_at AS " + models.Quote(mc.UpdatedAt) + ", a.__strata_updated_at AS " + models.Quote(mc.ValidFrom) +
			", " + strings.ReplaceAll(validTo, "__strata_updated_at", "a.__strata_updated_at") + " AS " + models.Quote(mc.ValidTo)
		if s.HardDeletes == "new_record" {
			sel += ", " + deleted + " AS " + models.Quote(mc.IsDeleted)
		}
		return sel + " FROM " + from + " AS a"
	}
	if existing != "table" {
		if existing == "view" {
			if _, err := c.Exec(ctx, "DROP VIEW "+rel); err != nil {
				return 0, err
			}
		}
		return c.QueryInt(ctx, "CREATE TABLE "+rel+" AS "+newRows(src, "'False'"))
	}
	// columns the source gained since the last run join the history
	old, err := columns(ctx, c, "", p.Schema(m), m.Identifier())
	if err != nil {
		return 0, err
	}
	var shared []string
	added := false
	for _, col := range srcCols {
		if strings.HasPrefix(col.name, "__strata_") {
			continue
		}
		if containsFold(old, col.name) {
			shared = append(shared, col.name)
			continue
		}
		if _, err := c.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", rel, models.Quote(col.name), col.typ)); err != nil {
			return 0, err
		}
		added = true
	}
	if s.HardDeletes == "new_record" && !containsFold(old, mc.IsDeleted) {
		// switched to new_record: the history gains its deletion flag
		if _, err := c.Exec(ctx, "ALTER TABLE "+rel+" ADD COLUMN "+models.Quote(mc.IsDeleted)+" VARCHAR"); err != nil {
			return 0, err
		}
	}
	currentOn := func(alias string) string {
		col := models.Quote(mc.ValidTo)
		if alias != "" {
			col = alias + "." + col
		}
		if s.ValidToCurrent != "" {
			return "(" + col + " IS NULL OR " + col + " = " + s.ValidToCurrent + ")"
		}
		return col + " IS NULL"
	}
	current := currentOn("")
	isDeleted := "false"
	if s.HardDeletes == "new_record" {
		isDeleted = "coalesce(b." + models.Quote(mc.IsDeleted) + " = 'True', false)"
	}
	cur := models.Quote("__strata_snapshot_current")
	if _, err := c.Exec(ctx, "CREATE OR REPLACE TEMP TABLE "+cur+" AS SELECT *, "+strings.Join(keyCols, ", ")+" FROM "+rel+" WHERE "+current); err != nil {
		return 0, err
	}
	defer c.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+cur)
	var changed string
	if s.Strategy == "timestamp" {
		changed = "a.__strata_updated_at > b." + models.Quote(mc.ValidFrom)
	} else {
		cols := s.CheckCols
		if s.CheckAll {
			cols = shared
		}
		var diffs []string
		for _, col := range cols {
			diffs = append(diffs, "a."+models.Quote(col)+" IS DISTINCT FROM b."+models.Quote(col))
		}
		changed = "(" + strings.Join(diffs, " OR ") + ")"
		if s.CheckAll && added {
			changed = "true" // a new column changes every row, as dbt's check_cols: all has it
		}
	}
	// what changes, decided before anything is written: keys with a newer version (or
	// back after a recorded delete), keys new to the history, keys gone from the source
	ins := models.Quote("__strata_snapshot_insert")
	if _, err := c.Exec(ctx, "CREATE OR REPLACE TEMP TABLE "+ins+" AS SELECT a.*, b."+models.Quote(mc.SCDID)+" IS NOT NULL AS __strata_closes, "+isDeleted+" AS __strata_was_deleted FROM "+src+
		" AS a LEFT JOIN "+cur+" AS b ON "+on+" WHERE b."+models.Quote(mc.SCDID)+" IS NULL OR "+changed+" OR "+isDeleted); err != nil {
		return 0, err
	}
	defer c.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+ins)
	gone := models.Quote("__strata_snapshot_gone")
	if s.HardDeletes != "ignore" {
		if _, err := c.Exec(ctx, "CREATE OR REPLACE TEMP TABLE "+gone+" AS SELECT b.* FROM "+cur+" AS b WHERE NOT "+isDeleted+
			" AND NOT EXISTS (SELECT 1 FROM "+src+" AS a WHERE "+on+")"); err != nil {
			return 0, err
		}
		defer c.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+gone)
	}
	var n int64
	// close the current versions of changed keys: at the new version's updated_at (the
	// timestamp strategy) or now (check), and at now for a recorded delete being undone
	// (a current version is found by its dbt_scd_id, unique per key and version)
	scd := models.Quote(mc.SCDID)
	closeAt := "CASE WHEN a.__strata_was_deleted THEN " + now + " ELSE a.__strata_updated_at END"
	k, err := c.Exec(ctx, "UPDATE "+rel+" AS t SET "+models.Quote(mc.ValidTo)+" = z.closed_at FROM (SELECT b."+scd+" AS scd, "+closeAt+
		" AS closed_at FROM "+ins+" AS a JOIN "+cur+" AS b ON "+on+" WHERE a.__strata_closes) AS z WHERE t."+scd+" = z.scd AND "+currentOn("t"))
	if err != nil {
		return 0, err
	}
	n += k
	k, err = c.Exec(ctx, "INSERT INTO "+rel+" BY NAME "+newRows(ins, "'False'"))
	if err != nil {
		return 0, err
	}
	n += k
	if s.HardDeletes != "ignore" {
		k, err := c.Exec(ctx, "UPDATE "+rel+" AS t SET "+models.Quote(mc.ValidTo)+" = "+now+" WHERE t."+scd+" IN (SELECT "+scd+" FROM "+gone+") AND "+currentOn("t"))
		if err != nil {
			return 0, err
		}
		n += k
		if s.HardDeletes == "new_record" {
			del := "SELECT " + quoteList("b.", shared) + ", md5(" + keyConcat(keyNames, "b") + " || '|' || CAST(" + now + " AS VARCHAR)) AS " + models.Quote(mc.SCDID) +
				", " + now + " AS " + models.Quote(mc.UpdatedAt) + ", " + now + " AS " + models.Quote(mc.ValidFrom) +
				", " + strings.ReplaceAll(validTo, "__strata_updated_at", now) + " AS " + models.Quote(mc.ValidTo) + ", 'True' AS " + models.Quote(mc.IsDeleted) +
				" FROM " + gone + " AS b"
			k, err := c.Exec(ctx, "INSERT INTO "+rel+" BY NAME "+del)
			if err != nil {
				return 0, err
			}
			n += k
		}
	}
	return n, nil
}

func quoteList(prefix string, cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = prefix + models.Quote(c)
	}
	return strings.Join(out, ", ")
}

func keyConcat(keys []string, alias string) string {
	var parts []string
	for _, k := range keys {
		parts = append(parts, "coalesce(CAST("+alias+"."+k+" AS VARCHAR), '')")
	}
	return strings.Join(parts, " || '|' || ")
}
