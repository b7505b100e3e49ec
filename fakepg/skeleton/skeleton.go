// Package skeleton is the server frame the fake payment gateways share:
// the route table and its answer to unknown routes, the fault middleware,
// the webhook sender and its target, the record-store settings and the
// clock and logger every fake takes from its options.
//
// A fake builds one Server from a Config in its New, adds its routes with
// Handle and embeds it, so the fake is an http.Handler with
// SetWebhookURL, WebhookURL, Faults, Webhooks and Close. What differs
// between gateways stays in the fake: authentication, the body shapes, the
// error shape (Config.FaultAnswer and Config.NoRoute write it) and what a
// webhook looks like.
//
// Webhooks wait for the answer. A handler announces a change with
// Server.Notify; the webhook is queued once the handler returned and its
// answer was flushed, so a receiver that re-fetches at once finds the
// change (the originals fired before answering, fake-pg.md §8.12). Under
// a RouteLatency or DropResponse fault the answer is held by package
// fault and the webhook leaves while the client still waits, as from a
// gateway that acted but answered late.
package skeleton

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/paymentctl/paymentctl/fakepg/fault"
	"github.com/paymentctl/paymentctl/fakepg/hook"
	"github.com/paymentctl/paymentctl/fakepg/memstore"
)

// Defaults used when Config leaves a field zero: every fake's records
// live 3 hours after their last write, and each kind holds 10,000 (the
// originals kept 3 minutes and 1,000).
const (
	DefaultTTL      = 3 * time.Hour
	DefaultCapacity = 10000
)

// Config configures a Server: the fake's own answers, then the knobs its
// Options pass through.
type Config struct {
	// Name prefixes the skeleton's own log lines, e.g. "fake portone".
	Name string
	// DefaultBackoff is the gateway's real webhook retry schedule, used
	// when Backoff is nil.
	DefaultBackoff []time.Duration
	// FaultAnswer writes the gateway's answer to a call failed by the
	// ErrorRate fault; nil means a plain-text 500.
	FaultAnswer func(w http.ResponseWriter, r *http.Request)
	// NoRoute writes the gateway's answer to a call no route takes.
	// allow is the Allow header's value when the path exists for other
	// methods (a 405, whose Allow header NoRoute sets), "" when it does
	// not exist (a 404). Nil means the mux's plain-text answers.
	NoRoute func(w http.ResponseWriter, r *http.Request, allow string)
	// Sign, if set, signs every webhook attempt afresh (hook.Options.Sign).
	Sign func(header http.Header, body []byte)

	// WebhookURL is where webhooks go unless Notify names a URL; ""
	// records them as dropped. SetWebhookURL changes it later.
	WebhookURL string
	// TTL and Capacity bound every record store of the fake; 0 means
	// DefaultTTL / DefaultCapacity, negative means forever / unbounded.
	TTL      time.Duration
	Capacity int
	// Backoff is the webhook retry schedule; nil means DefaultBackoff, an
	// empty non-nil slice no retries.
	Backoff []time.Duration
	// Faults are the fault knobs; nil means a fresh Injector with every
	// knob off.
	Faults *fault.Injector
	// Logf receives diagnostics; nil discards them.
	Logf func(format string, args ...any)
	// Now is the clock of records and timestamps; nil means time.Now.
	// Webhook delays and retries run on real timers.
	Now func() time.Time
	// HTTPClient delivers webhooks; nil means package hook's default.
	HTTPClient *http.Client
}

// Server is the frame of one fake. Its zero value is not usable; create
// it with New.
type Server struct {
	name       string
	now        func() time.Time
	logf       func(format string, args ...any)
	store      memstore.Options
	faults     *fault.Injector
	hooks      *hook.Sender
	mux        *http.ServeMux
	noRoute    func(w http.ResponseWriter, r *http.Request, allow string)
	handler    http.Handler
	mu         sync.Mutex // guards webhookURL
	webhookURL string
}

// New returns a Server with no routes, configured by cfg.
func New(cfg Config) *Server {
	s := &Server{
		name:       cfg.Name,
		now:        cfg.Now,
		logf:       cfg.Logf,
		faults:     cfg.Faults,
		noRoute:    cfg.NoRoute,
		mux:        http.NewServeMux(),
		webhookURL: cfg.WebhookURL,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	if s.faults == nil {
		s.faults = fault.NewInjector(fault.Faults{}, nil)
	}
	backoff := cfg.Backoff
	if backoff == nil {
		backoff = cfg.DefaultBackoff
	}
	s.hooks = hook.NewSender(hook.Options{
		Client:  cfg.HTTPClient,
		Backoff: backoff,
		Faults:  s.faults,
		Logf:    s.logf,
		Now:     s.now,
		Sign:    cfg.Sign,
	})
	s.store = memstore.Options{TTL: cfg.TTL, Capacity: cfg.Capacity, Now: s.now}
	if s.store.TTL == 0 {
		s.store.TTL = DefaultTTL
	}
	if s.store.Capacity == 0 {
		s.store.Capacity = DefaultCapacity
	}
	s.handler = s.faults.Middleware(http.HandlerFunc(s.route), cfg.FaultAnswer)
	return s
}

// Handle adds a route, as http.ServeMux.Handle does ("POST
// /payments/{id}/cancel"). Its handler may call Notify.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP answers one call: the faults first, then the route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Now is the fake's clock.
func (s *Server) Now() time.Time { return s.now() }

// Logf writes a diagnostic line.
func (s *Server) Logf(format string, args ...any) { s.logf(format, args...) }

// StoreOptions are the settings of the fake's record stores
// (memstore.New), defaults applied.
func (s *Server) StoreOptions() memstore.Options { return s.store }

// SetWebhookURL changes where later webhooks go; "" stops sending them
// (they are still recorded).
func (s *Server) SetWebhookURL(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookURL = url
}

// WebhookURL returns the current webhook target.
func (s *Server) WebhookURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookURL
}

// Faults returns the fault knobs; never nil.
func (s *Server) Faults() *fault.Injector { return s.faults }

// Webhooks returns the webhook sender, whose Deliveries record what was
// sent and how each attempt went.
func (s *Server) Webhooks() *hook.Sender { return s.hooks }

// Close stops webhook deliveries and retries and waits for them.
func (s *Server) Close() { s.hooks.Close() }

// pendingKey keys a call's queued webhooks in its context.
type pendingKey struct{}

// pending are the webhooks a call announced, sent once it is answered.
type pending struct {
	mu    sync.Mutex
	hooks []webhook
}

type webhook struct {
	url    string
	header http.Header
	body   []byte
}

// Notify announces a webhook about a change the call r made: a POST of
// body with header to url, or to WebhookURL when url is "". It is sent
// once r's answer is written; called outside a call of this Server, at
// once.
func (s *Server) Notify(r *http.Request, url string, header http.Header, body []byte) {
	if url == "" {
		url = s.WebhookURL()
	}
	p, _ := r.Context().Value(pendingKey{}).(*pending)
	if p == nil {
		s.hooks.Send(url, header, body)
		return
	}
	p.mu.Lock()
	p.hooks = append(p.hooks, webhook{url, header, body})
	p.mu.Unlock()
}

// NotifyJSON is Notify with v encoded as JSON.
func (s *Server) NotifyJSON(r *http.Request, url string, header http.Header, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		s.logf("%s: encode webhook: %v", s.name, err)
		return
	}
	s.Notify(r, url, header, body)
}

// route serves a call through the mux, or through NoRoute when no
// pattern takes it, then sends the webhooks the call announced.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := &pending{}
	r = r.WithContext(context.WithValue(r.Context(), pendingKey{}, p))
	h, pattern := s.mux.Handler(r)
	switch {
	case pattern != "" || s.noRoute == nil:
		s.mux.ServeHTTP(w, r)
	default:
		probe := &statusProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		allow := ""
		if probe.status == http.StatusMethodNotAllowed {
			allow = probe.header.Get("Allow")
		}
		s.noRoute(w, r, allow)
	}
	// The change is stored and the answer written: only now may the
	// receiver hear about it.
	_ = http.NewResponseController(w).Flush()
	p.mu.Lock()
	hooks := p.hooks
	p.mu.Unlock()
	for _, h := range hooks {
		s.hooks.Send(h.url, h.header, h.body)
	}
}

// statusProbe records the status the mux's own 404/405 handler would
// write, and its Allow header.
type statusProbe struct {
	header http.Header
	status int
}

// Header returns the header the mux's handler sets.
func (p *statusProbe) Header() http.Header { return p.header }

// WriteHeader keeps the first status.
func (p *statusProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}

// Write discards the plain-text body.
func (p *statusProbe) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}

// WriteJSON writes v as a JSON answer with status; if v cannot be
// encoded, fallback is written with status 500 instead.
func WriteJSON(w http.ResponseWriter, status int, v any, fallback []byte) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, fallback
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
