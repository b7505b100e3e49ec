package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/fakepg/fault"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server"
)

// sqliteDSN is a fresh SQLite database: the SDK's contract does not
// depend on the database, which the other end-to-end tests cover.
func sqliteDSN(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "payments.db") }

// TestErrorCodes: the real handlers answer each refusal with its code, and
// the SDK matches it with errors.Is.
func TestErrorCodes(t *testing.T) {
	h := startWith(t, sqliteDSN(t), nil, func(o *server.Options) { o.PGTimeout = pgTimeout })
	ctx := context.Background()
	card := methods()[0]
	hist := paid(t, h, card, 10000)
	create := func(uid string, src sdk.Source, price int64) func() error {
		return func() error {
			_, err := h.api.CreateHistory(ctx, sdk.HistoryCreate{Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: uid},
				Source: src, Price: price, Password: testPassword, WebhookURL: h.webhookURL()})
			return err
		}
	}
	withFaults := func(f fault.Faults, call func() error) func() error {
		return func() error {
			h.srv.Fakes.SetFaults(f)
			defer h.srv.Fakes.SetFaults(fault.Faults{})
			return call()
		}
	}
	tests := []struct {
		name     string
		call     func() error
		status   int
		code     sdk.ErrorCode
		sentinel error
	}{
		{"wrong password", func() error { _, err := h.api.History(ctx, hist.ID, "nope"); return err }, 403, sdk.CodeWrongPassword, sdk.ErrWrongPassword},
		{"unknown id", func() error { _, err := h.api.History(ctx, uuid.NewString(), testPassword); return err }, 404, sdk.CodeNotFound, sdk.ErrNotFound},
		{"invalid body", create("", sdk.Source{ID: "x"}, -1), 400, sdk.CodeInvalidRequest, sdk.ErrInvalidRequest},
		{"duplicate", create(hist.Vendor.UID, hist.Source, hist.Price), 409, sdk.CodeDuplicate, sdk.ErrDuplicate},
		{"refund above the balance", func() error {
			_, err := h.api.CancelHistory(ctx, sdk.CancelCreate{Source: hist.Source, Password: testPassword, Price: hist.Price + 1, Reason: "r"})
			return err
		}, 422, sdk.CodeRefundExceedsBalance, sdk.ErrRefundExceedsBalance},
		{"amount mismatch", func() error {
			src := newSource()
			return create(h.iamportCard(src, 20000).ImpUID, src, 10000)()
		}, 422, sdk.CodeAmountMismatch, sdk.ErrAmountMismatch},
		{"another order's payment", func() error {
			return create(h.iamportCard(newSource(), 20000).ImpUID, newSource(), 20000)()
		}, 422, sdk.CodeOrderMismatch, sdk.ErrOrderMismatch},
		{"failed payment", func() error {
			src := newSource()
			h.srv.Fakes.SetFaults(fault.Faults{DeclineRate: 1})
			_, err := h.iamport.PayOnetime(ctx, iamport.OnetimeRequest{
				CardFields:  iamport.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
				OrderFields: iamport.OrderFields{MerchantUID: src.ID, Amount: 500, Name: "declined"},
			})
			h.srv.Fakes.SetFaults(fault.Faults{})
			failed, ok := iamport.FailedPayment(err)
			if !ok {
				t.Fatalf("decline at the fake: %v", err)
			}
			return create(failed.ImpUID, src, 500)()
		}, 422, sdk.CodePaymentNotPaid, sdk.ErrPaymentNotPaid},
		{"unknown PG payment", create("imp_nope", newSource(), 1), 404, sdk.CodePGRefused, sdk.ErrPGRefused},
		{"PG failing", withFaults(fault.Faults{ErrorRate: 1}, create("imp_any", newSource(), 1)), 502, sdk.CodePGUnavailable, sdk.ErrPGUnavailable},
		{"PG slow", withFaults(fault.Faults{Latency: 3 * pgTimeout}, create("imp_any", newSource(), 1)), 504, sdk.CodePGTimeout, sdk.ErrPGTimeout},
		{"cancel answer lost", withFaults(fault.Faults{DropResponse: []fault.Route{cancelRoutes[sdk.VendorIamport]}}, func() error {
			_, err := h.api.CancelHistory(ctx, sdk.CancelCreate{Source: hist.Source, Password: testPassword, Price: 100, Reason: "lost"})
			return err
		}), 502, sdk.CodeOutcomeUnknown, sdk.ErrOutcomeUnknown},
		{"key reused", func() error {
			src := newSource()
			in := sdk.HistoryCreate{Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: h.iamportCard(src, 700).ImpUID},
				Source: src, Price: 700, Password: testPassword, WebhookURL: h.webhookURL()}
			key := uuid.NewString()
			if _, err := h.api.CreateHistory(ctx, in, sdk.WithIdempotencyKey(key)); err != nil {
				return err
			}
			in.Price = 1
			_, err := h.api.CreateHistory(ctx, in, sdk.WithIdempotencyKey(key))
			return err
		}, 422, sdk.CodeIdempotencyKeyReused, sdk.ErrIdempotencyKeyReused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var apiErr *sdk.Error
			if !errors.As(err, &apiErr) || apiErr.Status != tt.status || apiErr.Code != tt.code {
				t.Fatalf("error = %v (code %q), want %d %s", err, codeOf(err), tt.status, tt.code)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.sentinel)
			}
		})
	}

	// Request-level refusals, and the body's shape: the original's three
	// fields and the code.
	raw := []struct {
		name          string
		method, path  string
		body          io.Reader
		status        int
		code          sdk.ErrorCode
		messagePrefix string
	}{
		{"no route", http.MethodGet, "/nowhere", nil, 404, sdk.CodeNotFound, "Cannot GET /nowhere"},
		{"no method", http.MethodDelete, "/monitors/health", nil, 405, sdk.CodeMethodNotAllowed, "Cannot DELETE"},
		{"body too large", http.MethodPatch, "/payments/histories/get", bytes.NewReader(bytes.Repeat([]byte("A"), 2<<20)), 413, sdk.CodePayloadTooLarge, "Request body is larger"},
		{"body not encrypted", http.MethodPatch, "/payments/histories/get", strings.NewReader(`{"x":1}`), 400, sdk.CodeInvalidRequest, "Failed to decrypt"},
	}
	for _, tt := range raw {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(ctx, tt.method, h.srv.URL+tt.path, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "text/plain")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				StatusCode int           `json:"statusCode"`
				Message    string        `json:"message"`
				Error      string        `json:"error"`
				Code       sdk.ErrorCode `json:"code"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("%d answer is not JSON: %v", resp.StatusCode, err)
			}
			if resp.StatusCode != tt.status || body.StatusCode != tt.status || body.Error != http.StatusText(tt.status) ||
				body.Code != tt.code || !strings.HasPrefix(body.Message, tt.messagePrefix) {
				t.Errorf("answer %d %+v, want %d with code %s and a message starting %q", resp.StatusCode, body, tt.status, tt.code, tt.messagePrefix)
			}
		})
	}
}

// codeOf returns the code of an SDK error, or "".
func codeOf(err error) sdk.ErrorCode {
	var e *sdk.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// TestSDKRetrySettlesUnknownOutcome: a cancel whose PG answer is lost gets
// 502 outcome_unknown; a client with retries on sends it again with the
// key it added itself, and the retry answers with the refund made once.
func TestSDKRetrySettlesUnknownOutcome(t *testing.T) {
	h := startWith(t, sqliteDSN(t), nil, func(o *server.Options) { o.PGTimeout = pgTimeout })
	ctx := context.Background()
	m := methods()[0] // iamport card
	hist := paid(t, h, m, 10000)
	client, err := sdk.New(sdk.Options{BaseURL: h.srv.URL, Key: connectionKey, IV: connectionIV,
		MaxRetries: 3, RetryDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}

	// Every cancel's answer is lost; the retry re-fetches instead.
	h.srv.Fakes.SetFaults(fault.Faults{DropResponse: []fault.Route{cancelRoutes[m.vendor]}})
	defer h.srv.Fakes.SetFaults(fault.Faults{})
	var info sdk.ResponseInfo
	got, err := client.CancelHistory(ctx, sdk.CancelCreate{Source: hist.Source, Password: testPassword, Price: 3000, Reason: "retried"},
		sdk.WithResponseInfo(&info))
	if err != nil {
		t.Fatalf("cancel with retries: %v", err)
	}
	if info.Attempts != 2 || info.IdempotencyKey == "" {
		t.Errorf("ResponseInfo = %+v, want 2 attempts with a generated key", info)
	}
	if got.Refund == nil || *got.Refund != 3000 || len(got.Cancels) != 1 {
		t.Errorf("answered refund %v in %d cancels, want 3000 in 1", got.Refund, len(got.Cancels))
	}
	if refund, n := h.pgRefund(m.vendor, hist.Vendor.UID); refund != 3000 || n != 1 {
		t.Errorf("the PG refunded %d in %d cancels, want 3000 in 1", refund, n)
	}
}

// TestReceiveWebhookFromServer: a service's endpoint built on
// sdk.ReceiveWebhook accepts the server's real deliveries.
func TestReceiveWebhookFromServer(t *testing.T) {
	h := start(t, sqliteDSN(t))
	secret := webhookKey(h.srv.Config.Webhook.Secret.Reveal())
	events := make(chan *sdk.WebhookHistory, 4)
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := sdk.ReceiveWebhook(r, secret, h.api)
		if err != nil {
			t.Errorf("ReceiveWebhook: %v", err)
			http.Error(w, "bad webhook", http.StatusUnauthorized)
			return
		}
		events <- ev
	}))
	defer endpoint.Close()

	hist := vbankToReceiver(t, h, &receiver{srv: endpoint})
	select {
	case ev := <-events:
		if ev.Current.ID != hist.ID || ev.Current.PaidAt == nil || ev.Previous.PaidAt != nil || ev.Source != hist.Source {
			t.Errorf("received event %+v", ev)
		}
	case <-time.After(eventWaitTimeout):
		t.Fatal("no delivery received")
	}
}

// webhookKey is the signing key of a configured webhook secret, read as
// the server reads it: a whsec_ value decoded, any other its bytes.
func webhookKey(secret string) []byte {
	if strings.HasPrefix(secret, sdk.WebhookSecretPrefix) {
		if key, err := sdk.ParseWebhookSecret(secret); err == nil {
			return key
		}
	}
	return []byte(secret)
}
