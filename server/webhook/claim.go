package webhook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/paymentctl/paymentctl/internal/safetext"
	"github.com/paymentctl/paymentctl/server/requestid"
)

const (
	// claimWindow is how far in the future a claimed delivery job is
	// scheduled: no worker of any instance takes it before then, which
	// leaves its first attempt to the process that committed it
	// (DeliverClaimed). If that process dies first, River's scheduler makes
	// the job available once the window has passed and a worker delivers
	// it. It exceeds firstAttemptTimeout with a wide margin for clock
	// skew between instances, as rescueAfter exceeds jobTimeout.
	claimWindow = time.Minute
	// firstAttemptTimeout bounds a first attempt made by DeliverClaimed: the
	// load of the event, the POST (defaultHTTPTimeout) and the record of
	// the attempt (recordTimeout).
	firstAttemptTimeout = 20 * time.Second
)

// Claim is a delivery job enqueued by ClaimDeliveryTx whose first attempt
// is reserved for the caller. Its zero value claims nothing.
type Claim struct {
	jobID     int64
	webhookID string
	// requestID is the ID of the request that caused the event, which the
	// first attempt logs under as a worker would (requestIDMiddleware).
	requestID string
	// msg is what the first attempt sends, when the caller built it
	// (WithMessage); nil means Payloads.Delivery loads it.
	msg *Message
}

// WithMessage returns c carrying msg, the event's delivery as
// Payloads.Delivery would return it, built by the caller from what its
// transaction stored: the first attempt sends it instead of loading the
// event again. Later attempts, River's, load the event as always. An
// empty Claim stays empty.
func (c Claim) WithMessage(msg Message) Claim {
	if c.jobID == 0 {
		return c
	}
	c.msg = &msg
	return c
}

// ClaimDeliveryTx enqueues the delivery of the stored webhook event
// webhookID in tx, as EnqueueDeliveryTx does, but reserves the first
// attempt for the caller: once tx has committed, pass the Claim to
// DeliverClaimed, which POSTs the event at once instead of waiting for a
// worker to fetch the job. The job itself is scheduled claimWindow ahead,
// so it is durable like any other: if the caller never calls
// DeliverClaimed (tx rolled back, its commit failed, the process died),
// River delivers it once the window has passed. While a delivery of the
// event is already pending, it adds nothing and the Claim is empty.
func (q *Queue) ClaimDeliveryTx(ctx context.Context, tx *sql.Tx, webhookID string) (Claim, error) {
	if tx == nil {
		return Claim{}, errors.New("claim webhook delivery: no transaction")
	}
	if webhookID == "" {
		return Claim{}, errors.New("claim webhook delivery: no webhook id")
	}
	opts := q.deliveryOpts()
	opts.ScheduledAt = time.Now().Add(q.claimWindow)
	res, err := q.client.InsertTx(ctx, tx, deliveryArgs{WebhookID: webhookID}, opts)
	if err != nil {
		return Claim{}, fmt.Errorf("claim delivery of webhook %s: %w", webhookID, err)
	}
	if res.UniqueSkippedAsDuplicate {
		return Claim{}, nil // the pending delivery sends the event
	}
	return Claim{jobID: res.Job.ID, webhookID: webhookID, requestID: requestid.FromContext(ctx)}, nil
}

// DeliverClaimed makes the first attempt of a claimed delivery in the
// background and returns at once; call it only after the transaction
// given to ClaimDeliveryTx has committed. A 2xx answer deletes the job,
// which is then done; any other outcome makes the job available to
// River's workers at once, which retry it on the delivery policy. Every
// attempt is recorded (Payloads.RecordAttempt) as a worker's is. When
// Options.Workers first attempts are already running, or the queue is
// not started or stopping, the job is left to River.
func (q *Queue) DeliverClaimed(c Claim) {
	if c.jobID == 0 {
		return
	}
	if !q.started.Load() {
		// No workers here (a command, not serve): the server's take it.
		q.release(c, "queue not started")
		return
	}
	select {
	case q.firstSlots <- struct{}{}:
	default:
		q.release(c, "first attempts busy")
		return
	}
	q.firstMu.Lock()
	if q.stopped.Load() {
		q.firstMu.Unlock()
		<-q.firstSlots
		return // the job runs once its window has passed
	}
	q.firstWG.Add(1)
	q.firstMu.Unlock()
	go func() {
		defer q.firstWG.Done()
		defer func() { <-q.firstSlots }()
		q.firstAttempt(c)
	}()
}

// firstAttempt delivers a claimed event once and settles its job.
func (q *Queue) firstAttempt(c Claim) {
	ctx := q.firstCtx
	if c.requestID != "" {
		ctx = requestid.NewContext(ctx, c.requestID)
	}
	ctx, cancel := context.WithTimeout(ctx, firstAttemptTimeout)
	defer cancel()
	var err error
	if c.msg != nil {
		err = q.send(ctx, c.webhookID, 1, *c.msg)
	} else {
		err = q.deliver(ctx, c.webhookID, 1)
	}
	// The job is settled even when a shutdown cancelled the attempt.
	settle, cancelSettle := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancelSettle()
	if err != nil {
		q.log.InfoContext(ctx, "webhook delivery failed; will retry", "webhook", c.webhookID, "job", c.jobID,
			"attempt", "first", "err", safetext.Clean(err.Error(), maxJobError))
		q.release(c, "first attempt failed")
		return
	}
	_, err = q.client.JobDelete(settle, c.jobID)
	if err != nil && !errors.Is(err, river.ErrNotFound) {
		// The job will deliver the event again once its window has passed:
		// a duplicate the receiver drops by webhook-id, never a loss.
		q.log.ErrorContext(ctx, "webhook delivered but its job was not closed", "webhook", c.webhookID, "job", c.jobID,
			"err", safetext.Clean(err.Error(), maxJobError))
	}
}

// release hands a claimed job to River's workers now instead of at the
// end of its window.
func (q *Queue) release(c Claim, why string) {
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	job, err := q.client.JobRetry(ctx, c.jobID)
	if err == nil && job.State == rivertype.JobStateAvailable {
		err = q.notify(ctx)
	}
	if err != nil && !errors.Is(err, river.ErrNotFound) {
		// It still runs once its window has passed.
		q.log.ErrorContext(ctx, "hand a webhook delivery to the workers", "webhook", c.webhookID, "job", c.jobID,
			"reason", why, "err", safetext.Clean(err.Error(), maxJobError))
	}
}

// notify wakes the delivery workers outside any transaction.
func (q *Queue) notify(ctx context.Context) error {
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := q.notifyTx(ctx, tx, deliveryQueue); err != nil {
		return err
	}
	return tx.Commit()
}

// waitFirstAttempts waits for the first attempts DeliverClaimed started;
// when ctx ends first it cancels them and waits for them to record their
// outcome.
func (q *Queue) waitFirstAttempts(ctx context.Context) {
	q.firstMu.Lock()
	q.firstMu.Unlock() // no DeliverClaimed adds to the group after this
	done := make(chan struct{})
	go func() {
		q.firstWG.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		q.cancelFirst()
		<-done
	}
}
