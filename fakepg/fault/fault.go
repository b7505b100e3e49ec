// Package fault holds the fault-injection knobs of the fake payment
// gateways: declined payments, slow and failing API calls, and late,
// duplicated or reordered webhooks.
//
// Every knob is off by default. An Injector may be changed with Set while the
// fakes serve requests, and a nil *Injector behaves as "no faults" for every
// method, so a fake built from zero-value options needs no special case.
package fault

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Faults is one set of fault knobs. The zero value injects nothing.
type Faults struct {
	// DeclineRate is the share (0..1) of card and billing payment attempts
	// the fake declines with the PG's own decline error.
	DeclineRate float64
	// Latency is added before every API answer.
	Latency time.Duration
	// ErrorRate is the share (0..1) of API calls answered with HTTP 500 in
	// the PG's error shape.
	ErrorRate float64
	// WebhookDelay makes each webhook delivery start this late.
	WebhookDelay time.Duration
	// WebhookDuplicate delivers every webhook twice.
	WebhookDuplicate bool
	// WebhookReorder holds webhooks for a short window and delivers each
	// batch in reverse order (see package hook).
	WebhookReorder bool
}

// Injector applies a Faults value. It is safe for concurrent use.
type Injector struct {
	mu  sync.Mutex
	f   Faults
	rnd func() float64
}

// NewInjector returns an Injector starting with f. rnd draws uniform numbers
// in [0, 1) and is always called with the Injector's lock held, so it need
// not be safe for concurrent use; nil means math/rand/v2's Float64.
func NewInjector(f Faults, rnd func() float64) *Injector {
	if rnd == nil {
		rnd = rand.Float64
	}
	return &Injector{f: f, rnd: rnd}
}

// Set replaces the current faults. It does nothing on a nil Injector.
func (i *Injector) Set(f Faults) {
	if i == nil {
		return
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.f = f
}

// Get returns the current faults; a nil Injector returns the zero Faults.
func (i *Injector) Get() Faults {
	if i == nil {
		return Faults{}
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.f
}

// Decline reports whether this payment attempt should be declined, which is
// true with probability DeclineRate.
func (i *Injector) Decline() bool {
	if i == nil {
		return false
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.draw(i.f.DeclineRate)
}

// Fail reports whether this API call should be answered with an error,
// which is true with probability ErrorRate.
func (i *Injector) Fail() bool {
	if i == nil {
		return false
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.draw(i.f.ErrorRate)
}

// draw returns true with probability rate. Rates at or below 0 never fire and
// rates at or above 1 always do, without consuming a random number. The
// caller holds i.mu.
func (i *Injector) draw(rate float64) bool {
	switch {
	case rate <= 0:
		return false
	case rate >= 1:
		return true
	default:
		return i.rnd() < rate
	}
}

// Middleware wraps next with the API faults: it first waits Latency (or
// until the request is canceled), then with probability ErrorRate calls
// fail(w, r) instead of next. fail writes the PG's error answer; nil means a
// plain-text HTTP 500. The knobs are read per request, so Set takes effect at
// once. On a nil Injector Middleware returns next unchanged.
func (i *Injector) Middleware(next http.Handler, fail func(w http.ResponseWriter, r *http.Request)) http.Handler {
	if i == nil {
		return next
	}
	if fail == nil {
		fail = func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "injected fault", http.StatusInternalServerError)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := i.Get().Latency; d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if i.Fail() {
			fail(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
