package sdk

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// MaxWebhookBody bounds the body ReceiveWebhook reads. An event is a few
// kilobytes (two histories with their PG payments).
const MaxWebhookBody = 1 << 20

// ErrWebhookBody is wrapped by ReceiveWebhook when a signed body cannot be
// read, decrypted or decoded: too large, cut off, or encrypted with
// another connection key than the client's.
var ErrWebhookBody = errors.New("unusable webhook body")

// ReceiveWebhook verifies and decodes a webhook delivery in one call: it
// reads r's body (at most MaxWebhookBody), checks its Standard Webhooks
// signature with VerifyWebhook under the key secret (the default
// tolerance, the current time), then decrypts and decodes it with c's
// connection key like DecodeWebhook.
//
// An error wraps ErrWebhookHeader, ErrWebhookTimestamp or
// ErrWebhookSignature when the request is not a genuine recent delivery
// (answer 401 and do nothing), or ErrWebhookBody. Answer 2xx only once the
// event is handled: anything else makes paymentctl retry it. Events arrive
// at least once and in any order; the event's ID (the webhook-id header)
// is the same on every retry, so drop the IDs already handled, and
// compare Current with what you hold rather than trusting the order.
func ReceiveWebhook(r *http.Request, secret []byte, c *Client) (*WebhookHistory, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxWebhookBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read: %v", ErrWebhookBody, err)
	}
	if len(body) > MaxWebhookBody {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrWebhookBody, MaxWebhookBody)
	}
	if err := VerifyWebhook(secret, r.Header, body, 0, time.Time{}); err != nil {
		return nil, err
	}
	ev, err := c.DecodeWebhook(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWebhookBody, err)
	}
	if id := r.Header.Get(WebhookIDHeader); ev.ID != id {
		return nil, fmt.Errorf("%w: the event's id %q is not the signed %s %q", ErrWebhookBody, ev.ID, WebhookIDHeader, id)
	}
	return ev, nil
}
