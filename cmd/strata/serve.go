package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/mcp"
	"github.com/stratadata/strata/openlineage"
	"github.com/stratadata/strata/scheduler"
	"github.com/stratadata/strata/web"
	"github.com/stratadata/strata/web/api"
)

// serveCmd wires one warehouse, one scheduler and the HTTP server together.
func (a *app) serveCmd() *cobra.Command {
	var addr, token, logFormat, logLevel string
	var maxRuns int
	var mcpWrites bool
	var shutdown time.Duration
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the scheduler daemon and the HTTP API: keeps every schedule's intervals done",
		Long: `serve owns the project's warehouse: it queues every interval the schedules owe (catching
up after downtime), runs them through one fair queue, and serves the web UI at /, the API under
/api/v1, Prometheus metrics at /metrics, and MCP for agents over streamable HTTP at /mcp. While it runs, run, build, backfill, show, status and the
other commands go through it. Its URL is on its first line and in .strata/server.json.
SIGTERM or SIGINT stops it gracefully: no new runs, running tasks get --shutdown-timeout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if token == "" {
				token = os.Getenv("STRATA_TOKEN")
			}
			if err := checkListen(addr, token); err != nil {
				return err
			}
			log, err := newLogger(a, logFormat, logLevel)
			if err != nil {
				return err
			}
			p, g, err := a.load()
			if err != nil {
				return err
			}
			// a daemon lives long: collect as usual (the CLI trades memory for a faster
			// one-off load) and give back what the load used
			settleGC()
			debug.FreeOSMemory()
			if c, err := a.remote(cmd.Context(), p); err != nil {
				return err
			} else if c != nil {
				return usagef("a strata server already serves this project at %s; stop it first", c.Base)
			}
			w, err := engine.Open(cmd.Context(), p)
			if err != nil {
				return err
			}
			defer w.Close()
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			opts := scheduler.Options{MaxRuns: maxRuns, Threads: a.threadsFor(p), Logger: log, Metrics: scheduler.NewMetrics(reg)}
			ol, err := openlineage.New(p)
			if err != nil {
				return err
			}
			if ol != nil {
				ol.Warn = func(msg string) { log.Warn("openlineage", "message", msg) }
				defer ol.Close()
				opts.Observers = append(opts.Observers, ol)
			}
			analyze := sharedAnalyze(p, g, w)
			agents := mcpServer(p, g, analyze, log, mcpWrites)
			live := web.NewLive()
			opts.Observers = append(opts.Observers, agents.Observer(), live)
			s, err := scheduler.New(p, g, w, opts)
			if err != nil {
				return err
			}
			agents.SetBackend(mcp.Served{Project: p, Graph: g, Warehouse: w, Scheduler: s})
			srv := &web.Server{Project: p, Graph: g, Warehouse: w, Scheduler: s, Token: token, Logger: log, Gatherer: reg,
				Analyze: analyze, Live: live, Mounts: map[string]http.Handler{"/mcp": mcpHandler(agents)}}
			url, err := srv.Start(addr)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, url)
			if err := s.Start(cmd.Context()); err != nil {
				return err
			}
			// written once the scheduler runs: a command that finds the file finds a server
			// that answers for everything
			if err := writeServerFile(p.Dir, api.ServerFile{URL: url, PID: os.Getpid(), Started: time.Now().UTC(), Token: token}); err != nil {
				return err
			}
			defer os.Remove(serverFile(p.Dir))
			log.Info("serving", "url", url, "project", p.Name, "schedules", len(p.Schedules))
			<-cmd.Context().Done()
			log.Info("stopping: no new runs; running tasks get the shutdown timeout", "timeout", shutdown)
			_ = s.Stop(shutdown)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = srv.Stop(ctx)
			log.Info("stopped")
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "where to listen (127.0.0.1:0 picks a free port); beyond loopback needs --token")
	f.StringVar(&token, "token", "", "a token every write request must carry (default $STRATA_TOKEN)")
	f.IntVar(&maxRuns, "max-runs", 2, "runs at once")
	f.DurationVar(&shutdown, "shutdown-timeout", 30*time.Second, "how long running tasks may finish after SIGTERM before they are cancelled")
	f.BoolVar(&mcpWrites, "mcp-allow-writes", false, "list and serve MCP's write tools (run_backfill, run_models) at /mcp")
	f.StringVar(&logFormat, "log-format", "", "text or json (default: text on a terminal, json otherwise)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	return c
}

// checkListen refuses to listen beyond loopback without a token.
func checkListen(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--addr %q: give host:port, e.g. 127.0.0.1:8080", addr)
	}
	ip := net.ParseIP(host)
	loopback := host == "localhost" || (ip != nil && ip.IsLoopback())
	if !loopback && token == "" {
		return usagef("--addr %s listens beyond this machine: give --token (or STRATA_TOKEN) so that only holders of it can write", addr)
	}
	return nil
}

func newLogger(a *app, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: use debug, info, warn or error", level)
	}
	if format == "" {
		format = "json"
		if isTerminal(a.stderr) {
			format = "text"
		}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(a.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(a.stderr, opts)), nil
	}
	return nil, usagef("--log-format %q: use text or json", format)
}

func writeServerFile(dir string, sf api.ServerFile) error {
	path := serverFile(dir)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(sf, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
