// Command strata turns SQL and YAML model files into a lineage graph and runs it on DuckDB.
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
)

func main() {
	// A load keeps every model's parse in memory at once; collecting less often costs a
	// little memory and saves a fifth of the CPU on large projects.
	debug.SetGCPercent(400)
	// The collector's first cycles come at a few MB of heap and mark everything a load
	// has made so far, a third of a cached `strata ls` on 10,000 models. A ballast, never
	// touched (so never resident), moves them past what a load of that size allocates
	// (a first load of 10,000 models, ~300 MB, then runs no cycle at all); later cycles
	// are paced by the live heap as before, 128 MB higher. Commands with long work after
	// the load give both back (settleGC).
	ballast = make([]byte, 128<<20)
	// STRATA_CPUPROFILE=file profiles the whole command, for docs/benchmarks.md's
	// "profile first" (go tool pprof file)
	if path := os.Getenv("STRATA_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "STRATA_CPUPROFILE:", err)
			os.Exit(1)
		}
		code := command()
		pprof.StopCPUProfile()
		_ = f.Close()
		os.Exit(code)
	}
	os.Exit(command())
}

// ballast is heap the collector counts and nothing reads (see main).
var ballast []byte

// settleGC gives the collector its defaults back once a load is done, for a command
// whose work after it is long (a run, a check, a daemon): the load's trade of memory
// for speed would let their heap grow to five times what they keep, plus the ballast.
func settleGC() {
	ballast = nil
	debug.SetGCPercent(100)
}

// command runs the process's command line, stopped gracefully by SIGINT and SIGTERM.
func command() int {
	ctx, stop := withShutdown(context.Background(), os.Stderr)
	defer stop()
	return run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}
