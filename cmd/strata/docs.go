package main

import (
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/stratadata/strata/lineage"
)

// docsCmd writes a static site of the project: catalog.json and index.html.
func (a *app) docsCmd() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "docs --out DIR",
		Short: "Write a static site of the project: models, columns, column lineage (catalog.json, index.html)",
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
			nodes := lineage.Describe(p, g, cat)
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			errs := []string{}
			for _, e := range cat.Errors {
				errs = append(errs, e.Error())
			}
			data, err := json.MarshalIndent(map[string]any{"version": 1, "project": p.Name, "nodes": nodes, "errors": errs}, "", "  ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(out, "catalog.json"), data, 0o644); err != nil {
				return err
			}
			f, err := os.Create(filepath.Join(out, "index.html"))
			if err != nil {
				return err
			}
			defer f.Close()
			if err := docsPage.Execute(f, map[string]any{"Project": p.Name, "Nodes": nodes}); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]any{"out": out, "files": []string{"catalog.json", "index.html"}, "nodes": len(nodes)})
			}
			fmt.Fprintf(a.stdout, "wrote %s and %s (%d nodes)\n", filepath.Join(out, "index.html"), filepath.Join(out, "catalog.json"), len(nodes))
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "folder to write the site to")
	return c
}

var docsPage = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Project}} — strata docs</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;display:flex}nav{width:260px;height:100vh;overflow:auto;border-right:1px solid #ddd;padding:12px;position:sticky;top:0}
main{padding:16px 28px;max-width:1000px}section{border-bottom:1px solid #eee;padding:12px 0}code{background:#f4f4f4;padding:1px 4px}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}.k{color:#666;font-size:12px}
</style></head><body>
<nav><h3>{{.Project}}</h3>{{range .Nodes}}<div><a href="#{{.ID}}">{{.Name}}</a> <span class="k">{{.Type}}</span></div>{{end}}</nav>
<main>{{range .Nodes}}<section id="{{.ID}}"><h2>{{.Name}} <span class="k">{{.Type}} {{.Materialized}}</span></h2>
<p>{{.Description}}</p><p class="k">{{.Path}} {{if .Relation}}· <code>{{.Relation}}</code>{{end}}</p>
{{if .Upstream}}<p>reads: {{range .Upstream}}<a href="#{{.}}">{{.}}</a> {{end}}</p>{{end}}
{{if .Downstream}}<p>read by: {{range .Downstream}}<a href="#{{.}}">{{.}}</a> {{end}}</p>{{end}}
{{if .Columns}}{{$docs := .Docs}}<table><tr><th>column</th><th>type</th><th>from</th></tr>
{{range .Columns}}<tr><td>{{.Name}}<div class="k">{{index $docs .Name}}</div></td><td>{{.Type}}</td><td>{{range .Inputs}}<div><a href="#{{.From.Node}}">{{.From.Node}}</a>.{{.From.Column}} <span class="k">{{.Kind}}</span></div>{{end}}</td></tr>{{end}}
</table>{{end}}
{{range .Notes}}<p class="k">note: {{.}}</p>{{end}}</section>{{end}}</main></body></html>
`))

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
