package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/sdk"
)

// answer is one canned reply of a scripted server.
type answer struct {
	status int
	code   sdk.ErrorCode
	header map[string]string
	// drop closes the connection without answering.
	drop bool
	// hang waits for the client to give up.
	hang bool
}

// scripted answers its n-th request with answers[n-1] (the last one
// repeated) and records the requests' headers.
type scripted struct {
	t       *testing.T
	answers []answer
	srv     *httptest.Server

	mu      sync.Mutex
	headers []http.Header
}

func newScripted(t *testing.T, answers ...answer) *scripted {
	s := &scripted{t: t, answers: answers}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *scripted) serve(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	s.mu.Lock()
	s.headers = append(s.headers, r.Header.Clone())
	a := s.answers[min(len(s.headers), len(s.answers))-1]
	s.mu.Unlock()
	switch {
	case a.drop:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			s.t.Error(err)
			return
		}
		conn.Close()
		return
	case a.hang:
		<-r.Context().Done()
		return
	}
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	if a.status < 300 {
		w.WriteHeader(a.status)
		return
	}
	writeCodedError(w, a.status, a.code)
}

// writeCodedError writes a paymentctl error body.
func writeCodedError(w http.ResponseWriter, status int, code sdk.ErrorCode) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"statusCode": status, "message": "scripted " + string(code), "error": http.StatusText(status), "code": code})
}

func (s *scripted) requests() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.headers...)
}

// fastRetries turns retries on with waits short enough for tests.
func fastRetries(n int) func(*sdk.Options) {
	return func(o *sdk.Options) {
		o.MaxRetries = n
		o.RetryDelay = time.Millisecond
		o.MaxRetryDelay = 5 * time.Millisecond
	}
}

func TestRetries(t *testing.T) {
	ok := answer{status: http.StatusOK}
	tests := []struct {
		name       string
		maxRetries int
		answers    []answer
		wantErr    sdk.ErrorCode // "" for success
		wantStatus int           // of the error, when no code
		attempts   int
	}{
		{"off by default", 0, []answer{{status: 503, code: sdk.CodeUnavailable}, ok}, sdk.CodeUnavailable, 0, 1},
		{"503 then ok", 3, []answer{{status: 503, code: sdk.CodeUnavailable}, ok}, "", 0, 2},
		{"502 twice then ok", 3, []answer{{status: 502, code: sdk.CodePGUnavailable}, {status: 502, code: sdk.CodePGUnavailable}, ok}, "", 0, 3},
		{"504 then ok", 3, []answer{{status: 504, code: sdk.CodePGTimeout}, ok}, "", 0, 2},
		{"key in use then ok", 3, []answer{{status: 409, code: sdk.CodeIdempotencyKeyInUse}, ok}, "", 0, 2},
		{"429 then ok", 3, []answer{{status: 429, code: sdk.CodeThrottled, header: map[string]string{"Retry-After": "0"}}, ok}, "", 0, 2},
		{"outcome unknown on 500 then ok", 3, []answer{{status: 500, code: sdk.CodeOutcomeUnknown}, ok}, "", 0, 2},
		{"dropped connection then ok", 3, []answer{{drop: true}, ok}, "", 0, 2},
		{"gives up after the retries", 2, []answer{{status: 503, code: sdk.CodeUnavailable}}, sdk.CodeUnavailable, 0, 3},
		{"duplicate is not retried", 3, []answer{{status: 409, code: sdk.CodeDuplicate}, ok}, sdk.CodeDuplicate, 0, 1},
		{"refusal is not retried", 3, []answer{{status: 422, code: sdk.CodeAmountMismatch}, ok}, sdk.CodeAmountMismatch, 0, 1},
		{"internal is not retried", 3, []answer{{status: 500, code: sdk.CodeInternal}, ok}, sdk.CodeInternal, 0, 1},
		{"wrong password is not retried", 3, []answer{{status: 403, code: sdk.CodeWrongPassword}, ok}, sdk.CodeWrongPassword, 0, 1},
		{"409 without a code is not retried", 3, []answer{{status: 409}, ok}, "", 409, 1},
		{"429 asking too long is not retried", 3, []answer{{status: 429, code: sdk.CodeThrottled, header: map[string]string{"Retry-After": "3600"}}, ok}, sdk.CodeThrottled, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScripted(t, tt.answers...)
			c := newClient(t, s.srv.URL, fastRetries(tt.maxRetries))
			var info sdk.ResponseInfo
			err := c.Health(t.Context(), sdk.WithResponseInfo(&info))
			if got := len(s.requests()); got != tt.attempts || info.Attempts != tt.attempts {
				t.Errorf("attempts: server saw %d, ResponseInfo says %d; want %d", got, info.Attempts, tt.attempts)
			}
			if tt.wantErr == "" && tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("Health() = %v, want success after %d attempts", err, tt.attempts)
				}
				return
			}
			var apiErr *sdk.Error
			if !errors.As(err, &apiErr) || apiErr.Code != tt.wantErr || tt.wantStatus != 0 && apiErr.Status != tt.wantStatus {
				t.Fatalf("Health() = %v, want an *sdk.Error with code %q", err, tt.wantErr)
			}
		})
	}
}

// TestRetryIdempotencyKey: with retries on, a POST or PUT without a key
// gets one, the same on every attempt; the caller's key is kept; other
// methods get none; with retries off nothing is added.
func TestRetryIdempotencyKey(t *testing.T) {
	create := sdk.HistoryCreate{Vendor: vendor, Source: source, Price: 1, Password: "pw", WebhookURL: "http://127.0.0.1:9/"}
	tests := []struct {
		name    string
		retries int
		call    func(context.Context, *sdk.Client, sdk.CallOption) error
		given   string
		wantKey bool
	}{
		{"POST gets a key", 2, func(ctx context.Context, c *sdk.Client, o sdk.CallOption) error {
			_, err := c.CreateHistory(ctx, create, o)
			return err
		}, "", true},
		{"PUT gets a key", 2, func(ctx context.Context, c *sdk.Client, o sdk.CallOption) error {
			_, err := c.CancelHistory(ctx, sdk.CancelCreate{Source: source, Password: "pw", Price: 1, Reason: "r"}, o)
			return err
		}, "", true},
		{"the caller's key is kept", 2, func(ctx context.Context, c *sdk.Client, o sdk.CallOption) error {
			_, err := c.CreateReservation(ctx, sdk.ReservationCreate{Vendor: vendor, Source: source, Title: "t", Password: "pw"}, sdk.WithIdempotencyKey("mine"), o)
			return err
		}, "mine", true},
		{"PATCH gets none", 2, func(ctx context.Context, c *sdk.Client, o sdk.CallOption) error {
			_, err := c.History(ctx, historyID, "pw", o)
			return err
		}, "", false},
		{"no retries, no key", 0, func(ctx context.Context, c *sdk.Client, o sdk.CallOption) error {
			_, err := c.CreateHistory(ctx, create, o)
			return err
		}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScripted(t, answer{status: 503, code: sdk.CodeUnavailable})
			c := newClient(t, s.srv.URL, fastRetries(tt.retries))
			var info sdk.ResponseInfo
			if err := tt.call(t.Context(), c, sdk.WithResponseInfo(&info)); !errors.Is(err, sdk.ErrUnavailable) {
				t.Fatalf("call = %v, want the scripted 503", err)
			}
			reqs := s.requests()
			if len(reqs) != tt.retries+1 {
				t.Fatalf("%d attempts, want %d", len(reqs), tt.retries+1)
			}
			first := reqs[0].Get(sdk.IdempotencyKeyHeader)
			if (first != "") != tt.wantKey || tt.given != "" && first != tt.given {
				t.Errorf("Idempotency-Key = %q, want a key: %v (given %q)", first, tt.wantKey, tt.given)
			}
			for i, h := range reqs {
				if got := h.Get(sdk.IdempotencyKeyHeader); got != first {
					t.Errorf("attempt %d sent key %q, attempt 1 %q", i+1, got, first)
				}
			}
			if info.IdempotencyKey != first {
				t.Errorf("ResponseInfo.IdempotencyKey = %q, sent %q", info.IdempotencyKey, first)
			}
		})
	}
}

// TestRetryAfterIsHonoured: a 429 is retried no sooner than its
// Retry-After, even when the backoff would be shorter.
func TestRetryAfterIsHonoured(t *testing.T) {
	s := newScripted(t, answer{status: 429, code: sdk.CodeThrottled, header: map[string]string{"Retry-After": "1"}}, answer{status: 200})
	c := newClient(t, s.srv.URL, func(o *sdk.Options) {
		fastRetries(1)(o)
		o.MaxRetryDelay = 2 * time.Second
	})
	start := time.Now()
	if err := c.Health(t.Context()); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("retried after %s, want at least the Retry-After of 1s", waited)
	}
}

// TestRetryStopsAtTheCallersDeadline: a wait that would outlast the
// caller's context is not started; the last answer is returned at once.
func TestRetryStopsAtTheCallersDeadline(t *testing.T) {
	s := newScripted(t, answer{status: 503, code: sdk.CodeUnavailable})
	c := newClient(t, s.srv.URL, func(o *sdk.Options) {
		o.MaxRetries = 5
		o.RetryDelay = time.Hour
		o.MaxRetryDelay = time.Hour
	})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	err := c.Health(ctx)
	if !errors.Is(err, sdk.ErrUnavailable) || len(s.requests()) != 1 {
		t.Errorf("Health() = %v after %d attempts, want the 503 after 1", err, len(s.requests()))
	}
}

// TestRetryAfterAttemptTimeout: an attempt cut by Options.Timeout is sent
// again; the caller's context cancelled is not.
func TestRetryAfterAttemptTimeout(t *testing.T) {
	s := newScripted(t, answer{hang: true}, answer{status: 200})
	c := newClient(t, s.srv.URL, func(o *sdk.Options) {
		fastRetries(2)(o)
		o.Timeout = 50 * time.Millisecond
	})
	var info sdk.ResponseInfo
	if err := c.Health(t.Context(), sdk.WithResponseInfo(&info)); err != nil || info.Attempts != 2 {
		t.Errorf("Health() = %v after %d attempts, want success after 2", err, info.Attempts)
	}

	hung := newScripted(t, answer{hang: true})
	c = newClient(t, hung.srv.URL, func(o *sdk.Options) {
		fastRetries(5)(o)
		o.Timeout = -1
	})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for len(hung.requests()) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if err := c.Health(ctx); !errors.Is(err, context.Canceled) || len(hung.requests()) != 1 {
		t.Errorf("Health() = %v after %d attempts, want context.Canceled after 1", err, len(hung.requests()))
	}
}

func TestErrorCodes(t *testing.T) {
	sentinels := []error{
		sdk.ErrInvalidRequest, sdk.ErrWrongPassword, sdk.ErrNotFound, sdk.ErrMethodNotAllowed, sdk.ErrDuplicate,
		sdk.ErrIdempotencyKeyInUse, sdk.ErrCancelInProgress, sdk.ErrPayloadTooLarge, sdk.ErrIdempotencyKeyReused, sdk.ErrAmountMismatch,
		sdk.ErrOrderMismatch, sdk.ErrPaymentNotPaid, sdk.ErrRefundExceedsBalance, sdk.ErrUnknownStore, sdk.ErrRefused, sdk.ErrPGRefused,
		sdk.ErrThrottled, sdk.ErrInternal, sdk.ErrPGUnavailable, sdk.ErrUnavailable, sdk.ErrPGTimeout, sdk.ErrOutcomeUnknown,
	}
	tests := []struct {
		status int
		code   sdk.ErrorCode
		want   []error // the sentinels err matches
	}{
		{400, sdk.CodeInvalidRequest, []error{sdk.ErrInvalidRequest}},
		{403, sdk.CodeWrongPassword, []error{sdk.ErrWrongPassword}},
		{404, sdk.CodeNotFound, []error{sdk.ErrNotFound}},
		{405, sdk.CodeMethodNotAllowed, []error{sdk.ErrMethodNotAllowed}},
		{409, sdk.CodeDuplicate, []error{sdk.ErrDuplicate}},
		{409, sdk.CodeIdempotencyKeyInUse, []error{sdk.ErrIdempotencyKeyInUse}},
		{409, sdk.CodeCancelInProgress, []error{sdk.ErrCancelInProgress}},
		{413, sdk.CodePayloadTooLarge, []error{sdk.ErrPayloadTooLarge}},
		{422, sdk.CodeIdempotencyKeyReused, []error{sdk.ErrIdempotencyKeyReused}},
		{422, sdk.CodeAmountMismatch, []error{sdk.ErrAmountMismatch, sdk.ErrRefused}},
		{422, sdk.CodeOrderMismatch, []error{sdk.ErrOrderMismatch, sdk.ErrRefused}},
		{422, sdk.CodePaymentNotPaid, []error{sdk.ErrPaymentNotPaid, sdk.ErrRefused}},
		{422, sdk.CodeRefundExceedsBalance, []error{sdk.ErrRefundExceedsBalance, sdk.ErrRefused}},
		{422, sdk.CodeUnknownStore, []error{sdk.ErrUnknownStore, sdk.ErrRefused}},
		{422, sdk.CodeRefused, []error{sdk.ErrRefused}},
		{404, sdk.CodePGRefused, []error{sdk.ErrPGRefused}},
		{429, sdk.CodeThrottled, []error{sdk.ErrThrottled}},
		{500, sdk.CodeInternal, []error{sdk.ErrInternal}},
		{502, sdk.CodePGUnavailable, []error{sdk.ErrPGUnavailable}},
		{503, sdk.CodeUnavailable, []error{sdk.ErrUnavailable}},
		{504, sdk.CodePGTimeout, []error{sdk.ErrPGTimeout}},
		{504, sdk.CodeOutcomeUnknown, []error{sdk.ErrOutcomeUnknown}},
		{404, "", nil},            // no code (the original server): no sentinel
		{418, "teapot_time", nil}, // a code this SDK does not know
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			s := newScripted(t, answer{status: tt.status, code: tt.code, header: map[string]string{
				"Retry-After": "7", sdk.RequestIDHeader: "req-1",
			}})
			err := newClient(t, s.srv.URL, nil).Health(t.Context())
			var apiErr *sdk.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("Health() = %v, want an *sdk.Error", err)
			}
			if apiErr.Status != tt.status || apiErr.Code != tt.code || apiErr.Message != "scripted "+string(tt.code) {
				t.Errorf("Error = %d %q %q, want %d %q", apiErr.Status, apiErr.Code, apiErr.Message, tt.status, tt.code)
			}
			if apiErr.RetryAfter != 7*time.Second || apiErr.RequestID != "req-1" {
				t.Errorf("RetryAfter, RequestID = %s, %q; want 7s, req-1", apiErr.RetryAfter, apiErr.RequestID)
			}
			for _, sentinel := range sentinels {
				want := false
				for _, w := range tt.want {
					want = want || w == sentinel
				}
				if got := errors.Is(err, sentinel); got != want {
					t.Errorf("errors.Is(err, %v) = %v, want %v", sentinel, got, want)
				}
			}
		})
	}
}

// TestResponseInfo: the replay marker, the request id and the status are
// reported, on success and on failure.
func TestResponseInfo(t *testing.T) {
	s := newScripted(t,
		answer{status: 200, header: map[string]string{sdk.IdempotentReplayedHeader: "true", sdk.RequestIDHeader: "req-a"}},
		answer{status: 422, code: sdk.CodeIdempotencyKeyReused, header: map[string]string{sdk.RequestIDHeader: "req-b"}},
	)
	c := newClient(t, s.srv.URL, nil)
	var info sdk.ResponseInfo
	if err := c.Health(t.Context(), sdk.WithResponseInfo(&info)); err != nil {
		t.Fatal(err)
	}
	if !info.IdempotentReplayed || info.RequestID != "req-a" || info.StatusCode != 200 || info.Attempts != 1 || info.Header == nil {
		t.Errorf("ResponseInfo = %+v, want replayed req-a 200 after 1 attempt", info)
	}
	err := c.Health(t.Context(), sdk.WithResponseInfo(&info))
	if !errors.Is(err, sdk.ErrIdempotencyKeyReused) {
		t.Fatalf("Health() = %v, want idempotency_key_reused", err)
	}
	if info.IdempotentReplayed || info.RequestID != "req-b" || info.StatusCode != 422 {
		t.Errorf("ResponseInfo = %+v, want req-b 422, not replayed", info)
	}
}
