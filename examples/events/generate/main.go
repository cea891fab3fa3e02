// Command generate writes the events example's landing files: one NDJSON file per day
// under landing/events/dt=YYYY-MM-DD/, as an app's event export would.
//
//	go run ./examples/events/generate -from 2024-01-01 -to 2024-01-31
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"time"
)

func main() {
	from := flag.String("from", "2024-01-01", "first day")
	to := flag.String("to", "2024-01-31", "last day, included")
	dir := flag.String("dir", "", "project folder (default: the events example next to this program)")
	perDay := flag.Int("per-day", 240, "events per day")
	flag.Parse()
	if err := run(*from, *to, *dir, *perDay); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}

func run(from, to, dir string, perDay int) error {
	f, err := time.Parse("2006-01-02", from)
	if err != nil {
		return err
	}
	t, err := time.Parse("2006-01-02", to)
	if err != nil {
		return err
	}
	if dir == "" {
		dir = "examples/events"
		if _, err := os.Stat("strata.yml"); err == nil {
			dir = "."
		}
	}
	types := []string{"view", "view", "view", "click", "click", "purchase"}
	n := 0
	for day := f; !day.After(t); day = day.AddDate(0, 0, 1) {
		rng := rand.New(rand.NewSource(day.Unix())) // the same day always gets the same events
		folder := filepath.Join(dir, "landing", "events", "dt="+day.Format("2006-01-02"))
		if err := os.MkdirAll(folder, 0o755); err != nil {
			return err
		}
		out, err := os.Create(filepath.Join(folder, "events.ndjson"))
		if err != nil {
			return err
		}
		enc := json.NewEncoder(out)
		for i := 0; i < perDay; i++ {
			typ := types[rng.Intn(len(types))]
			ev := map[string]any{
				"event_id":   fmt.Sprintf("%s-%04d", day.Format("20060102"), i),
				"user_id":    rng.Intn(50) + 1,
				"event_type": typ,
				"event_ts":   day.Add(time.Duration(rng.Intn(86400)) * time.Second).Format("2006-01-02 15:04:05"),
			}
			if typ == "purchase" {
				ev["amount_cents"] = 100 * (rng.Intn(40) + 1)
			}
			if err := enc.Encode(ev); err != nil {
				return err
			}
		}
		if err := out.Close(); err != nil {
			return err
		}
		n++
	}
	fmt.Printf("wrote %d days of events (%d per day) under %s\n", n, perDay, filepath.Join(dir, "landing", "events"))
	return nil
}
