package updater

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakeOperator answers the operator verbs from fixed values and records
// what it was asked.
type fakeOperator struct {
	err    error
	limit  int
	wait   time.Duration
	asked  string
	called int
}

func (f *fakeOperator) Mode() string { return "local" }

func (f *fakeOperator) FailingDeliveries(_ context.Context, limit int) ([]Delivery, error) {
	f.called++
	f.limit = limit
	return []Delivery{{EventID: "3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9", Host: "shop.example:8443", State: "failing", Attempts: 2}}, f.err
}

func (f *fakeOperator) RetryDelivery(_ context.Context, eventID string, wait time.Duration) (RetryResult, error) {
	f.called++
	f.asked, f.wait = eventID, wait
	return RetryResult{Was: "given_up", Outcome: "delivered", LastStatus: 200}, f.err
}

func (f *fakeOperator) AuditTrail(_ context.Context, historyID string) ([]AuditEntry, error) {
	f.called++
	f.asked = historyID
	return []AuditEntry{{Event: "registered", Details: AuditDetails{Price: 5000}}}, f.err
}

// TestOperatorVerbs sends the operator verbs to the agent's handler: signed
// ones reach the Operator with their validated arguments; unsigned ones,
// bad input, another mode or an agent without an Operator never do.
func TestOperatorVerbs(t *testing.T) {
	key := []byte("operator-test-key")
	const event = "3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9"
	tests := []struct {
		name       string
		method     string
		target     string
		body       string
		unsigned   bool
		noOperator bool
		opErr      error
		status     int
		want       string // in the answer
		calls      int
	}{
		{name: "list", method: "GET", target: pathDeliveries + "?mode=local&limit=7", status: 200, want: `"host":"shop.example:8443"`, calls: 1},
		{name: "list unsigned", method: "GET", target: pathDeliveries + "?mode=local&limit=7", unsigned: true, status: 401},
		{name: "list of another mode", method: "GET", target: pathDeliveries + "?mode=real&limit=7", status: 421, want: "serves mode local"},
		{name: "list without a mode", method: "GET", target: pathDeliveries + "?limit=7", status: 400, want: "mode is required"},
		{name: "list unbounded", method: "GET", target: pathDeliveries + "?mode=local&limit=10001", status: 400, want: "limit must be"},
		{name: "list failing", method: "GET", target: pathDeliveries + "?mode=local&limit=7", opErr: errors.New("database gone"), status: 500, want: "database gone", calls: 1},
		{name: "no operator", method: "GET", target: pathDeliveries + "?mode=local&limit=7", noOperator: true, status: 501},
		{name: "retry", method: "POST", target: pathDeliveryRetry, body: `{"mode":"local","event_id":"` + event + `","wait":5000000000}`, status: 200, want: `"outcome":"delivered"`, calls: 1},
		{name: "retry unsigned", method: "POST", target: pathDeliveryRetry, body: `{"mode":"local","event_id":"` + event + `"}`, unsigned: true, status: 401},
		{name: "retry of a non-id", method: "POST", target: pathDeliveryRetry, body: `{"mode":"local","event_id":"<evil>"}`, status: 400, want: "event_id must be"},
		{name: "retry waiting too long", method: "POST", target: pathDeliveryRetry, body: `{"mode":"local","event_id":"` + event + `","wait":31000000000}`, status: 400, want: "wait must be"},
		{name: "retry with an unknown field", method: "POST", target: pathDeliveryRetry, body: `{"mode":"local","event_id":"` + event + `","command":"rm"}`, status: 400},
		{name: "retry of an unknown event", method: "POST", target: pathDeliveryRetry, body: `{"mode":"local","event_id":"` + event + `"}`, opErr: fmt.Errorf("%w: no webhook event", ErrNotFound), status: 404, calls: 1},
		{name: "retry while running", method: "POST", target: pathDeliveryRetry, body: `{"mode":"local","event_id":"` + event + `"}`, opErr: ErrDeliveryRunning, status: 409, calls: 1},
		{name: "audit", method: "GET", target: pathAuditTrail + "?mode=local&history=" + strings.ToUpper(event), status: 200, want: `"event":"registered"`, calls: 1},
		{name: "audit of a non-id", method: "GET", target: pathAuditTrail + "?mode=local&history=%3Cevil%3E", status: 400, want: "history must be"},
		{name: "audit unsigned", method: "GET", target: pathAuditTrail + "?mode=local&history=" + event, unsigned: true, status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := &fakeOperator{err: tt.opErr}
			opts := Options{Key: key, Releases: &fakeReleaser{}, Master: "127.0.0.1:1", Operator: op}
			if tt.noOperator {
				opts.Operator = nil
			}
			a, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if !tt.unsigned {
				NewSigner(key, nil).Sign(req, []byte(tt.body))
			}
			rec := httptest.NewRecorder()
			a.Handler().ServeHTTP(rec, req)
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.want) || strings.Contains(rec.Body.String(), "evil") {
				t.Errorf("%s %s = %d %s, want %d with %q", tt.method, tt.target, rec.Code, rec.Body.String(), tt.status, tt.want)
			}
			if op.called != tt.calls {
				t.Errorf("operator called %d times, want %d", op.called, tt.calls)
			}
		})
	}
}

// TestOperatorClient checks the Client's side of the verbs against the
// agent's handler: arguments go through, and 404 and 409 come back as
// ErrNotFound and ErrDeliveryRunning.
func TestOperatorClient(t *testing.T) {
	key := []byte("operator-test-key")
	op := &fakeOperator{}
	a, err := New(Options{Key: key, Releases: &fakeReleaser{}, Master: "127.0.0.1:1", Operator: op})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	c, err := NewClient(strings.TrimPrefix(srv.URL, "http://"), key, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const event = "3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9"

	list, err := c.FailingDeliveries(ctx, "local", 3)
	if err != nil || len(list) != 1 || op.limit != 3 {
		t.Errorf("FailingDeliveries = %+v, %v (limit %d), want one delivery asked with limit 3", list, err, op.limit)
	}
	res, err := c.RetryDelivery(ctx, RetryRequest{Mode: "local", EventID: event, Wait: 2 * time.Second})
	if err != nil || res.Outcome != "delivered" || op.asked != event || op.wait != 2*time.Second {
		t.Errorf("RetryDelivery = %+v, %v (asked %q, wait %s)", res, err, op.asked, op.wait)
	}
	trail, err := c.AuditTrail(ctx, "local", event)
	if err != nil || len(trail) != 1 || trail[0].Details.Price != 5000 {
		t.Errorf("AuditTrail = %+v, %v", trail, err)
	}
	for _, want := range []error{ErrNotFound, ErrDeliveryRunning} {
		op.err = fmt.Errorf("event %s: %w", event, want)
		if _, err := c.RetryDelivery(ctx, RetryRequest{Mode: "local", EventID: event}); !errors.Is(err, want) {
			t.Errorf("RetryDelivery with the operator failing with %v: %v", want, err)
		}
	}
}

// TestOperatorClientNoOperator checks that an agent without an Operator,
// or of a release from before the verbs (net/http's 404), comes back as
// ErrNoOperator, so that the commands fall back to the database.
func TestOperatorClientNoOperator(t *testing.T) {
	key := []byte("operator-test-key")
	a, err := New(Options{Key: key, Releases: &fakeReleaser{}, Master: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	old := http.NewServeMux() // an agent that knows none of the paths
	old.HandleFunc("GET "+pathInstance, func(http.ResponseWriter, *http.Request) {})
	for name, h := range map[string]http.Handler{"no operator": a.Handler(), "older release": old} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			c, err := NewClient(strings.TrimPrefix(srv.URL, "http://"), key, ClientOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.AuditTrail(context.Background(), "local", "3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9"); !errors.Is(err, ErrNoOperator) || errors.Is(err, ErrNotFound) {
				t.Errorf("AuditTrail = %v, want ErrNoOperator", err)
			}
		})
	}
}
