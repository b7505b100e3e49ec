package webhook

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/paymentctl/paymentctl/internal/safetext"
)

// inboundArgs is the stored form of an inbound job.
type inboundArgs Inbound

// Kind names the job kind in river_job.kind; never rename a shipped kind.
func (inboundArgs) Kind() string { return "webhook_inbound" }

// deliveryArgs is the stored form of a delivery job.
type deliveryArgs struct {
	WebhookID string `json:"webhook_id"`
}

// Kind names the job kind in river_job.kind; never rename a shipped kind.
func (deliveryArgs) Kind() string { return "webhook_delivery" }

// inboundWorker hands inbound events to the Processor.
type inboundWorker struct {
	river.WorkerDefaults[inboundArgs]
	q *Queue
}

func (w *inboundWorker) Work(ctx context.Context, job *river.Job[inboundArgs]) error {
	if err := w.q.processor.Process(ctx, Inbound(job.Args)); err != nil {
		err, _ := w.q.fail(ctx, job.JobRow, w.q.inbound, "pg webhook", err, "vendor", job.Args.Vendor)
		return err
	}
	return nil
}

func (w *inboundWorker) NextRetry(job *river.Job[inboundArgs]) time.Time {
	return w.q.inbound.nextAttempt(job.CreatedAt, w.q.now(), job.Attempt)
}

// deliveryWorker POSTs webhook events to the client services.
type deliveryWorker struct {
	river.WorkerDefaults[deliveryArgs]
	q *Queue
}

func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[deliveryArgs]) error {
	err := w.q.deliver(ctx, job.Args.WebhookID, job.Attempt)
	if err == nil {
		return nil
	}
	out, final := w.q.fail(ctx, job.JobRow, w.q.delivery, "webhook delivery", err, "webhook", job.Args.WebhookID)
	if final {
		if err := w.q.payloads.GaveUp(context.WithoutCancel(ctx), job.Args.WebhookID, job.Attempt); err != nil {
			w.q.log.ErrorContext(ctx, "record a delivery given up", "webhook", job.Args.WebhookID, "err", safetext.Clean(err.Error(), maxJobError))
		}
	}
	return out
}

func (w *deliveryWorker) NextRetry(job *river.Job[deliveryArgs]) time.Time {
	return w.q.delivery.nextAttempt(job.CreatedAt, w.q.now(), job.Attempt)
}
