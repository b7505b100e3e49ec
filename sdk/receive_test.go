package sdk_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

func TestReceiveWebhook(t *testing.T) {
	secret := []byte("a-webhook-secret-of-32-bytes-abc")
	c := newClient(t, "http://127.0.0.1:1", nil)
	event := sdk.WebhookHistory{ID: "3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9", Source: source, Previous: sampleHistory(), Current: sampleHistory()}
	encrypt := func(ev sdk.WebhookHistory, with *wirecrypt.Cipher) []byte {
		plain, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		return with.Encrypt(plain)
	}
	otherKey, err := wirecrypt.New("0123456789abcdef0123456789abcdef", testIV)
	if err != nil {
		t.Fatal(err)
	}
	body := encrypt(event, mustCipher(t))
	otherID := event
	otherID.ID = "00000000-0000-4000-8000-000000000000"

	// delivery builds the request paymentctl sends, signed with key for id
	// at sent.
	delivery := func(key []byte, id string, sent time.Time, body []byte) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/hooks/payments", bytes.NewReader(body))
		r.Header.Set("Content-Type", "text/plain")
		r.Header.Set(sdk.WebhookIDHeader, id)
		r.Header.Set(sdk.WebhookTimestampHeader, strconv.FormatInt(sent.Unix(), 10))
		r.Header.Set(sdk.WebhookSignatureHeader, sdk.SignWebhook(key, id, sent, body))
		return r
	}
	now := time.Now()
	tests := []struct {
		name    string
		req     *http.Request
		wantErr error
	}{
		{"genuine", delivery(secret, event.ID, now, body), nil},
		{"other secret", delivery([]byte("another-secret-of-32-bytes-abcde"), event.ID, now, body), sdk.ErrWebhookSignature},
		{"stale", delivery(secret, event.ID, now.Add(-time.Hour), body), sdk.ErrWebhookTimestamp},
		{"unsigned", httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)), sdk.ErrWebhookHeader},
		{"other connection key", delivery(secret, event.ID, now, encrypt(event, otherKey)), sdk.ErrWebhookBody},
		{"id not the signed one", delivery(secret, event.ID, now, encrypt(otherID, mustCipher(t))), sdk.ErrWebhookBody},
		{"too large", delivery(secret, event.ID, now, bytes.Repeat([]byte("A"), sdk.MaxWebhookBody+1)), sdk.ErrWebhookBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sdk.ReceiveWebhook(tt.req, secret, c)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || got != nil {
					t.Errorf("ReceiveWebhook = %v, %v; want nil, an error matching %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReceiveWebhook: %v", err)
			}
			if diff := cmp.Diff(event, *got); diff != "" {
				t.Errorf("event mismatch (-want +got):\n%s", diff)
			}
		})
	}

	// A tampered body fails the signature, whatever it decrypts to.
	tampered := append(bytes.Clone(body[:len(body)-4]), "AAA="...)
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(tampered))
	r.Header = delivery(secret, event.ID, now, body).Header
	if _, err := sdk.ReceiveWebhook(r, secret, c); !errors.Is(err, sdk.ErrWebhookSignature) {
		t.Errorf("tampered body: %v, want ErrWebhookSignature", err)
	}
}
