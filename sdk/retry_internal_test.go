package sdk

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryDelay(t *testing.T) {
	p := newRetryPolicy(Options{MaxRetries: 5, RetryDelay: 100 * time.Millisecond, MaxRetryDelay: time.Second})
	tests := []struct {
		n        int
		atLeast  time.Duration
		min, max time.Duration
		ok       bool
	}{
		{1, 0, 50 * time.Millisecond, 100 * time.Millisecond, true},
		{2, 0, 100 * time.Millisecond, 200 * time.Millisecond, true},
		{4, 0, 400 * time.Millisecond, 800 * time.Millisecond, true},
		{5, 0, 500 * time.Millisecond, time.Second, true},  // capped
		{50, 0, 500 * time.Millisecond, time.Second, true}, // no overflow
		{1, 700 * time.Millisecond, 700 * time.Millisecond, 700 * time.Millisecond, true},
		{1, time.Second, time.Second, time.Second, true},
		{1, time.Second + 1, 0, 0, false}, // Retry-After beyond the limit
	}
	for _, tt := range tests {
		for range 100 { // the jitter stays within bounds
			d, ok := p.delay(tt.n, tt.atLeast)
			if ok != tt.ok || ok && (d < tt.min || d > tt.max) {
				t.Fatalf("delay(%d, %s) = %s, %v; want %v in [%s, %s]", tt.n, tt.atLeast, d, ok, tt.ok, tt.min, tt.max)
			}
		}
	}
}

func TestNewRetryPolicyDefaults(t *testing.T) {
	tests := []struct {
		opts Options
		want retryPolicy
	}{
		{Options{}, retryPolicy{max: 0, base: DefaultRetryDelay, limit: DefaultMaxRetryDelay}},
		{Options{MaxRetries: -3}, retryPolicy{max: 0, base: DefaultRetryDelay, limit: DefaultMaxRetryDelay}},
		{Options{MaxRetries: 2, RetryDelay: time.Minute}, retryPolicy{max: 2, base: time.Minute, limit: time.Minute}},
	}
	for _, tt := range tests {
		if got := newRetryPolicy(tt.opts); got != tt.want {
			t.Errorf("newRetryPolicy(%+v) = %+v, want %+v", tt.opts, got, tt.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"120", 2 * time.Minute},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.in, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
