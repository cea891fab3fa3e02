// Command strata-gen writes a synthetic strata project, to try strata on a big graph:
//
//	go run ./internal/gen/cmd/strata-gen -n 10000 -o /tmp/p
//	strata build -C /tmp/p
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/stratadata/strata/internal/gen"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("strata-gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts gen.Options
	fs.IntVar(&opts.Models, "n", 1000, "how many models to write")
	out := fs.String("o", "", "the folder to write the project into (must be empty or absent)")
	fs.StringVar(&opts.Shape, "shape", gen.ShapeMixed, "mixed or chain")
	fs.StringVar(&opts.Materialized, "materialized", "", "a chain's materialization: view, table or ephemeral")
	fs.Int64Var(&opts.Seed, "seed", 1, "seed of the random choices")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: strata-gen -n 10000 -o DIR [-shape mixed|chain] [-materialized view|table] [-seed N]")
		return 2
	}
	if entries, err := os.ReadDir(*out); err == nil && len(entries) > 0 {
		fmt.Fprintf(stderr, "strata-gen: %s is not empty; choose a new folder\n", *out)
		return 1
	}
	if err := gen.Write(*out, opts); err != nil {
		fmt.Fprintf(stderr, "strata-gen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %d models to %s\n", opts.Models, *out)
	return 0
}
