package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// npmTools is the folder scripts/e2e-deps installs Node 22, the MCP Inspector and the
// conformance suite into. scripts/test always sets it; a bare `go test` skips these
// tests, saying how to run them, except under CI, where they must run.
func npmTools(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("STRATA_E2E")
	if dir == "" && os.Getenv("CI") != "" {
		t.Fatal("STRATA_E2E is unset under CI: run the tests with ./scripts/test, which installs the MCP Inspector and the conformance suite (scripts/e2e-deps)")
	}
	if dir == "" {
		t.Skip("STRATA_E2E is unset: ./scripts/test installs the MCP Inspector and the conformance suite (scripts/e2e-deps) and sets it")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".bin", "node")); err != nil {
		t.Fatalf("STRATA_E2E=%s has no node: run scripts/e2e-deps (%v)", dir, err)
	}
	return dir
}

// npx runs one of the installed npm tools with Node 22 first on PATH and HOME in a temp
// folder (the Inspector writes ~/.mcp-inspector), and returns its output and exit code.
func npx(t *testing.T, tools, workdir, name string, args ...string) (string, int) {
	t.Helper()
	bin := filepath.Join(tools, "node_modules", ".bin")
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Dir = workdir
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+t.TempDir(), "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func shopCopy(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "shop")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "examples", "shop"))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestMCPInspector drives `strata mcp` (stdio) and serve's /mcp (streamable HTTP) with
// the MCP Inspector's CLI, a real external client.
func TestMCPInspector(t *testing.T) {
	tools := npmTools(t)
	dir := shopCopy(t)
	strata, err := exec.LookPath("strata")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, code := cli(t, "-C", dir, "build"); code != 0 {
		t.Fatalf("build: exit %d", code)
	}
	stdio := []string{"--cli", strata, "-C", dir, "mcp"}

	// every schema portable (--strict fails on an error-level problem), no write tool
	out, code := npx(t, tools, dir, "mcp-inspector", append(stdio, "--method", "tools/list", "--strict")...)
	if code != 0 || !strings.Contains(out, `"get_lineage"`) || strings.Contains(out, `"name": "run_backfill"`) || strings.Contains(out, "Warning") {
		t.Fatalf("tools/list over stdio: exit %d\n%s", code, out)
	}
	out, code = npx(t, tools, dir, "mcp-inspector", append(stdio, "--method", "tools/call", "--tool-name", "get_lineage", "--tool-arg", "node=orders", "direction=up")...)
	if code != 0 || !strings.Contains(out, `stg_orders`) {
		t.Fatalf("get_lineage over stdio: exit %d\n%s", code, out)
	}
	out, code = npx(t, tools, dir, "mcp-inspector", append(stdio, "--method", "tools/call", "--tool-name", "get_lineage", "--tool-arg", "node=nosuch")...)
	if code == 0 || !strings.Contains(out, `"isError": true`) || !strings.Contains(out, "nosuch") {
		t.Fatalf("get_lineage of an unknown model: exit %d\n%s", code, out)
	}
	out, code = npx(t, tools, dir, "mcp-inspector", append(stdio, "--method", "tools/call", "--tool-name", "query", "--tool-arg", "sql=drop table orders")...)
	if code == 0 || !strings.Contains(out, "not allowed") {
		t.Fatalf("a DROP through query: exit %d\n%s", code, out)
	}
	out, code = npx(t, tools, dir, "mcp-inspector", "--cli", strata, "-C", dir, "mcp", "--allow-writes", "--method", "tools/list")
	if code != 0 || !strings.Contains(out, `"name": "run_backfill"`) || !strings.Contains(out, `"destructiveHint": true`) {
		t.Fatalf("tools/list with --allow-writes: exit %d\n%s", code, out)
	}

	// over HTTP, and `strata mcp` through the running server
	s := startServe(t, dir)
	out, code = npx(t, tools, dir, "mcp-inspector", "--cli", s.url+"/mcp", "--method", "tools/call", "--tool-name", "get_lineage", "--tool-arg", "node=orders")
	if code != 0 || !strings.Contains(out, `monthly_revenue`) {
		t.Fatalf("get_lineage over HTTP: exit %d\n%s", code, out)
	}
	out, code = npx(t, tools, dir, "mcp-inspector", append(stdio, "--method", "tools/call", "--tool-name", "query", "--tool-arg", "sql=select count(*) as n from orders")...)
	if code != 0 || !strings.Contains(out, `\"n\"`) {
		t.Fatalf("query through the server: exit %d\n%s", code, out)
	}
}

// TestMCPConformance runs the generic server scenarios of the MCP conformance suite
// against serve's /mcp; the baseline lists those that need the suite's fixture tools.
func TestMCPConformance(t *testing.T) {
	tools := npmTools(t)
	dir := shopCopy(t)
	s := startServe(t, dir)
	baseline, err := filepath.Abs(filepath.Join("..", "..", "mcp", "testdata", "conformance-baseline.yml"))
	if err != nil {
		t.Fatal(err)
	}
	out, code := npx(t, tools, t.TempDir(), "conformance", "server", "--url", s.url+"/mcp", "--expected-failures", baseline)
	if code != 0 || !strings.Contains(out, "Baseline check passed") {
		t.Fatalf("conformance: exit %d\n%s", code, out)
	}
}
