package portone

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/paymentctl/paymentctl/internal/safetext"
	"github.com/paymentctl/paymentctl/internal/stdwebhook"
)

// The webhook types of the 2024-04-25 format, the set the SDK recognises.
const (
	EventTransactionReady                = "Transaction.Ready"
	EventTransactionPaid                 = "Transaction.Paid"
	EventTransactionVirtualAccountIssued = "Transaction.VirtualAccountIssued"
	EventTransactionPartialCancelled     = "Transaction.PartialCancelled"
	EventTransactionCancelled            = "Transaction.Cancelled"
	EventTransactionFailed               = "Transaction.Failed"
	EventTransactionPayPending           = "Transaction.PayPending"
	EventTransactionCancelPending        = "Transaction.CancelPending"
	EventTransactionConfirm              = "Transaction.Confirm"
	EventTransactionDisputeCreated       = "Transaction.DisputeCreated"
	EventTransactionDisputeResolved      = "Transaction.DisputeResolved"
	EventBillingKeyReady                 = "BillingKey.Ready"
	EventBillingKeyIssued                = "BillingKey.Issued"
	EventBillingKeyFailed                = "BillingKey.Failed"
	EventBillingKeyDeleted               = "BillingKey.Deleted"
	EventBillingKeyUpdated               = "BillingKey.Updated"
)

// Standard Webhooks headers PortOne sends.
const (
	WebhookIDHeader        = stdwebhook.IDHeader
	WebhookTimestampHeader = stdwebhook.TimestampHeader
	WebhookSignatureHeader = stdwebhook.SignatureHeader
)

// WebhookTolerance is how far a webhook's timestamp may be from the
// receiver's clock, either way, as the official SDK allows.
const WebhookTolerance = 5 * time.Minute

// Errors of WebhookVerifier.Verify; every error it returns wraps one.
var (
	// ErrWebhookHeader means a Standard Webhooks header is missing,
	// repeated or malformed.
	ErrWebhookHeader = stdwebhook.ErrHeader
	// ErrWebhookTimestamp means the webhook is older or newer than
	// WebhookTolerance.
	ErrWebhookTimestamp = stdwebhook.ErrTimestamp
	// ErrWebhookSignature means no signature matches any secret.
	ErrWebhookSignature = stdwebhook.ErrSignature
)

// Webhook is the body of a PortOne V2 webhook (format 2024-04-25). It
// only names what changed: re-fetch the payment or billing key and act on
// that.
type Webhook struct {
	Type      string      `json:"type"`
	Timestamp time.Time   `json:"timestamp"` // when the event happened; the same on every retry
	Data      WebhookData `json:"data"`
}

// WebhookData is a webhook's data: PaymentID, StoreID and TransactionID
// for Transaction.* events (CancellationID for cancel events, TotalAmount
// for Transaction.Confirm), BillingKey and StoreID for BillingKey.*
// events.
type WebhookData struct {
	PaymentID      string `json:"paymentId,omitempty"`
	StoreID        string `json:"storeId"`
	TransactionID  string `json:"transactionId,omitempty"`
	CancellationID string `json:"cancellationId,omitempty"`
	TotalAmount    *int64 `json:"totalAmount,omitempty"`
	BillingKey     string `json:"billingKey,omitempty"`
}

// IsTransaction reports whether w is about a payment (Transaction.*).
func (w Webhook) IsTransaction() bool { return strings.HasPrefix(w.Type, "Transaction.") }

// IsBillingKey reports whether w is about a billing key (BillingKey.*).
func (w Webhook) IsBillingKey() bool { return strings.HasPrefix(w.Type, "BillingKey.") }

// maxEventType bounds a webhook type; PortOne's are two words joined by a
// full stop, such as Transaction.PartialCancelled.
const maxEventType = 64

// ParseWebhook decodes a webhook body. A type outside the known set is
// not an error (PortOne adds types without notice; ignore them), but the
// type must be 1 to 64 letters, digits, full stops or underscores, and a
// Transaction.* event must name a paymentId, a BillingKey.* event a
// billingKey. Unknown fields are ignored.
func ParseWebhook(body []byte) (Webhook, error) {
	var w Webhook
	if err := json.Unmarshal(body, &w); err != nil {
		return Webhook{}, fmt.Errorf("decode webhook: %w", err)
	}
	if !safetext.Token(w.Type, maxEventType, "._") {
		return Webhook{}, fmt.Errorf("decode webhook: type: expected 1 to %d letters, digits, . or _, got %s",
			maxEventType, safetext.DescribeToken(w.Type, maxEventType, "._"))
	}
	switch {
	case w.IsTransaction() && w.Data.PaymentID == "":
		return Webhook{}, fmt.Errorf("decode %s: no data.paymentId", w.Type)
	case w.IsBillingKey() && w.Data.BillingKey == "":
		return Webhook{}, fmt.Errorf("decode %s: no data.billingKey", w.Type)
	}
	return w, nil
}

// WebhookVerifier checks the Standard Webhooks signature of PortOne's
// webhooks under one or more secrets (two while one is rotated).
type WebhookVerifier struct {
	keys [][]byte
}

// NewWebhookVerifier returns a verifier of webhooks signed with any of
// secrets, each in PortOne's text form: "whsec_" (optional) and the key
// in base64. Empty strings are skipped; at least one secret is required.
// Errors never contain a secret.
func NewWebhookVerifier(secrets ...string) (*WebhookVerifier, error) {
	v := &WebhookVerifier{}
	for i, s := range secrets {
		if strings.TrimSpace(s) == "" {
			continue
		}
		key, err := stdwebhook.DecodeSecret(s)
		if err != nil {
			return nil, fmt.Errorf("portone webhook secret %d: %w", i+1, err)
		}
		v.keys = append(v.keys, key)
	}
	if len(v.keys) == 0 {
		return nil, errors.New("portone webhook secret: none given")
	}
	return v, nil
}

// Verify checks body, received with header, against the current time.
func (v *WebhookVerifier) Verify(header http.Header, body []byte) error {
	return v.VerifyAt(header, body, time.Now())
}

// VerifyAt checks that body, received with header at now, carries a
// signature under one of the verifier's secrets and a webhook-timestamp
// within WebhookTolerance of now. The error wraps ErrWebhookHeader,
// ErrWebhookTimestamp or ErrWebhookSignature.
func (v *WebhookVerifier) VerifyAt(header http.Header, body []byte, now time.Time) error {
	return stdwebhook.Verify(v.keys, header, body, WebhookTolerance, now)
}
