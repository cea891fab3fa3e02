// Package web is strata's HTTP server: the JSON API under /api/v1 (its types and client
// are in web/api), Prometheus metrics at /metrics, and mounts for more handlers (the MCP
// endpoint, pages). It holds no logic of its own: handlers call the engine, lineage and
// the scheduler, and map their errors to statuses by type.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
	"github.com/stratadata/strata/scheduler"
)

// Server serves one project's warehouse and scheduler over HTTP.
type Server struct {
	Project   *models.Project
	Graph     *lineage.Graph
	Warehouse *engine.Warehouse
	Scheduler *scheduler.Scheduler
	Token     string                  // when set, every write endpoint requires it as a bearer token
	Logger    *slog.Logger            // request logs; discarded when nil
	Gatherer  prometheus.Gatherer     // what /metrics serves; the default registry when nil
	Mounts    map[string]http.Handler // more handlers by path prefix (e.g. "/mcp")
	// Analyze builds the shadow catalog for column lineage, once, the first time a page
	// or endpoint needs columns; against the warehouse's tables when nil.
	Analyze func(ctx context.Context) (*lineage.Catalog, error)
	// Live tells the pages what runs now; give it to the scheduler as an observer.
	Live *Live

	layouts       layouter
	statesMu      sync.Mutex
	states        map[string]engine.NodeState // the latest tasks, as of statesVersion of Live
	statesVersion uint64

	colOnce columnLineage

	started time.Time
	srv     *http.Server
	done    chan error
}

// Start listens on addr (127.0.0.1:0 picks a port) and serves in the background. It
// returns the base URL once the listener is ready.
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.started = time.Now().UTC()
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.done = make(chan error, 1)
	go func() { s.done <- s.srv.Serve(ln) }()
	// the shadow catalog, for columns, is built now rather than at the first page
	// that shows one
	go func() { _, _, _ = s.columns(context.Background()) }()
	return "http://" + ln.Addr().String(), nil
}

// Stop stops accepting requests and waits for those in flight, up to ctx's deadline.
func (s *Server) Stop(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// Handler is the server's whole HTTP surface.
func (s *Server) Handler() http.Handler {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Live == nil { // not told of runs, but of the pages' own actions
		s.Live = NewLive()
	}
	if s.started.IsZero() {
		s.started = time.Now().UTC()
	}
	mux := http.NewServeMux()
	s.routes(mux)
	s.pageRoutes(mux)
	g := s.Gatherer
	if g == nil {
		g = prometheus.DefaultGatherer
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	for prefix, h := range s.Mounts {
		mux.Handle(prefix, s.auth(h))
	}
	return s.logRequests(compress(mux))
}

// auth requires the token on every request but reads, when a token is set.
func (s *Server) auth(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Token != "" && r.Method != http.MethodGet && r.Method != http.MethodHead && r.Header.Get("Authorization") != "Bearer "+s.Token {
			writeError(w, &httpError{status: http.StatusUnauthorized, kind: "unauthorized",
				msg: "this server needs its token for writes: send Authorization: Bearer <token> (the CLI reads STRATA_TOKEN)"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		s.Logger.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Flush lets server-sent events through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
