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
	// Unsettled, if set, counts the PG operations whose outcome
	// paymentctl has not settled yet, by state (UnsettledStates; others
	// are not reported), and says how long ago the oldest of them
	// started; refreshed with the jobs.
	Unsettled       func(ctx context.Context) (counts map[string]int64, oldest time.Duration, err error)
	UnsettledStates []string
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
//	paymentctl_unsettled_operations{state}          (with Unsettled)
//	paymentctl_unsettled_operations_oldest_seconds  (with Unsettled)
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
		unsettled: prometheus.NewDesc("paymentctl_unsettled_operations",
			"PG operations (cancels, and refunds of payments refused after their capture) whose outcome paymentctl has not settled yet, by state (unknown: the PG may have acted, compensate: a refund still to make, pending: cut short by a crash); the reconciler retries them. One that stays needs an operator.",
			[]string{"state"}, nil),
		unsettledOldest: prometheus.NewDesc("paymentctl_unsettled_operations_oldest_seconds",
			"How long ago the oldest unsettled PG operation started; 0 when there is none. Alert when it exceeds a few reconcile intervals.",
			nil, nil),
	}
	m.registry.MustRegister(c)
}

// queueCollector implements prometheus.Collector over QueueOptions.Stats.
type queueCollector struct {
	opts         QueueOptions
	m            *Metrics
	jobs, oldest *prometheus.Desc

	unsettled, unsettledOldest *prometheus.Desc

	mu      sync.Mutex
	at      time.Time // of the last successful query; zero before
	counts  map[[2]string]int64
	waiting map[string]time.Duration

	// unsettledAt is the time of the last successful Unsettled query;
	// zero before.
	unsettledAt     time.Time
	unsettledCounts map[string]int64
	unsettledAge    time.Duration
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.jobs
	ch <- c.oldest
	if c.opts.Unsettled != nil {
		ch <- c.unsettled
		ch <- c.unsettledOldest
	}
}

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refresh()
	if !c.unsettledAt.IsZero() {
		for _, st := range c.opts.UnsettledStates {
			ch <- prometheus.MustNewConstMetric(c.unsettled, prometheus.GaugeValue, float64(c.unsettledCounts[st]), st)
		}
		ch <- prometheus.MustNewConstMetric(c.unsettledOldest, prometheus.GaugeValue, c.unsettledAge.Seconds())
	}
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
	if c.opts.Unsettled != nil {
		if counts, age, err := c.opts.Unsettled(ctx); err != nil {
			c.opts.OnError(err)
		} else {
			c.unsettledAt, c.unsettledCounts, c.unsettledAge = now, counts, age
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
