package portone_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/fakepg/portone"
	api "github.com/paymentctl/paymentctl/gateway/portone"
)

// env is a fake on an httptest server, a client of its real routes, a
// browser of its fake-only ones and a receiver of its webhooks.
type env struct {
	t       *testing.T
	fake    *portone.Server
	srv     *httptest.Server
	client  *api.Client
	browser *portone.Browser
	hooks   *receiver
}

// newEnv starts a fake whose webhooks go to a receiver that verifies them
// with the default secret; retries are immediate.
func newEnv(t *testing.T, opts portone.Options) *env {
	t.Helper()
	e := &env{t: t, hooks: newReceiver(t, portone.DefaultWebhookSecret)}
	if opts.Backoff == nil {
		opts.Backoff = []time.Duration{time.Millisecond, time.Millisecond}
	}
	if opts.WebhookURL == "" {
		opts.WebhookURL = e.hooks.srv.URL
	}
	e.fake = portone.New(opts)
	e.srv = httptest.NewServer(e.fake)
	t.Cleanup(e.fake.Close)
	t.Cleanup(e.srv.Close)
	e.client = api.New(api.Options{BaseURL: e.srv.URL, Secret: portone.DefaultSecret})
	e.browser = portone.NewBrowser(e.srv.URL, "", 0)
	return e
}

// pay makes a payment by checkout and returns it as GET answers it.
func (e *env) pay(in portone.CheckoutRequest) api.Payment {
	e.t.Helper()
	if in.OrderName == "" {
		in.OrderName = "test order"
	}
	if _, err := e.browser.Checkout(context.Background(), in); err != nil {
		e.t.Fatalf("Checkout(%+v): %v", in, err)
	}
	return e.get(in.PaymentID)
}

// get fetches a payment or fails the test.
func (e *env) get(id string) api.Payment {
	e.t.Helper()
	p, err := e.client.GetPayment(context.Background(), id)
	if err != nil {
		e.t.Fatalf("GetPayment(%q): %v", id, err)
	}
	return p
}

// wantType fails the test unless err is a PortOne error of type t with
// PortOne's status for it.
func wantType(t *testing.T, err error, typ api.ErrorType) {
	t.Helper()
	var e *api.Error
	if !errors.As(err, &e) || e.Type != typ {
		t.Fatalf("error = %v, want %s", err, typ)
	}
	if want := typ.Status(); want != 0 && e.Status != want {
		t.Errorf("%s answered with status %d, want %d", typ, e.Status, want)
	}
}

// receiver is a webhook endpoint that verifies every delivery with a
// secret, fails the first failFirst of them, and keeps the rest.
type receiver struct {
	t        *testing.T
	srv      *httptest.Server
	verifier *api.WebhookVerifier

	mu        sync.Mutex
	failFirst int
	got       []received
	changed   chan struct{}
}

// received is one verified webhook.
type received struct {
	ID     string
	Header http.Header
	Event  api.Webhook
}

func newReceiver(t *testing.T, secrets ...string) *receiver {
	v, err := api.NewWebhookVerifier(secrets...)
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{t: t, verifier: v, changed: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := rc.verifier.Verify(r.Header, body); err != nil {
		rc.t.Errorf("webhook %s does not verify: %v", body, err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	ev, err := api.ParseWebhook(body)
	if err != nil {
		rc.t.Errorf("webhook %s: %v", body, err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.failFirst > 0 {
		rc.failFirst--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	rc.got = append(rc.got, received{ID: r.Header.Get(api.WebhookIDHeader), Header: r.Header.Clone(), Event: ev})
	close(rc.changed)
	rc.changed = make(chan struct{})
}

// wait returns the webhooks received once n have arrived, or fails after
// a few seconds.
func (rc *receiver) wait(n int) []received {
	rc.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		rc.mu.Lock()
		got, changed := slices.Clone(rc.got), rc.changed
		rc.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-changed:
		case <-deadline:
			rc.t.Fatalf("got %d webhooks, want %d: %+v", len(got), n, got)
		}
	}
}

// types lists the event types of ws about payment (or billing key) id.
func types(ws []received, id string) []string {
	var out []string
	for _, w := range ws {
		if w.Event.Data.PaymentID == id || w.Event.Data.BillingKey == id {
			out = append(out, w.Event.Type)
		}
	}
	return out
}

// rawCall makes a request to the fake with the default secret and returns
// the status and the decoded JSON object.
func (e *env) rawCall(method, path, auth, contentType, body string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if b, _ := io.ReadAll(resp.Body); len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			e.t.Errorf("%s %s answered %q, not a JSON object", method, path, b)
		}
	}
	return resp.StatusCode, out
}
