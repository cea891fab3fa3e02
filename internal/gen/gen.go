// Package gen writes synthetic strata projects of any size, for benchmarks and for trying
// strata on a big graph:
//
//	err := gen.Write(dir, gen.Options{Models: 10000, Seed: 1})
//
// Every generated model outputs the columns id, grp, amount and label (some add more),
// with id unique, so any model can read any earlier one and the project runs on DuckDB.
package gen

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// Options say what project to write.
type Options struct {
	// Models is how many model .sql files to write (seeds come on top).
	Models int
	// Shape is "mixed" (the default: seeds, chains, fans, joins, Jinja loops, tables and
	// views) or "chain" (m_0001 ← m_0002 ← … each selecting from the one before).
	Shape string
	// Materialized is the materialization of a chain's models: "view" (the default),
	// "table" or "ephemeral". Mixed projects choose per model.
	Materialized string
	// Seed seeds the random choices; the same options always write the same project.
	Seed int64
}

// Shapes a project can take.
const (
	ShapeMixed = "mixed"
	ShapeChain = "chain"
)

// PerFolder is how many model files a generated folder holds at most; each folder also
// holds one schema.yml.
const PerFolder = 400

// labels are the values of every model's label column.
var labels = []string{"north", "south", "east", "west"}

// model is one generated model file and its properties.
type model struct {
	name   string
	sql    string
	tests  bool // unique and not_null on id
	values bool // accepted_values on label
	doc    bool // the amount column's description is a {{ doc() }}
	kind   string
}

// Name returns the name of the i-th model (from 1): m_0001, …, m_10000.
func Name(i int) string { return fmt.Sprintf("m_%04d", i) }

// Write writes a project into dir, creating it if needed. It does not remove what dir
// already holds, so write into an empty folder.
func Write(dir string, opts Options) error {
	if opts.Models < 1 {
		return fmt.Errorf("gen: Models is %d; want at least 1", opts.Models)
	}
	if opts.Shape == "" {
		opts.Shape = ShapeMixed
	}
	rng := rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed))
	var ms []model
	var seeds bool
	switch opts.Shape {
	case ShapeMixed:
		if opts.Materialized != "" {
			return fmt.Errorf("gen: Materialized applies to chains; mixed projects choose per model")
		}
		ms, seeds = mixed(opts.Models, rng), true
	case ShapeChain:
		switch opts.Materialized {
		case "":
			opts.Materialized = "view"
		case "view", "table", "ephemeral":
		default:
			return fmt.Errorf("gen: Materialized %q: use view, table or ephemeral", opts.Materialized)
		}
		ms = chain(opts.Models)
	default:
		return fmt.Errorf("gen: unknown Shape %q: use %q or %q", opts.Shape, ShapeMixed, ShapeChain)
	}
	w := &writer{dir: dir}
	w.file("strata.yml", projectFile(opts))
	w.file(".gitignore", "*.duckdb\n*.duckdb.wal\ntarget/\n")
	w.file("macros/cents_to_amount.sql", "{% macro cents_to_amount(column_name, scale=2) %}round({{ column_name }} / 100.0, {{ scale }}){% endmacro %}\n")
	w.file("models/docs.md", "{% docs bench_amount %}\nThe amount, in currency units, after every step upstream added to it.\n{% enddocs %}\n")
	if seeds {
		for i, s := range seedNames {
			w.file("seeds/"+s+".csv", seedCSV(i, rng))
		}
		w.file("seeds/seeds.yml", seedsYAML())
	}
	for start := 0; start < len(ms); start += PerFolder {
		batch := ms[start:min(start+PerFolder, len(ms))]
		folder := fmt.Sprintf("models/p%03d", start/PerFolder)
		for _, m := range batch {
			w.file(folder+"/"+m.name+".sql", m.sql)
		}
		w.file(folder+"/schema.yml", schemaYAML(batch))
	}
	return w.err
}

// writer writes files under dir and keeps the first error.
type writer struct {
	dir  string
	err  error
	made map[string]bool
}

func (w *writer) file(rel, content string) {
	if w.err != nil {
		return
	}
	full := filepath.Join(w.dir, filepath.FromSlash(rel))
	if d := filepath.Dir(full); !w.made[d] {
		if err := os.MkdirAll(d, 0o755); err != nil {
			w.err = err
			return
		}
		if w.made == nil {
			w.made = map[string]bool{}
		}
		w.made[d] = true
	}
	w.err = os.WriteFile(full, []byte(content), 0o644)
}

func projectFile(opts Options) string {
	mat := "view"
	if opts.Shape == ShapeChain {
		mat = opts.Materialized
	}
	return fmt.Sprintf(`name: bench
warehouse:
  path: bench.duckdb
  schema: main
vars:
  min_amount: -1000000
models:
  bench:
    +materialized: %s
`, mat)
}

// chain is m_0001 ← m_0002 ← … ← m_n: trivial selects, each from the one before.
func chain(n int) []model {
	ms := make([]model, n)
	ms[0] = model{name: Name(1), kind: "chain", tests: true, sql: "select range::integer as id, (range % 5)::integer as grp, range * 1.5 as amount, 'north' as label\nfrom range(10)\n"}
	for i := 2; i <= n; i++ {
		ms[i-1] = model{name: Name(i), kind: "chain", tests: i%10 == 0,
			sql: fmt.Sprintf("select id, grp, amount + 1 as amount, label\nfrom {{ ref('%s') }}\n", Name(i-1))}
	}
	return ms
}

func schemaYAML(ms []model) string {
	var b strings.Builder
	b.WriteString("version: 2\n\nmodels:\n")
	for _, m := range ms {
		fmt.Fprintf(&b, "  - name: %s\n    description: Generated %s model %s.\n    columns:\n", m.name, m.kind, m.name)
		b.WriteString("      - name: id\n        description: Primary key.\n")
		if m.tests {
			b.WriteString("        data_tests:\n          - unique\n          - not_null\n")
		}
		b.WriteString("      - name: amount\n")
		if m.doc {
			b.WriteString("        description: '{{ doc(\"bench_amount\") }}'\n")
		} else {
			b.WriteString("        description: The amount so far.\n")
		}
		if m.values {
			fmt.Fprintf(&b, "      - name: label\n        data_tests:\n          - accepted_values:\n              values: ['%s']\n", strings.Join(labels, "', '"))
		}
	}
	return b.String()
}
