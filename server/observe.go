package server

import (
	"context"
	"time"

	"github.com/paymentctl/paymentctl/server/metrics"
	"github.com/paymentctl/paymentctl/server/payment"
	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/server/webhook"
)

// observe registers the metrics that read the App's parts: the payment
// flows' outcomes, the database pool, and the webhook jobs and the
// unsettled PG operations in the database (queried when scraped).
func (a *App) observe(svc *payment.Service, now func() time.Time) {
	svc.SetFlowObserver(a.Metrics.Payments(payment.Flows(), payment.Vendors(), payment.Outcomes()))
	db, dialect := a.Store.SQLDB(), a.Store.Dialect()
	a.Metrics.ObserveDB(db)
	a.Metrics.ObserveQueue(metrics.QueueOptions{
		Kinds:  webhook.JobKinds(),
		States: webhook.JobStates(),
		Stats: func(ctx context.Context) ([]metrics.JobCount, error) {
			stats, err := webhook.Stats(ctx, db, dialect)
			out := make([]metrics.JobCount, len(stats))
			for i, s := range stats {
				out[i] = metrics.JobCount{Kind: s.Kind, State: s.State, Count: s.Count, Oldest: s.Oldest}
			}
			return out, err
		},
		Unsettled: func(ctx context.Context) (map[string]int64, time.Duration, error) {
			return a.unsettledOperations(ctx, now())
		},
		UnsettledStates: []string{string(store.OpUnknown), string(store.OpCompensate), string(store.OpPending)},
		OnError:         func(err error) { a.log.Warn("query webhook jobs for metrics", "err", err) },
	})
}

// unsettledOperations counts the operations the reconciler still has to
// settle (store.UnsettledOperations; pending ones once past
// payment.OperationLease), and the age of the oldest at now, for the
// metrics.
func (a *App) unsettledOperations(ctx context.Context, now time.Time) (map[string]int64, time.Duration, error) {
	counts, oldest, err := a.Store.UnsettledOperations(ctx, now.Add(-payment.OperationLease))
	if err != nil {
		return nil, 0, err
	}
	out := make(map[string]int64, len(counts))
	for _, c := range counts {
		out[string(c.State)] = c.Count
	}
	var age time.Duration
	if !oldest.IsZero() {
		age = max(now.Sub(oldest), 0)
	}
	return out, age, nil
}
