// Package stdwebhook signs and verifies webhooks by the Standard Webhooks
// scheme (github.com/standard-webhooks/standard-webhooks): an HMAC-SHA256
// of "{webhook-id}.{webhook-timestamp}.{body}", sent base64-encoded as
// "v1,<signature>" in webhook-signature, several space-separated
// signatures allowed so that a sender may sign with two secrets while one
// is rotated.
//
// paymentctl speaks the scheme twice: it signs the webhooks it forwards to
// services (package sdk wraps this package for them), and it verifies the
// webhooks PortOne V2 sends it (package gateway/portone). The fake PortOne
// signs with it too.
package stdwebhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The scheme's headers, as the specification spells them (HTTP header
// names are case-insensitive).
const (
	IDHeader        = "webhook-id"
	TimestampHeader = "webhook-timestamp"
	SignatureHeader = "webhook-signature"
)

// SecretPrefix starts the text form of a secret: "whsec_" and the key in
// base64.
const SecretPrefix = "whsec_"

// DefaultTolerance is how far webhook-timestamp may be from the
// receiver's clock, either way, when Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify; every error it returns wraps one of them.
var (
	// ErrHeader means a header is missing, repeated or malformed.
	ErrHeader = errors.New("invalid webhook headers")
	// ErrTimestamp means webhook-timestamp is outside the tolerance.
	ErrTimestamp = errors.New("webhook timestamp outside tolerance")
	// ErrSignature means no v1 signature in webhook-signature matches
	// any of the keys.
	ErrSignature = errors.New("no matching webhook signature")
)

// Sign returns the v1 signature ("v1,<base64>") of body sent as message id
// at time ts with key, the value of webhook-signature. Only whole seconds
// of ts are signed, as only they are sent.
func Sign(key []byte, id string, ts time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, strconv.FormatInt(ts.Unix(), 10), body))
}

// Header returns the three headers of a message id sent at ts, signed
// with every key in keys (one signature each, in order).
func Header(keys [][]byte, id string, ts time.Time, body []byte) http.Header {
	sigs := make([]string, len(keys))
	for i, k := range keys {
		sigs[i] = Sign(k, id, ts, body)
	}
	h := http.Header{}
	h.Set(IDHeader, id)
	h.Set(TimestampHeader, strconv.FormatInt(ts.Unix(), 10))
	h.Set(SignatureHeader, strings.Join(sigs, " "))
	return h
}

// mac is the HMAC-SHA256 of "{id}.{timestamp}.{body}".
func mac(key []byte, id, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks that body, received with header, was signed with one of
// keys at a time within tolerance of now (either way). A tolerance of zero
// or less means DefaultTolerance, a zero now the current time. Each header
// must be present once; signatures whose version is not v1 or whose value
// is not base64 (standard or URL alphabet, padded or not) are skipped, and
// any one matching any key succeeds. MACs are compared in constant time.
// Every error wraps ErrHeader, ErrTimestamp or ErrSignature; none contains
// a key or an expected signature.
//
// A valid signature proves who sent the message, not that it is new: a
// receiver that must not act twice keeps the webhook-id values it saw for
// longer than the tolerance.
func Verify(keys [][]byte, header http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	id, err := single(header, IDHeader)
	if err != nil {
		return err
	}
	timestamp, err := single(header, TimestampHeader)
	if err != nil {
		return err
	}
	signatures, err := single(header, SignatureHeader)
	if err != nil {
		return err
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || sec < 0 {
		return fmt.Errorf("%w: %s %q is not Unix seconds", ErrHeader, TimestampHeader, truncate(timestamp))
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if now.IsZero() {
		now = time.Now()
	}
	sent := time.Unix(sec, 0)
	if d := now.Sub(sent); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: sent at %s, now %s", ErrTimestamp, sent.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	wants := make([][]byte, 0, len(keys))
	for _, k := range keys {
		if len(k) > 0 {
			wants = append(wants, mac(k, id, timestamp, body))
		}
	}
	for sig := range strings.FieldsSeq(signatures) {
		version, value, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, ok := decodeSignature(value)
		if !ok {
			continue
		}
		for _, want := range wants {
			if hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return ErrSignature
}

// single returns the one non-empty value of header name.
func single(header http.Header, name string) (string, error) {
	vs := header.Values(name)
	switch {
	case len(vs) == 0 || len(vs) == 1 && vs[0] == "":
		return "", fmt.Errorf("%w: no %s", ErrHeader, name)
	case len(vs) > 1:
		return "", fmt.Errorf("%w: %s sent %d times", ErrHeader, name, len(vs))
	}
	return vs[0], nil
}

// decodeSignature reads a signature in any base64 form.
func decodeSignature(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// truncate bounds an echoed header value.
func truncate(s string) string {
	const limit = 32
	if len(s) > limit {
		return s[:limit] + "..."
	}
	return s
}

// DecodeSecret returns the key of a secret in its text form: an optional
// "whsec_" and the key in standard base64 (padding optional), as the
// Standard Webhooks libraries read it. Surrounding space is ignored; an
// empty key is an error. The error never contains the secret.
func DecodeSecret(s string) ([]byte, error) {
	b64 := strings.TrimPrefix(strings.TrimSpace(s), SecretPrefix)
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		var rawErr error
		if key, rawErr = base64.RawStdEncoding.DecodeString(b64); rawErr != nil {
			// base64's error names the offending position only.
			return nil, fmt.Errorf("webhook secret is not %s followed by base64: %w", SecretPrefix, err)
		}
	}
	if len(key) == 0 {
		return nil, errors.New("webhook secret is empty")
	}
	return key, nil
}

// EncodeSecret returns the text form of key: "whsec_" and its standard
// base64.
func EncodeSecret(key []byte) string {
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}
