package server

import (
	"context"
	"time"

	"github.com/paymentctl/paymentctl/server/store"
)

// pendingSweepEvery is how often an instance deletes expired pending
// webhooks and counts the others for the paymentctl_pending_webhooks
// gauge.
const pendingSweepEvery = time.Minute

// sweepPendingWebhooks runs sweepPendingOnce now and then every minute
// until ctx ends. Every instance runs it, so that each one's gauge is
// current; the deletes are idempotent.
func (a *App) sweepPendingWebhooks(ctx context.Context) {
	t := time.NewTicker(pendingSweepEvery)
	defer t.Stop()
	for {
		a.sweepPendingOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepPendingOnce deletes the pending webhooks older than
// store.DefaultPendingWebhookTTL (their payment was never registered: a
// forged or mistaken id) and sets the gauge to the number left waiting.
func (a *App) sweepPendingOnce(ctx context.Context) {
	expired, err := a.Store.ExpirePendingWebhooks(ctx, store.DefaultPendingWebhookTTL)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Warn("expire pending webhooks", "err", err)
		}
		return
	}
	if expired > 0 {
		a.log.Info("expired webhooks of payments never registered", "count", expired, "ttl", store.DefaultPendingWebhookTTL)
	}
	n, err := a.Store.CountPendingWebhooks(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Warn("count pending webhooks", "err", err)
		}
		return
	}
	a.Metrics.PendingWebhooks(n)
}
