package main

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
)

//go:embed all:scaffold
var scaffold embed.FS

var projectNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// initCmd scaffolds a working project: strata.yml, a seed, two models and their tests.
func (a *app) initCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "init NAME",
		Short: "Create a new project folder with a working example",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := filepath.Base(args[0])
			if !projectNameRe.MatchString(name) {
				return &usageError{fmt.Sprintf("project name %q: use letters, digits and underscores, starting with a letter", name)}
			}
			dir := args[0]
			if !filepath.IsAbs(dir) && a.dir != "." {
				dir = filepath.Join(a.dir, dir)
			}
			if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
				return &usageError{fmt.Sprintf("%s already exists and is not empty; pick another name", dir)}
			}
			var files []string
			err := fs.WalkDir(scaffold, "scaffold", func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				data, err := scaffold.ReadFile(path)
				if err != nil {
					return err
				}
				rel := strings.TrimPrefix(path, "scaffold/")
				out := filepath.Join(dir, filepath.FromSlash(rel))
				if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
					return err
				}
				files = append(files, rel)
				return os.WriteFile(out, []byte(strings.ReplaceAll(string(data), "{{project_name}}", name)), 0o644)
			})
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]any{"project": name, "dir": dir, "files": files})
			}
			fmt.Fprintf(a.stdout, "created project %s in %s\n\nnext:\n  strata -C %s build\n", name, dir, dir)
			return nil
		},
	}
}
