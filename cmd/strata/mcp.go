package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/mcp"
	"github.com/stratadata/strata/models"
)

// mcpCmd serves the project to one agent over stdio: through the running server when
// there is one, otherwise opening the warehouse for each call.
func (a *app) mcpCmd() *cobra.Command {
	var allowWrites bool
	var logFormat, logLevel string
	c := &cobra.Command{
		Use:   "mcp",
		Short: "Serve the project to AI agents over MCP (stdio): lineage, impact, partitions, runs, read-only queries",
		Long: `mcp speaks the Model Context Protocol on stdin and stdout, for agent clients that spawn a
process. Its tools answer from the project's files and warehouse: models, model and column
lineage, impact analysis, partitions, runs, backfill plans and read-only SQL. With a running
strata serve it asks the server (which also serves MCP over HTTP at /mcp); otherwise it
opens the warehouse for each call and closes it after. Write tools (run_backfill,
run_models) exist only with --allow-writes. Every tool call is logged on stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if logLevel == "" {
				logLevel = "info"
			}
			log, err := newLogger(a, logFormat, logLevel)
			if err != nil {
				return err
			}
			p, g, err := a.load()
			if err != nil {
				return err
			}
			settleGC() // what follows the load is long
			ctx := cmd.Context()
			opts := mcp.Options{Project: p, Graph: g, AllowWrites: allowWrites, Logger: log, Poll: 2 * time.Second}
			rc, err := a.remote(ctx, p)
			if err != nil {
				return err
			}
			if rc != nil {
				opts.Backend = mcp.Remote{Client: rc}
				opts.Analyze = analyzeWith(p, g, lineage.AnalyzeOptions{}) // the server holds the file
				log.Info("mcp: through the running server", "url", rc.Base)
			} else {
				opts.Backend = mcp.Local{Project: p, Graph: g, Threads: a.threadsFor(p)}
				opts.Analyze = analyzeWith(p, g, lineage.AnalyzeOptions{Warehouse: p.Warehouse.Path})
			}
			s := mcp.New(opts)
			if l, ok := opts.Backend.(mcp.Local); ok {
				l.Observers = []engine.Observer{s.Observer()}
				s.SetBackend(l)
			}
			err = s.Run(ctx, &sdk.IOTransport{Reader: readCloser(a.stdin), Writer: nopWriteCloser{a.stdout}})
			if errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
				return nil // the client left, or a signal
			}
			return err
		},
	}
	f := c.Flags()
	f.BoolVar(&allowWrites, "allow-writes", false, "also list and serve run_backfill and run_models")
	f.StringVar(&logFormat, "log-format", "", "text or json, on stderr (default: text on a terminal, json otherwise)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	return c
}

func analyzeWith(p *models.Project, g *lineage.Graph, o lineage.AnalyzeOptions) func(context.Context) (*lineage.Catalog, error) {
	return func(ctx context.Context) (*lineage.Catalog, error) { return lineage.Analyze(ctx, p, g, o) }
}

// mcpHandler is serve's /mcp: the same tools on serve's own warehouse and scheduler,
// over streamable HTTP, with one MCP server for every session.
// Its backend is set once the scheduler exists (the scheduler needs the server's
// observer first).
func mcpServer(p *models.Project, g *lineage.Graph, analyze func(context.Context) (*lineage.Catalog, error), log *slog.Logger, allowWrites bool) *mcp.Server {
	return mcp.New(mcp.Options{Project: p, Graph: g, AllowWrites: allowWrites, Logger: log, Analyze: analyze})
}

// sharedAnalyze builds serve's shadow catalog once, for the MCP tools and the pages
// alike, the first time either needs columns.
func sharedAnalyze(p *models.Project, g *lineage.Graph, w *engine.Warehouse) func(context.Context) (*lineage.Catalog, error) {
	analyze := analyzeWith(p, g, lineage.AnalyzeOptions{SourceColumns: w.TableColumns})
	var once sync.Once
	var cat *lineage.Catalog
	var err error
	return func(ctx context.Context) (*lineage.Catalog, error) {
		once.Do(func() { cat, err = analyze(context.WithoutCancel(ctx)) })
		return cat, err
	}
}

func mcpHandler(srv *mcp.Server) http.Handler {
	return sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return srv.MCP() }, nil)
}

func readCloser(r io.Reader) io.ReadCloser {
	if rc, ok := r.(io.ReadCloser); ok {
		return rc
	}
	if r == nil {
		return os.Stdin
	}
	return io.NopCloser(r)
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
