package models

import (
	"strings"
	"testing"
	"time"

	"github.com/stratadata/strata/internal/testproj"
)

func day(s string) time.Time {
	t, err := ParseTime(s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestWindowArithmetic(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		g          Granularity
		at         string
		start, end string
		name       string
	}{
		{Day, "2024-02-28T23", "2024-02-28", "2024-02-29", "2024-02-28"},
		{Day, "2024-02-29T05", "2024-02-29", "2024-03-01", "2024-02-29"}, // leap day
		{Day, "2023-12-31T23", "2023-12-31", "2024-01-01", "2023-12-31"}, // year end
		{Hour, "2024-03-31T23", "2024-03-31T23", "2024-04-01T00", "2024-03-31T23"},
		{Month, "2024-02-15", "2024-02", "2024-03", "2024-02"},
		{Month, "2024-12-31T23", "2024-12", "2025-01", "2024-12"},
		{Month, "2023-01-31", "2023-01", "2023-02", "2023-01"}, // Jan 31 + 1 month is Feb, not March 3
	} {
		w := tc.g.Window(day(tc.at))
		if !w.Start.Equal(day(tc.start)) || !w.End.Equal(day(tc.end)) {
			t.Errorf("%s window of %s = [%s, %s), want [%s, %s)", tc.g, tc.at, w.Start, w.End, tc.start, tc.end)
		}
		if got := tc.g.Name(w.Start); got != tc.name {
			t.Errorf("%s name of %s = %q, want %q", tc.g, tc.at, got, tc.name)
		}
	}
	// windows are contiguous and UTC across DST changes elsewhere (2024-03-10 in the US)
	ws := Hour.Windows(day("2024-03-09T22"), day("2024-03-10T04"))
	if len(ws) != 7 {
		t.Fatalf("7 hourly windows expected, got %d", len(ws))
	}
	for i := 1; i < len(ws); i++ {
		if !ws[i].Start.Equal(ws[i-1].End) || ws[i].End.Sub(ws[i].Start) != time.Hour {
			t.Errorf("window %d not contiguous: %v after %v", i, ws[i], ws[i-1])
		}
	}
	if n := len(Day.Windows(day("2024-01-01"), day("2024-12-31"))); n != 366 {
		t.Errorf("2024 has %d daily windows, want 366", n)
	}
	if n := len(Month.Windows(day("2024-01-31"), day("2024-12-01"))); n != 12 {
		t.Errorf("monthly windows Jan–Dec = %d, want 12", n)
	}
}

func TestDueWindows(t *testing.T) {
	t.Parallel()
	spec := &PartitionSpec{Granularity: Day, Start: day("2024-01-01"), Lookback: 2}
	got := spec.Due(day("2024-03-01T10"))
	var names []string
	for _, w := range got {
		names = append(names, Day.Name(w.Start))
	}
	if strings.Join(names, " ") != "2024-02-27 2024-02-28 2024-02-29" {
		t.Errorf("due windows = %v, want the latest complete day and 2 before it", names)
	}
	if got := (&PartitionSpec{Granularity: Day, Start: day("2024-03-01")}).Due(day("2024-03-01T10")); len(got) != 0 {
		t.Errorf("nothing is due before the first window completes, got %v", got)
	}
}

func TestReadWindow(t *testing.T) {
	t.Parallel()
	spec := &PartitionSpec{Granularity: Day, ReadStart: -6}
	r := spec.ReadWindow(Day.Window(day("2024-03-03")))
	if !r.Start.Equal(day("2024-02-26")) || !r.End.Equal(day("2024-03-04")) {
		t.Errorf("a 7-day window over a leap February reads [%s, %s)", r.Start, r.End)
	}
}

func TestPartitionConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, config, want string
	}{
		{"bad granularity", `partition_by={'column': 'ts', 'granularity': 'week'}, start='2024-01-01'`, `granularity "week" must be hour, day or month`},
		{"no start", `partition_by={'column': 'ts', 'granularity': 'day'}`, `need start='YYYY-MM-DD'`},
		{"bad start", `partition_by={'column': 'ts', 'granularity': 'day'}, start='soon'`, `"soon" is not a date`},
		{"no partition_by", `start='2024-01-01'`, `need partition_by`},
		{"bad window", `partition_by={'column': 'ts'}, start='2024-01-01', window={'start_offset': 1, 'end_offset': 0}`, `window must be`},
		{"bad check", `partition_by={'column': 'ts'}, start='2024-01-01', checks=[{'sqll': 'select 1'}]`, `unknown check key "sqll" (did you mean "sql"?)`},
		{"two kinds in a check", `partition_by={'column': 'ts'}, start='2024-01-01', checks=[{'sql': 'select 1', 'files': 'x'}]`, `exactly one of upstream, sql, files`},
		{"bad timeout", `partition_by={'column': 'ts'}, start='2024-01-01', checks=[{'sql': 'select 1', 'timeout': 'forever'}]`, `is not a duration`},
		{"microbatch without event_time", `materialized='incremental', incremental_strategy='microbatch', begin='2024-01-01'`, `microbatch needs event_time`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.config
			if !strings.Contains(cfg, "materialized=") {
				cfg = "materialized='partitioned', " + cfg
			}
			dir := testproj.Write(t, map[string]string{
				"strata.yml":   "name: p\n",
				"models/m.sql": "\n{{ config(" + cfg + ") }}\nselect 1",
			})
			_, err := Load(dir, Options{})
			if err == nil {
				t.Fatal("loaded without error")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "models/m.sql:2:4:") {
				t.Errorf("error %q should contain %q at models/m.sql:2:4", err, tc.want)
			}
		})
	}
}

func TestMicrobatchIsPartitioned(t *testing.T) {
	t.Parallel()
	dir := testproj.Write(t, map[string]string{
		"strata.yml":    "name: p\n",
		"models/up.sql": "{{ config(event_time='ts') }} select now() as ts",
		"models/m.sql": "{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='ts', batch_size='hour', begin='2024-01-01', lookback=3) }}\n" +
			"select * from {{ ref('up') }}",
	})
	p, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := p.Models["m"]
	spec := m.Partition()
	if m.Kind != KindPartitioned || spec == nil || spec.Granularity != Hour || spec.Column != "ts" || spec.Lookback != 3 || !spec.Start.Equal(day("2024-01-01")) {
		t.Fatalf("microbatch model = %s %+v", m.Kind, spec)
	}
	w := Hour.Window(day("2024-01-05T07"))
	sql, err := p.Compile(m, CompileOptions{Window: &w})
	if err != nil {
		t.Fatal(err)
	}
	want := `(select * from "main"."up" where "ts" >= TIMESTAMP '2024-01-05 07:00:00' and "ts" < TIMESTAMP '2024-01-05 08:00:00')`
	if !strings.Contains(sql, want) {
		t.Errorf("upstream with event_time is not filtered to the batch:\n%s", sql)
	}
}

func TestPartitionVariables(t *testing.T) {
	t.Parallel()
	dir := testproj.Write(t, map[string]string{
		"strata.yml": "name: p\n",
		"models/m.sql": "{{ config(materialized='partitioned', partition_by={'column': 'ts', 'granularity': 'hour'}, start='2024-01-01', depends_on_past=3) }}\n" +
			"{{ partition_start }}|{{ partition_end }}|{{ ds }}|{{ ds_nodash }}|{{ hour }}|{{ window_start }}|{{ window_end }}",
	})
	p, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := Hour.Window(day("2024-03-01T00"))
	got, err := p.Compile(p.Models["m"], CompileOptions{Window: &w})
	if err != nil {
		t.Fatal(err)
	}
	want := "TIMESTAMP '2024-03-01 00:00:00'|TIMESTAMP '2024-03-01 01:00:00'|2024-03-01|20240301|00|TIMESTAMP '2024-02-29 22:00:00'|TIMESTAMP '2024-03-01 01:00:00'"
	if got = strings.TrimSpace(got); got != want {
		t.Errorf("partition variables:\n got %s\nwant %s", got, want)
	}
}
