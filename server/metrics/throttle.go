package metrics

import (
	"fmt"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// otherReason labels a throttled request whose reason was not declared.
const otherReason = "other"

// Throttled counts requests refused because their client failed too often
// (paymentctl_throttled_requests_total), by reason. The reasons are fixed
// when it is made, so the label stays bounded.
type Throttled struct {
	reasons []string
	counter *prometheus.CounterVec
}

// NewThrottled registers the throttled-requests counter with m's registry,
// with one series per reason (each starting at zero) and "other" for any
// reason not listed. Call it once per Metrics.
func (m *Metrics) NewThrottled(reasons ...string) (*Throttled, error) {
	t := &Throttled{
		reasons: slices.Clone(reasons),
		counter: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "paymentctl", Name: "throttled_requests_total",
			Help: "Requests refused with 429 because their client failed too often, by reason (password: wrong passwords for one record, address: for any records, decrypt: bodies that did not decrypt).",
		}, []string{"reason"}),
	}
	if err := m.registry.Register(t.counter); err != nil {
		return nil, fmt.Errorf("register the throttled requests counter: %w", err)
	}
	for _, r := range t.reasons {
		t.counter.WithLabelValues(r)
	}
	t.counter.WithLabelValues(otherReason)
	return t, nil
}

// Inc counts one throttled request.
func (t *Throttled) Inc(reason string) {
	if !slices.Contains(t.reasons, reason) {
		reason = otherReason
	}
	t.counter.WithLabelValues(reason).Inc()
}
