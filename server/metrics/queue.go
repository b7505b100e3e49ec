package metrics

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of the job queue collector.
const (
	// jobStatsMaxAge is how long a query's result answers scrapes: several
	// Prometheus servers scraping every instance cost one query each
	// interval.
	jobStatsMaxAge = 5 * time.Second
	// jobStatsTimeout bounds the query; a scrape must not hang on a slow
	// database.
	jobStatsTimeout = 2 * time.Second
)

// JobCount is how many webhook jobs of one kind are in one state, and how
// long ago the oldest of them was due to run.
type JobCount struct {
	Kind, State string
	Count       int64
	Oldest      time.Duration
}

// QueueOptions configure ObserveQueue.
type QueueOptions struct {
	// Kinds and States are the label values; counts of others are summed
	// under "other". Every pair is reported, at zero when absent.
	Kinds, States []string
	// Stats queries the jobs (webhook.Stats).
	Stats func(ctx context.Context) ([]JobCount, error)
	// Pending, if set, counts the PG webhooks kept for unregistered
	// payments, refreshed with the jobs (PendingWebhooks).
	Pending func(ctx context.Context) (int64, error)
	// OnError hears of failed queries (the last values are kept). Nil
	// ignores them.
	OnError func(error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// ObserveQueue registers the job queue's gauges, queried when scraped
// (at most every 5 s, within 2 s, the last result kept when a query
// fails):
//
//	paymentctl_webhook_jobs{kind, state}
//	paymentctl_webhook_jobs_oldest_available_seconds{kind}
//
// Call it once per Metrics.
func (m *Metrics) ObserveQueue(opts QueueOptions) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OnError == nil {
		opts.OnError = func(error) {}
	}
	c := &queueCollector{
		opts: opts,
		m:    m,
		jobs: prometheus.NewDesc("paymentctl_webhook_jobs",
			"Webhook jobs in the database (every instance's) by kind (webhook_inbound: PG webhooks to process, webhook_delivery: events to send to services, reconcile_sweep) and state (available: waiting for a worker, scheduled, running, retryable: failed and waiting to retry, cancelled: given up, discarded).",
			[]string{"kind", "state"}, nil),
		oldest: prometheus.NewDesc("paymentctl_webhook_jobs_oldest_available_seconds",
			"How long the oldest available job of each kind has been waiting for a worker; 0 when none waits.",
			[]string{"kind"}, nil),
	}
	m.registry.MustRegister(c)
}

// queueCollector implements prometheus.Collector over QueueOptions.Stats.
type queueCollector struct {
	opts         QueueOptions
	m            *Metrics
	jobs, oldest *prometheus.Desc

	mu      sync.Mutex
	at      time.Time // of the last successful query; zero before
	counts  map[[2]string]int64
	waiting map[string]time.Duration
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.jobs
	ch <- c.oldest
}

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refresh()
	if c.at.IsZero() {
		return // never queried successfully: report nothing rather than zeros
	}
	kinds := append(slices.Clone(c.opts.Kinds), otherLabel)
	states := append(slices.Clone(c.opts.States), otherLabel)
	for _, k := range kinds {
		for _, s := range states {
			ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(c.counts[[2]string{k, s}]), k, s)
		}
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, c.waiting[k].Seconds(), k)
	}
}

// refresh queries the jobs unless the last result is recent enough.
func (c *queueCollector) refresh() {
	now := c.opts.Now()
	if !c.at.IsZero() && now.Sub(c.at) < jobStatsMaxAge {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), jobStatsTimeout)
	defer cancel()
	if c.opts.Pending != nil {
		if n, err := c.opts.Pending(ctx); err != nil {
			c.opts.OnError(err)
		} else {
			c.m.PendingWebhooks(n)
		}
	}
	stats, err := c.opts.Stats(ctx)
	if err != nil {
		c.opts.OnError(err)
		return
	}
	counts := map[[2]string]int64{}
	waiting := map[string]time.Duration{}
	for _, s := range stats {
		kind, state := bounded(c.opts.Kinds, s.Kind), bounded(c.opts.States, s.State)
		counts[[2]string{kind, state}] += s.Count
		if s.State == "available" && s.Count > 0 {
			waiting[kind] = max(waiting[kind], s.Oldest)
		}
	}
	c.at, c.counts, c.waiting = now, counts, waiting
}
