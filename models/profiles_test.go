package models_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stratadata/strata/models"
)

func TestProfiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		profiles string
		opts     models.Options
		want     models.Warehouse // Path relative to the project folder
		errs     []wantErr
	}{
		{
			name:     "duckdb target",
			profiles: "jaffle:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: jaffle.duckdb\n      schema: analytics\n      threads: 4\n",
			want:     models.Warehouse{Type: "duckdb", Path: "jaffle.duckdb", Schema: "analytics", Threads: 4, Target: "dev"},
		},
		{
			name:     "in-memory duckdb, schema defaults to main",
			profiles: "jaffle:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: ':memory:'\n",
			want:     models.Warehouse{Type: "duckdb", Path: ":memory:", Schema: "main", Target: "dev"},
		},
		{
			name:     "target chosen by option",
			profiles: "jaffle:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: dev.duckdb\n    prod:\n      type: duckdb\n      path: prod.duckdb\n      schema: prod\n",
			opts:     models.Options{Target: "prod"},
			want:     models.Warehouse{Type: "duckdb", Path: "prod.duckdb", Schema: "prod", Target: "prod"},
		},
		{
			name:     "env_var in profiles.yml",
			profiles: "jaffle:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: \"{{ env_var('JAFFLE_DB') }}\"\n",
			opts: models.Options{Env: func(k string) (string, bool) {
				return map[string]string{"JAFFLE_DB": "from_env.duckdb"}[k], k == "JAFFLE_DB"
			}},
			want: models.Warehouse{Type: "duckdb", Path: "from_env.duckdb", Schema: "main", Target: "dev"},
		},
		{
			name:     "only the selected target is rendered",
			profiles: "jaffle:\n  target: \"{{ env_var('T', 'dev') }}\"\n  outputs:\n    dev:\n      type: duckdb\n      path: dev.duckdb\n    prod:\n      type: duckdb\n      path: \"{{ env_var('PROD_DB') }}\"\n",
			opts:     models.Options{Env: func(string) (string, bool) { return "", false }},
			want:     models.Warehouse{Type: "duckdb", Path: "dev.duckdb", Schema: "main", Target: "dev"},
		},
		{
			name:     "the selected target's env_var without a default",
			profiles: "jaffle:\n  target: prod\n  outputs:\n    prod:\n      type: duckdb\n      path: \"{{ env_var('PROD_DB') }}\"\n",
			opts:     models.Options{Env: func(string) (string, bool) { return "", false }},
			errs:     []wantErr{{"profiles.yml", 6, 13, []string{"PROD_DB is not set"}}},
		},
		{
			name:     "dbt-duckdb's plugins are refused by name",
			profiles: "jaffle:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: p.duckdb\n      plugins:\n        - module: gsheet\n",
			errs:     []wantErr{{"profiles.yml", 7, 7, []string{`"plugins"`, "remove plugins"}}},
		},
		{
			name:     "non-duckdb target",
			profiles: "jaffle:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: localhost\n",
			errs:     []wantErr{{"profiles.yml", 5, 7, []string{`"postgres"`, "duckdb"}}},
		},
		{
			name:     "missing profile",
			profiles: "jafle:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n",
			errs:     []wantErr{{"profiles.yml", 0, 0, []string{`profile "jaffle" not found`, `did you mean "jafle"?`}}},
		},
		{
			name:     "missing target",
			profiles: "jaffle:\n  target: dev\n  outputs:\n    prod:\n      type: duckdb\n",
			errs:     []wantErr{{"profiles.yml", 2, 3, []string{`no target "dev"`}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{
				"dbt_project.yml": jaffleProject,
				"profiles.yml":    tc.profiles,
				"models/a.sql":    "select 1",
			}
			if tc.errs != nil {
				checkErrs(t, loadErrs(t, files, tc.opts), tc.errs)
				return
			}
			p := mustLoad(t, files, tc.opts)
			got := p.Warehouse
			if got.Path != ":memory:" {
				rel, err := filepath.Rel(p.Dir, got.Path)
				if err != nil {
					t.Fatal(err)
				}
				got.Path = rel
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("warehouse (-want +got):\n%s", diff)
			}
			if p.Flavor != "dbt" || p.Name != "jaffle" {
				t.Errorf("flavor, name = %q, %q; want dbt, jaffle", p.Flavor, p.Name)
			}
		})
	}
}

// TestNoProfilesFile changes HOME, so it cannot run in parallel with other tests.
func TestNoProfilesFile(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	dir := writeProject(t, map[string]string{"dbt_project.yml": jaffleProject, "models/a.sql": "select 1"})
	_, err := models.Load(dir, models.Options{Env: noEnv, ProfilesDir: t.TempDir()})
	var errs models.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load = %v, want models.Errors", err)
	}
	checkErrs(t, errs, []wantErr{{"dbt_project.yml", 0, 0, []string{"no profiles.yml", `"jaffle"`, "duckdb"}}})
}

// TestProfilesDir checks that Options.ProfilesDir is where profiles.yml is looked for first.
func TestProfilesDir(t *testing.T) {
	t.Parallel()
	pdir := t.TempDir()
	if err := os.WriteFile(filepath.Join(pdir, "profiles.yml"), []byte("jaffle:\n  outputs:\n    dev:\n      type: duckdb\n      path: ':memory:'\n      schema: elsewhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := mustLoad(t, map[string]string{
		"dbt_project.yml": jaffleProject,
		"profiles.yml":    "jaffle:\n  outputs:\n    dev:\n      type: duckdb\n      path: ':memory:'\n      schema: here\n",
		"models/a.sql":    "select 1",
	}, models.Options{ProfilesDir: pdir})
	if p.Warehouse.Schema != "elsewhere" {
		t.Errorf("schema = %q, want the one from ProfilesDir (elsewhere)", p.Warehouse.Schema)
	}
}

func TestStrataTargets(t *testing.T) {
	t.Parallel()
	files := func() map[string]string {
		return map[string]string{
			"strata.yml":   "name: proj\nwarehouse:\n  path: dev.duckdb\n  schema: dev\ntargets:\n  prod:\n    path: prod.duckdb\n    schema: analytics\n    threads: 8\n",
			"models/a.sql": "select '{{ target.name }}' as t, '{{ target.schema }}' as s",
		}
	}
	for _, tc := range []struct {
		target, wantSchema, wantFile, wantSQL string
		threads                               int
	}{
		{"", "dev", "dev.duckdb", "select 'dev' as t, 'dev' as s", 0},
		{"prod", "analytics", "prod.duckdb", "select 'prod' as t, 'analytics' as s", 8},
	} {
		t.Run("target="+tc.target, func(t *testing.T) {
			t.Parallel()
			p := mustLoad(t, files(), models.Options{Target: tc.target})
			w := p.Warehouse
			if w.Schema != tc.wantSchema || filepath.Base(w.Path) != tc.wantFile || w.Threads != tc.threads {
				t.Errorf("warehouse = %+v, want schema %s, file %s, threads %d", w, tc.wantSchema, tc.wantFile, tc.threads)
			}
			if got := compile(t, p, "a", models.CompileOptions{}); got != tc.wantSQL {
				t.Errorf("compiled = %q, want %q", got, tc.wantSQL)
			}
		})
	}
	t.Run("unknown target", func(t *testing.T) {
		t.Parallel()
		errs := loadErrs(t, files(), models.Options{Target: "prd"})
		if len(errs) != 1 || !strings.Contains(errs[0].Msg, `unknown target "prd"`) || !strings.Contains(errs[0].Msg, `did you mean "prod"?`) {
			t.Errorf("errors = %v, want one unknown target with a suggestion", errs)
		}
	})
}
