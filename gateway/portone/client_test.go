package portone_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/gateway/portone"
)

// seen is one request as the test server received it.
type seen struct {
	Method, RawPath, Query, Auth, ContentType string
	Body                                      map[string]any
}

// recorder answers every call with status and body and remembers it.
func recorder(t *testing.T, status int, body string) (*httptest.Server, *[]seen) {
	t.Helper()
	var calls []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{Method: r.Method, RawPath: r.URL.EscapedPath(), Query: r.URL.RawQuery,
			Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type")}
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			if err := json.Unmarshal(b, &s.Body); err != nil {
				t.Errorf("request body %q: %v", b, err)
			}
		}
		calls = append(calls, s)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestClientRequests(t *testing.T) {
	amount := int64(300)
	tests := []struct {
		name    string
		storeID string
		answer  string
		call    func(*portone.Client) error
		want    seen
	}{
		{
			name: "get payment", storeID: "store-1",
			answer: `{"status":"PAID","id":"pay/1 ?","paidAt":"2024-05-01T00:00:00Z","amount":{"total":1000}}`,
			call: func(c *portone.Client) error {
				p, err := c.GetPayment(context.Background(), "pay/1 ?")
				if err == nil {
					if _, ok := p.(*portone.PaidPayment); !ok {
						t.Errorf("GetPayment = %T, want *PaidPayment", p)
					}
				}
				return err
			},
			want: seen{Method: "GET", RawPath: "/payments/pay%2F1%20%3F", Query: "storeId=store-1", Auth: "PortOne s3cret"},
		},
		{
			name: "partial cancel", answer: `{"cancellation":{"status":"SUCCEEDED","id":"c1","totalAmount":300}}`,
			call: func(c *portone.Client) error {
				got, err := c.CancelPayment(context.Background(), "p1", 1000, portone.CancelRequest{Amount: &amount, Reason: "r"})
				if err == nil && (got.ID != "c1" || got.TotalAmount != 300) {
					t.Errorf("CancelPayment = %+v", got)
				}
				return err
			},
			want: seen{Method: "POST", RawPath: "/payments/p1/cancel", Auth: "PortOne s3cret", ContentType: "application/json",
				Body: map[string]any{"amount": 300.0, "reason": "r", "currentCancellableAmount": 1000.0}},
		},
		{
			name: "full cancel sends the balance too", storeID: "store-1", answer: `{"cancellation":{"status":"SUCCEEDED","id":"c2"}}`,
			call: func(c *portone.Client) error {
				_, err := c.CancelPayment(context.Background(), "p1", 0, portone.CancelRequest{Reason: "all"})
				return err
			},
			want: seen{Method: "POST", RawPath: "/payments/p1/cancel", Auth: "PortOne s3cret", ContentType: "application/json",
				Body: map[string]any{"storeId": "store-1", "reason": "all", "currentCancellableAmount": 0.0}},
		},
		{
			name: "pay with billing key", answer: `{"payment":{"pgTxId":"tx","paidAt":"2024-05-01T09:00:00+09:00"}}`,
			call: func(c *portone.Client) error {
				got, err := c.PayWithBillingKey(context.Background(), "p2", portone.BillingKeyPaymentRequest{
					BillingKey: "bk", OrderName: "o", Amount: portone.AmountInput{Total: 500}, Currency: "KRW",
				})
				if err == nil && (got.PgTxID != "tx" || !got.PaidAt.Equal(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))) {
					t.Errorf("PayWithBillingKey = %+v", got)
				}
				return err
			},
			want: seen{Method: "POST", RawPath: "/payments/p2/billing-key", Auth: "PortOne s3cret", ContentType: "application/json",
				Body: map[string]any{"billingKey": "bk", "orderName": "o", "amount": map[string]any{"total": 500.0}, "currency": "KRW"}},
		},
		{
			name: "get billing key", answer: `{"status":"ISSUED","billingKey":"bk","channels":[],"issuedAt":"2024-05-01T00:00:00Z"}`,
			call: func(c *portone.Client) error {
				got, err := c.GetBillingKey(context.Background(), "bk")
				if err == nil && got.Status != portone.BillingKeyIssued {
					t.Errorf("GetBillingKey = %+v", got)
				}
				return err
			},
			want: seen{Method: "GET", RawPath: "/billing-keys/bk", Auth: "PortOne s3cret"},
		},
		{
			name: "delete billing key", storeID: "s", answer: `{"deletedAt":"2024-05-01T00:00:00Z"}`,
			call: func(c *portone.Client) error {
				at, err := c.DeleteBillingKey(context.Background(), "bk", "bye now")
				if err == nil && at.IsZero() {
					t.Error("DeleteBillingKey: zero deletedAt")
				}
				return err
			},
			want: seen{Method: "DELETE", RawPath: "/billing-keys/bk", Query: "reason=bye+now&storeId=s", Auth: "PortOne s3cret"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := recorder(t, http.StatusOK, tt.answer)
			// A path on the base URL is ignored, as by the official SDK.
			c := portone.New(portone.Options{BaseURL: srv.URL + "/ignored/", Secret: "s3cret", StoreID: tt.storeID})
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			if len(*calls) != 1 {
				t.Fatalf("%d calls, want 1", len(*calls))
			}
			if diff := cmp.Diff(tt.want, (*calls)[0]); diff != "" {
				t.Errorf("request mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   portone.Error
		is     portone.ErrorType
	}{
		{"not found", 404, `{"type":"PAYMENT_NOT_FOUND","message":"결제 건이 존재하지 않습니다."}`,
			portone.Error{Status: 404, Type: portone.TypePaymentNotFound, Message: "결제 건이 존재하지 않습니다."}, portone.TypePaymentNotFound},
		{"stale balance", 409, `{"type":"CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN"}`,
			portone.Error{Status: 409, Type: portone.TypeCancellableAmountConsistencyBroken}, portone.TypeCancellableAmountConsistencyBroken},
		{"pg provider", 502, `{"type":"PG_PROVIDER","message":"declined","pgCode":"E1","pgMessage":"한도 초과"}`,
			portone.Error{Status: 502, Type: portone.TypePgProvider, Message: "declined", PgCode: "E1", PgMessage: "한도 초과"}, portone.TypePgProvider},
		{"unknown type kept", 409, `{"type":"SOMETHING_NEW","message":"x"}`,
			portone.Error{Status: 409, Type: "SOMETHING_NEW", Message: "x"}, "SOMETHING_NEW"},
		{"not json", 503, "<html>\n  upstream down\n</html>",
			portone.Error{Status: 503, Message: "<html> upstream down </html>"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := recorder(t, tt.status, tt.body)
			c := portone.New(portone.Options{BaseURL: srv.URL, Secret: "s"})
			_, err := c.GetPayment(context.Background(), "p")
			var got *portone.Error
			if !errors.As(err, &got) {
				t.Fatalf("GetPayment = %v, want *portone.Error", err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			if tt.is != "" && !portone.IsType(err, portone.TypeInvalidRequest, tt.is) {
				t.Errorf("IsType(%v, %s) = false", err, tt.is)
			}
			if strings.Contains(err.Error(), "Authorization") {
				t.Errorf("error %q mentions the credentials", err)
			}
		})
	}
}

func TestClientTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // answers only when the client gave up
	}))
	t.Cleanup(srv.Close)
	c := portone.New(portone.Options{BaseURL: srv.URL, Secret: "s", Timeout: 50 * time.Millisecond})
	_, err := c.GetPayment(context.Background(), "p")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("GetPayment = %v, want a deadline error", err)
	}
}

func TestClientRefusesEmptyIDs(t *testing.T) {
	c := portone.New(portone.Options{BaseURL: "http://127.0.0.1:1", Secret: "s"})
	ctx := context.Background()
	calls := map[string]error{}
	_, calls["get"] = c.GetPayment(ctx, "")
	_, calls["cancel"] = c.CancelPayment(ctx, "", 0, portone.CancelRequest{})
	_, calls["pay"] = c.PayWithBillingKey(ctx, "", portone.BillingKeyPaymentRequest{})
	_, calls["billing key"] = c.GetBillingKey(ctx, "")
	_, calls["delete"] = c.DeleteBillingKey(ctx, "", "")
	for name, err := range calls {
		if err == nil || !strings.Contains(err.Error(), "empty id") {
			t.Errorf("%s with an empty id = %v, want an empty id error", name, err)
		}
	}
}

func TestDefaults(t *testing.T) {
	c := portone.New(portone.Options{})
	if c.BaseURL() != portone.DefaultBaseURL {
		t.Errorf("BaseURL = %q, want %q", c.BaseURL(), portone.DefaultBaseURL)
	}
}
