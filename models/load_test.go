package models_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stratadata/strata/internal/testproj"
	"github.com/stratadata/strata/models"
)

// writeProject writes files (path → content) under a new temporary folder and returns it.
// A minimal strata.yml (project "proj") is added when files has no project file.
func writeProject(t testing.TB, files map[string]string) string {
	t.Helper()
	return testproj.WriteProject(t, "proj", files)
}

// noEnv is an environment with no variables set, so tests do not depend on the machine's.
func noEnv(string) (string, bool) { return "", false }

// mustLoad writes and loads a project, failing the test on any error.
func mustLoad(t testing.TB, files map[string]string, opts models.Options) *models.Project {
	t.Helper()
	if opts.Env == nil {
		opts.Env = noEnv
	}
	p, err := models.Load(writeProject(t, files), opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return p
}

// loadErrs writes and loads a project that must fail, and returns its errors.
func loadErrs(t testing.TB, files map[string]string, opts models.Options) models.Errors {
	t.Helper()
	if opts.Env == nil {
		opts.Env = noEnv
	}
	p, err := models.Load(writeProject(t, files), opts)
	if err == nil {
		t.Fatalf("Load succeeded with models %v, want errors", p.ModelNames())
	}
	var errs models.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load error is %T (%v), want models.Errors", err, err)
	}
	return errs
}

// compile compiles one model, failing the test on error.
func compile(t testing.TB, p *models.Project, name string, opts models.CompileOptions) string {
	t.Helper()
	m := p.Models[name]
	if m == nil {
		t.Fatalf("no model %q; have %v", name, p.ModelNames())
	}
	sql, err := p.Compile(m, opts)
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return sql
}

// wantErr is an expected error: its exact place and words its message must contain.
type wantErr struct {
	File      string
	Line, Col int
	Msg       []string
}

type place struct {
	File      string
	Line, Col int
}

// checkErrs compares errors with the expected ones: places exactly and in order, messages
// by the words they must contain.
func checkErrs(t *testing.T, got models.Errors, want []wantErr) {
	t.Helper()
	var gotPlaces, wantPlaces []place
	for _, e := range got {
		gotPlaces = append(gotPlaces, place{e.File, e.Line, e.Col})
	}
	for _, w := range want {
		wantPlaces = append(wantPlaces, place{w.File, w.Line, w.Col})
	}
	if diff := cmp.Diff(wantPlaces, gotPlaces); diff != "" {
		t.Errorf("error places (-want +got):\n%s\nerrors:\n%v", diff, got)
		return
	}
	for i, w := range want {
		for _, s := range w.Msg {
			if !strings.Contains(got[i].Msg, s) {
				t.Errorf("error %d = %q, want it to contain %q", i, got[i].Error(), s)
			}
		}
	}
}

const jaffleProject = "name: jaffle\nprofile: jaffle\nversion: '1.0.0'\nconfig-version: 2\n"

// testFacts is what TestProperties compares about each test.
type testFacts struct {
	Generic, Model, Column, Severity, Where string
	DependsOn, SourceDeps                   []string
}
