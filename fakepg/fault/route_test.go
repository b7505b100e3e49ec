package fault

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseRoute(t *testing.T) {
	tests := []struct {
		in      string
		want    Route
		wantErr string
	}{
		{in: "POST /v1/payments/*/cancel", want: Route{Method: "POST", Path: "/v1/payments/*/cancel"}},
		{in: "post /payments/cancel", want: Route{Method: "POST", Path: "/payments/cancel"}},
		{in: "/payments/cancel", want: Route{Path: "/payments/cancel"}},
		{in: "  GET   /payments/*  ", want: Route{Method: "GET", Path: "/payments/*"}},
		{in: "/v1/payments/[a-z]?", want: Route{Path: "/v1/payments/[a-z]?"}},
		{in: "", wantErr: "PATH starting with /"},
		{in: "POST", wantErr: "PATH starting with /"},
		{in: "payments/cancel", wantErr: "PATH starting with /"},
		{in: "POST payments/cancel", wantErr: "PATH starting with /"},
		{in: "P0ST /x", wantErr: "not an HTTP method"},
		{in: "POST /v1/[", wantErr: "syntax error in pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRoute(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseRoute(%q) = %+v, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRoute(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseRoute(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if again, err := ParseRoute(got.String()); err != nil || again != got {
				t.Errorf("ParseRoute(%q.String()) = %+v, %v; want %+v", got, again, err, got)
			}
		})
	}
}

func TestRouteMatch(t *testing.T) {
	tests := []struct {
		route, method, target string
		want                  bool
	}{
		{"POST /v1/payments/*/cancel", "POST", "/v1/payments/pk_1/cancel", true},
		{"POST /v1/payments/*/cancel", "post", "/v1/payments/pk_1/cancel", true},
		{"POST /v1/payments/*/cancel", "GET", "/v1/payments/pk_1/cancel", false},
		{"POST /v1/payments/*/cancel", "POST", "/v1/payments/pk_1", false},
		{"POST /v1/payments/*/cancel", "POST", "/v1/payments/a/b/cancel", false},
		{"POST /v1/payments/*/cancel", "POST", "/v1/payments/pk_1/cancel?x=1", true},
		{"/payments/cancel", "POST", "/payments/cancel", true},
		{"/payments/cancel", "PUT", "/payments/cancel", true},
		{"/payments/cancel", "POST", "/payments/cancel/", false},
		{"GET /payments/*", "GET", "/payments/imp_1", true},
		{"GET /payments/*", "GET", "/payments/find/m_1", false},
		{"POST /v1/payments/*", "POST", "/v1/payments/confirm", true},
		{"POST /v1/payments/confirm", "POST", "/v1/payments/confirm", true},
	}
	for _, tt := range tests {
		t.Run(tt.route+" "+tt.method+" "+tt.target, func(t *testing.T) {
			r, err := ParseRoute(tt.route)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(tt.method, tt.target, nil)
			if got := r.Match(req); got != tt.want {
				t.Errorf("%q.Match(%s %s) = %v, want %v", tt.route, tt.method, tt.target, got, tt.want)
			}
		})
	}
}

func TestParseRouteLatency(t *testing.T) {
	tests := []struct {
		in      string
		want    RouteLatency
		wantErr string
	}{
		{in: "POST /v1/payments/*/cancel=15s", want: RouteLatency{Route: Route{Method: "POST", Path: "/v1/payments/*/cancel"}, Latency: 15 * time.Second}},
		{in: "/payments/cancel = 300ms", want: RouteLatency{Route: Route{Path: "/payments/cancel"}, Latency: 300 * time.Millisecond}},
		{in: "/a=b=1s", want: RouteLatency{Route: Route{Path: "/a=b"}, Latency: time.Second}},
		{in: "/x=0s", want: RouteLatency{Route: Route{Path: "/x"}}},
		{in: "15s", wantErr: "want ROUTE=DURATION"},
		{in: "/x=soon", wantErr: `invalid duration "soon"`},
		{in: "/x=-1s", wantErr: "must not be negative"},
		{in: "x=1s", wantErr: "PATH starting with /"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRouteLatency(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseRouteLatency(%q) = %+v, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRouteLatency(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseRouteLatency(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestRouteLatencyString(t *testing.T) {
	rl := RouteLatency{Route: Route{Method: "POST", Path: "/v1/payments/*/cancel"}, Latency: 15 * time.Second}
	if got, want := rl.String(), "POST /v1/payments/*/cancel=15s"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	rl.Before = true
	if got, want := rl.String(), "POST /v1/payments/*/cancel=15s (before)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
