package fakepg

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/fakepg/fault"
	"github.com/paymentctl/paymentctl/fakepg/iamport"
	"github.com/paymentctl/paymentctl/fakepg/portone"
	"github.com/paymentctl/paymentctl/fakepg/toss"
)

const loopbackAny = "127.0.0.1:0"

func start(t *testing.T, opts Options) *Fakes {
	t.Helper()
	if opts.IamportAddr == "" {
		opts.IamportAddr = loopbackAny
	}
	if opts.TossAddr == "" {
		opts.TossAddr = loopbackAny
	}
	if opts.PortOneAddr == "" {
		opts.PortOneAddr = loopbackAny
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	f, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := f.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return f
}

// post sends a JSON body and decodes the JSON answer into out (if non-nil).
func post(t *testing.T, url string, header http.Header, body, out any) int {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("POST %s: decode %s: %v", url, raw, err)
		}
	}
	return resp.StatusCode
}

type iamportToken struct {
	Code     int `json:"code"`
	Response struct {
		AccessToken string `json:"access_token"`
	} `json:"response"`
}

// iamportGetToken asks f's Iamport fake for a token and returns the status.
func iamportGetToken(t *testing.T, f *Fakes, key, secret string) (int, string) {
	t.Helper()
	var tok iamportToken
	status := post(t, f.IamportURL+"/users/getToken", nil, map[string]string{"imp_key": key, "imp_secret": secret}, &tok)
	return status, tok.Response.AccessToken
}

func tossAuth(secretKey string) http.Header {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(secretKey, "")
	return req.Header
}

type tossBilling struct {
	BillingKey  string `json:"billingKey"`
	CustomerKey string `json:"customerKey"`
}

// tossIssueBillingKey asks f's Toss fake for a billing key (Toss's
// equivalent of a reusable token) and returns the status.
func tossIssueBillingKey(t *testing.T, f *Fakes, secretKey string) (int, tossBilling) {
	t.Helper()
	var b tossBilling
	status := post(t, f.TossURL+"/v1/billing/authorizations/card", tossAuth(secretKey), map[string]string{
		"customerKey":         "customer-1",
		"cardNumber":          "1111222233334444",
		"cardExpirationYear":  "30",
		"cardExpirationMonth": "12",
		"cardPassword":        "00",
		"customerBirthday":    "900101",
	}, &b)
	return status, b
}

// webhookSink records the bodies it receives.
type webhookSink struct {
	mu     sync.Mutex
	bodies []string
	srv    *httptest.Server
}

func newSink(t *testing.T) *webhookSink {
	s := &webhookSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, string(b))
		s.mu.Unlock()
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *webhookSink) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

func TestStartBoth(t *testing.T) {
	sink := newSink(t)
	f := start(t, Options{WebhookURL: sink.srv.URL})
	for name, u := range map[string]string{"iamport": f.IamportURL, "toss": f.TossURL} {
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Errorf("%s URL = %q, want http://127.0.0.1:port", name, u)
		}
	}
	if f.IamportURL == f.TossURL {
		t.Errorf("both fakes at %s", f.IamportURL)
	}

	status, token := iamportGetToken(t, f, iamport.DefaultKey, iamport.DefaultSecret)
	if status != http.StatusOK || token == "" {
		t.Errorf("iamport getToken: status %d, token %q", status, token)
	}

	status, billing := tossIssueBillingKey(t, f, toss.DefaultSecretKey)
	if status != http.StatusOK || billing.BillingKey == "" || billing.CustomerKey != "customer-1" {
		t.Errorf("toss billing key: status %d, %+v", status, billing)
	}

	// A payment makes the Toss fake send a webhook to the shared target.
	var payment struct {
		PaymentKey string `json:"paymentKey"`
		Status     string `json:"status"`
	}
	status = post(t, f.TossURL+"/v1/payments/key-in", tossAuth(toss.DefaultSecretKey), map[string]any{
		"method": "card", "cardNumber": "1111222233334444", "cardExpirationYear": "30", "cardExpirationMonth": "12",
		"amount": 1000, "orderId": "order-start-1", "orderName": "start test",
	}, &payment)
	if status != http.StatusOK || payment.Status != "DONE" {
		t.Fatalf("toss key-in: status %d, %+v", status, payment)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.Toss.Webhooks().Wait(ctx); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, b := range sink.received() {
		found = found || strings.Contains(b, payment.PaymentKey) && strings.Contains(b, "PAYMENT_STATUS_CHANGED")
	}
	if !found {
		t.Errorf("webhook target got %q, want a PAYMENT_STATUS_CHANGED for %s", sink.received(), payment.PaymentKey)
	}
}

func TestCloseStopsServing(t *testing.T) {
	f, err := Start(context.Background(), Options{IamportAddr: loopbackAny, TossAddr: loopbackAny, PortOneAddr: loopbackAny, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := f.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for _, u := range []string{f.IamportURL, f.TossURL, f.PortOneURL} {
		if resp, err := http.Get(u + "/"); err == nil {
			resp.Body.Close()
			t.Errorf("GET %s after Close answered %d", u, resp.StatusCode)
		}
	}
	// Every webhook sender is closed: a delivery is canceled at once.
	id := f.Toss.Webhooks().Send("http://127.0.0.1:1/", nil, nil)
	if d, _ := f.Toss.Webhooks().Delivery(id); !d.Canceled {
		t.Errorf("toss delivery after Close: %+v, want canceled", d)
	}
	id = f.Iamport.Webhooks().Send("http://127.0.0.1:1/", nil, nil)
	if d, _ := f.Iamport.Webhooks().Delivery(id); !d.Canceled {
		t.Errorf("iamport delivery after Close: %+v, want canceled", d)
	}
	id = f.PortOne.Webhooks().Send("http://127.0.0.1:1/", nil, nil)
	if d, _ := f.PortOne.Webhooks().Delivery(id); !d.Canceled {
		t.Errorf("portone delivery after Close: %+v, want canceled", d)
	}
}

func TestOnly(t *testing.T) {
	tests := []struct {
		only        string
		wantIamport bool
		wantToss    bool
		wantPortOne bool
	}{
		{only: "", wantIamport: true, wantToss: true, wantPortOne: true},
		{only: OnlyIamport, wantIamport: true},
		{only: OnlyToss, wantToss: true},
		{only: OnlyPortOne, wantPortOne: true},
	}
	for _, tt := range tests {
		t.Run("only="+tt.only, func(t *testing.T) {
			f := start(t, Options{Only: tt.only})
			got := [6]bool{f.Iamport != nil, f.IamportURL != "", f.Toss != nil, f.TossURL != "", f.PortOne != nil, f.PortOneURL != ""}
			want := [6]bool{tt.wantIamport, tt.wantIamport, tt.wantToss, tt.wantToss, tt.wantPortOne, tt.wantPortOne}
			if got != want {
				t.Errorf("started [iamport, url, toss, url, portone, url] = %v, want %v", got, want)
			}
			if tt.wantPortOne {
				if status := portoneGet(t, f, portone.DefaultSecret); status != http.StatusNotFound {
					t.Errorf("portone get of an unknown payment: %d", status)
				}
			}
			if tt.wantIamport {
				if status, _ := iamportGetToken(t, f, iamport.DefaultKey, iamport.DefaultSecret); status != http.StatusOK {
					t.Errorf("iamport getToken: %d", status)
				}
			}
			if tt.wantToss {
				if status, _ := tossIssueBillingKey(t, f, toss.DefaultSecretKey); status != http.StatusOK {
					t.Errorf("toss billing key: %d", status)
				}
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	busy, err := net.Listen("tcp", loopbackAny)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	// An address that was free a moment ago, to see it released again.
	free, err := net.Listen("tcp", loopbackAny)
	if err != nil {
		t.Fatal(err)
	}
	freeAddr := free.Addr().String()
	free.Close()

	tests := []struct {
		name string
		opts Options
		want string
	}{
		{name: "unknown fake", opts: Options{Only: "kakaopay"}, want: `unknown fake "kakaopay"`},
		{name: "iamport address busy", opts: Options{IamportAddr: busy.Addr().String(), TossAddr: loopbackAny, PortOneAddr: loopbackAny}, want: "start fake iamport"},
		{name: "toss address busy", opts: Options{IamportAddr: freeAddr, TossAddr: busy.Addr().String(), PortOneAddr: loopbackAny}, want: "start fake toss"},
		{name: "portone address busy", opts: Options{Only: OnlyPortOne, PortOneAddr: busy.Addr().String()}, want: "start fake portone"},
		{name: "bad address", opts: Options{Only: OnlyToss, TossAddr: "127.0.0.1:notaport"}, want: "start fake toss"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Start(context.Background(), tt.opts)
			if err == nil {
				f.Close(context.Background())
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
	// The iamport listener opened before toss failed was closed.
	ln, err := net.Listen("tcp", freeAddr)
	if err != nil {
		t.Errorf("iamport address still held after a failed Start: %v", err)
	} else {
		ln.Close()
	}
}

func TestCredentialOverrides(t *testing.T) {
	f := start(t, Options{IamportKey: "my_key", IamportSecret: "my_secret", TossSecretKey: "test_sk_mine", PortOneSecret: "my_portone_secret"})
	tests := []struct {
		name   string
		call   func() int
		status int
	}{
		{"iamport default credentials refused", func() int { s, _ := iamportGetToken(t, f, iamport.DefaultKey, iamport.DefaultSecret); return s }, http.StatusUnauthorized},
		{"iamport given credentials accepted", func() int { s, _ := iamportGetToken(t, f, "my_key", "my_secret"); return s }, http.StatusOK},
		{"toss default key refused", func() int { s, _ := tossIssueBillingKey(t, f, toss.DefaultSecretKey); return s }, http.StatusUnauthorized},
		{"toss given key accepted", func() int { s, _ := tossIssueBillingKey(t, f, "test_sk_mine"); return s }, http.StatusOK},
		{"portone default secret refused", func() int { return portoneGet(t, f, portone.DefaultSecret) }, http.StatusUnauthorized},
		{"portone given secret accepted", func() int { return portoneGet(t, f, "my_portone_secret") }, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.call(); got != tt.status {
				t.Errorf("status %d, want %d", got, tt.status)
			}
		})
	}
}

func TestFaultsPerFake(t *testing.T) {
	f := start(t, Options{Faults: fault.Faults{ErrorRate: 1}})
	if status, _ := iamportGetToken(t, f, iamport.DefaultKey, iamport.DefaultSecret); status != http.StatusInternalServerError {
		t.Errorf("iamport with ErrorRate 1: %d, want 500", status)
	}
	if status, _ := tossIssueBillingKey(t, f, toss.DefaultSecretKey); status != http.StatusInternalServerError {
		t.Errorf("toss with ErrorRate 1: %d, want 500", status)
	}
	if status := portoneGet(t, f, portone.DefaultSecret); status != http.StatusInternalServerError {
		t.Errorf("portone with ErrorRate 1: %d, want 500", status)
	}
	// Each fake has its own injector.
	f.Iamport.Faults().Set(fault.Faults{})
	if status, _ := iamportGetToken(t, f, iamport.DefaultKey, iamport.DefaultSecret); status != http.StatusOK {
		t.Errorf("iamport after clearing its faults: %d, want 200", status)
	}
	if status, _ := tossIssueBillingKey(t, f, toss.DefaultSecretKey); status != http.StatusInternalServerError {
		t.Errorf("toss after clearing iamport's faults: %d, want 500", status)
	}
}

func TestWebhookTargets(t *testing.T) {
	shared, own := newSink(t), newSink(t)
	tests := []struct {
		name       string
		opts       Options
		wantTarget string
	}{
		{name: "shared target", opts: Options{WebhookURL: shared.srv.URL}, wantTarget: shared.srv.URL},
		{name: "per-fake override", opts: Options{WebhookURL: shared.srv.URL, TossWebhookURL: own.srv.URL}, wantTarget: own.srv.URL},
		{name: "none: recorded only", opts: Options{}, wantTarget: ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Only = OnlyToss
			f := start(t, tt.opts)
			status := post(t, f.TossURL+"/v1/payments/key-in", tossAuth(toss.DefaultSecretKey), map[string]any{
				"method": "card", "cardNumber": "1111222233334444", "cardExpirationYear": "30", "cardExpirationMonth": "12",
				"amount": 500, "orderId": "order-target-" + strconv.Itoa(i),
			}, nil)
			if status != http.StatusOK {
				t.Fatalf("key-in: %d", status)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := f.Toss.Webhooks().Wait(ctx); err != nil {
				t.Fatal(err)
			}
			var targets []string
			for _, d := range f.Toss.Webhooks().Deliveries() {
				targets = append(targets, d.URL)
			}
			if len(targets) == 0 {
				t.Fatal("no webhook recorded")
			}
			for _, got := range targets {
				if got != tt.wantTarget {
					t.Errorf("delivered to %q, want %q", got, tt.wantTarget)
				}
			}
		})
	}
}

type addr string

func (a addr) Network() string { return "tcp" }
func (a addr) String() string  { return string(a) }

func TestBaseURL(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"127.0.0.1:10851", "http://127.0.0.1:10851"},
		{"[::]:30771", "http://127.0.0.1:30771"},
		{"0.0.0.0:4000", "http://127.0.0.1:4000"},
		{":4000", "http://127.0.0.1:4000"},
		{"[::1]:4000", "http://[::1]:4000"},
		{"localhost:4000", "http://localhost:4000"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := baseURL(addr(tt.addr)); got != tt.want {
				t.Errorf("baseURL(%q) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}

func TestDefaultAddrs(t *testing.T) {
	got := []string{DefaultIamportAddr, DefaultTossAddr}
	want := []string{
		net.JoinHostPort("127.0.0.1", strconv.Itoa(iamport.DefaultPort)),
		net.JoinHostPort("127.0.0.1", strconv.Itoa(toss.DefaultPort)),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("default addresses (-want +got):\n%s", diff)
	}
}

// lines collects log lines from several goroutines.
type lines struct {
	mu  sync.Mutex
	got []string
}

func (l *lines) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, fmt.Sprintf(format, args...))
}

func (l *lines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.got...)
}

// containing returns the lines with substr in them.
func (l *lines) containing(substr string) []string {
	var out []string
	for _, s := range l.all() {
		if strings.Contains(s, substr) {
			out = append(out, s)
		}
	}
	return out
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestWrap(t *testing.T) {
	var wrapped, calls lines
	f := start(t, Options{
		Wrap: func(name string, h http.Handler) http.Handler {
			wrapped.logf("%s", name)
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.logf("%s %s %s", name, r.Method, r.URL.Path)
				w.Header().Set("X-Wrapped-By", name)
				h.ServeHTTP(w, r)
			})
		},
	})
	if diff := cmp.Diff([]string{OnlyIamport, OnlyToss, OnlyPortOne}, wrapped.all()); diff != "" {
		t.Errorf("Wrap called for (-want +got):\n%s", diff)
	}
	if status, _ := iamportGetToken(t, f, iamport.DefaultKey, iamport.DefaultSecret); status != http.StatusOK {
		t.Errorf("iamport getToken through Wrap: %d", status)
	}
	if status, _ := tossIssueBillingKey(t, f, toss.DefaultSecretKey); status != http.StatusOK {
		t.Errorf("toss billing key through Wrap: %d", status)
	}
	resp, err := http.Get(f.TossURL + "/v1/payments/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Wrapped-By"); got != OnlyToss {
		t.Errorf("X-Wrapped-By = %q, want %q", got, OnlyToss)
	}
	want := []string{
		"iamport POST /users/getToken",
		"toss POST /v1/billing/authorizations/card",
		"toss GET /v1/payments/nope",
	}
	if diff := cmp.Diff(want, calls.all()); diff != "" {
		t.Errorf("calls seen by the wrapper (-want +got):\n%s", diff)
	}
}

func TestWebhookClient(t *testing.T) {
	sink := newSink(t)
	var attempts lines
	clients := map[string]*http.Client{}
	for _, name := range []string{OnlyIamport, OnlyToss} {
		clients[name] = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			attempts.logf("%s %s", name, r.URL)
			return http.DefaultTransport.RoundTrip(r)
		})}
	}
	f := start(t, Options{
		WebhookURL:    sink.srv.URL,
		WebhookClient: func(name string) *http.Client { return clients[name] },
	})

	// Toss sends one when a payment is made; Iamport's sender is driven
	// directly.
	status := post(t, f.TossURL+"/v1/payments/key-in", tossAuth(toss.DefaultSecretKey), map[string]any{
		"method": "card", "cardNumber": "1111222233334444", "cardExpirationYear": "30", "cardExpirationMonth": "12",
		"amount": 1000, "orderId": "order-client-1", "orderName": "client test",
	}, nil)
	if status != http.StatusOK {
		t.Fatalf("toss key-in: %d", status)
	}
	f.Iamport.Webhooks().Send(sink.srv.URL+"/iamport", http.Header{"Content-Type": {"application/json"}},
		[]byte(`{"imp_uid":"imp_1","merchant_uid":"m-1","status":"paid"}`))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, h := range []interface{ Wait(context.Context) error }{f.Toss.Webhooks(), f.Iamport.Webhooks()} {
		if err := h.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}

	var want []string
	for _, d := range f.Toss.Webhooks().Deliveries() {
		if !d.Delivered || len(d.Attempts) != 1 {
			t.Errorf("toss delivery %+v, want delivered at the first attempt", d)
		}
		want = append(want, "toss "+d.URL)
	}
	want = append(want, "iamport "+sink.srv.URL+"/iamport")
	if len(want) < 2 {
		t.Fatal("the toss payment sent no webhook")
	}
	got := attempts.all()
	sortStrings := cmp.Transformer("sort", func(s []string) []string {
		s = append([]string(nil), s...)
		slices.Sort(s)
		return s
	})
	if diff := cmp.Diff(want, got, sortStrings); diff != "" {
		t.Errorf("attempts seen by the clients (-want +got):\n%s", diff)
	}
	if n := len(sink.received()); n != len(want) {
		t.Errorf("sink got %d webhooks, want %d", n, len(want))
	}
}

func TestWebhookClientNil(t *testing.T) {
	// A nil client for a fake means hook's default one, which delivers.
	sink := newSink(t)
	f := start(t, Options{Only: OnlyToss, WebhookURL: sink.srv.URL, WebhookClient: func(string) *http.Client { return nil }})
	id := f.Toss.Webhooks().Send(sink.srv.URL, nil, []byte(`{}`))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.Toss.Webhooks().Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.Toss.Webhooks().Delivery(id); !d.Delivered {
		t.Errorf("delivery %+v, want delivered", d)
	}
}

func TestWebhookSelfSink(t *testing.T) {
	other := newSink(t)
	tests := []struct {
		name     string
		opts     Options
		wantSelf bool   // the target is the fake's own /internal/webhook
		want     string // else this
	}{
		{name: "self-sink", opts: Options{WebhookSelfSink: true}, wantSelf: true},
		{name: "shared target wins", opts: Options{WebhookSelfSink: true, WebhookURL: other.srv.URL}, want: other.srv.URL},
		{name: "per-fake target wins", opts: Options{WebhookSelfSink: true, IamportWebhookURL: other.srv.URL, TossWebhookURL: other.srv.URL}, want: other.srv.URL},
		{name: "off: recorded only", opts: Options{}, want: ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := start(t, tt.opts)
			wantIamport, wantToss := tt.want, tt.want
			if tt.wantSelf {
				wantIamport, wantToss = f.IamportURL+"/internal/webhook", f.TossURL+"/internal/webhook"
			}
			if f.IamportWebhookURL != wantIamport || f.TossWebhookURL != wantToss {
				t.Errorf("webhook URLs = %q, %q, want %q, %q", f.IamportWebhookURL, f.TossWebhookURL, wantIamport, wantToss)
			}
			if got := f.Toss.WebhookURL(); got != wantToss {
				t.Errorf("toss fake's webhook URL = %q, want %q", got, wantToss)
			}
			status := post(t, f.TossURL+"/v1/payments/key-in", tossAuth(toss.DefaultSecretKey), map[string]any{
				"method": "card", "cardNumber": "1111222233334444", "cardExpirationYear": "30", "cardExpirationMonth": "12",
				"amount": 500, "orderId": "order-self-" + strconv.Itoa(i),
			}, nil)
			if status != http.StatusOK {
				t.Fatalf("key-in: %d", status)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := f.Toss.Webhooks().Wait(ctx); err != nil {
				t.Fatal(err)
			}
			ds := f.Toss.Webhooks().Deliveries()
			if len(ds) == 0 {
				t.Fatal("no webhook recorded")
			}
			for _, d := range ds {
				// The self-sink acknowledges what it gets.
				if d.URL != wantToss || d.Delivered != (wantToss != "") {
					t.Errorf("delivery to %q, delivered %v; want %q", d.URL, d.Delivered, wantToss)
				}
			}
		})
	}
}

func TestWebhookDrain(t *testing.T) {
	tests := []struct {
		name          string
		delay, drain  time.Duration
		wantAttempted bool
	}{
		{name: "queued webhook attempted within the drain", delay: 50 * time.Millisecond, drain: time.Minute, wantAttempted: true},
		{name: "no drain: canceled at once", delay: time.Minute, drain: 0},
		{name: "drain runs out: canceled", delay: time.Minute, drain: 50 * time.Millisecond},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := newSink(t)
			f, err := Start(context.Background(), Options{
				Only: OnlyToss, TossAddr: loopbackAny, WebhookURL: sink.srv.URL, Logf: t.Logf,
				Faults: fault.Faults{WebhookDelay: tt.delay}, WebhookDrain: tt.drain,
			})
			if err != nil {
				t.Fatal(err)
			}
			status := post(t, f.TossURL+"/v1/payments/key-in", tossAuth(toss.DefaultSecretKey), map[string]any{
				"method": "card", "cardNumber": "1111222233334444", "cardExpirationYear": "30", "cardExpirationMonth": "12",
				"amount": 500, "orderId": "order-drain-" + strconv.Itoa(i),
			}, nil)
			if status != http.StatusOK {
				t.Fatalf("key-in: %d", status)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := f.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}
			ds := f.Toss.Webhooks().Deliveries()
			if len(ds) == 0 {
				t.Fatal("no webhook recorded")
			}
			for _, d := range ds {
				if attempted := len(d.Attempts) > 0; attempted != tt.wantAttempted || d.Delivered != tt.wantAttempted || !d.Finished() {
					t.Errorf("after Close: %d attempts, delivered %v, canceled %v; want attempted and delivered %v",
						len(d.Attempts), d.Delivered, d.Canceled, tt.wantAttempted)
				}
			}
			if n := len(sink.received()); (n > 0) != tt.wantAttempted {
				t.Errorf("sink got %d webhooks", n)
			}
		})
	}
}

func TestServerLogf(t *testing.T) {
	// Writing the status twice makes net/http complain to the server's
	// error log.
	twice := func(string, http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusOK)
			w.WriteHeader(http.StatusTeapot)
		})
	}
	for _, separate := range []bool{true, false} {
		t.Run("separate="+strconv.FormatBool(separate), func(t *testing.T) {
			var diag, server lines
			opts := Options{Only: OnlyIamport, IamportAddr: loopbackAny, Wrap: twice, Logf: diag.logf}
			errs := &diag // where the server's errors should go
			if separate {
				opts.ServerLogf = server.logf
				errs = &server
			}
			f, err := Start(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.Get(f.IamportURL + "/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if err := f.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := errs.containing("superfluous"); len(got) != 1 || !strings.HasPrefix(got[0], "iamport: http: superfluous") {
				t.Errorf("server error lines = %q, want one prefixed %q", got, "iamport: http: superfluous")
			}
			if got := diag.containing("iamport: listening on 127.0.0.1:"); len(got) != 1 {
				t.Errorf("diagnostics = %q, want the listening line", diag.all())
			}
			if separate {
				if got := diag.containing("superfluous"); len(got) != 0 {
					t.Errorf("Logf got the server's errors: %q", got)
				}
				if got := server.containing("listening"); len(got) != 0 {
					t.Errorf("ServerLogf got diagnostics: %q", got)
				}
			}
		})
	}
}

func TestListen(t *testing.T) {
	var opened []string
	f, err := Start(context.Background(), Options{
		IamportAddr: "127.0.0.1:0", TossAddr: "127.0.0.1:0", PortOneAddr: "127.0.0.1:0",
		Listen: func(network, addr string) (net.Listener, error) {
			opened = append(opened, addr)
			return net.Listen(network, addr)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close(context.Background())
	if len(opened) != 3 {
		t.Fatalf("Listen called for %v, want every fake", opened)
	}
	resp, err := http.Post(f.IamportURL+"/users/getToken", "application/json",
		strings.NewReader(`{"imp_key":"test_imp_key","imp_secret":"test_imp_secret"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("token through a listener from Listen: %d", resp.StatusCode)
	}
}

// portoneGet asks the fake PortOne for an unknown payment with secret and
// returns the status: 404 when the secret is accepted.
func portoneGet(t *testing.T, f *Fakes, secret string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.PortOneURL+"/payments/nobody", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "PortOne "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestPortOneSelfSink(t *testing.T) {
	f := start(t, Options{Only: OnlyPortOne, WebhookSelfSink: true})
	if want := f.PortOneURL + "/internal/webhook"; f.PortOneWebhookURL != want {
		t.Errorf("PortOneWebhookURL = %q, want %q", f.PortOneWebhookURL, want)
	}
	b := portone.NewBrowser(f.PortOneURL, "", 10*time.Second)
	if _, err := b.Checkout(context.Background(), portone.CheckoutRequest{PaymentID: "self-1", OrderName: "o", TotalAmount: 100}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.PortOne.Webhooks().Wait(ctx); err != nil {
		t.Fatal(err)
	}
	ds := f.PortOne.Webhooks().Deliveries()
	if len(ds) != 2 {
		t.Fatalf("%d deliveries, want Transaction.Ready and Transaction.Paid", len(ds))
	}
	for _, d := range ds {
		// The self-sink verifies the signature before it acknowledges.
		if !d.Delivered || len(d.Attempts) != 1 {
			t.Errorf("delivery %s: delivered %v after %d attempts", d.Body, d.Delivered, len(d.Attempts))
		}
	}
}
