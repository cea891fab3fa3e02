package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/web"
)

// docsCmd writes a static site of the project: the web UI's pages as files, and
// catalog.json.
func (a *app) docsCmd() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "docs --out DIR",
		Short: "Write a static site of the project: the web UI's model and lineage pages as files, and catalog.json",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("docs needs --out DIR")
			}
			if err := checkOutDir(out); err != nil {
				return err
			}
			p, g, err := a.load()
			if err != nil {
				return err
			}
			cat, err := a.analyze(cmd.Context(), p, g)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			errs := []string{}
			for _, e := range cat.Errors {
				errs = append(errs, e.Error())
			}
			data, err := json.MarshalIndent(map[string]any{"version": 1, "project": p.Name, "nodes": lineage.Describe(p, g, cat), "errors": errs}, "", "  ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(out, "catalog.json"), data, 0o644); err != nil {
				return err
			}
			res, err := web.Export(cmd.Context(), p, g, cat, out)
			if err != nil {
				return err
			}
			for _, n := range res.Skipped {
				a.warn(fmt.Sprintf("docs: no page for %s: the UI finds no node by that name; it is in catalog.json", n))
			}
			files := res.Files + 1 // catalog.json
			if a.json {
				return a.printJSON(map[string]any{"out": out, "files": files, "nodes": res.Nodes})
			}
			fmt.Fprintf(a.stdout, "wrote %d files to %s: %s and %s, a page and a lineage page per node (%d nodes)\n",
				files, out, filepath.Join(out, "index.html"), filepath.Join(out, "catalog.json"), res.Nodes)
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "folder to write the site to")
	return c
}

// checkOutDir refuses an output folder that is a file, or the root of the file system.
func checkOutDir(out string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return usagef("--out %s: %v", out, err)
	}
	if filepath.Dir(abs) == abs {
		return usagef("--out %s: refusing to write into the root of the file system; give a folder of its own, e.g. --out site", out)
	}
	if st, err := os.Stat(abs); err == nil && !st.IsDir() {
		return usagef("--out %s: is a file, not a folder; give a folder to write the site into", out)
	}
	return nil
}
