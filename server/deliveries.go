package server

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/server/webhook"
)

// Delivery is a webhook delivery that is failing or was given up, as an
// operator sees it (`paymentctl webhooks`): metadata only, never a body,
// and of the service's webhook_url only its host, since its path or query
// may hold a token.
type Delivery struct {
	// EventID is the event's id, sent as webhook-id.
	EventID string `json:"event_id"`
	// HistoryID is the payment the event is about.
	HistoryID string `json:"history_id"`
	// Host is the host (and port) of the payment's webhook_url.
	Host string `json:"host"`
	// State is "failing" (an attempt is scheduled) or "given_up".
	State string `json:"state"`
	// Attempts is how many attempts were made.
	Attempts int `json:"attempts"`
	// LastStatus is the HTTP status of the last attempt, 0 when it got no
	// answer.
	LastStatus int `json:"last_status"`
	// LastError says why the last attempt got no answer, with any URL cut
	// down to its host; empty when it got one.
	LastError string `json:"last_error,omitempty"`
	// LastAttemptAt is when the last attempt started.
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	// NextAttemptAt is when the next attempt is due; null when given up.
	NextAttemptAt *time.Time `json:"next_attempt_at"`
}

// Delivery states.
const (
	DeliveryFailing = "failing"
	DeliveryGivenUp = "given_up"
)

// FailingDeliveries lists the webhook deliveries that are failing or given
// up, newest first, at most limit of them (see webhook.Queue.Failing).
func (a *App) FailingDeliveries(ctx context.Context, limit int) ([]Delivery, error) {
	failures, err := a.queue.Failing(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Delivery, 0, len(failures))
	for _, f := range failures {
		d, err := a.delivery(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// delivery completes a queue failure with what the store knows: the
// payment, its webhook host, the last recorded attempt.
func (a *App) delivery(ctx context.Context, f webhook.Failure) (Delivery, error) {
	d := Delivery{EventID: f.WebhookID, State: DeliveryFailing, Attempts: f.Attempts, LastError: redactURLs(f.LastError)}
	if f.GivenUp {
		d.State = DeliveryGivenUp
	}
	if !f.AttemptedAt.IsZero() {
		d.LastAttemptAt = &f.AttemptedAt
	}
	if !f.NextAttempt.IsZero() {
		d.NextAttemptAt = &f.NextAttempt
	}
	w, err := a.Store.Webhook(ctx, f.WebhookID)
	if errors.Is(err, store.ErrNotFound) {
		return d, nil // a job without its event: the error says so
	}
	if err != nil {
		return d, err
	}
	d.HistoryID = w.HistoryID
	if h, err := a.Store.History(ctx, w.HistoryID); err == nil {
		d.Host = urlHost(h.WebhookURL)
	} else if !errors.Is(err, store.ErrNotFound) {
		return d, err
	}
	attempts, err := a.Store.WebhookResponses(ctx, f.WebhookID)
	if err != nil {
		return d, err
	}
	if n := len(attempts); n > 0 {
		last := attempts[n-1]
		d.LastStatus, d.LastError = last.Status, ""
		if last.Status == 0 {
			d.LastError = redactURLs(last.Error)
		}
	}
	return d, nil
}

// RetryDelivery makes the delivery of the webhook event eventID due now,
// whatever its state (failing, given up, even delivered): see
// webhook.Queue.Retry. A running server's workers send it within their
// poll interval. An unknown event wraps store.ErrNotFound; one whose
// payment has no webhook_url is refused.
func (a *App) RetryDelivery(ctx context.Context, eventID string) (webhook.RetryOutcome, error) {
	w, err := a.Store.Webhook(ctx, eventID)
	if err != nil {
		return webhook.RetryOutcome{}, fmt.Errorf("webhook event %s: %w", eventID, err)
	}
	h, err := a.Store.History(ctx, w.HistoryID)
	if err != nil {
		return webhook.RetryOutcome{}, fmt.Errorf("payment %s of webhook event %s: %w", w.HistoryID, eventID, err)
	}
	if h.WebhookURL == "" {
		return webhook.RetryOutcome{}, fmt.Errorf("webhook event %s: payment %s has no webhook_url, there is nowhere to deliver it", eventID, w.HistoryID)
	}
	return a.queue.Retry(ctx, eventID)
}

// urlHost returns the host (and port) of a URL, or "" when it has none.
func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// urlPattern finds URLs in error texts (net/http quotes the request's).
var urlPattern = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"']+`)

// redactURLs cuts every URL in s down to its scheme and host: a webhook
// URL's path or query may hold a token.
func redactURLs(s string) string {
	return urlPattern.ReplaceAllStringFunc(s, func(raw string) string {
		u, err := url.Parse(strings.TrimRight(raw, ".,;:)"))
		if err != nil || u.Host == "" {
			return "[url]"
		}
		return u.Scheme + "://" + u.Host
	})
}

// awaitPoll is how often AwaitDelivery looks at the job.
const awaitPoll = 100 * time.Millisecond

// Attempt is how the attempt caused by a retry went (AwaitDelivery).
type Attempt struct {
	// Outcome is one of webhook.AttemptPending, AttemptDelivered,
	// AttemptFailing or AttemptGivenUp.
	Outcome string
	// Status is the HTTP status the attempt got, 0 for none (then Error
	// says why, any URL cut down to its host); both are unset while
	// pending.
	Status int
	Error  string
}

// AwaitDelivery waits up to wait for the delivery job jobID of the event
// eventID, made due by RetryDelivery, to finish an attempt, and reports
// it; an attempt still pending when the wait ends is reported as such, not
// as an error. The workers of any instance may make the attempt.
func (a *App) AwaitDelivery(ctx context.Context, eventID string, jobID int64, wait time.Duration) (Attempt, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	tick := time.NewTicker(awaitPoll)
	defer tick.Stop()
	for {
		state, err := a.queue.DeliveryState(ctx, jobID)
		if err != nil && ctx.Err() == nil {
			return Attempt{}, err
		}
		if err == nil && state != webhook.AttemptPending {
			return a.lastAttempt(context.WithoutCancel(ctx), eventID, state)
		}
		select {
		case <-ctx.Done():
			return Attempt{Outcome: webhook.AttemptPending}, nil
		case <-tick.C:
		}
	}
}

// lastAttempt completes outcome with the event's last recorded attempt.
func (a *App) lastAttempt(ctx context.Context, eventID, outcome string) (Attempt, error) {
	attempts, err := a.Store.WebhookResponses(ctx, eventID)
	if err != nil {
		return Attempt{}, err
	}
	out := Attempt{Outcome: outcome}
	if n := len(attempts); n > 0 {
		out.Status = attempts[n-1].Status
		if out.Status == 0 {
			out.Error = redactURLs(attempts[n-1].Error)
		}
	}
	return out, nil
}
