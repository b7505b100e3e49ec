package toss

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	tossapi "github.com/paymentctl/paymentctl/gateway/toss"
)

func TestIdempotencyInFlight(t *testing.T) {
	id := newIdempotency(10, time.Now)
	req := func(method, key string) *http.Request {
		r := httptest.NewRequest(method, "/v1/payments/pk/cancel", nil)
		if key != "" {
			r.Header.Set(tossapi.IdempotencyHeader, key)
		}
		return r
	}
	ok := func(body string) func() answer {
		return func() answer { return answer{status: http.StatusOK, body: []byte(body)} }
	}

	started, release := make(chan struct{}), make(chan struct{})
	firstDone := make(chan answer)
	go func() {
		firstDone <- id.do(req("POST", "k"), "sk", func() answer {
			close(started)
			<-release
			return answer{status: http.StatusOK, body: []byte("first")}
		})
	}()
	<-started

	tests := []struct {
		name       string
		r          *http.Request
		secretKey  string
		wantStatus int
		wantBody   string // checked when not ""
	}{
		{"repeat while the first runs", req("POST", "k"), "sk", http.StatusConflict, ""},
		{"another key", req("POST", "k2"), "sk", http.StatusOK, "ran"},
		{"another secret key", req("POST", "k"), "sk2", http.StatusOK, "ran"},
		{"not a POST", req("PUT", "k"), "sk", http.StatusOK, "ran"},
		{"no key", req("POST", ""), "sk", http.StatusOK, "ran"},
	}
	for _, tt := range tests {
		a := id.do(tt.r, tt.secretKey, ok("ran"))
		if a.status != tt.wantStatus || tt.wantBody != "" && string(a.body) != tt.wantBody {
			t.Errorf("%s: %d %s, want %d %s", tt.name, a.status, a.body, tt.wantStatus, tt.wantBody)
		}
	}
	if a := id.do(req("POST", "k"), "sk", ok("ran")); !bytes.Contains(a.body, []byte(tossapi.CodeIdempotentRequestProcessing)) {
		t.Errorf("409 body %s, want code %s", a.body, tossapi.CodeIdempotentRequestProcessing)
	}

	close(release)
	if a := <-firstDone; string(a.body) != "first" {
		t.Fatalf("first call answered %s", a.body)
	}
	if a := id.do(req("POST", "k"), "sk", ok("ran again")); a.status != http.StatusOK || string(a.body) != "first" {
		t.Errorf("repeat after the first answered: %d %s, want its answer 200 first", a.status, a.body)
	}
}

func TestIdempotencyExpires(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	id := newIdempotency(10, func() time.Time { return now })
	r := httptest.NewRequest("POST", "/v1/payments/confirm", nil)
	r.Header.Set(tossapi.IdempotencyHeader, "k")
	n := 0
	call := func() answer { n++; return answer{status: http.StatusOK} }

	id.do(r, "sk", call)
	now = now.Add(idempotencyTTL - time.Minute)
	id.do(r, "sk", call)
	if n != 1 {
		t.Fatalf("ran %d times within 15 days, want 1", n)
	}
	now = now.Add(2 * time.Minute)
	id.do(r, "sk", call)
	if n != 2 {
		t.Errorf("ran %d times, want 2: a key older than 15 days is new again", n)
	}
}
