package server

import (
	"context"
	"time"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/server/webhook"
)

// EnqueueRawInbound stores body as a PG webhook job as the receiver does,
// without its checks: the hostile-input tests use it to get what the
// handlers refuse into the queue anyway.
func (a *App) EnqueueRawInbound(ctx context.Context, vendor sdk.VendorCode, body []byte) error {
	keys, err := keysFrom(a.Config)
	if err != nil {
		return err
	}
	sealed, err := keys.Webhook.Seal(body, []byte(vendor))
	if err != nil {
		return err
	}
	ev := webhook.Inbound{Vendor: string(vendor), SealedBody: sealed, ReceivedAt: time.Now().UTC()}
	return a.Store.InTx(ctx, func(tx *store.Tx) error {
		return a.queue.EnqueueInboundTx(ctx, tx.SQLTx(), ev)
	})
}

// CleanupDelay is how long after Start the periodic clean-ups take their
// first pass.
const CleanupDelay = cleanupDelay
