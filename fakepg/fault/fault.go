// Package fault holds the fault-injection knobs of the fake payment
// gateways: declined payments; slow, failing and unanswered API calls, on
// every route or on chosen ones; and late, duplicated, reordered or lost
// webhooks.
//
// Every knob is off by default. An Injector may be changed with Set while the
// fakes serve requests, and a nil *Injector behaves as "no faults" for every
// method, so a fake built from zero-value options needs no special case.
package fault

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Faults is one set of fault knobs. The zero value injects nothing.
type Faults struct {
	// DeclineRate is the share (0..1) of card and billing payment attempts
	// the fake declines with the PG's own decline error.
	DeclineRate float64
	// Latency is waited before every API call is handled, so a client
	// that gives up first leaves nothing changed.
	Latency time.Duration
	// RouteLatency slows down the calls of chosen routes. By default the
	// call is handled at once and its answer held back (see RouteLatency);
	// every matching entry adds up.
	RouteLatency []RouteLatency
	// DropResponse lists routes whose calls are handled (the change is
	// stored and its webhooks queued) and then left unanswered: the
	// connection is closed, so the client sees EOF or a reset after it
	// sent the whole request. A matching RouteLatency is waited first.
	DropResponse []Route
	// ErrorRate is the share (0..1) of API calls answered with HTTP 500 in
	// the PG's error shape.
	ErrorRate float64
	// FailRoutes lists routes whose calls are all answered as ErrorRate's
	// are, without being handled: the PG's HTTP 500, nothing changed.
	FailRoutes []Route
	// WebhookDelay makes each webhook delivery start this late.
	WebhookDelay time.Duration
	// WebhookDuplicate delivers every webhook twice.
	WebhookDuplicate bool
	// WebhookReorder holds webhooks for a short window and delivers each
	// batch in reverse order (see package hook).
	WebhookReorder bool
	// WebhookDropRate is the share (0..1) of webhooks never sent, not even
	// retried; package hook records them as dropped.
	WebhookDropRate float64
}

// clone returns f with slices of its own, so neither copy can change the
// other's.
func (f Faults) clone() Faults {
	f.RouteLatency = slices.Clone(f.RouteLatency)
	f.DropResponse = slices.Clone(f.DropResponse)
	f.FailRoutes = slices.Clone(f.FailRoutes)
	return f
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
	return &Injector{f: f.clone(), rnd: rnd}
}

// Set replaces the current faults. It does nothing on a nil Injector.
func (i *Injector) Set(f Faults) {
	if i == nil {
		return
	}
	f = f.clone()
	i.mu.Lock()
	defer i.mu.Unlock()
	i.f = f
}

// Get returns a copy of the current faults; a nil Injector returns the
// zero Faults. To switch one knob on, change the copy and Set it.
func (i *Injector) Get() Faults {
	return i.current().clone()
}

// current returns the current faults without copying the slices, which
// Set never changes in place, so they may be read but not written.
func (i *Injector) current() Faults {
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

// DropWebhook reports whether this webhook should never be sent, which is
// true with probability WebhookDropRate.
func (i *Injector) DropWebhook() bool {
	if i == nil {
		return false
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.draw(i.f.WebhookDropRate)
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
