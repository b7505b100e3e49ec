package webhook

import (
	"testing"
	"time"
)

func TestRetryPolicyDelay(t *testing.T) {
	p := DeliveryRetry()
	tests := []struct {
		failed  int
		nominal time.Duration
	}{
		{1, 5 * time.Second},
		{2, 10 * time.Second},
		{3, 20 * time.Second},
		{10, 5 * time.Second << 9},
		{13, 5 * time.Second << 12}, // 5.69 h, still below the cap
		{14, 6 * time.Hour},
		{30, 6 * time.Hour},
		{200, 6 * time.Hour},
	}
	for _, tt := range tests {
		if got := p.nominal(tt.failed); got != tt.nominal {
			t.Errorf("nominal(%d) = %v, want %v", tt.failed, got, tt.nominal)
		}
		lo, hi := tt.nominal/2, tt.nominal
		seen := map[time.Duration]bool{}
		for range 200 {
			d := p.Delay(tt.failed)
			if d < lo || d > hi {
				t.Fatalf("Delay(%d) = %v, want within [%v, %v]", tt.failed, d, lo, hi)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("Delay(%d) gave %d distinct values in 200 draws, want jitter", tt.failed, len(seen))
		}
	}
}

func TestRetryPolicyBudget(t *testing.T) {
	tests := []struct {
		name   string
		policy RetryPolicy
	}{
		{"delivery", DeliveryRetry()},
		{"inbound", InboundRetry()},
		{"scaled delivery", DeliveryRetry().Scaled(time.Millisecond)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.policy
			if err := p.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			// Simulate a job that always fails, with the shortest and the
			// longest delays: it must give up within the budget, never
			// after more than MaxAttempts attempts, and the longest
			// delays must not give up before the budget is nearly spent.
			for _, fastest := range []bool{true, false} {
				created := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
				now := created
				attempts := 1
				for !p.giveUp(created, now, attempts) {
					at := p.nextAttempt(created, now, attempts)
					if !at.After(now) || at.After(created.Add(p.Budget)) {
						t.Fatalf("attempt %d at %v: next at %v, want after now and within budget", attempts, now, at)
					}
					if fastest {
						at = now.Add(p.minDelay(attempts))
					}
					now = at
					attempts++
				}
				if attempts > p.MaxAttempts() {
					t.Errorf("fastest=%v: %d attempts, more than MaxAttempts %d", fastest, attempts, p.MaxAttempts())
				}
				if spent := now.Sub(created); spent < p.Budget-p.Cap || spent > p.Budget {
					t.Errorf("fastest=%v: gave up after %v, want within a cap (%v) of the budget %v", fastest, spent, p.Cap, p.Budget)
				}
			}
		})
	}
}

func TestRetryPolicyMaxAttempts(t *testing.T) {
	// 5 s doubling with equal jitter: the shortest delays are 2.5 s, 5 s,
	// ... until the 6 h cap (3 h at the shortest) after 13 failures;
	// 72 h then fit 1 + 13 + 22 attempts.
	if got, want := DeliveryRetry().MaxAttempts(), 36; got != want {
		t.Errorf("DeliveryRetry().MaxAttempts() = %d, want %d", got, want)
	}
	scaled := DeliveryRetry().Scaled(time.Millisecond)
	if got, want := scaled.MaxAttempts(), DeliveryRetry().MaxAttempts(); got != want {
		t.Errorf("scaled MaxAttempts = %d, want %d like the policy it scales", got, want)
	}
	if got, want := scaled.Budget, 259200*time.Millisecond; got != want {
		t.Errorf("scaled budget = %v, want %v", got, want)
	}
}

func TestRetryPolicyValidate(t *testing.T) {
	tests := []struct {
		name   string
		policy RetryPolicy
		ok     bool
	}{
		{"delivery", DeliveryRetry(), true},
		{"zero", RetryPolicy{}, false},
		{"cap below base", RetryPolicy{Base: time.Minute, Cap: time.Second, Budget: time.Hour}, false},
		{"budget below cap", RetryPolicy{Base: time.Second, Cap: time.Hour, Budget: time.Minute}, false},
		{"too many attempts", RetryPolicy{Base: time.Millisecond, Cap: time.Millisecond, Budget: time.Hour}, false},
	}
	for _, tt := range tests {
		if err := tt.policy.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
