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
	reg.MustRegister(m.submissions, m.latency, m.applied)
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

func (m *Metrics) setApplied(n uint64) {
	if m == nil {
		return
	}
	m.applied.Set(float64(n))
}
