package metrics

import "github.com/prometheus/client_golang/prometheus"

// ReconcileObserver counts the reconciler's work. Labels are bounded: the
// kinds of records and of drifts are fixed lists.
type ReconcileObserver struct {
	checked *prometheus.CounterVec
	drifts  *prometheus.CounterVec
}

// ReconcileObserver registers and returns the reconciler's counters:
// records re-fetched from the PGs by kind (history, operation) and drifts
// found by kind (payment.DriftKinds). driftKinds are pre-set to zero so
// that dashboards see every series from the start. Call it once.
func (m *Metrics) ReconcileObserver(driftKinds []string) *ReconcileObserver {
	o := &ReconcileObserver{
		checked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "paymentctl", Name: "reconcile_checked_total",
			Help: "Records the reconciler re-fetched from their PG, by kind (history, operation).",
		}, []string{"kind"}),
		drifts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "paymentctl", Name: "reconcile_drifts_total",
			Help: "Differences between paymentctl and a PG that the reconciler found and settled, by kind.",
		}, []string{"kind"}),
	}
	m.registry.MustRegister(o.checked, o.drifts)
	for _, k := range []string{"history", "operation"} {
		o.checked.WithLabelValues(k)
	}
	for _, k := range driftKinds {
		o.drifts.WithLabelValues(k)
	}
	return o
}

// Checked counts one record re-fetched.
func (o *ReconcileObserver) Checked(kind string) { o.checked.WithLabelValues(kind).Inc() }

// Drift counts one drift found.
func (o *ReconcileObserver) Drift(kind string) { o.drifts.WithLabelValues(kind).Inc() }
