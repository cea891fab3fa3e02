package scheduler

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratadata/strata/engine"
)

// Metrics are the scheduler's Prometheus series. A nil *Metrics records nothing.
type Metrics struct {
	runs         *prometheus.CounterVec
	tasks        *prometheus.CounterVec
	taskDuration prometheus.Histogram
	queueDepth   *prometheus.GaugeVec
	dueToQueued  prometheus.Histogram
	queuedToRun  prometheus.Histogram
	dueToStarted prometheus.Histogram
	lagSeconds   *prometheus.GaugeVec
	late         *prometheus.GaugeVec
}

// NewMetrics registers the scheduler's series with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	latency := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}
	m := &Metrics{
		runs:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strata_runs_total", Help: "Runs finished, by status."}, []string{"status"}),
		tasks:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strata_tasks_total", Help: "Tasks finished, by status."}, []string{"status"}),
		taskDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "strata_task_duration_seconds", Help: "How long tasks ran.", Buckets: latency}),
		queueDepth:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "strata_queue_depth", Help: "Jobs waiting to run, by priority."}, []string{"priority"}),
		dueToQueued:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "strata_due_to_queued_seconds", Help: "From an interval closing to its job being queued.", Buckets: latency}),
		queuedToRun:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "strata_queued_to_started_seconds", Help: "From a job being queued to its run starting.", Buckets: latency}),
		dueToStarted: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "strata_due_to_started_seconds", Help: "From work becoming due to its run starting.", Buckets: latency}),
		lagSeconds:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "strata_schedule_lag_seconds", Help: "How far each schedule's latest done interval is behind now."}, []string{"schedule"}),
		late:         prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "strata_late_models", Help: "Models later than their freshness allows, by level."}, []string{"level"}),
	}
	reg.MustRegister(m.runs, m.tasks, m.taskDuration, m.queueDepth, m.dueToQueued, m.queuedToRun, m.dueToStarted, m.lagSeconds, m.late)
	for _, p := range priorityOrder {
		m.queueDepth.WithLabelValues(p)
	}
	return m
}

func (m *Metrics) queued(j *Job) {
	if m == nil {
		return
	}
	m.queueDepth.WithLabelValues(j.Priority).Inc()
	if !j.Due.IsZero() {
		m.dueToQueued.Observe(max(j.Enqueued.Sub(j.Due).Seconds(), 0))
	}
}

func (m *Metrics) started(j *Job, now time.Time) {
	if m == nil {
		return
	}
	m.queueDepth.WithLabelValues(j.Priority).Dec()
	m.queuedToRun.Observe(max(now.Sub(j.Enqueued).Seconds(), 0))
	m.dueToStarted.Observe(max(now.Sub(j.Due).Seconds(), 0))
}

// finished counts a job that ended without a run (its plan failed).
func (m *Metrics) finished(j *Job, res *engine.Result) {
	if m == nil || res != nil {
		return // a run is counted by the observer, as it ends
	}
	m.runs.WithLabelValues(j.Status).Inc()
}

// lag records how far behind each schedule's latest interval is.
func (m *Metrics) lag(s *Scheduler, now time.Time, latest map[string]time.Time) {
	if m == nil {
		return
	}
	for name := range s.schedules {
		if t, ok := latest[name]; ok {
			m.lagSeconds.WithLabelValues(name).Set(now.Sub(t).Seconds())
		}
	}
}

// Late records how many models are late, by level.
func (m *Metrics) Late(warn, errors int) {
	if m == nil {
		return
	}
	m.late.WithLabelValues("warn").Set(float64(warn))
	m.late.WithLabelValues("error").Set(float64(errors))
}

// observer counts tasks as they finish.
func (m *Metrics) observer() engine.Observer {
	return engine.ObserverFunc(func(e engine.Event) {
		if m == nil {
			return
		}
		if e.Kind == engine.EventRunFinished {
			m.runs.WithLabelValues(e.Result.Status).Inc()
			return
		}
		if e.Kind != engine.EventTaskFinished {
			return
		}
		m.tasks.WithLabelValues(string(e.Task.Status)).Inc()
		if d := e.Task.Duration(); d > 0 {
			m.taskDuration.Observe(d.Seconds())
		}
	})
}
