package iamport

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gw "github.com/paymentctl/paymentctl/gateway/iamport"
)

// clock is a settable time source shared by a fake and its tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a fake on an httptest server plus a valid token.
type env struct {
	t     *testing.T
	fake  *Server
	srv   *httptest.Server
	clock *clock
	token string
	exp   time.Time // token expiry by the fake's clock
}

// newEnv starts a fake. Unless the options say otherwise it runs on a
// fixed clock and does not retry webhooks.
func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	e := &env{t: t, clock: newClock()}
	if opts.Now == nil {
		opts.Now = e.clock.Now
	}
	if opts.Backoff == nil {
		opts.Backoff = []time.Duration{}
	}
	e.fake = New(opts)
	e.srv = httptest.NewServer(e.fake)
	t.Cleanup(e.fake.Close)
	t.Cleanup(e.srv.Close)
	e.renewToken()
	return e
}

// with returns a copy of e that reports to t, for subtests.
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// renewToken gets a token with the fake's credentials.
func (e *env) renewToken() {
	e.t.Helper()
	var tok gw.Token
	e.ok(e.call("POST", "/users/getToken", "", gw.TokenRequest{ImpKey: e.fake.stores[0].Key, ImpSecret: e.fake.stores[0].Secret}), &tok)
	e.token, e.exp = tok.AccessToken, tok.ExpiredAt.Time()
}

// reply is a raw answer of the fake.
type reply struct {
	status int
	env    gw.Envelope[json.RawMessage]
	raw    string
}

// call sends body (a string is sent verbatim) with the given
// Authorization header value.
func (e *env) call(method, path, auth string, body any) reply {
	e.t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(res.Body); err != nil {
		e.t.Fatal(err)
	}
	r := reply{status: res.StatusCode, raw: buf.String()}
	if err := json.Unmarshal(buf.Bytes(), &r.env); err != nil {
		e.t.Fatalf("%s %s: answer is not an envelope: %v\n%s", method, path, err, r.raw)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		e.t.Errorf("%s %s: Content-Type = %q", method, path, ct)
	}
	return r
}

// do calls with the env's raw token, as the SDK sends it, renewing the
// token when the tests moved the clock past its expiry.
func (e *env) do(method, path string, body any) reply {
	e.t.Helper()
	if !e.clock.Now().Before(e.exp) {
		e.renewToken()
	}
	return e.call(method, path, e.token, body)
}

// ok checks a success answer and decodes its response into out.
func (e *env) ok(r reply, out any) {
	e.t.Helper()
	if r.status != http.StatusOK || r.env.Code != 0 {
		e.t.Fatalf("answer %d code %d: %s, want success", r.status, r.env.Code, r.raw)
	}
	if out != nil {
		if err := json.Unmarshal(r.env.Response, out); err != nil {
			e.t.Fatalf("decode response: %v\n%s", err, r.raw)
		}
	}
}

// fails checks an error answer's HTTP status and envelope code.
func (e *env) fails(r reply, status, code int) {
	e.t.Helper()
	if r.status != status || r.env.Code != code {
		e.t.Fatalf("answer %d code %d: %s; want %d code %d", r.status, r.env.Code, r.raw, status, code)
	}
	if r.env.Message == "" {
		e.t.Errorf("error answer without message: %s", r.raw)
	}
	if status != http.StatusOK && string(r.env.Response) != "null" {
		e.t.Errorf("error answer with response %s, want null", r.env.Response)
	}
}

func (e *env) payment(impUID string) gw.Payment {
	e.t.Helper()
	var p gw.Payment
	e.ok(e.do("GET", "/payments/"+impUID, nil), &p)
	return p
}

func nextOrder() string { return "order-" + randomHex(6) }

func onetimeRequest(amount gw.Amount) gw.OnetimeRequest {
	return gw.OnetimeRequest{
		CardFields:  gw.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
		OrderFields: gw.OrderFields{MerchantUID: nextOrder(), Amount: amount, Name: "Fake 주문"},
	}
}

func (e *env) cardPayment(amount gw.Amount) gw.Payment {
	e.t.Helper()
	var p gw.Payment
	e.ok(e.do("POST", "/subscribe/payments/onetime", onetimeRequest(amount)), &p)
	return p
}

func (e *env) vbankRequest(amount gw.Amount) gw.VBankRequest {
	return gw.VBankRequest{
		MerchantUID: nextOrder(),
		Amount:      amount,
		VBankCode:   "SHINHAN",
		VBankDue:    gw.TimestampOf(e.clock.Now().Add(7 * 24 * time.Hour)),
		VBankHolder: "Samchon",
	}
}

func (e *env) vbankPayment(amount gw.Amount, paid bool) gw.Payment {
	e.t.Helper()
	var p gw.Payment
	e.ok(e.do("POST", "/vbanks", e.vbankRequest(amount)), &p)
	if paid {
		e.ok(e.do("PUT", "/internal/deposit/"+p.ImpUID, nil), &p)
	}
	return p
}

func refundAccount(in gw.CancelRequest) gw.CancelRequest {
	in.RefundHolder, in.RefundBank, in.RefundAccount, in.RefundTel = "홍길동", "088", "110-123-456789", "010-1234-5678"
	return in
}

func amt(v gw.Amount) *gw.Amount { return &v }

// receiver is a webhook endpoint that records bodies and can be told to
// fail its next answers.
type receiver struct {
	srv      *httptest.Server
	failNext atomic.Int32
	onHook   func(gw.Webhook) // called before answering, if set
	mu       sync.Mutex
	got      []gw.Webhook
	hits     int
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var h gw.Webhook
		if err := json.NewDecoder(req.Body).Decode(&h); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		if ct := req.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("webhook Content-Type = %q", ct)
		}
		r.mu.Lock()
		r.hits++
		r.mu.Unlock()
		if r.failNext.Add(-1) >= 0 {
			http.Error(w, "not now", http.StatusServiceUnavailable)
			return
		}
		r.failNext.Store(0)
		if r.onHook != nil {
			r.onHook(h)
		}
		r.mu.Lock()
		r.got = append(r.got, h)
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) webhooks() []gw.Webhook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]gw.Webhook(nil), r.got...)
}

// settle waits until every webhook of the fake has finished.
func (e *env) settle() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), 5*time.Second)
	defer cancel()
	if err := e.fake.Webhooks().Wait(ctx); err != nil {
		e.t.Fatalf("webhooks did not settle: %v", err)
	}
}
