package node

import (
	"time"

	"github.com/guarantor/guarantor"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the node's Prometheus metrics. They carry counts, kinds and
// error codes only: never entry contents, signer names or personal data.
// A nil *Metrics records nothing.
type Metrics struct {
	submissions *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	applied     prometheus.Gauge
	engineSeq   prometheus.Gauge
	matched     prometheus.Gauge
	open        prometheus.Gauge
	halted      prometheus.Gauge
	rejected    *prometheus.CounterVec
}

// NewMetrics registers the node's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		submissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "guarantor_submissions_total",
			Help: "Entries submitted, by kind and result (created, duplicate, or an error code).",
		}, []string{"kind", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "guarantor_submit_seconds",
			Help:    "Time from receiving an entry to returning its receipt or error.",
			Buckets: []float64{.005, .01, .025, .05, .1, .2, .3, .5, .75, 1, 2, 5, 10},
		}, []string{"result"}),
		applied: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "guarantor_projection_entries",
			Help: "Log entries applied to the projection.",
		}),
	}
	m.engineSeq = prometheus.NewGauge(prometheus.GaugeOpts{Name: "guarantor_engine_derived_emitted", Help: "Derived entries the engine has emitted (its next seq)."})
	m.matched = prometheus.NewGauge(prometheus.GaugeOpts{Name: "guarantor_engine_derived_logged", Help: "Derived entries found in the log and checked against the engine's."})
	m.open = prometheus.NewGauge(prometheus.GaugeOpts{Name: "guarantor_engine_open_incidents", Help: "Incidents open to new members."})
	m.halted = prometheus.NewGauge(prometheus.GaugeOpts{Name: "guarantor_engine_halted", Help: "1 when the engine stopped because the log diverged from it."})
	m.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "guarantor_entries_rejected_total",
		Help: "Log entries this process applied as rejected, by reason: duplicate (the same bytes again), observation_id (an id its signer already used), registry (the key registry refuses it). Servers sharing a log can race into the first two; a single server logs none.",
	}, []string{"reason"})
	reg.MustRegister(m.submissions, m.latency, m.applied, m.engineSeq, m.matched, m.open, m.halted, m.rejected)
	return m
}

func (m *Metrics) observeSubmit(res *Result, err error, d time.Duration) {
	if m == nil {
		return
	}
	kind, result := "unknown", "created"
	switch {
	case err != nil:
		result = guarantor.ErrorCode(err)
	case !res.Created:
		result = "duplicate"
	}
	if res != nil {
		kind = string(res.Kind)
	}
	m.submissions.WithLabelValues(kind, result).Inc()
	m.latency.WithLabelValues(result).Observe(d.Seconds())
}

// Reasons for rejecting a log entry on apply (guarantor_entries_rejected_total).
const (
	rejectDuplicate     = "duplicate"
	rejectObservationID = "observation_id"
	rejectRegistry      = "registry"
)

func (m *Metrics) addRejected(reason string) {
	if m == nil {
		return
	}
	m.rejected.WithLabelValues(reason).Inc()
}

func (m *Metrics) setApplied(n uint64) {
	if m == nil {
		return
	}
	m.applied.Set(float64(n))
}

func (m *Metrics) setEngine(seq, matched uint64, open int) {
	if m == nil {
		return
	}
	m.engineSeq.Set(float64(seq))
	m.matched.Set(float64(matched))
	m.open.Set(float64(open))
}

func (m *Metrics) setEngineHalted() {
	if m == nil {
		return
	}
	m.halted.Set(1)
}
