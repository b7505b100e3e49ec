package server

import (
	"context"

	"github.com/paymentctl/paymentctl/server/metrics"
	"github.com/paymentctl/paymentctl/server/payment"
	"github.com/paymentctl/paymentctl/server/webhook"
)

// observe registers the metrics that read the App's parts: the payment
// flows' outcomes, the database pool, and the webhook jobs and pending
// webhooks in the database (queried when scraped).
func (a *App) observe(svc *payment.Service) {
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
		OnError: func(err error) { a.log.Warn("query webhook jobs for metrics", "err", err) },
	})
}
