package toss

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/paymentctl/paymentctl/internal/safetext"
)

// Webhook event types.
const (
	EventPaymentStatusChanged = "PAYMENT_STATUS_CHANGED"
	EventDepositCallback      = "DEPOSIT_CALLBACK"
)

// PaymentStatusChanged is the body of a PAYMENT_STATUS_CHANGED webhook: the
// whole payment after its status changed. The SDK's older stub (data holding
// only paymentKey, orderId and status, no createdAt) decodes into it too.
//
// Toss does not sign it: re-fetch the payment with GET
// /v1/payments/{paymentKey} and trust that instead of Data.
type PaymentStatusChanged struct {
	EventType string  `json:"eventType"`
	CreatedAt string  `json:"createdAt"` // zone-less KST, microseconds
	Data      Payment `json:"data"`
}

// DepositCallback is the flat body of a DEPOSIT_CALLBACK webhook, sent for
// virtual accounts when one is issued, paid in, or its deposit is reversed.
//
// Compare Secret (in constant time) with the Payment.Secret returned when the
// account was issued, then re-fetch the payment.
type DepositCallback struct {
	CreatedAt      string `json:"createdAt"`
	Secret         string `json:"secret"`
	Status         Status `json:"status"`
	TransactionKey string `json:"transactionKey"`
	OrderID        string `json:"orderId"`
}

// Event is one decoded webhook body. Exactly one of StatusChanged and
// Deposit is set.
type Event struct {
	Type          string // EventPaymentStatusChanged or EventDepositCallback
	StatusChanged *PaymentStatusChanged
	Deposit       *DepositCallback
}

// maxEventType bounds an eventType; Toss's are upper-case words joined by
// underscores, such as PAYMENT_STATUS_CHANGED.
const maxEventType = 64

// ErrUnknownEvent is returned by ParseWebhook for a well-formed body of an
// event type it does not decode (payout, BrandPay, seller events).
var ErrUnknownEvent = errors.New("unknown webhook event type")

// ParseWebhook decodes a webhook body. A body with an eventType is an
// enveloped event; a body without one but with a secret is a
// DEPOSIT_CALLBACK. An eventType that is not 1 to 64 letters, digits or
// underscores is an error, not an unknown event.
func ParseWebhook(body []byte) (Event, error) {
	var probe struct {
		EventType *string          `json:"eventType"`
		Secret    *string          `json:"secret"`
		Data      *json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return Event{}, fmt.Errorf("decode webhook: %w", err)
	}
	if probe.EventType != nil && !safetext.Token(*probe.EventType, maxEventType, "_") {
		return Event{}, fmt.Errorf("decode webhook: eventType: expected 1 to %d letters, digits or _, got %s",
			maxEventType, safetext.DescribeToken(*probe.EventType, maxEventType, "_"))
	}
	switch {
	case probe.EventType != nil && *probe.EventType == EventPaymentStatusChanged:
		var e PaymentStatusChanged
		if err := json.Unmarshal(body, &e); err != nil {
			return Event{}, fmt.Errorf("decode %s: %w", EventPaymentStatusChanged, err)
		}
		if e.Data.PaymentKey == "" {
			return Event{}, fmt.Errorf("decode %s: no data.paymentKey", EventPaymentStatusChanged)
		}
		return Event{Type: EventPaymentStatusChanged, StatusChanged: &e}, nil
	case (probe.EventType == nil || *probe.EventType == EventDepositCallback) && probe.Secret != nil && probe.Data == nil:
		var d DepositCallback
		if err := json.Unmarshal(body, &d); err != nil {
			return Event{}, fmt.Errorf("decode %s: %w", EventDepositCallback, err)
		}
		return Event{Type: EventDepositCallback, Deposit: &d}, nil
	case probe.EventType != nil:
		return Event{}, fmt.Errorf("%w: %q", ErrUnknownEvent, *probe.EventType)
	default:
		return Event{}, errors.New("decode webhook: neither an eventType nor a deposit secret")
	}
}
