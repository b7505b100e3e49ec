package sdk

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/paymentctl/paymentctl/internal/stdwebhook"
)

// The Standard Webhooks headers, as the specification spells them (HTTP
// header names are case-insensitive).
const (
	WebhookIDHeader        = stdwebhook.IDHeader
	WebhookTimestampHeader = stdwebhook.TimestampHeader
	WebhookSignatureHeader = stdwebhook.SignatureHeader
)

// DefaultWebhookTolerance is how far webhook-timestamp may be from the
// receiver's clock when VerifyWebhook is given no tolerance.
const DefaultWebhookTolerance = stdwebhook.DefaultTolerance

// WebhookSecretPrefix starts the text form of a webhook secret.
const WebhookSecretPrefix = stdwebhook.SecretPrefix

// Bounds of a webhook secret's key, in bytes (192 to 512 bits).
const (
	MinWebhookSecretLen = 24
	MaxWebhookSecretLen = 64
)

// Errors of VerifyWebhook; every error it returns wraps one of them.
var (
	// ErrWebhookHeader means a header is missing or malformed.
	ErrWebhookHeader = stdwebhook.ErrHeader
	// ErrWebhookTimestamp means webhook-timestamp is outside the tolerance.
	ErrWebhookTimestamp = stdwebhook.ErrTimestamp
	// ErrWebhookSignature means no v1 signature in webhook-signature
	// matches.
	ErrWebhookSignature = stdwebhook.ErrSignature
)

// SignWebhook returns the v1 signature ("v1,<base64>") of body sent as
// event id at time ts with the key secret, the value of the
// webhook-signature header. Only whole seconds of ts are signed, as only
// they are sent. The id must not contain a full stop: the specification
// forbids it because the signed content uses full stops as separators.
func SignWebhook(secret []byte, id string, ts time.Time, body []byte) string {
	return stdwebhook.Sign(secret, id, ts, body)
}

// VerifyWebhook checks that body, received with header, was signed with
// the key secret at a time within tolerance of now (either way). A
// tolerance of zero or less means DefaultWebhookTolerance, a zero now the
// current time. Signatures are compared in constant time. Every error
// wraps ErrWebhookHeader, ErrWebhookTimestamp or ErrWebhookSignature; the
// message never contains the secret or an expected signature.
//
// A valid signature proves who sent the event, not that it is new: keep
// the webhook-id values recently seen (for longer than the tolerance) to
// drop a replay within the tolerance and the sender's own retries.
func VerifyWebhook(secret []byte, header http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	if strings.Contains(header.Get(WebhookIDHeader), ".") {
		return fmt.Errorf("%w: %s contains a full stop", ErrWebhookHeader, WebhookIDHeader)
	}
	return stdwebhook.Verify([][]byte{secret}, header, body, tolerance, now)
}

// ParseWebhookSecret returns the key of a secret in its text form,
// "whsec_" followed by standard base64. The prefix may be left out; the
// key must be 24 to 64 bytes long.
func ParseWebhookSecret(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), WebhookSecretPrefix))
	if err != nil {
		// The error of base64 names the offending input position only,
		// never the secret.
		return nil, fmt.Errorf("webhook secret is not %s followed by base64: %w", WebhookSecretPrefix, err)
	}
	if len(key) < MinWebhookSecretLen || len(key) > MaxWebhookSecretLen {
		return nil, fmt.Errorf("webhook secret is %d bytes long, want %d to %d", len(key), MinWebhookSecretLen, MaxWebhookSecretLen)
	}
	return key, nil
}

// FormatWebhookSecret returns the text form of key: "whsec_" followed by
// its standard base64.
func FormatWebhookSecret(key []byte) string {
	return stdwebhook.EncodeSecret(key)
}

// DecodeWebhook decrypts and decodes the body paymentctl POSTs to a
// history's webhook_url: the JSON of a WebhookHistory, encrypted with the
// connection key and IV like every API body. Verify the signature on body
// first.
func (c *Client) DecodeWebhook(body []byte) (*WebhookHistory, error) {
	plain, err := c.cipher.Decrypt(body)
	if err != nil {
		return nil, fmt.Errorf("decrypt webhook: %w", err)
	}
	var out WebhookHistory
	if err := json.Unmarshal(plain, &out); err != nil {
		return nil, fmt.Errorf("decode webhook: %w", err)
	}
	return &out, nil
}
