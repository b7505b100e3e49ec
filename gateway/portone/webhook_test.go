package portone_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/internal/stdwebhook"
)

func TestParseWebhook(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    portone.Webhook
		wantErr bool
	}{
		{"paid", `{"type":"Transaction.Paid","timestamp":"2024-05-01T00:00:00Z","data":{"paymentId":"p","storeId":"s","transactionId":"t"}}`,
			portone.Webhook{Type: portone.EventTransactionPaid, Timestamp: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
				Data: portone.WebhookData{PaymentID: "p", StoreID: "s", TransactionID: "t"}}, false},
		{"cancel", `{"type":"Transaction.PartialCancelled","timestamp":"2024-05-01T00:00:00Z","data":{"paymentId":"p","storeId":"s","transactionId":"t","cancellationId":"c","extra":1}}`,
			portone.Webhook{Type: portone.EventTransactionPartialCancelled, Timestamp: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
				Data: portone.WebhookData{PaymentID: "p", StoreID: "s", TransactionID: "t", CancellationID: "c"}}, false},
		{"billing key", `{"type":"BillingKey.Deleted","timestamp":"2024-05-01T00:00:00Z","data":{"billingKey":"b","storeId":"s"}}`,
			portone.Webhook{Type: portone.EventBillingKeyDeleted, Timestamp: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
				Data: portone.WebhookData{BillingKey: "b", StoreID: "s"}}, false},
		{"unknown type is not an error", `{"type":"Payout.Done","timestamp":"2024-05-01T00:00:00Z","data":{}}`,
			portone.Webhook{Type: "Payout.Done", Timestamp: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}, false},
		{"transaction without payment", `{"type":"Transaction.Paid","timestamp":"2024-05-01T00:00:00Z","data":{"storeId":"s"}}`, portone.Webhook{}, true},
		{"billing key without key", `{"type":"BillingKey.Issued","timestamp":"2024-05-01T00:00:00Z","data":{"storeId":"s"}}`, portone.Webhook{}, true},
		{"odd type", `{"type":"Transaction Paid<script>","data":{"paymentId":"p"}}`, portone.Webhook{}, true},
		{"no type", `{"data":{"paymentId":"p"}}`, portone.Webhook{}, true},
		{"legacy format", `{"payment_id":"p","tx_id":"t","status":"Paid"}`, portone.Webhook{}, true},
		{"not json", `type=Transaction.Paid`, portone.Webhook{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := portone.ParseWebhook([]byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseWebhook = %+v, %v; want error %v", got, err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("ParseWebhook = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestWebhookVerifier(t *testing.T) {
	oldKey, newKey := []byte("old key of the rotation"), []byte("new key of the rotation")
	oldSecret, newSecret := stdwebhook.EncodeSecret(oldKey), stdwebhook.EncodeSecret(newKey)
	body := []byte(`{"type":"Transaction.Paid","timestamp":"2024-05-01T00:00:00Z","data":{"paymentId":"p","storeId":"s","transactionId":"t"}}`)
	sent := time.Unix(1714521600, 0)
	signed := func(keys ...[]byte) http.Header { return stdwebhook.Header(keys, "msg_1", sent, body) }

	both, err := portone.NewWebhookVerifier(oldSecret, newSecret)
	if err != nil {
		t.Fatal(err)
	}
	// PortOne's SDKs take a secret without whsec_ as base64 too.
	onlyNew, err := portone.NewWebhookVerifier("", base64.StdEncoding.EncodeToString(newKey))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		v      *portone.WebhookVerifier
		header http.Header
		body   []byte
		now    time.Time
		want   error
	}{
		{"old key, both active", both, signed(oldKey), body, sent, nil},
		{"new key, both active", both, signed(newKey), body, sent, nil},
		{"signed with both", onlyNew, signed(oldKey, newKey), body, sent, nil},
		{"retired key", onlyNew, signed(oldKey), body, sent, portone.ErrWebhookSignature},
		{"forged body", both, signed(oldKey), append([]byte(nil), append(body[:len(body)-1], ' ', '}')...), sent, portone.ErrWebhookSignature},
		{"unsigned", both, http.Header{}, body, sent, portone.ErrWebhookHeader},
		{"five minutes late", both, signed(newKey), body, sent.Add(5 * time.Minute), nil},
		{"too late", both, signed(newKey), body, sent.Add(5*time.Minute + time.Second), portone.ErrWebhookTimestamp},
		{"too early", both, signed(newKey), body, sent.Add(-5*time.Minute - time.Second), portone.ErrWebhookTimestamp},
		{"timestamp replaced", both, func() http.Header {
			h := signed(newKey)
			h.Set(portone.WebhookTimestampHeader, strconv.FormatInt(sent.Unix()+1, 10))
			return h
		}(), body, sent, portone.ErrWebhookSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.v.VerifyAt(tt.header, tt.body, tt.now)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("VerifyAt = %v, want %v", err, tt.want)
			}
		})
	}
	// Verify uses the current time: a header signed now passes.
	if err := both.Verify(stdwebhook.Header([][]byte{newKey}, "msg_2", time.Now(), body), body); err != nil {
		t.Errorf("Verify of a fresh webhook = %v", err)
	}
}

func TestNewWebhookVerifierErrors(t *testing.T) {
	for _, secrets := range [][]string{nil, {""}, {"whsec_!!!"}, {"whsec_"}} {
		if _, err := portone.NewWebhookVerifier(secrets...); err == nil {
			t.Errorf("NewWebhookVerifier(%q) = nil error", secrets)
		}
	}
}
