package fakepg

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/paymentctl/paymentctl/fakepg/fault"
	"github.com/paymentctl/paymentctl/fakepg/hook"
	"github.com/paymentctl/paymentctl/fakepg/iamport"
	"github.com/paymentctl/paymentctl/fakepg/portone"
	"github.com/paymentctl/paymentctl/fakepg/toss"
)

// Names accepted by Options.Only.
const (
	OnlyIamport = "iamport"
	OnlyToss    = "toss"
	OnlyPortOne = "portone"
)

// Default listen addresses: loopback on the originals' ports
// (iamport.DefaultPort, toss.DefaultPort) and on portone.DefaultPort.
const (
	DefaultIamportAddr = "127.0.0.1:10851"
	DefaultTossAddr    = "127.0.0.1:30771"
	DefaultPortOneAddr = "127.0.0.1:10861"
)

// Connection limits of the fakes' servers: readHeaderTimeout bounds how
// long a client may take to send its headers, readTimeout a whole
// request, writeTimeout the time to answer one (far above any Latency a
// test injects), idleTimeout a keep-alive connection between requests.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 10 * time.Minute
	idleTimeout       = 2 * time.Minute
)

// Options configures Start. The zero value starts the three fakes on
// their default loopback ports with their default credentials, no webhook
// target and no faults.
type Options struct {
	// IamportAddr, TossAddr and PortOneAddr are the listen addresses; ""
	// means DefaultIamportAddr, DefaultTossAddr, DefaultPortOneAddr. A
	// port of 0 picks a free one; an empty host (":0") listens on every
	// interface.
	IamportAddr, TossAddr, PortOneAddr string
	// Only starts a single fake: "" starts all three, OnlyIamport,
	// OnlyToss or OnlyPortOne just that one.
	Only string
	// WebhookURL is where every fake sends webhooks; "" records
	// deliveries without sending them. IamportWebhookURL,
	// TossWebhookURL and PortOneWebhookURL, when set, override it for one
	// fake.
	WebhookURL                                           string
	IamportWebhookURL, TossWebhookURL, PortOneWebhookURL string
	// WebhookSelfSink sends the webhooks of a fake left without a target
	// to its own POST /internal/webhook, which checks and acknowledges
	// them, instead of only recording them.
	WebhookSelfSink bool
	// WebhookClient, when set, returns the HTTP client the named fake
	// (OnlyIamport, OnlyToss or OnlyPortOne) delivers its webhooks with, for instance
	// one whose Transport observes every attempt; nil, or a nil result,
	// means the default client of package hook.
	WebhookClient func(name string) *http.Client
	// WebhookDrain is how long Close lets queued webhooks make their
	// first attempt before it cancels them; retries still pending are
	// canceled either way. Zero cancels everything at once.
	WebhookDrain time.Duration
	// Faults are the initial fault knobs. Each fake gets its own
	// injector starting from them, reachable through its Faults method
	// (or Fakes.SetFaults for all). Route patterns apply to whichever
	// fake serves a matching route: Iamport's and PortOne V2's both have
	// GET /payments/{id}, so "GET /payments/*" slows both.
	Faults fault.Faults
	// Wrap, when set, wraps each fake's handler before it is served,
	// with the fake's name (OnlyIamport, OnlyToss or OnlyPortOne); for instance a
	// middleware that logs every call. The handler must reach the fake's
	// ResponseWriter, as the fakes flush their answer before sending a
	// webhook (http.ResponseController unwraps writers with Unwrap).
	Wrap func(name string, h http.Handler) http.Handler
	// Logf receives the fakes' diagnostics, each line prefixed with the
	// fake's name and ": "; nil discards them.
	Logf func(format string, args ...any)
	// ServerLogf receives the HTTP servers' own errors (failed accepts,
	// handler panics, malformed requests), prefixed like Logf; nil means
	// Logf.
	ServerLogf func(format string, args ...any)
	// Listen, if set, opens the fakes' listeners instead of net.Listen,
	// e.g. a socket-handoff server's Listen, so a re-executed process
	// inherits the fakes' ports with the API's. Nil listens normally.
	Listen func(network, addr string) (net.Listener, error)
	// Capacity bounds each record store of every fake (payments, billing
	// keys, ...); 0 means each fake's default (skeleton.DefaultCapacity).
	Capacity int
	// IamportKey, IamportSecret, TossSecretKey, PortOneSecret,
	// PortOneStoreID and PortOneWebhookSecrets override the fakes'
	// credentials; empty keeps each fake's default.
	IamportKey, IamportSecret string
	TossSecretKey             string
	PortOneSecret             string
	PortOneStoreID            string
	PortOneWebhookSecrets     []string
}

// Fakes are the running fakes started by Start. A fake not started (see
// Options.Only) has a nil server and empty URLs.
type Fakes struct {
	Iamport    *iamport.Server
	Toss       *toss.Server
	PortOne    *portone.Server
	IamportURL string // base URL, http://127.0.0.1:port
	TossURL    string
	PortOneURL string
	// IamportWebhookURL, TossWebhookURL and PortOneWebhookURL are where
	// each fake sent its webhooks when it started ("" when they are only
	// recorded); the servers' SetWebhookURL changes that later.
	IamportWebhookURL, TossWebhookURL, PortOneWebhookURL string

	drain time.Duration

	mu      sync.Mutex
	closed  bool
	running []*running
}

// fake is what Fakes needs of a fake: *iamport.Server, *toss.Server and
// *portone.Server, each built on fakepg/skeleton.
type fake interface {
	http.Handler
	Faults() *fault.Injector
	Webhooks() *hook.Sender
	Close() // stops the webhook sender
}

// member is one fake Start may run: its name, where it listens, its own
// webhook target, and how to build it once its base URL and webhook
// target are known (recording them in Fakes).
type member struct {
	name     string
	addr     string
	override string
	build    func(base, target string) fake
}

// running is one fake on its listener.
type running struct {
	name    string
	fake    fake
	srv     *http.Server
	stopped chan struct{}
}

// Start listens on the configured addresses and serves the fakes in the
// background until Close. ctx only bounds the startup (the listen calls).
// If any listener fails, those already opened are closed and the error is
// returned.
func Start(ctx context.Context, opts Options) (*Fakes, error) {
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	serverLogf := opts.ServerLogf
	if serverLogf == nil {
		serverLogf = logf
	}
	f := &Fakes{drain: opts.WebhookDrain}
	members, err := f.members(opts, logf)
	if err != nil {
		return nil, err
	}

	listen := opts.Listen
	if listen == nil {
		var lc net.ListenConfig
		listen = func(network, addr string) (net.Listener, error) { return lc.Listen(ctx, network, addr) }
	}
	lns := make([]net.Listener, 0, len(members))
	for _, m := range members {
		ln, err := listen("tcp", m.addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("start fake %s: %w", m.name, err)
		}
		lns = append(lns, ln)
	}
	for i, m := range members {
		base := baseURL(lns[i].Addr())
		fk := m.build(base, webhookTarget(opts, m.override, base))
		f.serve(m.name, lns[i], fk, opts.Wrap, prefixed(logf, m.name), prefixed(serverLogf, m.name))
	}
	return f, nil
}

// members lists the fakes opts asks for, in a fixed order.
func (f *Fakes) members(opts Options, logf func(string, ...any)) ([]member, error) {
	all := []member{
		{OnlyIamport, orDefault(opts.IamportAddr, DefaultIamportAddr), opts.IamportWebhookURL, func(base, target string) fake {
			f.IamportURL, f.IamportWebhookURL = base, target
			f.Iamport = iamport.New(iamport.Options{
				Key:        opts.IamportKey,
				Secret:     opts.IamportSecret,
				WebhookURL: target,
				Faults:     fault.NewInjector(opts.Faults, nil),
				Logf:       prefixed(logf, OnlyIamport),
				HTTPClient: webhookClient(opts, OnlyIamport),
				Capacity:   opts.Capacity,
			})
			return f.Iamport
		}},
		{OnlyToss, orDefault(opts.TossAddr, DefaultTossAddr), opts.TossWebhookURL, func(base, target string) fake {
			f.TossURL, f.TossWebhookURL = base, target
			f.Toss = toss.New(toss.Options{
				SecretKey:  opts.TossSecretKey,
				WebhookURL: target,
				Faults:     fault.NewInjector(opts.Faults, nil),
				Logf:       prefixed(logf, OnlyToss),
				HTTPClient: webhookClient(opts, OnlyToss),
				Capacity:   opts.Capacity,
			})
			return f.Toss
		}},
		{OnlyPortOne, orDefault(opts.PortOneAddr, DefaultPortOneAddr), opts.PortOneWebhookURL, func(base, target string) fake {
			f.PortOneURL, f.PortOneWebhookURL = base, target
			f.PortOne = portone.New(portone.Options{
				Secret:         opts.PortOneSecret,
				StoreID:        opts.PortOneStoreID,
				WebhookSecrets: opts.PortOneWebhookSecrets,
				WebhookURL:     target,
				Faults:         fault.NewInjector(opts.Faults, nil),
				Logf:           prefixed(logf, OnlyPortOne),
				HTTPClient:     webhookClient(opts, OnlyPortOne),
				Capacity:       opts.Capacity,
			})
			return f.PortOne
		}},
	}
	if opts.Only == "" {
		return all, nil
	}
	for _, m := range all {
		if m.name == opts.Only {
			return []member{m}, nil
		}
	}
	return nil, fmt.Errorf("start fakes: unknown fake %q (want %q, %q or %q)", opts.Only, OnlyIamport, OnlyToss, OnlyPortOne)
}

// webhookTarget is where a fake at base sends its webhooks: its own
// override, else the shared target, else its self-sink if asked for.
func webhookTarget(opts Options, override, base string) string {
	switch {
	case override != "":
		return override
	case opts.WebhookURL != "":
		return opts.WebhookURL
	case opts.WebhookSelfSink:
		return base + "/internal/webhook"
	}
	return ""
}

// webhookClient is the client Options.WebhookClient gives the named fake.
func webhookClient(opts Options, name string) *http.Client {
	if opts.WebhookClient == nil {
		return nil
	}
	return opts.WebhookClient(name)
}

// SetFaults replaces the fault knobs of every fake started, as each
// fake's Faults().Set does for one. Tests switch a fault on for one step
// and back off (Set(fault.Faults{})) after it.
func (f *Fakes) SetFaults(faults fault.Faults) {
	for _, r := range f.running {
		r.fake.Faults().Set(faults)
	}
}

// serve runs fk, wrapped by wrap if set, on ln in a goroutine. logf
// receives diagnostics, serverLogf the server's errors. The requests'
// contexts are canceled when Close begins, which cuts injected latencies
// short (package fault then leaves the call unanswered) instead of letting
// the graceful shutdown wait for them.
func (f *Fakes) serve(name string, ln net.Listener, fk fake, wrap func(string, http.Handler) http.Handler, logf, serverLogf func(string, ...any)) {
	var h http.Handler = fk
	if wrap != nil {
		h = wrap(name, h)
	}
	base, cancel := context.WithCancel(context.Background())
	r := &running{
		name: name,
		fake: fk,
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			ErrorLog:          log.New(logWriter(serverLogf), "", 0),
			BaseContext:       func(net.Listener) context.Context { return base },
		},
		stopped: make(chan struct{}),
	}
	r.srv.RegisterOnShutdown(cancel)
	f.running = append(f.running, r)
	logf("listening on %s", ln.Addr())
	go func() {
		defer close(r.stopped)
		defer cancel()
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			serverLogf("serve: %v", err)
		}
	}()
}

// Close shuts the servers down gracefully (in-flight calls may finish until
// ctx is done, then connections are closed; calls held by an injected
// latency are left unanswered at once), lets queued webhooks make
// their first attempt for up to Options.WebhookDrain (or until ctx is
// done), then stops the webhook senders, canceling pending deliveries and
// retries. It returns the shutdown errors, such as ctx's when calls were
// still running. Calling it again does nothing.
func (f *Fakes) Close(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	var errs []error
	for _, r := range f.running {
		if err := r.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop fake %s: %w", r.name, err))
			r.srv.Close()
		}
		<-r.stopped
	}
	// Only once no call can trigger new webhooks.
	if f.drain > 0 {
		dctx, cancel := context.WithTimeout(ctx, f.drain)
		defer cancel()
		for _, r := range f.running {
			drainFirstAttempts(dctx, r.fake.Webhooks())
		}
	}
	for _, r := range f.running {
		r.fake.Close()
	}
	return errors.Join(errs...)
}

// drainPoll is how often drainFirstAttempts looks at the deliveries.
const drainPoll = 10 * time.Millisecond

// drainFirstAttempts waits until every delivery of h has been attempted at
// least once or has finished, or until ctx is done. hook.Sender.Wait
// would also wait for retries, which take minutes on the real schedules.
func drainFirstAttempts(ctx context.Context, h *hook.Sender) {
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	for {
		queued := false
		for _, d := range h.Deliveries() {
			if !d.Finished() && len(d.Attempts) == 0 {
				queued = true
				break
			}
		}
		if !queued {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// baseURL turns a listener address into a URL clients can use: a wildcard
// host (":0", "0.0.0.0", "[::]") becomes 127.0.0.1.
func baseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// prefixed returns logf with every line prefixed by the fake's name.
func prefixed(logf func(string, ...any), name string) func(string, ...any) {
	prefix := name + ": "
	return func(format string, args ...any) { logf(prefix+format, args...) }
}

// logWriter adapts Logf to the io.Writer that http.Server's ErrorLog needs.
type logWriter func(format string, args ...any)

func (w logWriter) Write(p []byte) (int, error) {
	n := len(p)
	if n > 0 && p[n-1] == '\n' {
		p = p[:n-1]
	}
	w("%s", p)
	return n, nil
}
