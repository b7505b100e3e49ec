package sdk

import (
	"encoding/base64"
	"encoding/json"
	"errors"
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

// ParseWebhookSecret returns the signing key of a webhook secret as
// paymentctl is configured with it (PAYMENT_WEBHOOK_SECRET), reading it
// exactly as the server does:
//
//   - "whsec_" followed by standard base64 is the Standard Webhooks form,
//     which `paymentctl config generate` prints: the key is the decoded
//     bytes, 24 to 64 of them. Surrounding white space is ignored. A
//     prefixed value that does not decode is an error (the server refuses
//     to start with it).
//   - Any other non-empty value is a legacy secret: the key is the
//     string's own bytes, as given, not base64-decoded (unlike Standard
//     Webhooks libraries, which decode an unprefixed secret too: give them
//     the whsec_ form).
//
// An empty secret is an error. Errors never contain the secret.
func ParseWebhookSecret(s string) ([]byte, error) {
	trimmed := strings.TrimSpace(s)
	encoded, ok := strings.CutPrefix(trimmed, WebhookSecretPrefix)
	if !ok {
		if s == "" {
			return nil, errors.New("webhook secret is empty")
		}
		return []byte(s), nil
	}
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		// The error of base64 names the offending input position only,
		// never the secret.
		return nil, fmt.Errorf("webhook secret starts with %s but the rest is not standard base64: %w", WebhookSecretPrefix, err)
	}
	if len(key) < MinWebhookSecretLen || len(key) > MaxWebhookSecretLen {
		return nil, fmt.Errorf("webhook secret %s… decodes to %d bytes, want %d to %d", WebhookSecretPrefix, len(key), MinWebhookSecretLen, MaxWebhookSecretLen)
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
