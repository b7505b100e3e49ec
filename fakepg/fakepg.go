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
	"github.com/paymentctl/paymentctl/fakepg/iamport"
	"github.com/paymentctl/paymentctl/fakepg/toss"
)

// Names accepted by Options.Only.
const (
	OnlyIamport = "iamport"
	OnlyToss    = "toss"
)

// Default listen addresses: loopback on the originals' ports
// (iamport.DefaultPort, toss.DefaultPort).
const (
	DefaultIamportAddr = "127.0.0.1:10851"
	DefaultTossAddr    = "127.0.0.1:30771"
)

// readHeaderTimeout bounds how long a client may take to send its headers.
const readHeaderTimeout = 10 * time.Second

// Options configures Start. The zero value starts both fakes on their
// default loopback ports with their default credentials, no webhook target
// and no faults.
type Options struct {
	// IamportAddr and TossAddr are the listen addresses; "" means
	// DefaultIamportAddr / DefaultTossAddr. A port of 0 picks a free one;
	// an empty host (":0") listens on every interface.
	IamportAddr, TossAddr string
	// Only starts a single fake: "" starts both, OnlyIamport or OnlyToss
	// just that one.
	Only string
	// WebhookURL is where both fakes send webhooks; "" records deliveries
	// without sending them. IamportWebhookURL and TossWebhookURL, when
	// set, override it for one fake.
	WebhookURL                        string
	IamportWebhookURL, TossWebhookURL string
	// Faults are the initial fault knobs. Each fake gets its own
	// injector starting from them, reachable through its Faults method.
	Faults fault.Faults
	// Logf receives the fakes' diagnostics and HTTP server errors, each
	// line prefixed with the fake's name; nil discards them.
	Logf func(format string, args ...any)
	// IamportKey, IamportSecret and TossSecretKey override the accepted
	// credentials; "" keeps each fake's default.
	IamportKey, IamportSecret string
	TossSecretKey             string
}

// Fakes are the running fakes started by Start. A fake not started (see
// Options.Only) has a nil server and an empty URL.
type Fakes struct {
	Iamport    *iamport.Server
	Toss       *toss.Server
	IamportURL string // base URL, http://127.0.0.1:port
	TossURL    string

	mu      sync.Mutex
	closed  bool
	running []*running
}

// running is one fake on its listener.
type running struct {
	name    string
	srv     *http.Server
	closer  func() // stops the fake's webhook sender
	stopped chan struct{}
}

// Start listens on the configured addresses and serves the fakes in the
// background until Close. ctx only bounds the startup (the listen calls).
// If any listener fails, those already opened are closed and the error is
// returned.
func Start(ctx context.Context, opts Options) (*Fakes, error) {
	var startIamport, startToss bool
	switch opts.Only {
	case "":
		startIamport, startToss = true, true
	case OnlyIamport:
		startIamport = true
	case OnlyToss:
		startToss = true
	default:
		return nil, fmt.Errorf("start fakes: unknown fake %q (want %q or %q)", opts.Only, OnlyIamport, OnlyToss)
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}

	var lc net.ListenConfig
	var iamportLn, tossLn net.Listener
	if startIamport {
		ln, err := lc.Listen(ctx, "tcp", orDefault(opts.IamportAddr, DefaultIamportAddr))
		if err != nil {
			return nil, fmt.Errorf("start fake iamport: %w", err)
		}
		iamportLn = ln
	}
	if startToss {
		ln, err := lc.Listen(ctx, "tcp", orDefault(opts.TossAddr, DefaultTossAddr))
		if err != nil {
			if iamportLn != nil {
				iamportLn.Close()
			}
			return nil, fmt.Errorf("start fake toss: %w", err)
		}
		tossLn = ln
	}

	f := &Fakes{}
	if iamportLn != nil {
		plogf := prefixed(logf, "iamport: ")
		f.Iamport = iamport.New(iamport.Options{
			Key:        opts.IamportKey,
			Secret:     opts.IamportSecret,
			WebhookURL: orDefault(opts.IamportWebhookURL, opts.WebhookURL),
			Faults:     fault.NewInjector(opts.Faults, nil),
			Logf:       plogf,
		})
		f.IamportURL = baseURL(iamportLn.Addr())
		f.serve("iamport", iamportLn, f.Iamport, f.Iamport.Close, plogf)
	}
	if tossLn != nil {
		plogf := prefixed(logf, "toss: ")
		f.Toss = toss.New(toss.Options{
			SecretKey:  opts.TossSecretKey,
			WebhookURL: orDefault(opts.TossWebhookURL, opts.WebhookURL),
			Faults:     fault.NewInjector(opts.Faults, nil),
			Logf:       plogf,
		})
		f.TossURL = baseURL(tossLn.Addr())
		f.serve("toss", tossLn, f.Toss, f.Toss.Close, plogf)
	}
	return f, nil
}

// serve runs h on ln in a goroutine.
func (f *Fakes) serve(name string, ln net.Listener, h http.Handler, closer func(), logf func(string, ...any)) {
	r := &running{
		name: name,
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: readHeaderTimeout,
			ErrorLog:          log.New(logWriter(logf), "", 0),
		},
		closer:  closer,
		stopped: make(chan struct{}),
	}
	f.running = append(f.running, r)
	logf("listening on %s", ln.Addr())
	go func() {
		defer close(r.stopped)
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logf("serve: %v", err)
		}
	}()
}

// Close shuts both servers down gracefully (in-flight calls may finish until
// ctx is done, then connections are closed), then stops their webhook
// senders, canceling pending deliveries and retries. It returns the
// shutdown errors, such as ctx's when calls were still running. Calling it
// again does nothing.
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
	for _, r := range f.running {
		r.closer()
	}
	return errors.Join(errs...)
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

func prefixed(logf func(string, ...any), prefix string) func(string, ...any) {
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
