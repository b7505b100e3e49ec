package metrics

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// otherLabel stands for a label value outside a fixed list.
const otherLabel = "other"

// Payments counts registrations and cancels by vendor and outcome
// (paymentctl_payments_total); it implements payment.FlowObserver.
type Payments struct {
	flows, vendors, outcomes []string
	counter                  *prometheus.CounterVec
}

// Payments registers the payments counter with m's registry and returns
// it, with every series of the given flows ("register", "cancel"),
// vendors and outcomes at zero. A value outside these lists counts as
// "other" (a client names the vendor). Call it once per Metrics.
func (m *Metrics) Payments(flows, vendors, outcomes []string) *Payments {
	p := &Payments{
		flows: slices.Clone(flows), vendors: slices.Clone(vendors), outcomes: slices.Clone(outcomes),
		counter: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "paymentctl", Name: "payments_total",
			Help: "Payment registrations and cancels (refunds), by flow (register, cancel), vendor and outcome (succeeded; refused: nothing changed; unknown: a PG call may have acted and is verified later; failed).",
		}, []string{"flow", "vendor", "outcome"}),
	}
	m.registry.MustRegister(p.counter)
	for _, f := range p.flows {
		for _, v := range p.vendors {
			for _, o := range p.outcomes {
				p.counter.WithLabelValues(f, v, o)
			}
		}
	}
	return p
}

// Flow counts one registration or cancel.
func (p *Payments) Flow(flow, vendor, outcome string) {
	p.counter.WithLabelValues(bounded(p.flows, flow), bounded(p.vendors, vendor), bounded(p.outcomes, outcome)).Inc()
}

// bounded returns v if it is in list, else otherLabel.
func bounded(list []string, v string) string {
	if slices.Contains(list, v) {
		return v
	}
	return otherLabel
}
