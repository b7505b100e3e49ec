package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/server/requestid"
	"github.com/paymentctl/paymentctl/server/store"
)

// The money events of the audit trail (store.AuditEvent.Event).
const (
	// AuditRegistered: a payment was verified with its PG and registered.
	AuditRegistered = "registered"
	// AuditRefused: a registration or a cancel was refused (422).
	AuditRefused = "refused"
	// AuditCancelled: a cancel (refund) asked through the API was made.
	AuditCancelled = "cancelled"
	// AuditReconciled: the stored payment was brought in line with its PG
	// (a PG webhook, the reconciler, or the resolution of a PG call of
	// unknown outcome). A cancel made through the API whose PG webhook was
	// applied first shows both: reconciled (the stored refund changed)
	// and cancelled (the request that made it).
	AuditReconciled = "reconciled"
	// AuditDeliveryGivenUp: the delivery of an event to the service was
	// given up.
	AuditDeliveryGivenUp = "delivery_given_up"
)

// AuditDetails are the sealed part of an audit event: amounts and what
// the event concerned, never a password or card data.
type AuditDetails struct {
	// VendorUID is the PG's payment id.
	VendorUID string `json:"vendor_uid,omitempty"`
	// Price is the payment's amount; RefundBefore and RefundAfter its
	// refunded total before and after the event (equal when nothing
	// moved).
	Price        int64 `json:"price"`
	RefundBefore int64 `json:"refund_before"`
	RefundAfter  int64 `json:"refund_after"`
	// Amount is what the request asked for: the registered price, the
	// cancel's amount.
	Amount int64 `json:"amount,omitempty"`
	// Reason is a refusal's reason code (amount_mismatch, …), or
	// registration_failed for a capture cancelled because its
	// registration failed (an event with no history).
	Reason string `json:"reason,omitempty"`
	// WebhookID is the event whose delivery was given up.
	WebhookID string `json:"webhook_id,omitempty"`
	// Attempts is how many deliveries were attempted.
	Attempts int `json:"attempts,omitempty"`
}

// AuditEntry is one audit event as an operator reads it (`paymentctl
// audit`): the clear columns and the opened details.
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

// auditWriter appends audit events; *store.Store and *store.Tx implement
// it.
type auditWriter interface {
	AddAuditEvent(ctx context.Context, e *store.AuditEvent) error
}

// audit appends one event for history h (nil for a refused registration,
// whose vendor and service are in e already) through w, in the caller's
// transaction when w is one.
func (s *Service) audit(ctx context.Context, w auditWriter, e store.AuditEvent, d AuditDetails) error {
	if err := s.sealAudit(ctx, &e, d); err != nil {
		return err
	}
	return w.AddAuditEvent(ctx, &e)
}

// sealAudit completes e for the store: the request's id, an id of its
// own and the details sealed to it.
func (s *Service) sealAudit(ctx context.Context, e *store.AuditEvent, d AuditDetails) error {
	e.RequestID = requestid.FromContext(ctx)
	plain, err := json.Marshal(d)
	if err != nil {
		return err
	}
	// The id is generated here so it can bind the sealed details.
	if e.ID == "" {
		e.ID = uuid.NewString()
	}
	e.Data, err = s.keys.Audit.Seal(plain, []byte(e.ID))
	return err
}

// historyAudit is the clear part of an audit event about history h.
func historyAudit(event string, h *store.History) store.AuditEvent {
	return store.AuditEvent{HistoryID: h.ID, Service: h.Source.Service, Event: event, VendorCode: h.Vendor.Code, StoreID: h.Vendor.StoreID}
}

// auditRefusal records a refused registration or cancel (err wraps
// ErrRefused) outside any transaction: nothing else was written. A failure
// is logged; the refusal stands.
//
// A refusal decided from the request and the configuration alone (an
// unknown vendor.store_id, a PortOne V2 paymentId that is not the order's
// source.id) is not recorded: it concerns no payment, and recording it
// would let any caller add a row per request. Those are in the access log
// and the flow metrics like any other 422.
func (s *Service) auditRefusal(ctx context.Context, err error, e store.AuditEvent, d AuditDetails) {
	if !errors.Is(err, ErrRefused) {
		return
	}
	if r, ok := errors.AsType[*refusal](err); ok && r.onRequest {
		return
	}
	d.Reason = refusalReason(err)
	e.Event = AuditRefused
	if aerr := s.audit(context.WithoutCancel(ctx), s.store, e, d); aerr != nil {
		s.log.ErrorContext(ctx, "record a refusal in the audit trail", "err", aerr)
	}
}

// refusalReason names the reason of a refusal as the API's error code
// does.
func refusalReason(err error) string {
	for _, r := range []struct {
		err  error
		name string
	}{
		{ErrAmountMismatch, "amount_mismatch"}, {ErrOrderMismatch, "order_mismatch"},
		{ErrNotPaid, "not_paid"}, {ErrRefundExceedsBalance, "refund_exceeds_balance"},
	} {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "refused"
}

// auditNote says which audit event a change applied by applyAndRecord is,
// and the amount the request asked for; the zero value records none.
type auditNote struct {
	event  string
	amount int64
}

// auditChange returns the audit event of the change of history h (as
// locked, before it) to the refunded total current, as note says, sealed
// and ready to store; nil when note records none.
func (s *Service) auditChange(ctx context.Context, h *store.History, current int64, note auditNote) (*store.AuditEvent, error) {
	if note.event == "" {
		return nil, nil
	}
	e := historyAudit(note.event, h)
	err := s.sealAudit(ctx, &e, AuditDetails{
		VendorUID: h.Vendor.UID, Price: h.Price, RefundBefore: h.Refund, RefundAfter: current, Amount: note.amount,
	})
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// AuditTrail returns the audit events of a history, oldest first, their
// details opened.
func (s *Service) AuditTrail(ctx context.Context, historyID string) ([]AuditEntry, error) {
	events, err := s.store.AuditTrail(ctx, historyID)
	if err != nil {
		return nil, err
	}
	out := make([]AuditEntry, 0, len(events))
	for _, e := range events {
		plain, err := s.keys.Audit.Open(e.Data, []byte(e.ID))
		if err != nil {
			return nil, fmt.Errorf("open audit event %s: %w", e.ID, err)
		}
		entry := AuditEntry{ID: e.ID, HistoryID: e.HistoryID, Service: e.Service, Event: e.Event,
			Vendor: e.VendorCode, StoreID: e.StoreID, RequestID: e.RequestID, At: e.CreatedAt}
		if err := json.Unmarshal(plain, &entry.Details); err != nil {
			return nil, fmt.Errorf("decode audit event %s: %w", e.ID, err)
		}
		out = append(out, entry)
	}
	return out, nil
}

// GaveUp records in the audit trail that the delivery of the event
// webhookID was given up (webhook.Payloads).
func (s *Service) GaveUp(ctx context.Context, webhookID string, attempts int) error {
	w, err := s.store.Webhook(ctx, webhookID)
	if err != nil {
		return err
	}
	h, err := s.store.History(ctx, w.HistoryID)
	if err != nil {
		return err
	}
	return s.audit(ctx, s.store, historyAudit(AuditDeliveryGivenUp, h), AuditDetails{
		VendorUID: h.Vendor.UID, Price: h.Price, RefundBefore: h.Refund, RefundAfter: h.Refund,
		WebhookID: webhookID, Attempts: attempts,
	})
}
