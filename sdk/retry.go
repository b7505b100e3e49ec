package sdk

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"
)

// Defaults of the retry delays (Options.RetryDelay, Options.MaxRetryDelay).
const (
	DefaultRetryDelay    = 500 * time.Millisecond
	DefaultMaxRetryDelay = 10 * time.Second
)

// retryPolicy decides whether and when a failed attempt is sent again.
type retryPolicy struct {
	// max is how many retries a call may make; zero never retries.
	max int
	// base is the nominal delay before the first retry, doubled for each
	// further one up to limit, which also bounds a Retry-After.
	base, limit time.Duration
}

// newRetryPolicy reads the retry settings of opts.
func newRetryPolicy(opts Options) retryPolicy {
	p := retryPolicy{max: max(opts.MaxRetries, 0), base: opts.RetryDelay, limit: opts.MaxRetryDelay}
	if p.base <= 0 {
		p.base = DefaultRetryDelay
	}
	if p.limit <= 0 {
		p.limit = DefaultMaxRetryDelay
	}
	p.limit = max(p.limit, p.base)
	return p
}

// retryable reports whether an attempt that failed with err may be sent
// again, and the least delay the server asked for.
//
// Retried: no answer (a connection error, or the attempt's Timeout), 409
// idempotency_key_in_use (the first attempt still runs), 429 (after its
// Retry-After), 502, 503 and 504, and outcome_unknown whatever its status.
// The caller's own context ending is never retried, nor any other answer:
// a refusal says the same the second time.
func retryable(ctx context.Context, err error) (bool, time.Duration) {
	if ctx.Err() != nil {
		return false, 0
	}
	var te *transportError
	if errors.As(err, &te) {
		// No (whole) answer: a POST or PUT carries its Idempotency-Key,
		// so the server acts at most once however many attempts reach it.
		return true, 0
	}
	var apiErr *Error
	if !errors.As(err, &apiErr) {
		return false, 0
	}
	switch {
	case apiErr.Code == CodeOutcomeUnknown:
		return true, apiErr.RetryAfter
	case apiErr.Status == http.StatusConflict:
		return apiErr.Code == CodeIdempotencyKeyInUse, 0
	case apiErr.Status == http.StatusTooManyRequests, apiErr.Status == http.StatusServiceUnavailable:
		return true, apiErr.RetryAfter
	case apiErr.Status == http.StatusBadGateway, apiErr.Status == http.StatusGatewayTimeout:
		return true, 0
	}
	return false, 0
}

// transportError is an attempt that got no whole answer: the request
// could not be sent, or the answer was cut off, or the attempt ran out of
// time. Its text is its cause's.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// delay returns how long to wait before retry number n (1-based): the
// nominal delay base·2ⁿ⁻¹, capped at limit, with equal jitter (half of it
// fixed, half random), and at least atLeast. It reports false when
// atLeast exceeds limit: a server asking for a longer pause than the
// client is willing to wait is not retried.
func (p retryPolicy) delay(n int, atLeast time.Duration) (time.Duration, bool) {
	if atLeast > p.limit {
		return 0, false
	}
	d := p.base
	for i := 1; i < n && d < p.limit; i++ {
		d *= 2
	}
	d = min(d, p.limit)
	d = d/2 + rand.N(d/2+1)
	return max(d, atLeast), true
}

// wait sleeps for d, or until ctx ends; it reports false without waiting
// when ctx would end before d has passed.
func wait(ctx context.Context, d time.Duration) bool {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
