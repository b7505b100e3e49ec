package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/paymentctl/paymentctl/migrations"
)

// MaxFailing bounds Failing's limit (River lists at most 10,000 jobs at
// once).
const MaxFailing = 10_000

// ErrDeliveryRunning is returned by Retry when the event is being
// delivered at this moment.
var ErrDeliveryRunning = errors.New("the delivery is running now")

// Failure is a delivery an operator may act on: one whose last attempt
// failed and that waits for its next, or one given up. It holds job
// metadata only, never a body.
type Failure struct {
	// JobID is the River job's id.
	JobID int64
	// WebhookID is the event's id (payment_history_webhooks.id, sent as
	// webhook-id).
	WebhookID string
	// GivenUp is set when no attempt is scheduled any more: the retry
	// budget ran out, or the failure was permanent.
	GivenUp bool
	// Attempts is how many attempts the job made.
	Attempts int
	// AttemptedAt is when the last attempt started; zero if none did.
	AttemptedAt time.Time
	// NextAttempt is when the next attempt is due; zero when given up.
	NextAttempt time.Time
	// LastError is the last attempt's error as River recorded it. It may
	// name the delivery URL, query included: reduce it before showing it.
	LastError string
}

// Failing lists the deliveries that are failing or given up, newest job
// first, at most limit of them (100 when limit is zero or less, at most
// MaxFailing). Given-up jobs are kept for 30 days.
func (q *Queue) Failing(ctx context.Context, limit int) ([]Failure, error) {
	if limit <= 0 {
		limit = 100
	}
	params := river.NewJobListParams().
		Kinds(deliveryArgs{}.Kind()).
		States(rivertype.JobStateRetryable, rivertype.JobStateCancelled, rivertype.JobStateDiscarded).
		OrderBy(river.JobListOrderByID, river.SortOrderDesc).
		First(min(limit, MaxFailing))
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("list failing deliveries: %w", err)
	}
	out := make([]Failure, 0, len(res.Jobs))
	seen := map[string]bool{}
	for _, job := range res.Jobs {
		var args deliveryArgs
		if err := json.Unmarshal(job.EncodedArgs, &args); err != nil {
			return nil, fmt.Errorf("list failing deliveries: job %d: %w", job.ID, err)
		}
		if seen[args.WebhookID] {
			continue // an older job of the same event
		}
		seen[args.WebhookID] = true
		f := Failure{JobID: job.ID, WebhookID: args.WebhookID, Attempts: job.Attempt, GivenUp: job.State != rivertype.JobStateRetryable}
		if job.AttemptedAt != nil {
			f.AttemptedAt = job.AttemptedAt.UTC()
		}
		if !f.GivenUp {
			f.NextAttempt = job.ScheduledAt.UTC()
		}
		if n := len(job.Errors); n > 0 {
			f.LastError = job.Errors[n-1].Error
		}
		out = append(out, f)
	}
	return out, nil
}

// RetryOutcome says what Retry found and did.
type RetryOutcome struct {
	// JobID is the job now due.
	JobID int64
	// Was is the event's delivery state before: "failing", "given_up",
	// "delivered", "waiting" (already due or scheduled, a claimed one
	// included), or "none" (no job left, as after River's retention or a
	// first attempt in process that delivered it: a new one was enqueued).
	Was string
}

// Retry makes the delivery of the event webhookID due now, whatever its
// state, and wakes the workers of every instance: its latest job is made
// available again (River's JobRetry, which allows one more attempt to a
// job that spent them; a budget already spent gives it up again after one
// failed attempt), or, when River deleted it, a new one is enqueued. The
// caller checks that the event exists. A delivery running at that moment
// is left alone (ErrDeliveryRunning).
func (q *Queue) Retry(ctx context.Context, webhookID string) (RetryOutcome, error) {
	job, found, err := q.latestDelivery(ctx, webhookID)
	if err != nil {
		return RetryOutcome{}, fmt.Errorf("retry delivery of webhook %s: %w", webhookID, err)
	}
	if found && job.State == rivertype.JobStateRunning {
		return RetryOutcome{JobID: job.ID, Was: "running"}, fmt.Errorf("retry delivery of webhook %s: %w", webhookID, ErrDeliveryRunning)
	}
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return RetryOutcome{}, fmt.Errorf("retry delivery of webhook %s: %w", webhookID, err)
	}
	defer tx.Rollback()
	out := RetryOutcome{Was: "none"}
	if !found {
		if err := q.EnqueueDeliveryTx(ctx, tx, webhookID); err != nil {
			return RetryOutcome{}, err
		}
	} else {
		out = RetryOutcome{JobID: job.ID, Was: wasState(job.State)}
		if _, err := q.client.JobRetryTx(ctx, tx, job.ID); err != nil {
			return RetryOutcome{}, fmt.Errorf("retry delivery of webhook %s: %w", webhookID, err)
		}
		if err := q.notifyTx(ctx, tx, deliveryQueue); err != nil {
			return RetryOutcome{}, fmt.Errorf("retry delivery of webhook %s: %w", webhookID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return RetryOutcome{}, fmt.Errorf("retry delivery of webhook %s: %w", webhookID, err)
	}
	if !found {
		if job, found, err = q.latestDelivery(ctx, webhookID); err == nil && found {
			out.JobID = job.ID
		}
	}
	return out, nil
}

// latestDelivery returns the newest delivery job of the event, and
// whether there is one.
func (q *Queue) latestDelivery(ctx context.Context, webhookID string) (*rivertype.JobRow, bool, error) {
	// River stores args as jsonb on PostgreSQL and as JSONB blobs on
	// SQLite; each has its own operator for a member as text.
	where := "args->>'webhook_id' = @webhook_id"
	if q.dialect == migrations.SQLite {
		where = "args ->> '$.webhook_id' = @webhook_id"
	}
	params := river.NewJobListParams().
		Kinds(deliveryArgs{}.Kind()).
		Where(where, river.NamedArgs{"webhook_id": webhookID}).
		OrderBy(river.JobListOrderByID, river.SortOrderDesc).
		First(1)
	res, err := q.client.JobList(ctx, params)
	if err != nil || len(res.Jobs) == 0 {
		return nil, false, err
	}
	return res.Jobs[0], true, nil
}

// wasState names a job state for RetryOutcome.Was.
func wasState(s rivertype.JobState) string {
	switch s {
	case rivertype.JobStateRetryable:
		return "failing"
	case rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		return "given_up"
	case rivertype.JobStateCompleted:
		return "delivered"
	}
	return "waiting"
}

// Attempt states of a delivery job, as DeliveryState reports them.
const (
	// AttemptPending: no attempt finished since the job was made due.
	AttemptPending = "pending"
	// AttemptDelivered: the service accepted the event.
	AttemptDelivered = "delivered"
	// AttemptFailing: the attempt failed; another is scheduled.
	AttemptFailing = "failing"
	// AttemptGivenUp: the attempt failed and no other is scheduled.
	AttemptGivenUp = "given_up"
)

// DeliveryState reports where the delivery job jobID stands: pending
// (due, scheduled or running), delivered, failing or given up.
func (q *Queue) DeliveryState(ctx context.Context, jobID int64) (string, error) {
	job, err := q.client.JobGet(ctx, jobID)
	if err != nil {
		return "", fmt.Errorf("delivery job %d: %w", jobID, err)
	}
	switch job.State {
	case rivertype.JobStateCompleted:
		return AttemptDelivered, nil
	case rivertype.JobStateRetryable:
		return AttemptFailing, nil
	case rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		return AttemptGivenUp, nil
	}
	return AttemptPending, nil
}
