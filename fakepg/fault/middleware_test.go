package fault

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// recorder is a handler that counts the calls it handled and when the last
// one was done. Like the fakes, it flushes its answer before it returns.
type recorder struct {
	mu      sync.Mutex
	handled int
	at      time.Time
}

func (h *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("X-Handled", "yes")
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, "done")
	_ = http.NewResponseController(w).Flush()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.handled++
	h.at = time.Now()
}

func (h *recorder) state() (int, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.handled, h.at
}

// waitHandled polls until h handled n calls, for at most 10 s.
func waitHandled(t *testing.T, h *recorder, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got, _ := h.state(); got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("handler never handled %d calls", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func mustRoute(t *testing.T, s string) Route {
	t.Helper()
	r, err := ParseRoute(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// faultServer serves a recorder behind an injector with f.
func faultServer(t *testing.T, f Faults) (*httptest.Server, *recorder) {
	t.Helper()
	h := &recorder{}
	srv := httptest.NewServer(NewInjector(f, nil).Middleware(h, nil))
	t.Cleanup(srv.Close)
	return srv, h
}

func post(ctx context.Context, srv *httptest.Server, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, nil)
	if err != nil {
		return nil, err
	}
	return srv.Client().Do(req)
}

func TestRouteLatencyHandlesThenAnswersLate(t *testing.T) {
	const latency = 200 * time.Millisecond
	srv, h := faultServer(t, Faults{RouteLatency: []RouteLatency{{Route: mustRoute(t, "POST /v1/payments/*/cancel"), Latency: latency}}})

	resp, err := post(context.Background(), srv, "/v1/payments/pk_1/cancel")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	answered := time.Now()
	n, handledAt := h.state()
	if n != 1 {
		t.Fatalf("handled %d calls, want 1", n)
	}
	if resp.StatusCode != http.StatusCreated || string(body) != "done" || resp.Header.Get("X-Handled") != "yes" {
		t.Errorf("answer = %d %q X-Handled=%q, want the handler's 201 \"done\" yes", resp.StatusCode, body, resp.Header.Get("X-Handled"))
	}
	// The handler's flush must not let the answer out early.
	if held := answered.Sub(handledAt); held < latency {
		t.Errorf("answer arrived %v after the call was handled, want at least %v", held, latency)
	}
}

func TestRouteLatencyClientGivesUpAfterTheChange(t *testing.T) {
	srv, h := faultServer(t, Faults{RouteLatency: []RouteLatency{{Route: mustRoute(t, "/slow"), Latency: time.Hour}}})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		resp, err := post(ctx, srv, "/slow")
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	waitHandled(t, h, 1) // changed while the client still waits
	cancel()             // the client's timeout
	if err := <-errc; err == nil {
		t.Fatal("the client got an answer despite an hour of latency")
	}
	// srv.Close (cleanup) waits for the handler, which must end with the
	// client gone rather than after the hour.
}

func TestRouteLatencyOnlyOnMatchingRoutes(t *testing.T) {
	srv, h := faultServer(t, Faults{RouteLatency: []RouteLatency{{Route: mustRoute(t, "POST /slow"), Latency: time.Hour}}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, path := range []string{"/fast", "/slow/more"} {
		resp, err := post(ctx, srv, path)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		resp.Body.Close()
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/slow", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET /slow: %v", err)
	}
	resp.Body.Close()
	// A handler may still be returning after its answer reached the
	// client: wait for the count, with a deadlock guard.
	deadline := time.Now().Add(10 * time.Second)
	n, _ := h.state()
	for n < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		n, _ = h.state()
	}
	if n != 3 {
		t.Errorf("handled %d calls, want 3", n)
	}
}

func TestRouteLatencyBefore(t *testing.T) {
	srv, h := faultServer(t, Faults{RouteLatency: []RouteLatency{{Route: mustRoute(t, "/slow"), Latency: time.Hour, Before: true}}})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if resp, err := post(ctx, srv, "/slow"); err == nil {
		resp.Body.Close()
		t.Fatal("the client got an answer despite an hour of latency")
	}
	srv.Close() // waits for the handler
	if n, _ := h.state(); n != 0 {
		t.Errorf("handled %d calls, want 0: the client gave up before the wait ended", n)
	}
}

func TestDropResponse(t *testing.T) {
	srv, h := faultServer(t, Faults{DropResponse: []Route{mustRoute(t, "POST /v1/payments/*/cancel")}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	resp, err := post(ctx, srv, "/v1/payments/pk_1/cancel")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got %s, want the connection closed without an answer", resp.Status)
	}
	if ctx.Err() != nil {
		t.Fatalf("the client timed out (%v) instead of seeing the connection close", err)
	}
	if n, _ := h.state(); n != 1 {
		t.Errorf("handled %d calls, want 1 (handled, then unanswered)", n)
	}

	// Other routes are answered.
	resp, err = post(ctx, srv, "/v1/payments/pk_1")
	if err != nil {
		t.Fatalf("POST /v1/payments/pk_1: %v", err)
	}
	resp.Body.Close()
}

func TestDropResponseAfterLatency(t *testing.T) {
	const latency = 100 * time.Millisecond
	route := mustRoute(t, "/x")
	srv, h := faultServer(t, Faults{
		RouteLatency: []RouteLatency{{Route: route, Latency: latency}},
		DropResponse: []Route{route},
	})
	start := time.Now()
	if resp, err := post(context.Background(), srv, "/x"); err == nil {
		resp.Body.Close()
		t.Fatalf("got %s, want no answer", resp.Status)
	}
	if took := time.Since(start); took < latency {
		t.Errorf("connection closed after %v, want at least the latency %v", took, latency)
	}
	if n, _ := h.state(); n != 1 {
		t.Errorf("handled %d calls, want 1", n)
	}
}

func TestDropResponseWithoutHijack(t *testing.T) {
	h := NewInjector(Faults{DropResponse: []Route{{Path: "/x"}}}, nil).Middleware(&recorder{}, nil)
	defer func() {
		if got := recover(); got != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", got)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/x", nil))
}

func TestFailRoutes(t *testing.T) {
	srv, h := faultServer(t, Faults{FailRoutes: []Route{mustRoute(t, "POST /v1/payments/*/cancel")}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tests := []struct {
		path        string
		wantStatus  int
		wantHandled int
	}{
		{"/v1/payments/pk_1/cancel", http.StatusInternalServerError, 0},
		{"/v1/payments/pk_1", http.StatusCreated, 1},
	}
	for _, tt := range tests {
		resp, err := post(ctx, srv, tt.path)
		if err != nil {
			t.Fatalf("POST %s: %v", tt.path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("POST %s = %d, want %d", tt.path, resp.StatusCode, tt.wantStatus)
		}
		if tt.wantHandled > 0 {
			waitHandled(t, h, tt.wantHandled)
		}
		if n, _ := h.state(); n != tt.wantHandled {
			t.Errorf("after POST %s: handled %d calls, want %d", tt.path, n, tt.wantHandled)
		}
	}
}
