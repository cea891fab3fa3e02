// Package scheduler is the daemon's brain, as a library with no HTTP: it computes what
// each schedule owes from a durable ledger of intervals (never from the tick that woke
// it), queues that work once, in one fair queue with priorities, ageing and limits,
// runs it through the engine's one runner, and retries what may pass on retry.
//
// What is owed is a pure function of time (Owed, Upcoming): no goroutines, no clock of
// its own, so it is tested with tables of times. The Scheduler service around it takes
// its clock as a parameter (clockwork), and gocron only wakes it up.
//
// The shortest use:
//
//	s, err := scheduler.New(project, graph, warehouse, scheduler.Options{})
//	err = s.Start(ctx)
//	job, err := s.Submit(scheduler.Request{Command: "run", Select: []string{"events_daily"}})
//	defer s.Stop(30 * time.Second)
package scheduler
