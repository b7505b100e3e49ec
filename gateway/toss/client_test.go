package toss

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testSecret = "test_sk_secret"

// recorded is one request a test server saw.
type recorded struct {
	Method, Path, Auth, ContentType, Idempotency string
	Body                                         map[string]any
}

// stubServer answers every request with status and body and records it.
func stubServer(t *testing.T, status int, body string) (*httptest.Server, func() recorded) {
	t.Helper()
	var mu sync.Mutex
	var last recorded
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		rec := recorded{
			Method:      r.Method,
			Path:        r.URL.EscapedPath(),
			Auth:        r.Header.Get("Authorization"),
			ContentType: r.Header.Get("Content-Type"),
			Idempotency: r.Header.Get("Idempotency-Key"),
		}
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &rec.Body); err != nil {
				t.Errorf("request body is not JSON: %v", err)
			}
		}
		mu.Lock()
		last = rec
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(ts.Close)
	return ts, func() recorded {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

func TestClientRequests(t *testing.T) {
	paymentJSON := `{"paymentKey":"pk","orderId":"o1","method":"카드","status":"DONE","totalAmount":1000}`
	billingJSON := `{"billingKey":"bk","customerKey":"c1","method":"카드"}`
	receiptJSON := `{"receiptKey":"rk","type":"소득공제","canceledAt":null}`
	ctx := context.Background()

	tests := []struct {
		name     string
		answer   string
		call     func(c *Client) (any, error)
		want     recorded
		wantBody map[string]any // subset checked; nil means no body
	}{
		{
			name:   "get payment escapes the key",
			answer: paymentJSON,
			call:   func(c *Client) (any, error) { return c.GetPayment(ctx, "a/b c") },
			want:   recorded{Method: "GET", Path: "/v1/payments/a%2Fb%20c"},
		},
		{
			name:   "get payment by order",
			answer: paymentJSON,
			call:   func(c *Client) (any, error) { return c.GetPaymentByOrderID(ctx, "o1") },
			want:   recorded{Method: "GET", Path: "/v1/payments/orders/o1"},
		},
		{
			name:   "confirm",
			answer: paymentJSON,
			call: func(c *Client) (any, error) {
				return c.Confirm(ctx, ConfirmRequest{PaymentKey: "pk", OrderID: "o1", Amount: 1000})
			},
			want:     recorded{Method: "POST", Path: "/v1/payments/confirm", ContentType: "application/json"},
			wantBody: map[string]any{"paymentKey": "pk", "orderId": "o1", "amount": 1000.0},
		},
		{
			name:   "confirm sends the idempotency key as a header",
			answer: paymentJSON,
			call: func(c *Client) (any, error) {
				return c.Confirm(ctx, ConfirmRequest{PaymentKey: "pk", OrderID: "o1", Amount: 1000, IdempotencyKey: "idem-c"})
			},
			want: recorded{Method: "POST", Path: "/v1/payments/confirm", ContentType: "application/json",
				Idempotency: "idem-c"},
			wantBody: map[string]any{"paymentKey": "pk", "orderId": "o1", "amount": 1000.0},
		},
		{
			name:     "approve on the original route",
			answer:   paymentJSON,
			call:     func(c *Client) (any, error) { return c.Approve(ctx, "pk", Approval{OrderID: "o1", Amount: 1000}) },
			want:     recorded{Method: "POST", Path: "/v1/payments/pk", ContentType: "application/json"},
			wantBody: map[string]any{"orderId": "o1", "amount": 1000.0},
		},
		{
			name:   "key-in fills the method and sends __approved",
			answer: paymentJSON,
			call: func(c *Client) (any, error) {
				no := false
				return c.KeyIn(ctx, KeyInRequest{CardNumber: "1111222233334444", CardExpirationYear: "28",
					CardExpirationMonth: "03", Amount: 1000, OrderID: "o1", Approved: &no})
			},
			want: recorded{Method: "POST", Path: "/v1/payments/key-in", ContentType: "application/json"},
			wantBody: map[string]any{"method": "card", "cardNumber": "1111222233334444", "amount": 1000.0,
				"orderId": "o1", "__approved": false},
		},
		{
			name:   "virtual account fills the method",
			answer: paymentJSON,
			call: func(c *Client) (any, error) {
				return c.CreateVirtualAccount(ctx, VirtualAccountRequest{OrderID: "o1", OrderName: "n", Bank: "신한",
					CustomerName: "Samchon", Amount: 19900})
			},
			want:     recorded{Method: "POST", Path: "/v1/virtual-accounts", ContentType: "application/json"},
			wantBody: map[string]any{"method": "virtual-account", "bank": "신한", "amount": 19900.0},
		},
		{
			name:   "cancel fills the paymentKey and sends the idempotency key as a header",
			answer: paymentJSON,
			call: func(c *Client) (any, error) {
				return c.Cancel(ctx, "pk", CancelRequest{CancelReason: "r", CancelAmount: 200, IdempotencyKey: "idem-1"})
			},
			want: recorded{Method: "POST", Path: "/v1/payments/pk/cancel", ContentType: "application/json",
				Idempotency: "idem-1"},
			wantBody: map[string]any{"paymentKey": "pk", "cancelReason": "r", "cancelAmount": 200.0},
		},
		{
			name:   "cancel sends refundableAmount",
			answer: paymentJSON,
			call: func(c *Client) (any, error) {
				return c.Cancel(ctx, "pk", CancelRequest{CancelReason: "r", CancelAmount: 200, RefundableAmount: 800})
			},
			want:     recorded{Method: "POST", Path: "/v1/payments/pk/cancel", ContentType: "application/json"},
			wantBody: map[string]any{"cancelAmount": 200.0, "refundableAmount": 800.0},
		},
		{
			name:   "issue billing key",
			answer: billingJSON,
			call: func(c *Client) (any, error) {
				return c.IssueBillingKey(ctx, BillingCardRequest{CustomerKey: "c1", CardNumber: "1111222233334444",
					CardExpirationYear: "28", CardExpirationMonth: "03", CardPassword: "99", CustomerBirthday: "880311",
					ConsumerName: "남정호"})
			},
			want:     recorded{Method: "POST", Path: "/v1/billing/authorizations/card", ContentType: "application/json"},
			wantBody: map[string]any{"customerKey": "c1", "consumerName": "남정호", "customerBirthday": "880311"},
		},
		{
			name:   "issue billing key by auth key",
			answer: billingJSON,
			call: func(c *Client) (any, error) {
				return c.IssueBillingKeyByAuthKey(ctx, BillingIssueRequest{AuthKey: "a", CustomerKey: "c1"})
			},
			want:     recorded{Method: "POST", Path: "/v1/billing/authorizations/issue", ContentType: "application/json"},
			wantBody: map[string]any{"authKey": "a", "customerKey": "c1"},
		},
		{
			name:     "get billing",
			answer:   billingJSON,
			call:     func(c *Client) (any, error) { return c.GetBilling(ctx, "bk", "c1") },
			want:     recorded{Method: "POST", Path: "/v1/billing/authorizations/bk", ContentType: "application/json"},
			wantBody: map[string]any{"customerKey": "c1"},
		},
		{
			name:   "pay with billing key fills method and billingKey",
			answer: paymentJSON,
			call: func(c *Client) (any, error) {
				return c.PayWithBillingKey(ctx, "bk", BillingPaymentRequest{CustomerKey: "c1", OrderID: "o1", Amount: 500})
			},
			want:     recorded{Method: "POST", Path: "/v1/billing/bk", ContentType: "application/json"},
			wantBody: map[string]any{"method": "billing", "billingKey": "bk", "customerKey": "c1", "amount": 500.0},
		},
		{
			name:   "pay with billing key sends the idempotency key as a header",
			answer: paymentJSON,
			call: func(c *Client) (any, error) {
				return c.PayWithBillingKey(ctx, "bk", BillingPaymentRequest{CustomerKey: "c1", OrderID: "o1", Amount: 500,
					IdempotencyKey: "idem-b"})
			},
			want: recorded{Method: "POST", Path: "/v1/billing/bk", ContentType: "application/json",
				Idempotency: "idem-b"},
			wantBody: map[string]any{"billingKey": "bk", "amount": 500.0},
		},
		{
			name:   "issue cash receipt",
			answer: receiptJSON,
			call: func(c *Client) (any, error) {
				return c.IssueCashReceipt(ctx, CashReceiptRequest{Type: CashReceiptIncomeDeduction, PaymentKey: "pk",
					OrderID: "o1", OrderName: "n", RegistrationNumber: "01012345678", Amount: 1000})
			},
			want:     recorded{Method: "POST", Path: "/v1/cash-receipts", ContentType: "application/json"},
			wantBody: map[string]any{"type": "소득공제", "registrationNumber": "01012345678"},
		},
		{
			name:     "cancel cash receipt",
			answer:   receiptJSON,
			call:     func(c *Client) (any, error) { return c.CancelCashReceipt(ctx, "rk", CashReceiptCancelRequest{}) },
			want:     recorded{Method: "POST", Path: "/v1/cash-receipts/rk/cancel", ContentType: "application/json"},
			wantBody: map[string]any{},
		},
		{
			name:   "simulate deposit",
			answer: paymentJSON,
			call:   func(c *Client) (any, error) { return c.SimulateDeposit(ctx, "pk") },
			want:   recorded{Method: "PUT", Path: "/internal/pk/deposit"},
		},
		{
			name:   "simulate deposit cancel",
			answer: paymentJSON,
			call:   func(c *Client) (any, error) { return c.SimulateDepositCancel(ctx, "pk") },
			want:   recorded{Method: "DELETE", Path: "/internal/pk/deposit"},
		},
	}
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(testSecret+":"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, last := stubServer(t, http.StatusOK, tt.answer)
			c := New(Options{BaseURL: ts.URL + "/", SecretKey: testSecret})
			got, err := tt.call(c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if got == nil {
				t.Fatal("call returned nil result")
			}
			rec := last()
			tt.want.Auth = wantAuth
			body := rec.Body
			rec.Body = nil
			if diff := cmp.Diff(tt.want, rec); diff != "" {
				t.Errorf("request mismatch (-want +got):\n%s", diff)
			}
			if tt.wantBody == nil && body != nil {
				t.Errorf("request body = %v, want none", body)
			}
			for k, v := range tt.wantBody {
				if !cmp.Equal(body[k], v) {
					t.Errorf("body[%q] = %v, want %v", k, body[k], v)
				}
			}
			for k := range body {
				if strings.EqualFold(k, "idempotencyKey") {
					t.Errorf("body carries %q; the key belongs in the header only", k)
				}
			}
		})
	}
}

func TestClientDecodesPayment(t *testing.T) {
	ts, _ := stubServer(t, http.StatusOK, `{"paymentKey":"pk","orderId":"o1","method":"카드","type":"BILLING",
		"status":"PARTIAL_CANCELED","totalAmount":20000,"balanceAmount":16000,"approvedAt":"2024-02-13T12:18:14+09:00",
		"cancels":[{"cancelAmount":4000,"cancelReason":"r","canceledAt":"2024-02-13T13:00:00+09:00"}],
		"card":{"number":"11112222****444*","issuerCode":"4V","amount":20000},"easyPay":{"provider":"토스페이","amount":0,"discountAmount":0}}`)
	c := New(Options{BaseURL: ts.URL, SecretKey: testSecret})
	p, err := c.GetPayment(context.Background(), "pk")
	if err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	if p.Status != StatusPartialCanceled || p.Type != TypeBilling || p.BalanceAmount != 16000 {
		t.Errorf("payment = %+v, want PARTIAL_CANCELED BILLING balance 16000", p)
	}
	if got := p.CanceledAmount(); got != 4000 {
		t.Errorf("CanceledAmount() = %d, want 4000", got)
	}
	at, ok := p.Approved()
	if want := time.Date(2024, 2, 13, 3, 18, 14, 0, time.UTC); !ok || !at.Equal(want) {
		t.Errorf("Approved() = %v, %v, want %v, true", at, ok, want)
	}
	if p.Card == nil || p.Card.IssuerCode != "4V" || p.EasyPay == nil || p.EasyPay.Provider != "토스페이" {
		t.Errorf("card/easyPay = %+v / %+v, want issuer 4V and provider 토스페이", p.Card, p.EasyPay)
	}
}

func TestClientErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   *Error // nil: not an *Error
		substr string // in err.Error()
	}{
		{
			name:   "toss error body",
			status: http.StatusNotFound,
			body:   `{"code":"NOT_FOUND_PAYMENT","message":"존재하지 않는 결제 정보 입니다."}`,
			want:   &Error{Status: 404, Code: CodeNotFoundPayment, Message: "존재하지 않는 결제 정보 입니다."},
			substr: "NOT_FOUND_PAYMENT",
		},
		{
			name:   "original fake's NestJS body",
			status: http.StatusUnprocessableEntity,
			body:   `{"statusCode":422,"message":"Wrong price.","error":"Unprocessable Entity"}`,
			want:   &Error{Status: 422, Message: "Wrong price."},
			substr: "Unprocessable Entity",
		},
		{
			name:   "validation list message",
			status: http.StatusBadRequest,
			body:   `{"statusCode":400,"message":["a is bad","b is bad"]}`,
			want:   &Error{Status: 400, Message: "a is bad; b is bad"},
		},
		{
			name:   "5xx with HTML",
			status: http.StatusBadGateway,
			body:   "<html>\n<body>bad gateway</body></html>",
			want:   &Error{Status: 502, Message: "<html> <body>bad gateway</body></html>"},
			substr: "502",
		},
		{
			name:   "5xx with empty body",
			status: http.StatusServiceUnavailable,
			want:   &Error{Status: 503},
			substr: "Service Unavailable",
		},
		{
			name:   "2xx with bad JSON",
			status: http.StatusOK,
			body:   `{"paymentKey":`,
			substr: "decode response",
		},
		{
			name:   "2xx with wrong types",
			status: http.StatusOK,
			body:   `{"totalAmount":"a lot"}`,
			substr: "decode response",
		},
		{
			name:   "fractional amount is refused, not rounded",
			status: http.StatusOK,
			body:   `{"totalAmount":1000.5}`,
			substr: "decode response",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _ := stubServer(t, tt.status, tt.body)
			c := New(Options{BaseURL: ts.URL, SecretKey: testSecret})
			_, err := c.GetPayment(context.Background(), "pk")
			if err == nil {
				t.Fatal("GetPayment succeeded, want an error")
			}
			var got *Error
			isAPI := errors.As(err, &got)
			switch {
			case tt.want == nil && isAPI:
				t.Errorf("error %v is an *Error, want a plain error", err)
			case tt.want != nil && !isAPI:
				t.Errorf("error %v is not an *Error", err)
			case tt.want != nil:
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("*Error mismatch (-want +got):\n%s", diff)
				}
			}
			if !strings.Contains(err.Error(), tt.substr) {
				t.Errorf("error %q does not contain %q", err, tt.substr)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("error %q leaks the secret key", err)
			}
		})
	}
}

func TestClientIsCode(t *testing.T) {
	ts, _ := stubServer(t, http.StatusForbidden, `{"code":"REJECT_CARD_PAYMENT","message":"no"}`)
	c := New(Options{BaseURL: ts.URL, SecretKey: testSecret})
	_, err := c.KeyIn(context.Background(), KeyInRequest{})
	if !IsCode(err, CodeRejectCardPayment) {
		t.Errorf("IsCode(%v, REJECT_CARD_PAYMENT) = false, want true", err)
	}
	if IsCode(err, CodeNotFoundPayment) {
		t.Errorf("IsCode(%v, NOT_FOUND_PAYMENT) = true, want false", err)
	}
	if IsCode(errors.New("plain"), CodeRejectCardPayment) {
		t.Error("IsCode(plain error) = true, want false")
	}
}

func TestClientTimeout(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(ts.Close)
	t.Cleanup(func() { close(release) })

	t.Run("options timeout", func(t *testing.T) {
		c := New(Options{BaseURL: ts.URL, SecretKey: testSecret, Timeout: 30 * time.Millisecond})
		_, err := c.GetPayment(context.Background(), "pk")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("GetPayment error = %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("caller deadline", func(t *testing.T) {
		c := New(Options{BaseURL: ts.URL, SecretKey: testSecret, HTTPClient: &http.Client{}})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		_, err := c.GetPayment(ctx, "pk")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("GetPayment error = %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("canceled context", func(t *testing.T) {
		c := New(Options{BaseURL: ts.URL, SecretKey: testSecret})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.GetPayment(ctx, "pk")
		if !errors.Is(err, context.Canceled) {
			t.Errorf("GetPayment error = %v, want context.Canceled", err)
		}
	})
}

func TestClientConnectionRefused(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()
	c := New(Options{BaseURL: url, SecretKey: testSecret})
	_, err := c.GetPayment(context.Background(), "pk")
	var apiErr *Error
	if err == nil || errors.As(err, &apiErr) {
		t.Errorf("GetPayment error = %v, want a transport error", err)
	}
}

func TestNewDefaults(t *testing.T) {
	c := New(Options{SecretKey: testSecret})
	if c.api.Base != DefaultBaseURL {
		t.Errorf("base = %q, want %q", c.api.Base, DefaultBaseURL)
	}
	if c.api.Timeout != DefaultTimeout || c.api.HTTP == nil || c.api.HTTP.Timeout != DefaultTimeout {
		t.Errorf("timeout = %v, client timeout = %v, want %v", c.api.Timeout, c.api.HTTP.Timeout, DefaultTimeout)
	}
	if want := "Basic dGVzdF9za19zZWNyZXQ6"; c.api.Auth != want {
		t.Errorf("auth = %q, want %q", c.api.Auth, want)
	}
}
