package fault

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"time"
)

// Middleware wraps next with the API faults, read afresh for every call so
// that Set takes effect at once. A call goes through these steps:
//
//  1. Wait Latency plus every Before RouteLatency matching the call.
//  2. With probability ErrorRate, or when a FailRoutes entry matches the
//     call, call fail(w, r) instead of next, so nothing changes. fail writes the gateway's error answer; nil means a
//     plain-text HTTP 500.
//  3. Call next. When a RouteLatency (not Before) or DropResponse matches,
//     next answers into a buffer: the change is stored and its webhooks are
//     queued while the client still waits.
//  4. Wait those RouteLatency, then write the held answer, or for
//     DropResponse close the connection without one.
//
// A wait ends early when the request's context is done: the client went
// away, or the server is shutting down (fakepg.Start cancels its requests'
// contexts at Close). The call is then left unanswered, as with
// DropResponse, and a wait of step 1 skips the call altogether.
//
// On a nil Injector Middleware returns next unchanged.
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
		f := i.current()
		before, after := f.Latency, time.Duration(0)
		for _, rl := range f.RouteLatency {
			switch {
			case !rl.Route.Match(r):
			case rl.Before:
				before += rl.Latency
			default:
				after += rl.Latency
			}
		}
		drop := matchAny(f.DropResponse, r)

		if !wait(r.Context(), before) {
			hangUp(w)
			return
		}
		if i.Fail() || matchAny(f.FailRoutes, r) {
			fail(w, r)
			return
		}
		if after <= 0 && !drop {
			next.ServeHTTP(w, r)
			return
		}
		held := &heldResponse{header: http.Header{}}
		next.ServeHTTP(held, r)
		if !wait(r.Context(), after) {
			hangUp(w)
			return
		}
		if drop {
			if !hangUp(w) {
				// No connection to close (HTTP/2, or a writer that
				// cannot hijack): make the server abort the answer.
				panic(http.ErrAbortHandler)
			}
			return
		}
		held.writeTo(w)
	})
}

// matchAny reports whether one of routes selects r.
func matchAny(routes []Route, r *http.Request) bool {
	for _, rt := range routes {
		if rt.Match(r) {
			return true
		}
	}
	return false
}

// wait waits d, or until ctx is done; it reports whether d passed.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// hangUp closes the call's connection without an answer and reports
// whether it could. The client sees EOF (or a reset) after it sent the
// request.
func hangUp(w http.ResponseWriter) bool {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// heldResponse keeps an answer until Middleware lets it out. Its Flush
// does nothing (the fakes flush before they queue webhooks), and it has
// no Unwrap, so http.ResponseController cannot reach past it.
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// Header returns the header of the held answer.
func (h *heldResponse) Header() http.Header { return h.header }

// WriteHeader keeps the first status.
func (h *heldResponse) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}

// Write adds to the held body.
func (h *heldResponse) Write(b []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return h.body.Write(b)
}

// Flush does nothing: the answer is held.
func (h *heldResponse) Flush() {}

// writeTo writes the held answer to w.
func (h *heldResponse) writeTo(w http.ResponseWriter) {
	maps.Copy(w.Header(), h.header)
	if h.status == 0 {
		h.status = http.StatusOK
	}
	w.WriteHeader(h.status)
	_, _ = w.Write(h.body.Bytes())
}
