package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/internal/pgschema"
	"github.com/paymentctl/paymentctl/migrations"
	"github.com/paymentctl/paymentctl/server/store"
)

// benchEachStore runs fn as one sub-benchmark per database, like
// forEachStore.
func benchEachStore(b *testing.B, fn func(b *testing.B, s *store.Store)) {
	b.Run(migrations.SQLite, func(b *testing.B) {
		fn(b, sqliteStore(b))
	})
	if base := pgschema.TestDSN(); base != "" {
		b.Run(migrations.Postgres, func(b *testing.B) {
			fn(b, openStore(b, pgschema.ForTest(b, base, "t_webhook_")))
		})
	}
}

// arrivals is an endpoint that reports when each delivery arrives.
func arrivals(b *testing.B) (url string, got <-chan time.Time) {
	ch := make(chan time.Time, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		w.WriteHeader(http.StatusOK)
		ch <- at
	}))
	b.Cleanup(srv.Close)
	return srv.URL, ch
}

// benchOptions are the tests' options with the production fetch poll, so
// that only the wake-up paths are measured.
func benchOptions(s *store.Store, proc Processor, payloads Payloads) Options {
	opts := queueOptions(s, proc, payloads)
	opts.PollInterval = 0
	return opts
}

// reportLatency reports the median and 99th percentile of the samples.
func reportLatency(b *testing.B, samples []time.Duration) {
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	p := func(q float64) float64 {
		return float64(samples[int(q*float64(len(samples)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(p(0.5), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkDeliveryLatency measures from the commit of the transaction
// that enqueues a delivery to its arrival at the service, one at a time.
func BenchmarkDeliveryLatency(b *testing.B) {
	benchEachStore(b, func(b *testing.B, s *store.Store) {
		url, got := arrivals(b)
		payloads := newFakePayloads()
		q := startQueue(b, benchOptions(s, noProcessor(b), payloads))
		ctx := context.Background()
		samples := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			id := payloads.add(url, []byte("body"))
			err := s.InTx(ctx, func(tx *store.Tx) error {
				return q.EnqueueDeliveryTx(ctx, tx.SQLTx(), id)
			})
			committed := time.Now()
			if err != nil {
				b.Fatal(err)
			}
			samples = append(samples, (<-got).Sub(committed))
		}
		b.StopTimer()
		reportLatency(b, samples)
	})
}

// BenchmarkClaimedDeliveryLatency is BenchmarkDeliveryLatency for a
// claimed delivery (ClaimDeliveryTx, then DeliverClaimed after the
// commit), the path of a PG webhook's event: no notification, no fetch.
func BenchmarkClaimedDeliveryLatency(b *testing.B) {
	benchEachStore(b, func(b *testing.B, s *store.Store) {
		url, got := arrivals(b)
		payloads := newFakePayloads()
		q := startQueue(b, benchOptions(s, noProcessor(b), payloads))
		ctx := context.Background()
		samples := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			id := payloads.add(url, []byte("body"))
			var c Claim
			err := s.InTx(ctx, func(tx *store.Tx) error {
				var err error
				c, err = q.ClaimDeliveryTx(ctx, tx.SQLTx(), id)
				return err
			})
			committed := time.Now()
			if err != nil {
				b.Fatal(err)
			}
			q.DeliverClaimed(c)
			samples = append(samples, (<-got).Sub(committed))
		}
		b.StopTimer()
		reportLatency(b, samples)
	})
}

// BenchmarkInboundToDeliveryLatency measures the deposit path without the
// PG: from the commit of an inbound event to the arrival of the delivery
// that its processing enqueues in a second transaction.
func BenchmarkInboundToDeliveryLatency(b *testing.B) {
	benchEachStore(b, func(b *testing.B, s *store.Store) {
		url, got := arrivals(b)
		payloads := newFakePayloads()
		var q *Queue
		proc := processorFunc(func(ctx context.Context, ev Inbound) error {
			id := payloads.add(url, []byte(ev.SealedBody))
			return s.InTx(ctx, func(tx *store.Tx) error {
				return q.EnqueueDeliveryTx(ctx, tx.SQLTx(), id)
			})
		})
		q = startQueue(b, benchOptions(s, proc, payloads))
		ctx := context.Background()
		samples := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			err := s.InTx(ctx, func(tx *store.Tx) error {
				return q.EnqueueInboundTx(ctx, tx.SQLTx(), Inbound{Vendor: "toss.payments", SealedBody: "sealed"})
			})
			committed := time.Now()
			if err != nil {
				b.Fatal(err)
			}
			samples = append(samples, (<-got).Sub(committed))
		}
		b.StopTimer()
		reportLatency(b, samples)
	})
}

// BenchmarkDeliveryBacklog measures how fast the queue drains b.N
// deliveries enqueued in one transaction to a receiver that answers at
// once: River's fetches and completions and the POSTs, with the workers
// paymentctl runs (Options.Workers unset). The attempts are recorded in
// memory here; `scripts/load backlog` measures the whole path, the
// records' commits included.
func BenchmarkDeliveryBacklog(b *testing.B) {
	benchEachStore(b, func(b *testing.B, s *store.Store) {
		var arrived atomic.Int64
		done := make(chan time.Time, 1)
		want := int64(b.N)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			if arrived.Add(1) == want {
				done <- time.Now()
			}
		}))
		b.Cleanup(srv.Close)
		payloads := newFakePayloads()
		opts := benchOptions(s, noProcessor(b), payloads)
		opts.Workers = 0 // paymentctl's defaults
		q := startQueue(b, opts)
		ctx := context.Background()
		ids := make([]string, b.N)
		for i := range ids {
			ids[i] = payloads.add(srv.URL, []byte("body"))
		}
		b.ResetTimer()
		err := s.InTx(ctx, func(tx *store.Tx) error {
			for _, id := range ids {
				if err := q.EnqueueDeliveryTx(ctx, tx.SQLTx(), id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		select {
		case end := <-done:
			b.StopTimer()
			b.ReportMetric(float64(b.N)/end.Sub(start).Seconds(), "deliveries/s")
		case <-time.After(5 * time.Minute):
			b.Fatalf("%d of %d deliveries arrived within 5 minutes", arrived.Load(), b.N)
		}
	})
}
