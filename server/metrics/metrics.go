// Package metrics exposes paymentctl's Prometheus metrics: HTTP requests by
// route and status with latency histograms, webhook delivery attempts by
// outcome, PG call latency by PG and outcome, socket handoffs, and the
// PG webhooks kept for payments not registered yet. Each
// Metrics has its own registry (no global state), served by Handler on a
// listener separate from the API and bound to loopback by default
// (PAYMENT_METRICS_ADDR), so it is not public unless asked.
//
// Also: PG calls by operation, idempotent replays, registrations and
// cancels by vendor and outcome (payments.go), webhook jobs by kind and
// state (queue.go), the database pool (ObserveDB), the throttle
// (throttle.go) and the reconciler (reconcile.go). Every label takes
// values from a fixed list, so no client can grow the number of series.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors of one process.
type Metrics struct {
	registry   *prometheus.Registry
	replays    *prometheus.CounterVec // registered by preset
	requests   *prometheus.HistogramVec
	deliveries *prometheus.CounterVec
	pgCalls    *prometheus.HistogramVec
	handoffs   *prometheus.CounterVec
	pending    prometheus.Gauge
}

// New returns Metrics with the Go runtime and process collectors
// registered.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "paymentctl", Name: "http_request_duration_seconds",
			Help:    "HTTP requests served, by method, route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "paymentctl", Name: "webhook_delivery_attempts_total",
			Help: "Attempts to forward an event to a service's webhook_url, by outcome (delivered, rejected: non-2xx, failed: no answer).",
		}, []string{"outcome"}),
		pgCalls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "paymentctl", Name: "pg_request_duration_seconds",
			Help:    "Calls to payment gateways, by PG, operation (token, get_payment, confirm, cancel, pay, billing, vbank, receipt, certification, other) and outcome (2xx, 4xx, 5xx, error).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"pg", "operation", "outcome"}),
		handoffs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "paymentctl", Name: "handoffs_total",
			Help: "Listening-socket handoffs to a new binary started by this process, by outcome.",
		}, []string{"outcome"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "paymentctl", Name: "pending_webhooks",
			Help: "PG webhooks kept for payments not registered yet (unapplied payment_pending_webhooks rows), as last counted by the periodic clean-up.",
		}),
	}
	m.registry.MustRegister(
		m.requests, m.deliveries, m.pgCalls, m.handoffs, m.pending,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.preset()
	return m
}

// preset registers the counters beyond the core ones and creates every
// series of the fixed label sets at zero, so that dashboards and rate()
// see them before the first event.
func (m *Metrics) preset() {
	m.replays = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "paymentctl", Name: "idempotent_replays_total",
		Help: "Requests answered from a stored response because they repeated an Idempotency-Key (Idempotent-Replayed: true), by route.",
	}, []string{"route"})
	m.registry.MustRegister(m.replays)
	for _, o := range []string{"delivered", "rejected", "failed"} {
		m.deliveries.WithLabelValues(o)
	}
	for _, o := range []string{"succeeded", "failed"} {
		m.handoffs.WithLabelValues(o)
	}
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Middleware observes every request, and counts the idempotent replays
// among them. Labels come from bounded sets so
// that clients cannot grow the number of series: the route is gin's route
// template (c.FullPath, "/payments/histories/:id"), or "unmatched" for a
// path no route serves, and the method is one the API routes (see
// MethodLabel) or "OTHER".
func (m *Metrics) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := RouteLabel(c)
		m.requests.WithLabelValues(MethodLabel(c.Request.Method), route, strconv.Itoa(c.Writer.Status())).
			Observe(time.Since(start).Seconds())
		if c.Writer.Header().Get("Idempotent-Replayed") == "true" {
			m.replays.WithLabelValues(route).Inc()
		}
	}
}

// MethodLabel returns method if the API routes requests of it, else
// "OTHER": any token is a valid HTTP method, so the raw one would give
// each made-up method series of its own (and a log line a made-up
// method: the access log uses it too).
func MethodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch:
		return method
	}
	return "OTHER"
}

// RouteLabel returns the request's route template (c.FullPath,
// "/payments/histories/:id"), or "unmatched" for a path no route serves:
// a bounded label, unlike the path.
func RouteLabel(c *gin.Context) string {
	if route := c.FullPath(); route != "" {
		return route
	}
	return "unmatched"
}

// Delivery counts one webhook delivery attempt: status 0 means no answer.
func (m *Metrics) Delivery(status int) {
	outcome := "delivered"
	switch {
	case status == 0:
		outcome = "failed"
	case status < 200 || status > 299:
		outcome = "rejected"
	}
	m.deliveries.WithLabelValues(outcome).Inc()
}

// Handoff counts one handoff attempt; err nil means it succeeded.
func (m *Metrics) Handoff(err error) {
	outcome := "succeeded"
	if err != nil {
		outcome = "failed"
	}
	m.handoffs.WithLabelValues(outcome).Inc()
}

// PendingWebhooks sets the number of PG webhooks kept for payments not
// registered yet.
func (m *Metrics) PendingWebhooks(n int64) { m.pending.Set(float64(n)) }

// Transport wraps next (nil: http.DefaultTransport) so every call to the
// PG named pg ("iamport", "toss") is timed, labelled with its operation
// (pgOperation).
func (m *Metrics) Transport(pg string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		start := time.Now()
		resp, err := next.RoundTrip(r)
		outcome := "error"
		if err == nil {
			outcome = strconv.Itoa(resp.StatusCode/100) + "xx"
		}
		m.pgCalls.WithLabelValues(pg, pgOperation(pg, r.Method, r.URL.EscapedPath()), outcome).Observe(time.Since(start).Seconds())
		return resp, err
	})
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
