package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"

	"github.com/stratadata/strata/engine"
	"github.com/stratadata/strata/lineage"
	"github.com/stratadata/strata/models"
)

// Options configure a Scheduler.
type Options struct {
	Clock     clockwork.Clock   // the real clock when nil
	MaxRuns   int               // runs at once across the process; 2 when 0
	Threads   int               // tasks at once within a run; 4 when 0
	Retries   int               // a task's own retries of transient errors (as --retries); 2 when 0
	AgeStep   time.Duration     // waiting this long lifts a job one priority level; 10 minutes when 0
	RetryCap  time.Duration     // the longest backoff between attempts of an interval; 30 minutes when 0
	Tick      time.Duration     // the wake-up that catches what a sleep or clock jump missed; a minute when 0
	Queue     Queue             // an in-process MemQueue when nil
	Logger    *slog.Logger      // discarded when nil
	Metrics   *Metrics          // none when nil
	Observers []engine.Observer // added to every run (OpenLineage, say)
	NoCron    bool              // do not start gocron: tests drive Tick themselves
}

// Scheduler keeps every schedule's intervals done: it owns the queue and the runs of one
// warehouse. Start it, and Stop it.
type Scheduler struct {
	opts  Options
	p     *models.Project
	g     *lineage.Graph
	w     *engine.Warehouse
	clock clockwork.Clock
	log   *slog.Logger
	queue Queue

	schedules map[string]*models.Schedule
	starts    map[string]time.Time // how far back catch-up may go, per schedule
	triggered []string             // models with trigger='upstream'

	mu        sync.Mutex
	jobs      map[string]*Job // every job this process knows: queued, running, recently finished
	running   map[string]*Job
	active    map[string]int // running jobs per schedule
	paused    map[string]bool
	firstSeen map[string]time.Time
	order     []string // job IDs in the order they were created, to forget old ones

	wake    chan struct{}
	changed chan struct{} // closed and replaced whenever a job starts or finishes
	drain   chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	cron    gocron.Scheduler
	started chan struct{}
	stopped chan struct{}
	loops   sync.WaitGroup
	runs    sync.WaitGroup
}

// New prepares a scheduler for a project's schedules on an open warehouse; it checks
// every schedule's selection against the graph.
func New(p *models.Project, g *lineage.Graph, w *engine.Warehouse, opts Options) (*Scheduler, error) {
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.MaxRuns <= 0 {
		opts.MaxRuns = 2
	}
	if opts.Threads <= 0 {
		opts.Threads = 4
	}
	if opts.Retries == 0 {
		opts.Retries = 2
	}
	if opts.RetryCap <= 0 {
		opts.RetryCap = 30 * time.Minute
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Minute
	}
	if opts.Queue == nil {
		opts.Queue = NewMemQueue(opts.AgeStep)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Scheduler{opts: opts, p: p, g: g, w: w, clock: opts.Clock, log: opts.Logger, queue: opts.Queue,
		schedules: p.Schedules, starts: map[string]time.Time{},
		jobs: map[string]*Job{}, running: map[string]*Job{}, active: map[string]int{}, paused: map[string]bool{},
		wake: make(chan struct{}, 1), changed: make(chan struct{}), drain: make(chan struct{}), started: make(chan struct{}), stopped: make(chan struct{})}
	if s.schedules == nil {
		s.schedules = map[string]*models.Schedule{}
	}
	var errs models.Errors
	for _, name := range s.names() {
		sc := s.schedules[name]
		ids, err := g.Select(sc.Select, nil)
		if err != nil {
			errs = append(errs, &models.Error{File: sc.Pos.File, Line: sc.Pos.Line, Col: sc.Pos.Col, Msg: fmt.Sprintf("schedule %s: %v", name, err)})
			continue
		}
		for id := range ids {
			if n := g.Node(id); n.Model != nil && n.Model.Partition() != nil {
				if st := n.Model.Partition().Start; s.starts[name].IsZero() || st.Before(s.starts[name]) {
					s.starts[name] = st
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	for _, name := range p.ModelNames() {
		if m := p.Models[name]; m.Partition() != nil && fmt.Sprint(m.Config.Raw["trigger"]) == "upstream" {
			s.triggered = append(s.triggered, name)
		}
	}
	return s, nil
}

// names are the schedules, sorted.
func (s *Scheduler) names() []string {
	out := make([]string, 0, len(s.schedules))
	for n := range s.schedules {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Started is closed once the scheduler has caught up and runs.
func (s *Scheduler) Started() <-chan struct{} { return s.started }

// Start restores what the ledger says is unfinished, queues what is owed, and starts
// firing and running. It returns once the scheduler runs.
func (s *Scheduler) Start(ctx context.Context) error {
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	now := s.clock.Now().UTC()
	states, err := s.w.ScheduleStates(ctx, s.names(), s.pausedInConfig(), now)
	if err != nil {
		return fmt.Errorf("schedule state: %w", err)
	}
	s.firstSeen = map[string]time.Time{}
	for name, st := range states {
		s.paused[name] = st.Paused
		s.firstSeen[name] = st.FirstSeen
	}
	// what a process that stopped (or died) left queued or running is owed still
	unfinished, err := s.w.UnfinishedIntervals(ctx)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	for _, iv := range unfinished {
		if _, ok := s.schedules[iv.Schedule]; ok {
			s.pushInterval(iv, iv.Attempts)
		}
	}
	if err := s.Tick(ctx); err != nil {
		return err
	}
	if !s.opts.NoCron {
		if err := s.startCron(); err != nil {
			return err
		}
	}
	s.loops.Add(1)
	go s.dispatchLoop()
	close(s.started)
	s.log.Info("scheduler started", "schedules", len(s.schedules), "queued", len(s.queue.List(now)))
	return nil
}

func (s *Scheduler) pausedInConfig() map[string]bool {
	out := map[string]bool{}
	for n, sc := range s.schedules {
		out[n] = sc.Paused
	}
	return out
}

// startCron has gocron wake the scheduler at each schedule's fire times, and every Tick
// besides: the ledger decides what is due, gocron only says when to look.
func (s *Scheduler) startCron() error {
	c, err := gocron.NewScheduler(gocron.WithClock(s.clock), gocron.WithLocation(time.UTC))
	if err != nil {
		return err
	}
	wake := gocron.NewTask(func() { s.tickNow() })
	for _, name := range s.names() {
		sc := s.schedules[name]
		spec := sc.Cron
		if sc.Timezone != "" {
			spec = "CRON_TZ=" + sc.Timezone + " " + spec
		}
		if _, err := c.NewJob(gocron.CronJob(spec, false), wake, gocron.WithName(name)); err != nil {
			return fmt.Errorf("schedule %s: %w", name, err)
		}
	}
	if _, err := c.NewJob(gocron.DurationJob(s.opts.Tick), gocron.NewTask(func() {
		s.tickNow()
		s.checkTriggers(true)
		if s.opts.Metrics != nil {
			_, _ = s.Status(s.ctx) // late models, for the metrics
		}
	})); err != nil {
		return err
	}
	c.Start()
	s.cron = c
	return nil
}

func (s *Scheduler) tickNow() {
	if err := s.Tick(s.ctx); err != nil {
		s.log.Error("tick", "error", err)
	}
}

// Tick queues every interval owed at the clock's now that the ledger does not hold yet,
// each once, oldest first. It is what every wake-up calls; calling it twice queues
// nothing twice.
func (s *Scheduler) Tick(ctx context.Context) error {
	now := s.clock.Now().UTC()
	latest, err := s.w.LatestIntervals(ctx)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	for _, name := range s.names() {
		sc := s.schedules[name]
		s.mu.Lock()
		paused := s.paused[name]
		s.mu.Unlock()
		if paused {
			continue
		}
		start := s.starts[name]
		if start.IsZero() {
			start = s.firstSeen[name]
		}
		owed := Owed(Plan{Schedule: sc, Latest: latest[name], Start: start, Now: now})
		if len(owed) == 0 {
			continue
		}
		if sc.Overlap == "skip" && s.busy(name) {
			for i := range owed {
				owed[i].State, owed[i].Error = engine.IntervalSkipped, "skipped: a run of this schedule was still going (overlap: skip)"
			}
			if _, err := s.w.QueueIntervals(ctx, owed); err != nil {
				return err
			}
			s.log.Info("intervals skipped", "schedule", name, "count", len(owed))
			continue
		}
		added, err := s.w.QueueIntervals(ctx, owed)
		if err != nil {
			return err
		}
		for _, iv := range added {
			s.pushInterval(iv, 0)
		}
		if len(added) > 0 {
			s.log.Info("intervals queued", "schedule", name, "count", len(added), "first", added[0].End, "last", added[len(added)-1].End)
		}
	}
	s.opts.Metrics.lag(s, now, latest)
	s.kick()
	return nil
}

// busy reports whether a schedule has a run going or queued.
func (s *Scheduler) busy(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active[name] > 0 {
		return true
	}
	for _, j := range s.queue.List(s.clock.Now()) {
		if j.Schedule == name {
			return true
		}
	}
	return false
}

// pushInterval queues the job of a ledger interval.
func (s *Scheduler) pushInterval(iv engine.Interval, attempts int) {
	sc := s.schedules[iv.Schedule]
	kind := iv.Kind
	if kind == "" {
		kind = "scheduled"
	}
	iv.State = engine.IntervalQueued
	j := &Job{ID: iv.Key(), Kind: kind, Schedule: iv.Schedule, Interval: &iv, Priority: sc.Priority, State: JobQueued,
		Attempt: attempts, Due: iv.End, Enqueued: s.clock.Now().UTC(),
		Request: Request{Command: scheduleCommand(sc), Select: sc.Select}}
	s.push(j)
}

func (s *Scheduler) push(j *Job) {
	s.mu.Lock()
	if old, ok := s.jobs[j.ID]; ok && old.State != JobFinished {
		s.mu.Unlock()
		return
	}
	s.jobs[j.ID] = j
	s.order = append(s.order, j.ID)
	s.forget()
	s.mu.Unlock()
	if s.queue.Push(j) {
		s.opts.Metrics.queued(j)
	}
	s.kick()
}

// forget drops the oldest finished jobs beyond the last thousand.
func (s *Scheduler) forget() {
	for len(s.order) > 1000 {
		id := s.order[0]
		if j := s.jobs[id]; j != nil && j.State != JobFinished {
			return
		}
		delete(s.jobs, id)
		s.order = s.order[1:]
	}
}

// signal wakes whoever waits for a change. Called with s.mu held.
func (s *Scheduler) signal() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Wait returns once nothing runs and nothing queued may start now (what waits for its
// backoff does not count), or when ctx ends.
func (s *Scheduler) Wait(ctx context.Context) error {
	for {
		// running and queued are read under one lock: dispatch moves a job from the
		// queue to running under it, and must not be seen between the two
		s.mu.Lock()
		ch := s.changed
		busy := len(s.running) > 0
		if !busy {
			now := s.clock.Now()
			for _, j := range s.queue.List(now) {
				if !j.NotBefore.After(now) {
					busy = true
					break
				}
			}
		}
		s.mu.Unlock()
		if !busy {
			return nil
		}
		s.kick()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Scheduler) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// dispatchLoop starts queued jobs as limits allow, whenever something changes.
func (s *Scheduler) dispatchLoop() {
	defer s.loops.Done()
	for {
		s.dispatch()
		var timer <-chan time.Time
		if t, ok := s.queue.Earliest(); ok {
			timer = s.clock.After(max(t.Sub(s.clock.Now()), 0))
		}
		select {
		case <-s.ctx.Done():
			return
		case <-s.drain:
			return
		case <-s.wake:
		case <-timer:
		}
	}
}

// draining reports that Stop has begun; the caller holds s.mu.
func (s *Scheduler) draining() bool {
	select {
	case <-s.drain:
		return true
	default:
		return false
	}
}

// dispatch starts every job that may start now.
func (s *Scheduler) dispatch() {
	for {
		select {
		case <-s.drain:
			return
		default:
		}
		s.mu.Lock()
		if s.draining() || len(s.running) >= s.opts.MaxRuns {
			s.mu.Unlock()
			return
		}
		j := s.queue.Next(s.clock.Now(), s.canRun)
		if j == nil {
			s.mu.Unlock()
			return
		}
		now := s.clock.Now().UTC()
		j.State, j.Started = JobRunning, &now
		s.running[j.ID] = j
		if j.Schedule != "" {
			s.active[j.Schedule]++
		}
		s.signal()
		s.runs.Add(1) // under s.mu, before Stop's drain: Stop's Wait counts it
		s.mu.Unlock()
		s.opts.Metrics.started(j, now)
		go s.run(j)
	}
}

// canRun says whether a job's schedule has room for another run. Called with s.mu held.
func (s *Scheduler) canRun(j *Job) bool {
	if j.Schedule == "" {
		return true
	}
	return s.active[j.Schedule] < s.schedules[j.Schedule].MaxActiveRuns
}

// Stop stops firing and dispatching, lets running tasks finish for up to timeout, then
// cancels them (they are recorded cancelled and their intervals interrupted, for the
// next start to run again).
func (s *Scheduler) Stop(timeout time.Duration) error {
	select {
	case <-s.stopped:
		return nil
	default:
	}
	close(s.stopped)
	if s.cron != nil {
		_ = s.cron.Shutdown()
	}
	s.mu.Lock()
	close(s.drain) // no run starts after this
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.runs.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		s.log.Warn("shutdown timeout: cancelling running tasks", "timeout", timeout)
		s.cancel()
		<-done
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.loops.Wait()
	return nil
}

// scheduleCommand is what a schedule's runs do: run its models (the default), build them
// with their tests, or test them.
func scheduleCommand(sc *models.Schedule) engine.Command {
	if sc.Command == "" {
		return engine.CommandRun
	}
	return engine.Command(sc.Command)
}
