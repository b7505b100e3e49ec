package webhook

import (
	"context"
	"time"

	"github.com/riverqueue/river"
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
		return w.q.fail(ctx, job.JobRow, w.q.inbound, "pg webhook", err, "vendor", job.Args.Vendor)
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
	if err := w.q.deliver(ctx, job.Args.WebhookID, job.Attempt); err != nil {
		return w.q.fail(ctx, job.JobRow, w.q.delivery, "webhook delivery", err, "webhook", job.Args.WebhookID)
	}
	return nil
}

func (w *deliveryWorker) NextRetry(job *river.Job[deliveryArgs]) time.Time {
	return w.q.delivery.nextAttempt(job.CreatedAt, w.q.now(), job.Attempt)
}
