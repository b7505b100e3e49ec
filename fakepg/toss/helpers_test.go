package toss_test

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

	"github.com/paymentctl/paymentctl/fakepg/hook"
	fake "github.com/paymentctl/paymentctl/fakepg/toss"
	tossapi "github.com/paymentctl/paymentctl/gateway/toss"
)

// fastBackoff is Toss's schedule shrunk so that retries take milliseconds.
func fastBackoff() []time.Duration { return hook.Scale(hook.TossBackoff(), 1e-5) }

// env is one fake on an httptest server plus a client of it.
type env struct {
	srv    *fake.Server
	url    string
	client *tossapi.Client
}

// newEnv starts a fake with opts; a nil Backoff becomes fastBackoff so no
// test waits minutes for a retry.
func newEnv(t *testing.T, opts fake.Options) *env {
	t.Helper()
	if opts.Backoff == nil {
		opts.Backoff = fastBackoff()
	}
	srv := fake.New(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	key := opts.SecretKey
	if key == "" {
		key = fake.DefaultSecretKey
	}
	return &env{
		srv:    srv,
		url:    ts.URL,
		client: tossapi.New(tossapi.Options{BaseURL: ts.URL, SecretKey: key, Timeout: 5 * time.Second}),
	}
}

// basic returns the Authorization header for a secret key.
func basic(secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(secret+":"))
}

// raw sends one request with the given Authorization header ("" for none)
// and returns the status and body.
func (e *env) raw(t *testing.T, method, path, auth, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// errorBody decodes a {code, message} answer.
func errorBody(t *testing.T, b []byte) tossapi.ErrorBody {
	t.Helper()
	var e tossapi.ErrorBody
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error body %q is not {code, message}: %v", b, err)
	}
	return e
}

// wantAPIError checks that err is an *Error with the status and code.
func wantAPIError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var e *tossapi.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want *toss.Error %d %s", err, status, code)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("error = %d %s (%s), want %d %s", e.Status, e.Code, e.Message, status, code)
	}
}

// waitHooks waits until every webhook delivery has finished.
func (e *env) waitHooks(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Webhooks().Wait(ctx); err != nil {
		t.Fatalf("waiting for webhooks: %v", err)
	}
}

// events returns the parsed bodies of every recorded delivery, after waiting
// for them to finish.
func (e *env) events(t *testing.T) []tossapi.Event {
	t.Helper()
	e.waitHooks(t)
	var out []tossapi.Event
	for _, d := range e.srv.Webhooks().Deliveries() {
		ev, err := tossapi.ParseWebhook(d.Body)
		if err != nil {
			t.Fatalf("delivery %s body %s: %v", d.ID, d.Body, err)
		}
		out = append(out, ev)
	}
	return out
}

// summary names an event for comparisons: "PSC:<paymentKey>:<status>" or
// "DEP:<orderId>:<status>".
func summary(ev tossapi.Event) string {
	if ev.StatusChanged != nil {
		return "PSC:" + ev.StatusChanged.Data.PaymentKey + ":" + string(ev.StatusChanged.Data.Status)
	}
	return "DEP:" + ev.Deposit.OrderID + ":" + string(ev.Deposit.Status)
}

// summaries returns summary of every event.
func summaries(evs []tossapi.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = summary(ev)
	}
	return out
}

// receiver is a webhook endpoint that records bodies and answers 500 to the
// first failFirst requests.
type receiver struct {
	mu        sync.Mutex
	bodies    [][]byte
	failFirst int
	calls     int
	onEvent   func(tossapi.Event) // called for each accepted body, may be nil
	url       string
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	t.Helper()
	rc := &receiver{failFirst: failFirst}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.calls++
		fail := rc.calls <= rc.failFirst
		if !fail {
			rc.bodies = append(rc.bodies, b)
		}
		onEvent := rc.onEvent
		rc.mu.Unlock()
		if fail {
			http.Error(w, "not yet", http.StatusInternalServerError)
			return
		}
		if onEvent != nil {
			if ev, err := tossapi.ParseWebhook(b); err == nil {
				onEvent(ev)
			}
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(ts.Close)
	rc.url = ts.URL
	return rc
}

func (rc *receiver) received(t *testing.T) []tossapi.Event {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []tossapi.Event
	for _, b := range rc.bodies {
		ev, err := tossapi.ParseWebhook(b)
		if err != nil {
			t.Fatalf("received body %s: %v", b, err)
		}
		out = append(out, ev)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// keyIn makes a card payment through the client; approved false leaves it
// IN_PROGRESS.
func (e *env) keyIn(t *testing.T, orderID string, amount int64, approved bool) *tossapi.Payment {
	t.Helper()
	p, err := e.client.KeyIn(context.Background(), tossapi.KeyInRequest{
		CardNumber: "1111222233334444", CardExpirationYear: "28", CardExpirationMonth: "03",
		OrderID: orderID, OrderName: "Fake 주문", Amount: amount, Approved: &approved,
	})
	if err != nil {
		t.Fatalf("KeyIn(%s): %v", orderID, err)
	}
	return p
}

// paidVirtualAccount creates, approves and deposits a virtual account.
func (e *env) paidVirtualAccount(t *testing.T, orderID string, amount int64) *tossapi.Payment {
	t.Helper()
	ctx := context.Background()
	p, err := e.client.CreateVirtualAccount(ctx, tossapi.VirtualAccountRequest{
		OrderID: orderID, OrderName: "something", Bank: "신한", CustomerName: "Samchon", Amount: amount,
		Approved: ptr(false),
	})
	if err != nil {
		t.Fatalf("CreateVirtualAccount: %v", err)
	}
	if _, err := e.client.Approve(ctx, p.PaymentKey, tossapi.Approval{OrderID: orderID, Amount: amount}); err != nil {
		t.Fatalf("Approve: %v", err)
	}
	p, err = e.client.SimulateDeposit(ctx, p.PaymentKey)
	if err != nil {
		t.Fatalf("SimulateDeposit: %v", err)
	}
	return p
}

// billingPayment issues a billing key for customerKey and charges it.
func (e *env) billingPayment(t *testing.T, customerKey, orderID string, amount int64) *tossapi.Payment {
	t.Helper()
	ctx := context.Background()
	b, err := e.client.IssueBillingKey(ctx, tossapi.BillingCardRequest{
		CustomerKey: customerKey, CardNumber: "1111222233334444", CardExpirationYear: "28",
		CardExpirationMonth: "03", CardPassword: "99", CustomerBirthday: "880311", ConsumerName: "남정호",
	})
	if err != nil {
		t.Fatalf("IssueBillingKey: %v", err)
	}
	p, err := e.client.PayWithBillingKey(ctx, b.BillingKey, tossapi.BillingPaymentRequest{
		CustomerKey: customerKey, OrderID: orderID, OrderName: "구독", Amount: amount,
	})
	if err != nil {
		t.Fatalf("PayWithBillingKey: %v", err)
	}
	return p
}

// refundAccount is the account payment-backend's tests refund Toss virtual
// accounts to.
func refundAccount() *tossapi.RefundAccount {
	return &tossapi.RefundAccount{Bank: "신한은행", AccountNumber: "110123456789", HolderName: "홍길동"}
}
