package fault

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"
)

// Route selects API calls by method and URL path, for the per-route faults
// (Faults.RouteLatency, Faults.DropResponse, Faults.FailRoutes). Its text form, which
// ParseRoute reads and String writes, is "[METHOD ]PATH":
//
//	POST /v1/payments/*/cancel   a Toss cancel, whatever the paymentKey
//	/payments/cancel             an Iamport cancel, by any method
//	GET /payments/*              an Iamport payment look-up
//
// PATH is a path.Match pattern matched against the whole URL path (no query
// string): * matches any run of characters within one segment (never a
// "/"), ? one such character, [...] a class. One list serves every fake:
// a route exists in one fake only, except the /internal ones and GET
// /payments/*, which Iamport and PortOne V2 both serve.
type Route struct {
	// Method is the HTTP method in upper case; "" matches any.
	Method string
	// Path is the path.Match pattern; it starts with "/".
	Path string
}

// ParseRoute reads a Route from its text form "[METHOD ]PATH". The method
// is upper-cased; the path must start with "/" and be a valid path.Match
// pattern.
func ParseRoute(s string) (Route, error) {
	s = strings.TrimSpace(s)
	r := Route{Path: s}
	if method, rest, ok := strings.Cut(s, " "); ok {
		r.Method, r.Path = strings.ToUpper(method), strings.TrimSpace(rest)
		if !isToken(r.Method) {
			return Route{}, fmt.Errorf("route %q: %q is not an HTTP method", s, method)
		}
	}
	if !strings.HasPrefix(r.Path, "/") {
		return Route{}, fmt.Errorf("route %q: want [METHOD ]PATH with PATH starting with /, like \"POST /v1/payments/*/cancel\"", s)
	}
	if _, err := path.Match(r.Path, ""); err != nil {
		return Route{}, fmt.Errorf("route %q: %w", s, err)
	}
	return r, nil
}

// String returns the route as ParseRoute reads it.
func (r Route) String() string {
	if r.Method == "" {
		return r.Path
	}
	return r.Method + " " + r.Path
}

// Match reports whether req is a call r selects. A malformed pattern
// matches nothing.
func (r Route) Match(req *http.Request) bool {
	if r.Method != "" && !strings.EqualFold(r.Method, req.Method) {
		return false
	}
	ok, err := path.Match(r.Path, req.URL.Path)
	return err == nil && ok
}

// RouteLatency slows down the answers of the calls Route selects.
type RouteLatency struct {
	Route   Route
	Latency time.Duration
	// Before waits Latency before the call is handled, like
	// Faults.Latency: the change happens only after the wait, and not at
	// all if the client gives up first.
	//
	// The default, false, handles the call at once (its change is stored
	// and its webhooks are queued) and holds the answer back for Latency:
	// the gateway did the work but answered late. A Latency longer than
	// the client's timeout thus makes the client give up on a call that
	// took effect.
	Before bool
}

// ParseRouteLatency reads a RouteLatency from "ROUTE=DURATION", the form of
// `paymentctl fake --latency`, e.g. "POST /v1/payments/*/cancel=15s". The
// route is read by ParseRoute and the duration by time.ParseDuration; it
// must not be negative. The result waits after handling (Before is false).
func ParseRouteLatency(s string) (RouteLatency, error) {
	i := strings.LastIndex(s, "=")
	if i < 0 {
		return RouteLatency{}, fmt.Errorf("%q: want ROUTE=DURATION, like \"POST /v1/payments/*/cancel=15s\"", s)
	}
	r, err := ParseRoute(s[:i])
	if err != nil {
		return RouteLatency{}, err
	}
	d, err := time.ParseDuration(strings.TrimSpace(s[i+1:]))
	if err != nil {
		return RouteLatency{}, fmt.Errorf("%q: %w", s, err)
	}
	if d < 0 {
		return RouteLatency{}, fmt.Errorf("%q: %w", s, errNegative)
	}
	return RouteLatency{Route: r, Latency: d}, nil
}

// String returns rl as ParseRouteLatency reads it, with " (before)" added
// when Before is set, which that form cannot say.
func (rl RouteLatency) String() string {
	s := rl.Route.String() + "=" + rl.Latency.String()
	if rl.Before {
		s += " (before)"
	}
	return s
}

var errNegative = errors.New("latency must not be negative")

// isToken reports whether s is a non-empty HTTP token of letters, as every
// method the fakes serve is.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}
