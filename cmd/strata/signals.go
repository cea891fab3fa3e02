package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

// shutdown turns SIGINT and SIGTERM into a graceful stop. During a run the first signal
// drains it: no new task starts, running tasks get the grace period to finish, then they
// are cut short; a second signal cuts them short at once. Outside a run a signal cancels
// the command straight away. Either way the run is recorded cancelled, and what never
// started stays pending for a rerun.
type shutdown struct {
	drain   chan struct{}
	cancel  context.CancelFunc
	grace   atomic.Int64 // nanoseconds
	running atomic.Bool  // a run is under way and can be drained
	stderr  io.Writer
}

// defaultGrace is how long running tasks get to finish after the first signal.
const defaultGrace = 30 * time.Second

type shutdownKey struct{}

// withShutdown returns a context that the process's SIGINT and SIGTERM stop.
func withShutdown(ctx context.Context, stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	s := &shutdown{drain: make(chan struct{}), cancel: cancel, stderr: stderr}
	s.grace.Store(int64(defaultGrace))
	if v := os.Getenv("STRATA_GRACE"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			s.grace.Store(int64(d))
		}
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go s.watch(sigs, done)
	return context.WithValue(ctx, shutdownKey{}, s), func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

func shutdownFrom(ctx context.Context) *shutdown {
	s, _ := ctx.Value(shutdownKey{}).(*shutdown)
	return s
}

func (s *shutdown) watch(sigs <-chan os.Signal, done <-chan struct{}) {
	select {
	case sig := <-sigs:
		if !s.running.Load() {
			s.cancel()
			s.exitOnNext(sigs, done)
			return
		}
		grace := time.Duration(s.grace.Load())
		fmt.Fprintf(s.stderr, "\n%s: stopping: no new tasks start; running tasks have %s to finish (signal again to stop them now)\n", sig, grace)
		close(s.drain)
		select {
		case <-sigs:
		case <-time.After(grace):
		case <-done:
			return
		}
		s.cancel()
		s.exitOnNext(sigs, done)
	case <-done:
	}
}

// exitOnNext ends the process on one more signal: the command was asked to stop and
// has not yet, so the user is not left waiting on it.
func (s *shutdown) exitOnNext(sigs <-chan os.Signal, done <-chan struct{}) {
	select {
	case <-sigs:
		fmt.Fprintln(s.stderr, "stopped")
		os.Exit(exitCancelled)
	case <-done:
	}
}
