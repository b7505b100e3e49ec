package updater

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// The operator verbs, as request paths, answered by every agent whose
// Options carry an Operator: the commands `paymentctl webhooks` and
// `paymentctl audit` ask the mode's master for them. Like every verb they
// are signed; they take ids and a bound, never a body of the service's, and
// answer metadata.
const (
	pathDeliveries    = "/v1/operator/deliveries"       // GET ?mode=&limit=: []Delivery
	pathDeliveryRetry = "/v1/operator/deliveries/retry" // POST RetryRequest: RetryResult
	pathAuditTrail    = "/v1/operator/audit"            // GET ?mode=&history=: []AuditEntry
)

// maxOperatorLimit bounds the deliveries listed at once, as
// webhook.MaxFailing does.
const maxOperatorLimit = 10_000

// MaxRetryWait bounds RetryRequest.Wait.
const MaxRetryWait = 30 * time.Second

// modeParam is the query parameter naming the mode the caller means.
const modeParam = "mode"

// Errors an Operator returns for the verbs to answer 404 and 409; the
// Client returns them wrapped in the same cases.
var (
	// ErrNotFound: no such webhook event.
	ErrNotFound = errors.New("not found")
	// ErrDeliveryRunning: the delivery is being attempted at this moment.
	ErrDeliveryRunning = errors.New("the delivery is running now")
	// ErrNoOperator: the agent answers no operator verbs (it has no
	// Operator, or runs a release from before them).
	ErrNoOperator = errors.New("the updater agent answers no operator verbs")
)

// maxDeliveriesAnswer bounds the answer of the deliveries verb: up to
// 10,000 entries of metadata, each well under a kilobyte.
const maxDeliveriesAnswer = 32 << 20

// muxNotFound is the body of net/http's 404 for a path the agent does not
// serve (a release from before the operator verbs).
const muxNotFound = "404 page not found"

// Operator answers the operator verbs on the instance: serve implements it
// with the server's webhook queue, store and audit trail. Its methods
// return metadata only: never a body, a password, card data, or more of a
// webhook_url than its host. Nothing lists payments.
type Operator interface {
	// Mode is the mode the instance serves; a verb asked for another mode
	// is refused.
	Mode() string
	// FailingDeliveries lists the deliveries that are failing or given up,
	// newest first, at most limit (1 to 10,000) of them.
	FailingDeliveries(ctx context.Context, limit int) ([]Delivery, error)
	// RetryDelivery makes the delivery of the event eventID due now,
	// whatever its state, and waits up to wait for the attempt it causes.
	// An unknown event wraps ErrNotFound, one being attempted
	// ErrDeliveryRunning.
	RetryDelivery(ctx context.Context, eventID string, wait time.Duration) (RetryResult, error)
	// AuditTrail returns the audit events of a history, oldest first.
	AuditTrail(ctx context.Context, historyID string) ([]AuditEntry, error)
}

// Delivery is a webhook delivery that is failing or was given up.
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
	// LastError says why the last attempt got no answer, any URL cut down
	// to its host.
	LastError string `json:"last_error,omitempty"`
	// LastAttemptAt is when the last attempt started.
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	// NextAttemptAt is when the next attempt is due; nil when given up.
	NextAttemptAt *time.Time `json:"next_attempt_at"`
}

// RetryRequest is the body of the retry verb.
type RetryRequest struct {
	// Mode is the mode the caller means.
	Mode string `json:"mode"`
	// EventID is the event whose delivery to make due (a UUID).
	EventID string `json:"event_id"`
	// Wait bounds the wait for the attempt (at most 30 s; 0: none).
	Wait time.Duration `json:"wait"`
}

// RetryResult says what a retry found and, when it waited, how the
// attempt went.
type RetryResult struct {
	// Was is the delivery's state before: "failing", "given_up",
	// "delivered", "waiting" or "none" (a new job was enqueued).
	Was string `json:"was"`
	// Outcome is the state after the wait: "delivered", "failing" (the
	// attempt failed, another is scheduled), "given_up", "pending" (no
	// attempt finished within the wait), or empty when nothing was waited
	// for.
	Outcome string `json:"outcome"`
	// LastStatus is the HTTP status of the attempt when Outcome is not
	// pending (0: no answer, see LastError).
	LastStatus int    `json:"last_status,omitempty"`
	LastError  string `json:"last_error,omitempty"`
}

// AuditEntry is one event of a payment's audit trail, its sealed details
// opened.
type AuditEntry struct {
	ID        string       `json:"id"`
	HistoryID string       `json:"history_id,omitempty"`
	Service   string       `json:"service"`
	Event     string       `json:"event"`
	Vendor    string       `json:"vendor"`
	StoreID   string       `json:"store_id"`
	RequestID string       `json:"request_id,omitempty"`
	At        time.Time    `json:"at"`
	Details   AuditDetails `json:"details"`
}

// AuditDetails are an audit event's amounts and what it concerned.
type AuditDetails struct {
	VendorUID    string `json:"vendor_uid,omitempty"`
	Price        int64  `json:"price"`
	RefundBefore int64  `json:"refund_before"`
	RefundAfter  int64  `json:"refund_after"`
	Amount       int64  `json:"amount,omitempty"`
	Reason       string `json:"reason,omitempty"`
	WebhookID    string `json:"webhook_id,omitempty"`
	Attempts     int    `json:"attempts,omitempty"`
}

// FailingDeliveries asks the agent's instance for the failing and given-up
// deliveries of mode, at most limit.
func (c *Client) FailingDeliveries(ctx context.Context, mode string, limit int) ([]Delivery, error) {
	q := url.Values{modeParam: {mode}, "limit": {strconv.Itoa(limit)}}
	var out []Delivery
	return out, c.operatorErr(c.callWithin(ctx, http.MethodGet, pathDeliveries+"?"+q.Encode(), nil, &out, maxDeliveriesAnswer))
}

// RetryDelivery asks the agent's instance to re-send an event's delivery
// now and to wait up to req.Wait for the attempt.
func (c *Client) RetryDelivery(ctx context.Context, req RetryRequest) (RetryResult, error) {
	var out RetryResult
	return out, c.operatorErr(c.call(ctx, http.MethodPost, pathDeliveryRetry, req, &out))
}

// AuditTrail asks the agent's instance for a history's audit trail.
func (c *Client) AuditTrail(ctx context.Context, mode, historyID string) ([]AuditEntry, error) {
	q := url.Values{modeParam: {mode}, "history": {historyID}}
	var out []AuditEntry
	return out, c.operatorErr(c.call(ctx, http.MethodGet, pathAuditTrail+"?"+q.Encode(), nil, &out))
}

// operatorErr wraps ErrNotFound, ErrDeliveryRunning and ErrNoOperator
// around the answers that mean them.
func (c *Client) operatorErr(err error) error {
	var ae *AnswerError
	if !errors.As(err, &ae) {
		return err
	}
	switch {
	case ae.Status == http.StatusNotImplemented, ae.Status == http.StatusNotFound && ae.Message == muxNotFound:
		return fmt.Errorf("%w: %w", ErrNoOperator, err)
	}
	switch ae.Status {
	case http.StatusNotFound:
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case http.StatusConflict:
		return fmt.Errorf("%w: %w", ErrDeliveryRunning, err)
	}
	return err
}

// operatorVerb refuses an operator verb when the agent has no Operator,
// has handed off, or serves another mode than the one asked for.
func (a *Agent) operatorVerb(h func(http.ResponseWriter, *http.Request, Operator)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		op := a.opts.Operator
		switch {
		case op == nil:
			writeError(w, http.StatusNotImplemented, errors.New("this agent answers no operator verbs"))
		case a.handedOff.Load():
			writeError(w, http.StatusServiceUnavailable, errors.New("this process has handed off to a new one; retry"))
		default:
			h(w, r, op)
		}
	}
}

// sameMode answers 400 or 421 unless mode is the operator's.
func sameMode(w http.ResponseWriter, op Operator, mode string) bool {
	switch {
	case mode == "":
		writeError(w, http.StatusBadRequest, errors.New("mode is required"))
		return false
	case mode != op.Mode():
		writeError(w, http.StatusMisdirectedRequest, fmt.Errorf("this server serves mode %s, not the mode asked for", op.Mode()))
		return false
	}
	return true
}

func (a *Agent) handleDeliveries(w http.ResponseWriter, r *http.Request, op Operator) {
	q := r.URL.Query()
	if !sameMode(w, op, q.Get(modeParam)) {
		return
	}
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > maxOperatorLimit {
		writeError(w, http.StatusBadRequest, fmt.Errorf("limit must be a number from 1 to %d", maxOperatorLimit))
		return
	}
	list, err := op.FailingDeliveries(r.Context(), limit)
	if err != nil {
		a.operatorFailed(w, "list failing deliveries", err)
		return
	}
	writeJSON(w, list)
}

func (a *Agent) handleDeliveryRetry(w http.ResponseWriter, r *http.Request, op Operator) {
	var req RetryRequest
	if !readJSON(w, r, &req) || !sameMode(w, op, req.Mode) {
		return
	}
	if _, err := uuid.Parse(req.EventID); err != nil {
		writeError(w, http.StatusBadRequest, errors.New("event_id must be a webhook event id (a UUID)"))
		return
	}
	if req.Wait < 0 || req.Wait > MaxRetryWait {
		writeError(w, http.StatusBadRequest, fmt.Errorf("wait must be between 0 and %s", MaxRetryWait))
		return
	}
	// The wait comes on top of the server's write timeout for the verb.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(a.opts.WriteTimeout + req.Wait))
	res, err := op.RetryDelivery(r.Context(), req.EventID, req.Wait)
	if err != nil {
		a.operatorFailed(w, "retry a delivery", err)
		return
	}
	a.log.Info("updater: delivery retried by an operator", "event", req.EventID, "was", res.Was, "outcome", res.Outcome)
	writeJSON(w, res)
}

func (a *Agent) handleAuditTrail(w http.ResponseWriter, r *http.Request, op Operator) {
	q := r.URL.Query()
	if !sameMode(w, op, q.Get(modeParam)) {
		return
	}
	id, err := uuid.Parse(q.Get("history"))
	if err != nil {
		writeError(w, http.StatusBadRequest, errors.New("history must be a history id (a UUID)"))
		return
	}
	trail, err := op.AuditTrail(r.Context(), id.String())
	if err != nil {
		a.operatorFailed(w, "read an audit trail", err)
		return
	}
	writeJSON(w, trail)
}

// operatorFailed answers an Operator's error: 404, 409, or 500 with the
// error (which names ids, never a body).
func (a *Agent) operatorFailed(w http.ResponseWriter, what string, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, err)
	case errors.Is(err, ErrDeliveryRunning):
		writeError(w, http.StatusConflict, err)
	default:
		a.log.Error("updater: "+what, "error", err)
		writeError(w, http.StatusInternalServerError, err)
	}
}
