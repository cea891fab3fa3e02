// Command generate writes the cdc example's landing files: a small shop database played
// forward hour by hour, as a Debezium connector (orders, Postgres) and a MongoDB change
// stream (customers) would land its changes, and the source's final state under
// snapshots/ for strata verify.
//
//	go run ./examples/cdc/generate -hours 24
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/stratadata/strata/internal/cdcgen"
)

func main() {
	start := flag.String("start", "2024-01-01T00", "the first hour")
	hours := flag.Int("hours", 24, "hours to play forward")
	perHour := flag.Int("per-hour", 40, "changes per table per hour")
	seed := flag.Int64("seed", 1, "random seed: the same seed writes the same files")
	dir := flag.String("dir", "", "project folder (default: the cdc example next to this program)")
	flag.Parse()
	if *dir == "" {
		_, file, _, _ := runtime.Caller(0)
		*dir = filepath.Dir(filepath.Dir(file))
	}
	t, err := time.Parse("2006-01-02T15", *start)
	if err != nil {
		fmt.Fprintln(os.Stderr, "generate: -start:", err)
		os.Exit(2)
	}
	for _, d := range []string{"landing", "snapshots"} {
		os.RemoveAll(filepath.Join(*dir, d))
	}
	n, err := cdcgen.Generate(cdcgen.Options{Dir: *dir, Start: t.UTC(), Hours: *hours, PerHour: *perHour, Seed: *seed})
	if err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %d change events for %d hours from %s under %s\n", n, *hours, *start, filepath.Join(*dir, "landing"))
}
