package main

import (
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/stratadata/strata/internal/testproj"
)

var update = flag.Bool("update", false, "rewrite the cmp files of the scripts in testdata/script")

// TestMain lets the test binary act as the strata command inside scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"strata": func() { os.Exit(command()) },
	})
}

// TestScripts runs the CLI scripts in testdata/script: a project, commands, expected output.
func TestScripts(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:           filepath.Join("testdata", "script"),
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir) // so ~/.dbt holds no profiles
			env.Setenv("REPO", repo)
			if d, ok := testproj.DBTPackages(); ok {
				env.Setenv("DBT_PACKAGES", d) // the shared dbt package fixtures
			}
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "dbtpackages" { // [!dbtpackages] skip: the fixtures are not here
				_, ok := testproj.DBTPackages()
				return ok, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"duckq":     cmdDuckq,
			"cpdir":     cmdCpdir,
			"exitcode":  cmdExitcode,
			"capture":   cmdCapture,
			"jsonshape": cmdJSONShape,
		},
	})
}

// cmdDuckq runs a query on a DuckDB file, read-only, and prints each row as
// tab-separated values (NULL for null):
//
//	duckq DBFILE SQL
func cmdDuckq(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: duckq DBFILE SQL")
	}
	out, err := duckq(ts.MkAbs(args[0]), args[1])
	if out != "" {
		fmt.Fprint(ts.Stdout(), out)
	}
	if err != nil {
		if neg {
			fmt.Fprintln(ts.Stderr(), err)
			return
		}
		ts.Fatalf("duckq: %v", err)
	}
	if neg {
		ts.Fatalf("duckq: query succeeded unexpectedly")
	}
}

func duckq(path, query string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", err
	}
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		return "", err
	}
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return b.String(), err
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = duckValue(v)
		}
		b.WriteString(strings.Join(cells, "\t"))
		b.WriteByte('\n')
	}
	return b.String(), rows.Err()
}

// duckValue prints a value as a script expects it: NULL, 2024-05-01 for a date.
func duckValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(v)
	case time.Time:
		if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 && v.Nanosecond() == 0 {
			return v.Format("2006-01-02")
		}
		return v.Format("2006-01-02 15:04:05.999999")
	}
	return fmt.Sprint(v)
}

// cmdCpdir copies a folder tree (e.g. $REPO/examples/shop) into the script's work dir:
//
//	cpdir SRC DST
func cmdCpdir(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! cpdir")
	}
	if len(args) != 2 {
		ts.Fatalf("usage: cpdir SRC DST")
	}
	src, dst := ts.MkAbs(args[0]), ts.MkAbs(args[1])
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			if d.Name() == ".strata" || d.Name() == "target" {
				return filepath.SkipDir
			}
			return os.MkdirAll(out, 0o755)
		}
		if strings.HasSuffix(d.Name(), ".duckdb") || strings.HasSuffix(d.Name(), ".duckdb.wal") {
			return nil // a database left by a manual run of the example
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o644)
	})
	ts.Check(err)
}

// cmdExitcode runs a command and checks its exit status; its stdout and stderr
// are then available to stdout and stderr as after exec:
//
//	exitcode 2 strata -C bad build
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exitcode")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %q is not a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// cmdCapture sets an environment variable to the first group of a regexp
// matched in the last command's stdout, e.g. a run ID for a later command:
//
//	capture RUN '"run_id":"([^"]+)"'
func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! capture")
	}
	if len(args) != 2 {
		ts.Fatalf("usage: capture NAME REGEXP")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	if re.NumSubexp() < 1 {
		ts.Fatalf("capture: %q has no group", args[1])
	}
	m := re.FindStringSubmatch(ts.ReadFile("stdout"))
	if m == nil {
		ts.Fatalf("capture: no match for %q in stdout", args[1])
	}
	ts.Setenv(args[0], m[1])
}

// cmdJSONShape prints the shape of each JSON line of a file (stdout by default): every
// key, in order, with the kind of its value, so that a cmp file pins the wire shapes
// --json, the API and MCP share without pinning times and IDs:
//
//	jsonshape [FILE]
func cmdJSONShape(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 1 {
		ts.Fatalf("usage: jsonshape [FILE]")
	}
	file := "stdout"
	if len(args) == 1 {
		file = args[0]
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(ts.ReadFile(file)), "\n") {
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		shape, err := shapeOf(dec)
		ts.Check(err)
		b.WriteString(shape + "\n")
	}
	fmt.Fprint(ts.Stdout(), b.String())
}

// shapeOf reads one JSON value and writes its shape: objects keep their keys in order,
// a list shows its first element's shape (or [] when empty), scalars their kind.
func shapeOf(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	switch v := tok.(type) {
	case json.Delim:
		var parts []string
		end := "}"
		if v == '[' {
			end = "]"
		}
		for dec.More() {
			if v == '{' {
				k, err := dec.Token()
				if err != nil {
					return "", err
				}
				s, err := shapeOf(dec)
				if err != nil {
					return "", err
				}
				parts = append(parts, fmt.Sprintf("%q:%s", k, s))
				continue
			}
			s, err := shapeOf(dec)
			if err != nil {
				return "", err
			}
			if len(parts) == 0 {
				parts = append(parts, s)
			}
		}
		if _, err := dec.Token(); err != nil {
			return "", err
		}
		return string(v) + strings.Join(parts, ",") + end, nil
	case string:
		return "string", nil
	case json.Number:
		return "number", nil
	case bool:
		return "bool", nil
	case nil:
		return "null", nil
	}
	return "", fmt.Errorf("unexpected token %v", tok)
}
