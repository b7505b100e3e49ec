package portone_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/paymentctl/paymentctl/fakepg/fault"
	"github.com/paymentctl/paymentctl/fakepg/portone"
	api "github.com/paymentctl/paymentctl/gateway/portone"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t, portone.Options{})
	e.pay(portone.CheckoutRequest{PaymentID: "a1", TotalAmount: 100})

	wrong := api.New(api.Options{BaseURL: e.srv.URL, Secret: "wrong"})
	_, err := wrong.GetPayment(context.Background(), "a1")
	wantType(t, err, api.TypeUnauthorized)
	other := api.New(api.Options{BaseURL: e.srv.URL, Secret: portone.DefaultSecret, StoreID: "store-other"})
	_, err = other.GetPayment(context.Background(), "a1")
	wantType(t, err, api.TypeForbidden)
	mine := api.New(api.Options{BaseURL: e.srv.URL, Secret: portone.DefaultSecret, StoreID: portone.DefaultStoreID})
	if _, err := mine.GetPayment(context.Background(), "a1"); err != nil {
		t.Errorf("with the secret's own store: %v", err)
	}

	tests := []struct {
		name, auth string
		want       int
	}{
		{"no header", "", 401},
		{"wrong scheme", "Basic " + portone.DefaultSecret, 401},
		{"bare secret", portone.DefaultSecret, 401},
		{"lower-case scheme", "portone " + portone.DefaultSecret, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.rawCall("GET", "/payments/a1", tt.auth, "", "")
			if status != tt.want {
				t.Errorf("status %d (%v), want %d", status, body, tt.want)
			}
			if status == 401 && body["type"] != string(api.TypeUnauthorized) {
				t.Errorf("body %v, want type UNAUTHORIZED", body)
			}
		})
	}

	// A token from /login/api-secret works as Bearer.
	status, body := e.rawCall("POST", "/login/api-secret", "", "", `{"apiSecret":"`+portone.DefaultSecret+`"}`)
	tok, _ := body["accessToken"].(string)
	if status != 200 || tok == "" {
		t.Fatalf("login = %d %v", status, body)
	}
	if status, _ := e.rawCall("GET", "/payments/a1", "Bearer "+tok, "", ""); status != 200 {
		t.Errorf("Bearer token: %d", status)
	}
	if status, _ := e.rawCall("POST", "/login/api-secret", "", "", `{"apiSecret":"nope"}`); status != 401 {
		t.Errorf("login with a wrong secret: %d", status)
	}
}

func TestWire(t *testing.T) {
	e := newEnv(t, portone.Options{Faults: fault.NewInjector(fault.Faults{}, nil)})
	auth := "PortOne " + portone.DefaultSecret
	// The SDK sends JSON as text/plain.
	status, body := e.rawCall("POST", "/internal/checkout", auth, "text/plain;charset=UTF-8",
		`{"paymentId":"a/b c?","orderName":"o","totalAmount":100}`)
	if status != 200 || body["paymentId"] != "a/b c?" {
		t.Fatalf("checkout = %d %v", status, body)
	}
	// An id with a slash, escaped as encodeURIComponent does.
	if p := e.get("a/b c?"); p.Base().ID != "a/b c?" {
		t.Errorf("escaped id read back as %q", p.Base().ID)
	}
	status, body = e.rawCall("GET", "/payments/a%2Fb%20c%3F", auth, "", "")
	if status != 200 || body["id"] != "a/b c?" {
		t.Errorf("raw escaped GET = %d %v", status, body)
	}

	tests := []struct {
		name, method, path, body string
		status                   int
		typ                      string
	}{
		{"unknown route", "GET", "/nothing/here", "", 404, "NOT_FOUND"},
		{"wrong method", "PUT", "/payments/x", "", 405, "INVALID_REQUEST"},
		{"malformed body", "POST", "/payments/a%2Fb%20c%3F/cancel", "{", 400, "INVALID_REQUEST"},
		{"no reason", "POST", "/payments/a%2Fb%20c%3F/cancel", `{}`, 400, "INVALID_REQUEST"},
		{"negative amount", "POST", "/payments/a%2Fb%20c%3F/cancel", `{"reason":"r","amount":-1}`, 400, "INVALID_REQUEST"},
		{"vat over the amount", "POST", "/payments/a%2Fb%20c%3F/cancel", `{"reason":"r","amount":10,"vatAmount":11}`, 409, "SUM_OF_PARTS_EXCEEDS_CANCEL_AMOUNT"},
		{"tax-free over", "POST", "/payments/a%2Fb%20c%3F/cancel", `{"reason":"r","amount":10,"taxFreeAmount":5}`, 409, "CANCEL_TAX_FREE_AMOUNT_EXCEEDS_CANCELLABLE_TAX_FREE_AMOUNT"},
		{"another store in the body", "POST", "/payments/a%2Fb%20c%3F/cancel", `{"reason":"r","storeId":"store-x"}`, 403, "FORBIDDEN"},
		{"no billing key", "POST", "/payments/p/billing-key", `{"orderName":"o","amount":{"total":1},"currency":"KRW"}`, 400, "INVALID_REQUEST"},
		{"bad checkout", "POST", "/internal/checkout", `{"paymentId":"p","orderName":"o","totalAmount":0}`, 400, "INVALID_REQUEST"},
		{"resend without webhooks", "POST", "/payments/nobody/resend-webhook", `{}`, 404, "PAYMENT_NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.rawCall(tt.method, tt.path, auth, "", tt.body)
			if status != tt.status || body["type"] != tt.typ {
				t.Errorf("%s %s = %d %v, want %d %s", tt.method, tt.path, status, body, tt.status, tt.typ)
			}
		})
	}

	// The ErrorRate fault answers in PortOne's shape.
	e.fake.Faults().Set(fault.Faults{ErrorRate: 1})
	status, body = e.rawCall("GET", "/payments/x", auth, "", "")
	if status != 500 || body["type"] == nil {
		t.Errorf("injected failure = %d %v", status, body)
	}
}

func TestResendWebhook(t *testing.T) {
	e := newEnv(t, portone.Options{})
	e.pay(portone.CheckoutRequest{PaymentID: "r1", TotalAmount: 100})
	first := e.hooks.wait(2)
	status, body := e.rawCall("POST", "/payments/r1/resend-webhook", "PortOne "+portone.DefaultSecret, "", `{}`)
	if status != 200 || body["webhook"] == nil {
		t.Fatalf("resend = %d %v", status, body)
	}
	ws := e.hooks.wait(3)
	if ws[2].Event.Type != api.EventTransactionPaid || ws[2].ID == first[1].ID {
		t.Errorf("resent webhook %+v, first %+v", ws[2], first[1])
	}
	status, body = e.rawCall("POST", "/payments/r1/resend-webhook", "PortOne "+portone.DefaultSecret, "", `{"webhookId":"other"}`)
	if status != 404 || body["type"] != string(api.TypeWebhookNotFound) {
		t.Errorf("resend of an unknown webhook = %d %v", status, body)
	}
}

func TestSelfSinkAndNoticeURLs(t *testing.T) {
	e := newEnv(t, portone.Options{})
	e.fake.SetWebhookURL(e.srv.URL + "/internal/webhook")
	other := newReceiver(t, portone.DefaultWebhookSecret)
	e.pay(portone.CheckoutRequest{PaymentID: "n1", TotalAmount: 100, NoticeURLs: []string{other.srv.URL}})
	if got := types(other.wait(2), "n1"); len(got) != 2 {
		t.Errorf("noticeUrls got %v", got)
	}
	e.pay(portone.CheckoutRequest{PaymentID: "n2", TotalAmount: 100})
	ctx, cancel := context.WithTimeout(context.Background(), 5e9)
	defer cancel()
	if err := e.fake.Webhooks().Wait(ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range e.fake.Webhooks().Deliveries() {
		if !d.Delivered {
			t.Errorf("delivery to %s: %+v", d.URL, d.Attempts)
		}
	}
	// A forged webhook is refused by the self-sink.
	req := httptest.NewRequest("POST", "/internal/webhook", nil)
	rec := httptest.NewRecorder()
	e.fake.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("unsigned webhook to the self-sink: %d", rec.Code)
	}
}
