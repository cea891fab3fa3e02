package web_test

import (
	"context"
	"fmt"
	"html"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stratadata/strata/internal/gen"
	"github.com/stratadata/strata/internal/testgraph"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/web"
	"github.com/stratadata/strata/web/ui"
)

// TestExport exports examples/shop and reads the files as a browser opening them from
// disk would: every node has its pages, every link is a file of the export.
func TestExport(t *testing.T) {
	ctx := context.Background()
	p, g := testgraph.Load(t, filepath.Join("..", "examples", "shop"))
	cat, err := lineage.Analyze(ctx, p, g, lineage.AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	res, err := web.Export(ctx, p, g, cat, dir)
	if err != nil {
		t.Fatal(err)
	}

	var names []string
	for _, n := range g.Nodes() {
		if n.Type != lineage.TypeTest && n.Type != lineage.TypeUnitTest {
			names = append(names, n.Name)
		}
	}
	if res.Nodes != len(names) || len(res.Skipped) != 0 {
		t.Errorf("Export: %d nodes, skipped %v; want %d nodes, none skipped", res.Nodes, res.Skipped, len(names))
	}
	pages := map[string]string{} // by path relative to dir, with slashes
	files := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		if strings.HasSuffix(path, ".html") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, path)
			pages[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != files {
		t.Errorf("Export says it wrote %d files; the folder holds %d", res.Files, files)
	}
	for _, f := range []string{"static/app.css", "static/app.js"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("no %s: %v", f, err)
		}
	}
	for _, name := range names {
		for _, f := range []string{"models/" + ui.FileName(name) + ".html", "lineage/" + ui.FileName(name) + ".html"} {
			if _, ok := pages[f]; !ok {
				t.Errorf("node %s has no %s", name, f)
			}
		}
	}

	t.Run("links", func(t *testing.T) {
		index := pages["index.html"]
		for _, name := range names {
			if !strings.Contains(index, `href="models/`+ui.FileName(name)+`.html"`) {
				t.Errorf("index.html does not link %s's page", name)
			}
		}
		for page, body := range pages {
			for _, href := range links(body) {
				if strings.HasPrefix(href, "/") || strings.Contains(href, "://") || strings.Contains(href, "?") {
					t.Errorf("%s links %q, which a folder opened from disk does not have", page, href)
					continue
				}
				file, _, _ := strings.Cut(href, "#")
				if file == "" || strings.HasPrefix(file, "data:") {
					continue
				}
				if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(page), "..", filepath.FromSlash(file))); err != nil {
					t.Errorf("%s links %q: no such file in the export", page, href)
				}
			}
		}
	})

	t.Run("model page", func(t *testing.T) {
		body := pages["models/orders.html"]
		nc := cat.Nodes["orders"]
		if nc == nil || len(nc.Columns) == 0 {
			t.Fatal("the catalog has no columns of orders")
		}
		for _, c := range nc.Columns {
			if !strings.Contains(body, `data-column-row="`+c.Name+`"`) {
				t.Errorf("models/orders.html has no row of column %s", c.Name)
			}
		}
		compiled, err := p.Compile(p.Models["orders"], models.CompileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, block, ok := strings.Cut(body, "<summary>Compiled SQL</summary>")
		block, _, _ = strings.Cut(block, "</details>")
		if got := text(block); !ok || got != strings.TrimSpace(compiled) {
			t.Errorf("models/orders.html's compiled SQL:\n%s\nwant:\n%s", got, compiled)
		}
		for _, live := range []string{"Recent runs", "<form", "/partitions"} {
			if strings.Contains(body, live) {
				t.Errorf("models/orders.html has %q, a part of the live UI", live)
			}
		}
	})

	t.Run("lineage page", func(t *testing.T) {
		body := html.UnescapeString(pages["lineage/orders.html"])
		for _, want := range []string{`data-node="orders"`, `data-node="stg_orders"`, `data-node="customers"`,
			`data-edge="stg_orders->orders"`, `data-edge="orders->customers"`, `href="../models/orders.html"`} {
			if !strings.Contains(body, want) {
				t.Errorf("lineage/orders.html has no %s", want)
			}
		}
		if strings.Contains(body, "<form") {
			t.Error("lineage/orders.html has a form: an export has no server to send it to")
		}
	})
}

var hrefs = regexp.MustCompile(`\b(?:href|src)="([^"]*)"`)

// links are a page's href and src values, unescaped.
func links(page string) []string {
	var out []string
	for _, m := range hrefs.FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

var tags = regexp.MustCompile(`<[^>]*>`)

// text is what a piece of a page reads as, tags left out.
func text(fragment string) string {
	return strings.TrimSpace(html.UnescapeString(tags.ReplaceAllString(fragment, "")))
}

// BenchmarkExport exports generated projects; laying out each node's lineage diagram is
// most of the time. Run with -benchtime 1x for the 10k project.
func BenchmarkExport(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ctx := context.Background()
			src := b.TempDir()
			if err := gen.Write(src, gen.Options{Models: n, Seed: 1}); err != nil {
				b.Fatal(err)
			}
			p, g := testgraph.Load(b, src)
			cat, err := lineage.Analyze(ctx, p, g, lineage.AnalyzeOptions{})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := web.Export(ctx, p, g, cat, b.TempDir()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
