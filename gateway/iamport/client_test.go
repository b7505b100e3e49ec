package iamport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// stubAPI is an Iamport look-alike whose routes a test scripts. It hands
// out tokens "tok-1", "tok-2", … and counts the fetches.
type stubAPI struct {
	t         *testing.T
	tokenLife int64         // seconds
	tokenWait time.Duration // delay inside getToken
	fetches   atomic.Int32
	routes    map[string]http.HandlerFunc
}

func newStub(t *testing.T) (*stubAPI, *httptest.Server) {
	t.Helper()
	s := &stubAPI{t: t, tokenLife: 1800, routes: map[string]http.HandlerFunc{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *stubAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/users/getToken" {
		var in TokenRequest
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.ImpKey != "k" || in.ImpSecret != "s" {
			writeJSON(w, http.StatusUnauthorized, `{"code":-1,"message":"bad key","response":null}`)
			return
		}
		if s.tokenWait > 0 {
			time.Sleep(s.tokenWait)
		}
		n := s.fetches.Add(1)
		now := int64(1_700_000_000)
		writeJSON(w, http.StatusOK, fmt.Sprintf(`{"code":0,"message":null,"response":{"access_token":"tok-%d","now":%d,"expired_at":%d}}`, n, now, now+s.tokenLife))
		return
	}
	h, ok := s.routes[r.Method+" "+r.URL.Path]
	if !ok {
		writeJSON(w, http.StatusNotFound, `{"code":1,"message":"no route","response":null}`)
		return
	}
	h(w, r)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

func paymentBody(impUID string) string {
	return `{"code":0,"message":null,"response":{"pay_method":"card","imp_uid":"` + impUID +
		`","merchant_uid":"m","amount":1000,"cancel_amount":0,"status":"paid","card_quota":0,"cancel_history":[]}}`
}

func newTestClient(srv *httptest.Server, opts Options) *Client {
	opts.BaseURL = srv.URL
	if opts.Key == "" {
		opts.Key, opts.Secret = "k", "s"
	}
	return New(opts)
}

func TestNewDefaults(t *testing.T) {
	c := New(Options{})
	if c.BaseURL() != DefaultBaseURL {
		t.Errorf("BaseURL() = %q, want %q", c.BaseURL(), DefaultBaseURL)
	}
	if c.http.Timeout != DefaultTimeout {
		t.Errorf("http timeout = %v, want %v", c.http.Timeout, DefaultTimeout)
	}
	if got := New(Options{BaseURL: "http://127.0.0.1:1/"}).BaseURL(); got != "http://127.0.0.1:1" {
		t.Errorf("BaseURL() = %q, want trailing slash trimmed", got)
	}
}

func TestPaymentSendsBearerToken(t *testing.T) {
	stub, srv := newStub(t)
	stub.routes["GET /payments/imp_1"] = func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer tok-1" {
			t.Errorf("Authorization = %q, want %q", got, "Bearer tok-1")
		}
		writeJSON(w, http.StatusOK, paymentBody("imp_1"))
	}
	c := newTestClient(srv, Options{})
	p, err := c.Payment(t.Context(), "imp_1")
	if err != nil {
		t.Fatal(err)
	}
	if p.ImpUID != "imp_1" || p.Amount != 1000 || p.Status != StatusPaid {
		t.Errorf("Payment() = %+v", p.PaymentBase)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantAPIErr *Error // nil: a non-*Error failure is expected
	}{
		{name: "bad JSON on 200", status: 200, body: `{"code":0,"respon`},
		{name: "HTML on 200", status: 200, body: `<html>oops</html>`},
		{name: "null response", status: 200, body: `{"code":0,"message":null,"response":null}`},
		{name: "wrong response type", status: 200, body: `{"code":0,"message":null,"response":{"amount":"lots"}}`},
		{name: "500 plain text", status: 500, body: "upstream exploded\n",
			wantAPIErr: &Error{Status: 500, Message: "upstream exploded"}},
		{name: "500 empty", status: 500, body: "",
			wantAPIErr: &Error{Status: 500, Message: "500 Internal Server Error"}},
		{name: "500 envelope", status: 500, body: `{"code":-1,"message":"boom","response":null}`,
			wantAPIErr: &Error{Status: 500, Code: -1, Message: "boom"}},
		{name: "404 envelope", status: 404, body: `{"code":1,"message":"존재하지 않는 결제정보입니다.","response":null}`,
			wantAPIErr: &Error{Status: 404, Code: 1, Message: "존재하지 않는 결제정보입니다."}},
		{name: "refusal inside 200", status: 200, body: `{"code":1,"message":"이미 전액취소된 주문입니다.","response":null}`,
			wantAPIErr: &Error{Status: 200, Code: 1, Message: "이미 전액취소된 주문입니다."}},
		{name: "decline keeps response", status: 200, body: `{"code":-1,"message":"declined","response":{"imp_uid":"x","status":"failed"}}`,
			wantAPIErr: &Error{Status: 200, Code: -1, Message: "declined", Response: json.RawMessage(`{"imp_uid":"x","status":"failed"}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub, srv := newStub(t)
			stub.routes["GET /payments/imp_1"] = func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, tt.status, tt.body)
			}
			_, err := newTestClient(srv, Options{}).Payment(t.Context(), "imp_1")
			if err == nil {
				t.Fatal("Payment() succeeded, want an error")
			}
			var got *Error
			isAPI := errors.As(err, &got)
			if tt.wantAPIErr == nil {
				if isAPI {
					t.Fatalf("Payment() error = %#v, want a non-API error", got)
				}
				return
			}
			if !isAPI {
				t.Fatalf("Payment() error = %v, want *Error", err)
			}
			if diff := cmp.Diff(tt.wantAPIErr, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWrongCredentials(t *testing.T) {
	_, srv := newStub(t)
	_, err := newTestClient(srv, Options{Key: "k", Secret: "wrong"}).Payment(t.Context(), "imp_1")
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized {
		t.Fatalf("Payment() error = %v, want a 401 *Error", err)
	}
	if !strings.Contains(err.Error(), "get iamport token") {
		t.Errorf("error %q does not name the token step", err)
	}
}

func TestTokenCachedAndRefreshedBeforeExpiry(t *testing.T) {
	stub, srv := newStub(t)
	stub.tokenLife = 600
	var mu sync.Mutex
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := newTestClient(srv, Options{Now: clock})
	ctx := t.Context()

	steps := []struct {
		advance time.Duration
		want    string
	}{
		{0, "tok-1"},
		{8 * time.Minute, "tok-1"},              // 2 min left: still cached
		{time.Minute + 30*time.Second, "tok-2"}, // 30 s left: inside the margin
		{9*time.Minute - time.Second, "tok-2"},  // new token cached again
		{time.Second, "tok-3"},
	}
	for i, s := range steps {
		advance(s.advance)
		got, err := c.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != s.want {
			t.Errorf("step %d: Token() = %q, want %q", i, got, s.want)
		}
	}
	if n := stub.fetches.Load(); n != 3 {
		t.Errorf("token fetches = %d, want 3", n)
	}
}

func TestShortLivedTokenUsesHalfLifeMargin(t *testing.T) {
	stub, srv := newStub(t)
	stub.tokenLife = 20 // margin = 10 s, not a full minute
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newTestClient(srv, Options{Now: func() time.Time { return now }})
	for range 3 {
		if _, err := c.Token(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if n := stub.fetches.Load(); n != 1 {
		t.Errorf("token fetches = %d, want 1", n)
	}
}

func TestUnauthorizedRefetchesTokenOnce(t *testing.T) {
	stub, srv := newStub(t)
	var calls atomic.Int32
	stub.routes["GET /payments/imp_1"] = func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") == "Bearer tok-1" {
			writeJSON(w, http.StatusUnauthorized, `{"code":-1,"message":"Unauthorized","response":null}`)
			return
		}
		writeJSON(w, http.StatusOK, paymentBody("imp_1"))
	}
	c := newTestClient(srv, Options{})
	if _, err := c.Payment(t.Context(), "imp_1"); err != nil {
		t.Fatalf("Payment() = %v, want success after refresh", err)
	}
	if got, want := [2]int32{stub.fetches.Load(), calls.Load()}, [2]int32{2, 2}; got != want {
		t.Errorf("(token fetches, calls) = %v, want %v", got, want)
	}
	// The new token is kept.
	if _, err := c.Payment(t.Context(), "imp_1"); err != nil {
		t.Fatal(err)
	}
	if n := stub.fetches.Load(); n != 2 {
		t.Errorf("token fetches after second call = %d, want 2", n)
	}
}

func TestUnauthorizedTwiceGivesUp(t *testing.T) {
	stub, srv := newStub(t)
	var calls atomic.Int32
	stub.routes["GET /payments/imp_1"] = func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, http.StatusUnauthorized, `{"code":-1,"message":"Unauthorized","response":null}`)
	}
	_, err := newTestClient(srv, Options{}).Payment(t.Context(), "imp_1")
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized {
		t.Fatalf("Payment() error = %v, want 401 *Error", err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("calls = %d, want 2 (one retry)", n)
	}
}

func TestSlowServerTimesOut(t *testing.T) {
	stub, srv := newStub(t)
	stub.routes["GET /payments/imp_1"] = func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers; released when the client gives up
	}
	c := newTestClient(srv, Options{Timeout: 50 * time.Millisecond})
	_, err := c.Payment(t.Context(), "imp_1")
	var te interface{ Timeout() bool }
	if !errors.As(err, &te) || !te.Timeout() {
		t.Fatalf("Payment() error = %v, want a timeout", err)
	}
	var e *Error
	if errors.As(err, &e) {
		t.Errorf("timeout reported as API error %v", e)
	}
}

func TestCallerContextCancels(t *testing.T) {
	stub, srv := newStub(t)
	stub.routes["GET /payments/imp_1"] = func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}
	c := newTestClient(srv, Options{Timeout: -1})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	if _, err := c.Payment(ctx, "imp_1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Payment() error = %v, want context.DeadlineExceeded", err)
	}
}

func TestConcurrentCallsShareOneTokenFetch(t *testing.T) {
	stub, srv := newStub(t)
	stub.tokenWait = 20 * time.Millisecond
	stub.routes["GET /payments/imp_1"] = func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, paymentBody("imp_1"))
	}
	c := newTestClient(srv, Options{})
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := c.Payment(t.Context(), "imp_1")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := stub.fetches.Load(); got != 1 {
		t.Errorf("token fetches = %d, want 1", got)
	}
}

func TestWaiterGivingUpDoesNotFailOthers(t *testing.T) {
	stub, srv := newStub(t)
	stub.tokenWait = 50 * time.Millisecond
	c := newTestClient(srv, Options{})
	quick, cancel := context.WithTimeout(t.Context(), 5*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := c.Token(quick); done <- err }()
	time.Sleep(time.Millisecond)
	tok, err := c.Token(t.Context())
	if err != nil || tok != "tok-1" {
		t.Fatalf("Token() = %q, %v; want tok-1", tok, err)
	}
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("impatient Token() error = %v, want deadline exceeded", err)
	}
}

func TestPaymentsByMerchantUIDShapes(t *testing.T) {
	item := `{"pay_method":"card","imp_uid":"imp_%d","merchant_uid":"m","amount":1000,"status":"paid","cancel_history":[]}`
	tests := []struct {
		name string
		body string
	}{
		{"page", `{"code":0,"message":null,"response":{"total":2,"previous":0,"next":0,"list":[` + fmt.Sprintf(item, 1) + `,` + fmt.Sprintf(item, 2) + `]}}`},
		{"list", `{"code":0,"message":null,"response":[` + fmt.Sprintf(item, 1) + `,` + fmt.Sprintf(item, 2) + `]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub, srv := newStub(t)
			stub.routes["GET /payments/findAll/m"] = func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusOK, tt.body)
			}
			list, err := newTestClient(srv, Options{}).PaymentsByMerchantUID(t.Context(), "m")
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, p := range list {
				ids = append(ids, p.ImpUID)
			}
			if diff := cmp.Diff([]string{"imp_1", "imp_2"}, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequestBodies(t *testing.T) {
	stub, srv := newStub(t)
	var got map[string]any
	capture := func(w http.ResponseWriter, r *http.Request) {
		got = nil
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Errorf("decode body: %v", err)
		}
		writeJSON(w, http.StatusOK, paymentBody("imp_1"))
	}
	stub.routes["POST /payments/cancel"] = capture
	stub.routes["POST /subscribe/customers/cu_1"] = func(w http.ResponseWriter, r *http.Request) {
		capture(httptest.NewRecorder(), r)
		writeJSON(w, http.StatusOK, `{"code":0,"message":null,"response":{"customer_uid":"cu_1","inserted":1,"updated":1}}`)
	}
	c := newTestClient(srv, Options{})
	ctx := t.Context()

	if _, err := c.Cancel(ctx, CancelRequest{ImpUID: "imp_1", Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	if v, ok := got["checksum"]; !ok || v != nil {
		t.Errorf("checksum = %v (present %v), want null", v, ok)
	}
	if _, ok := got["amount"]; ok {
		t.Errorf("amount sent for a full cancel: %v", got)
	}
	amt, sum := Amount(200), Amount(1000)
	if _, err := c.Cancel(ctx, CancelRequest{ImpUID: "imp_1", Amount: &amt, Checksum: &sum, Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	if got["amount"] != 200.0 || got["checksum"] != 1000.0 {
		t.Errorf("partial cancel body = %v", got)
	}
	k, err := c.CreateBillingKey(ctx, "cu_1", BillingKeyRequest{CardFields: CardFields{CardNumber: "1234-5678-1234-5678", Expiry: "2028-12", Birth: "880311"}})
	if err != nil {
		t.Fatal(err)
	}
	if got["customer_uid"] != "cu_1" || got["card_number"] != "1234-5678-1234-5678" || k.CustomerUID != "cu_1" {
		t.Errorf("billing key body = %v, answer %+v", got, k)
	}
}

func TestFailedPayment(t *testing.T) {
	stub, srv := newStub(t)
	stub.routes["POST /subscribe/payments/again"] = func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"code":-1,"message":"한도초과","response":{"pay_method":"card","imp_uid":"imp_9","status":"failed","fail_reason":"한도초과","cancel_history":[]}}`)
	}
	_, err := newTestClient(srv, Options{}).PayAgain(t.Context(), AgainRequest{CustomerUID: "c", OrderFields: OrderFields{MerchantUID: "m", Amount: 1, Name: "n"}})
	p, ok := FailedPayment(err)
	if !ok {
		t.Fatalf("FailedPayment(%v) found nothing", err)
	}
	if p.ImpUID != "imp_9" || p.Status != StatusFailed || p.FailReason == nil || *p.FailReason != "한도초과" {
		t.Errorf("failed payment = %+v", p.PaymentBase)
	}
	if _, ok := FailedPayment(errors.New("other")); ok {
		t.Error("FailedPayment(plain error) reported a payment")
	}
}

func TestEmptyIDsRefusedLocally(t *testing.T) {
	c := New(Options{BaseURL: "http://127.0.0.1:1"})
	ctx := t.Context()
	calls := map[string]func() error{
		"Payment":    func() error { _, err := c.Payment(ctx, ""); return err },
		"List":       func() error { _, err := c.PaymentsByMerchantUID(ctx, ""); return err },
		"BillingKey": func() error { _, err := c.BillingKey(ctx, ""); return err },
		"Cancel":     func() error { _, err := c.Cancel(ctx, CancelRequest{}); return err },
		"Deposit":    func() error { _, err := c.Deposit(ctx, ""); return err },
		"Receipt":    func() error { _, err := c.Receipt(ctx, ""); return err },
		"Cert":       func() error { _, err := c.Certification(ctx, ""); return err },
		"VBank":      func() error { _, err := c.UpdateVBank(ctx, VBankUpdate{}); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			if err == nil || !strings.Contains(err.Error(), "empty") && !strings.Contains(err.Error(), "need") {
				t.Errorf("%s with empty id: error = %v", name, err)
			}
		})
	}
}
