package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/a-h/templ"

	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/web/ui"
)

// ExportResult is what Export wrote.
type ExportResult struct {
	Files int // files written, the static assets included
	Nodes int // nodes with a page of their own
	// Skipped are the nodes with no pages, as "TYPE NAME": those whose name the pages
	// cannot look up (the semantic layer's, today), so the live UI has no page of them
	// either.
	Skipped []string
}

// exportDepth is how far up and down a node's lineage page reaches: the explorer's
// default, so the file shows what the live page opens with.
const exportDepth = 2

// Export writes the UI's pages as files into dir, for `strata docs --out`: index.html
// with every node, models/NAME.html and lineage/NAME.html for each of them, and the
// UI's CSS and JavaScript under static/. The pages are the live UI's own components,
// filled by the same functions the server's handlers call, with Meta.Static so that
// links are relative files and live parts (runs, forms, searches) are left out. cat is
// the column catalog; without one the pages say column lineage is not available.
func Export(ctx context.Context, p *models.Project, g *lineage.Graph, cat *lineage.Catalog, dir string) (res ExportResult, err error) {
	res.Skipped = []string{}
	for _, sub := range []string{"static", "models", "lineage"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return res, err
		}
	}
	var files atomic.Int64
	write := func(rel string, data []byte) error {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), data, 0o644); err != nil {
			return err
		}
		files.Add(1)
		return nil
	}
	defer func() { res.Files = int(files.Load()) }()

	if err := fs.WalkDir(Static(), ".", func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dir, "static", filepath.FromSlash(path)), 0o755)
		}
		data, err := fs.ReadFile(Static(), path)
		if err != nil {
			return err
		}
		return write("static/"+path, data)
	}); err != nil {
		return res, fmt.Errorf("export static files: %w", err)
	}

	var nodes []lineage.NodeRef
	all, _ := indexNodes(g)
	for _, n := range all {
		if ref, err := lineage.ParseRef(g, n.Name); err != nil || ref.Node != n.ID || ref.Column != "" {
			res.Skipped = append(res.Skipped, string(n.Type)+" "+n.Name)
			continue
		}
		nodes = append(nodes, n)
	}
	home := ui.Meta{Project: p.Name, Title: "Models", Nav: "models", Static: true}
	page, err := renderBytes(ctx, ui.Index(ui.IndexView{Meta: home, Nodes: nodes, Total: len(nodes)}))
	if err != nil {
		return res, fmt.Errorf("export index: %w", err)
	}
	if err := write("index.html", page); err != nil {
		return res, err
	}

	s := exportServer(p, g, cat)
	if err := eachNode(ctx, nodes, func(ctx context.Context, n lineage.NodeRef) error {
		return s.exportNode(ctx, n, write)
	}); err != nil {
		return res, err
	}
	res.Nodes = len(nodes)
	return res, nil
}

// exportNode writes a node's page and its lineage page.
func (s *Server) exportNode(ctx context.Context, n lineage.NodeRef, write func(string, []byte) error) error {
	m := ui.Meta{Project: s.Project.Name, Static: true, Root: "../", Title: n.Name, Nav: "models"}
	d, err := s.modelDetail(ctx, n.Name)
	if err != nil {
		return fmt.Errorf("export %s: %w", n.Name, err)
	}
	page, err := renderBytes(ctx, ui.ModelPage(modelView(m, s.Project, d)))
	if err != nil {
		return fmt.Errorf("export %s: %w", n.Name, err)
	}
	if err := write("models/"+ui.FileName(n.Name)+".html", page); err != nil {
		return err
	}

	m.Title, m.Nav = "Lineage of "+n.Name, "lineage"
	q := url.Values{"focus": {n.Name}, "up": {strconv.Itoa(exportDepth)}, "down": {strconv.Itoa(exportDepth)}}
	v, err := s.lineageView(ctx, m, q)
	if err != nil {
		return fmt.Errorf("export lineage of %s: %w", n.Name, err)
	}
	if page, err = renderBytes(ctx, ui.LineagePage(v)); err != nil {
		return fmt.Errorf("export lineage of %s: %w", n.Name, err)
	}
	return write("lineage/"+ui.FileName(n.Name)+".html", page)
}

// eachNode calls f for every node, on one goroutine per core, and stops at the first
// error: reaching, laying out, compiling, rendering and writing run on every core.
func eachNode(ctx context.Context, nodes []lineage.NodeRef, f func(context.Context, lineage.NodeRef) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan lineage.NodeRef)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(nodes)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range next {
				if err := f(ctx, n); err != nil {
					cancel(err) // the first cause is kept
				}
			}
		}()
	}
feed:
	for _, n := range nodes {
		select {
		case next <- n:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// exportServer is a server with no warehouse or scheduler, for rendering pages to files.
func exportServer(p *models.Project, g *lineage.Graph, cat *lineage.Catalog) *Server {
	return &Server{Project: p, Graph: g, Analyze: func(context.Context) (*lineage.Catalog, error) {
		if cat == nil {
			return nil, errors.New("no column catalog was built")
		}
		return cat, nil
	}}
}

// renderBytes renders a component into memory, so that a failed page writes no file.
func renderBytes(ctx context.Context, c templ.Component) ([]byte, error) {
	var b bytes.Buffer
	if err := c.Render(ctx, &b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
