package web

import (
	"context"
	"sync"

	"github.com/stratadata/strata/lineage"
)

// columnLineage is the project's shadow catalog and column graph, built once, the first
// time a page or endpoint needs columns.
type columnLineage struct {
	once sync.Once
	cat  *lineage.Catalog
	cg   *lineage.ColumnGraph
	err  error
}

// columns builds the column lineage once per server, with the Server's Analyze (serve
// shares one with the MCP server) or against the warehouse's tables.
func (s *Server) columns(ctx context.Context) (*lineage.ColumnGraph, *lineage.Catalog, error) {
	s.colOnce.once.Do(func() {
		analyze := s.Analyze
		if analyze == nil {
			analyze = func(ctx context.Context) (*lineage.Catalog, error) {
				opts := lineage.AnalyzeOptions{}
				if s.Warehouse != nil {
					opts.SourceColumns = s.Warehouse.TableColumns
				}
				return lineage.Analyze(ctx, s.Project, s.Graph, opts)
			}
		}
		c := &s.colOnce
		c.cat, c.err = analyze(context.WithoutCancel(ctx))
		if c.err == nil {
			c.cg = lineage.NewColumnGraph(c.cat.Nodes)
		}
	})
	return s.colOnce.cg, s.colOnce.cat, s.colOnce.err
}
