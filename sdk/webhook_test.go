package sdk_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// The Standard Webhooks specification's published test vector.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func vectorKey(t *testing.T) []byte {
	t.Helper()
	key, err := sdk.ParseWebhookSecret(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestSignWebhookVector(t *testing.T) {
	key := vectorKey(t)
	// Sub-second parts are not sent, so they are not signed either.
	ts := time.Unix(vectorTimestamp, 999_000_000)
	if got := sdk.SignWebhook(key, vectorID, ts, []byte(vectorBody)); got != vectorSignature {
		t.Errorf("SignWebhook = %q, want %q", got, vectorSignature)
	}
}

func webhookHeader(id string, ts int64, sig string) http.Header {
	h := http.Header{}
	if id != "" {
		h.Set(sdk.WebhookIDHeader, id)
	}
	if ts != 0 {
		h.Set(sdk.WebhookTimestampHeader, strconv.FormatInt(ts, 10))
	}
	if sig != "" {
		h.Set(sdk.WebhookSignatureHeader, sig)
	}
	return h
}

func TestVerifyWebhook(t *testing.T) {
	key := vectorKey(t)
	otherKey := []byte("another-secret-of-24-bytes!!")
	sent := time.Unix(vectorTimestamp, 0)
	body := []byte(vectorBody)
	otherSig := sdk.SignWebhook(otherKey, vectorID, sent, body)

	tests := []struct {
		name      string
		key       []byte
		header    http.Header
		body      string
		tolerance time.Duration
		now       time.Time
		wantErr   error // nil: valid
	}{
		{"spec vector", key, webhookHeader(vectorID, vectorTimestamp, vectorSignature), vectorBody, 0, sent, nil},
		{"canonical header names", key, http.Header{"Webhook-Id": {vectorID}, "Webhook-Timestamp": {"1614265330"}, "Webhook-Signature": {vectorSignature}}, vectorBody, 0, sent, nil},
		{"tampered body", key, webhookHeader(vectorID, vectorTimestamp, vectorSignature), `{"test": 2432232315}`, 0, sent, sdk.ErrWebhookSignature},
		{"tampered id", key, webhookHeader("msg_other", vectorTimestamp, vectorSignature), vectorBody, 0, sent, sdk.ErrWebhookSignature},
		{"tampered timestamp", key, webhookHeader(vectorID, vectorTimestamp+1, vectorSignature), vectorBody, 0, sent, sdk.ErrWebhookSignature},
		{"wrong secret", otherKey, webhookHeader(vectorID, vectorTimestamp, vectorSignature), vectorBody, 0, sent, sdk.ErrWebhookSignature},
		{"raw secret bytes are not the key", []byte(vectorSecret), webhookHeader(vectorID, vectorTimestamp, vectorSignature), vectorBody, 0, sent, sdk.ErrWebhookSignature},
		{"several signatures, last matches", key, webhookHeader(vectorID, vectorTimestamp, otherSig+" v1a,bm90LWVkMjU1MTk= "+vectorSignature), vectorBody, 0, sent, nil},
		{"several signatures, first matches", key, webhookHeader(vectorID, vectorTimestamp, vectorSignature+"  "+otherSig), vectorBody, 0, sent, nil},
		{"several signatures, none matches", key, webhookHeader(vectorID, vectorTimestamp, otherSig+" "+otherSig), vectorBody, 0, sent, sdk.ErrWebhookSignature},
		{"right mac under another scheme", key, webhookHeader(vectorID, vectorTimestamp, "v2,"+strings.TrimPrefix(vectorSignature, "v1,")), vectorBody, 0, sent, sdk.ErrWebhookSignature},
		{"signature not base64", key, webhookHeader(vectorID, vectorTimestamp, "v1,!!!"), vectorBody, 0, sent, sdk.ErrWebhookSignature},
		{"bare signature", key, webhookHeader(vectorID, vectorTimestamp, strings.TrimPrefix(vectorSignature, "v1,")), vectorBody, 0, sent, sdk.ErrWebhookSignature},
		{"within default tolerance", key, webhookHeader(vectorID, vectorTimestamp, vectorSignature), vectorBody, 0, sent.Add(5 * time.Minute), nil},
		{"stale", key, webhookHeader(vectorID, vectorTimestamp, vectorSignature), vectorBody, 0, sent.Add(5*time.Minute + time.Second), sdk.ErrWebhookTimestamp},
		{"from the future", key, webhookHeader(vectorID, vectorTimestamp, vectorSignature), vectorBody, 0, sent.Add(-6 * time.Minute), sdk.ErrWebhookTimestamp},
		{"custom tolerance", key, webhookHeader(vectorID, vectorTimestamp, vectorSignature), vectorBody, time.Hour, sent.Add(59 * time.Minute), nil},
		{"outside custom tolerance", key, webhookHeader(vectorID, vectorTimestamp, vectorSignature), vectorBody, time.Second, sent.Add(2 * time.Second), sdk.ErrWebhookTimestamp},
		{"zero now is the clock", key, webhookHeader(vectorID, vectorTimestamp, vectorSignature), vectorBody, 0, time.Time{}, sdk.ErrWebhookTimestamp},
		{"no id", key, webhookHeader("", vectorTimestamp, vectorSignature), vectorBody, 0, sent, sdk.ErrWebhookHeader},
		{"id with full stop", key, webhookHeader("msg.1", vectorTimestamp, vectorSignature), vectorBody, 0, sent, sdk.ErrWebhookHeader},
		{"no timestamp", key, webhookHeader(vectorID, 0, vectorSignature), vectorBody, 0, sent, sdk.ErrWebhookHeader},
		{"timestamp not integer", key, http.Header{"Webhook-Id": {vectorID}, "Webhook-Timestamp": {"1614265330.5"}, "Webhook-Signature": {vectorSignature}}, vectorBody, 0, sent, sdk.ErrWebhookHeader},
		{"no signature", key, webhookHeader(vectorID, vectorTimestamp, ""), vectorBody, 0, sent, sdk.ErrWebhookHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sdk.VerifyWebhook(tt.key, tt.header, []byte(tt.body), tt.tolerance, tt.now)
			if tt.wantErr == nil {
				if err != nil {
					t.Errorf("VerifyWebhook: %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("VerifyWebhook = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	body := mustCipher(t).Encrypt([]byte(`{"id":"x"}`))
	h := http.Header{}
	h.Set(sdk.WebhookIDHeader, "0b9d5c6e-2a1f-4e3d-8c7b-6a5f4e3d2c1b")
	h.Set(sdk.WebhookTimestampHeader, strconv.FormatInt(now.Unix(), 10))
	h.Set(sdk.WebhookSignatureHeader, sdk.SignWebhook(key, h.Get(sdk.WebhookIDHeader), now, body))
	if err := sdk.VerifyWebhook(key, h, body, time.Minute, now.Add(30*time.Second)); err != nil {
		t.Fatalf("VerifyWebhook: %v", err)
	}
	for i := range body {
		tampered := append([]byte(nil), body...)
		tampered[i] ^= 1
		if err := sdk.VerifyWebhook(key, h, tampered, time.Minute, now); !errors.Is(err, sdk.ErrWebhookSignature) {
			t.Fatalf("byte %d flipped: VerifyWebhook = %v, want %v", i, err, sdk.ErrWebhookSignature)
		}
	}
}

func TestWebhookSecret(t *testing.T) {
	key24 := []byte("abcdefghijklmnopqrstuvwx")
	tests := []struct {
		name    string
		in      string
		want    []byte
		wantErr bool
	}{
		{"prefixed", vectorSecret, mustB64(t, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), false},
		// An unprefixed value is a legacy secret: its own bytes, as the
		// server uses them, even when it looks like base64.
		{"legacy, looks like base64", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", []byte("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), false},
		{"legacy", "paymentctl-local-webhook-secret", []byte("paymentctl-local-webhook-secret"), false},
		{"legacy, spaces kept", " legacy secret ", []byte(" legacy secret "), false},
		{"surrounding space", " " + vectorSecret + "\n", mustB64(t, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), false},
		{"formatted", sdk.FormatWebhookSecret(key24), key24, false},
		{"64 bytes", sdk.FormatWebhookSecret(make([]byte, 64)), make([]byte, 64), false},
		{"not base64", "whsec_not base64!", nil, true},
		{"prefix only", "whsec_", nil, true},
		{"too short", sdk.FormatWebhookSecret(key24[:23]), nil, true},
		{"too long", sdk.FormatWebhookSecret(make([]byte, 65)), nil, true},
		{"empty", "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sdk.ParseWebhookSecret(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Errorf("ParseWebhookSecret(%q) = %x, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseWebhookSecret(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("key mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if got := sdk.FormatWebhookSecret(mustB64(t, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")); got != vectorSecret {
		t.Errorf("FormatWebhookSecret = %q, want %q", got, vectorSecret)
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeWebhook(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:1", nil)
	previous := sampleHistory()
	previous.Refund, previous.Cancels = nil, nil
	want := sdk.WebhookHistory{
		ID:       "3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9",
		Source:   source,
		Previous: previous,
		Current:  sampleHistory(),
	}
	plain, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	cipher := mustCipher(t)

	got, err := c.DecodeWebhook(cipher.Encrypt(plain))
	if err != nil {
		t.Fatalf("DecodeWebhook: %v", err)
	}
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("event mismatch (-want +got):\n%s", diff)
	}

	tests := []struct {
		name    string
		body    []byte
		wantErr error
	}{
		{"plain JSON", plain, wirecrypt.ErrMalformed},
		{"empty", nil, wirecrypt.ErrMalformed},
		{"not JSON inside", cipher.Encrypt([]byte("<xml/>")), nil},
		{"wrong JSON type", cipher.Encrypt([]byte(`{"previous":"x"}`)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.DecodeWebhook(tt.body)
			if err == nil {
				t.Fatalf("DecodeWebhook = %+v, want an error", got)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v does not match %v", err, tt.wantErr)
			}
		})
	}
}
