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
func Export(ctx context.Context, p *models.Project, g *lineage.Graph, cat *lineage.Catalog, dir string) (ExportResult, error) {
	res := ExportResult{Skipped: []string{}}
	s := exportServer(p, g, cat)
	defer func() {
		if s.layouts.gv != nil {
			s.layouts.gv.Close()
		}
	}()
	write := func(rel string, data []byte) error {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
		res.Files++
		return nil
	}

	if err := fs.WalkDir(Static(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
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

	sub := ui.Meta{Project: p.Name, Static: true, Root: "../"}
	for _, n := range nodes {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		d, err := s.modelDetail(ctx, n.Name)
		if err != nil {
			return res, fmt.Errorf("export %s: %w", n.Name, err)
		}
		m := sub
		m.Title, m.Nav = d.Name, "models"
		page, err := renderBytes(ctx, ui.ModelPage(modelView(m, p, d)))
		if err != nil {
			return res, fmt.Errorf("export %s: %w", n.Name, err)
		}
		if err := write("models/"+ui.FileName(n.Name)+".html", page); err != nil {
			return res, err
		}
	}

	if err := lineagePages(ctx, s, sub, nodes, write); err != nil {
		return res, err
	}
	res.Nodes = len(nodes)
	return res, nil
}

// lineagePages renders and writes each node's lineage page. Laying the diagrams out is
// most of an export's time; dot lays out one at a time (go-graphviz runs one WebAssembly
// instance per process, so layouts cannot run side by side even with a dot each), and
// the reaching, drawing and rendering around it run on the other cores meanwhile.
func lineagePages(ctx context.Context, s *Server, m ui.Meta, nodes []lineage.NodeRef, write func(string, []byte) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex // write's count, and first
		first error
		wg    sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
			cancel()
		}
	}
	next := make(chan lineage.NodeRef)
	for range min(runtime.GOMAXPROCS(0), len(nodes)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range next {
				pm := m
				pm.Title, pm.Nav = "Lineage of "+n.Name, "lineage"
				q := url.Values{"focus": {n.Name}, "up": {strconv.Itoa(exportDepth)}, "down": {strconv.Itoa(exportDepth)}}
				v, err := s.lineageView(ctx, pm, q)
				var page []byte
				if err == nil {
					page, err = renderBytes(ctx, ui.LineagePage(v))
				}
				if err != nil {
					fail(fmt.Errorf("export lineage of %s: %w", n.Name, err))
					continue
				}
				mu.Lock()
				err = write("lineage/"+ui.FileName(n.Name)+".html", page)
				mu.Unlock()
				if err != nil {
					fail(err)
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
	if first != nil {
		return first
	}
	return ctx.Err()
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
