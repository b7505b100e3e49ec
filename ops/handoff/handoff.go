package handoff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cloudflare/tableflip"
)

// Defaults for the zero values of the Options durations.
const (
	DefaultReadyTimeout    = 30 * time.Second
	DefaultDrainWindow     = time.Second
	DefaultShutdownTimeout = 15 * time.Second
)

// parentWaitSlack is added to DrainWindow+ShutdownTimeout when Upgrade waits
// for the previous generation to exit: the process start and exit on top.
const parentWaitSlack = 5 * time.Second

// ErrUpgradeInProgress is returned by Upgrade while another upgrade of this
// process is running.
var ErrUpgradeInProgress = errors.New("an upgrade is already in progress")

// Options configures a Server. Zero or negative durations select the defaults.
type Options struct {
	// PIDFile, if set, is written with the PID of each process when it becomes
	// ready (temporary file and rename), before the previous process exits.
	// A relative name is resolved against the first process's working
	// directory. Point systemd's PIDFile= at it.
	PIDFile string

	// Ready is the new process's readiness check. Serve runs it before the
	// process accepts any connection and before it signals readiness, so a
	// failing or hanging check costs no request: the old process keeps
	// serving. Do not check readiness by dialing the listener address: that
	// socket is shared, and the old process may answer. Call the handler in
	// process instead (HandlerProbe), and ping the database. Nil means ready.
	Ready func(ctx context.Context) error

	// ReadyTimeout bounds both the Ready check and the time the old process
	// waits for the new one (tableflip's upgrade timeout, after which the new
	// process is killed). Default DefaultReadyTimeout.
	ReadyTimeout time.Duration

	// DrainWindow is how long the old process keeps answering, with
	// "Connection: close", after it closed its listener. Default
	// DefaultDrainWindow.
	DrainWindow time.Duration

	// ShutdownTimeout bounds http.Server.Shutdown after the drain. When it
	// expires, the remaining connections are closed and Serve returns an
	// error. Default DefaultShutdownTimeout.
	ShutdownTimeout time.Duration

	// Logger receives the upgrade and drain events. Nil discards them.
	Logger *slog.Logger

	// OnUpgrade, if set, is told the outcome of every upgrade this process
	// attempted (nil: the new process took over), e.g. to count handoffs.
	OnUpgrade func(err error)

	// OnDrain, if set, is called once when the drain starts (after an
	// upgrade, on SIGINT or SIGTERM, or when Serve's context ends), before
	// the drain window: the process should report itself not ready, so
	// that load balancers and Kubernetes stop sending it requests.
	OnDrain func()
}

// upgrader is the part of *tableflip.Upgrader that Server uses.
type upgrader interface {
	ListenWithCallback(network, addr string, create func(network, addr string) (net.Listener, error)) (net.Listener, error)
	Listener(network, addr string) (net.Listener, error)
	Ready() error
	Exit() <-chan struct{}
	Upgrade() error
	Stop()
	HasParent() bool
	WaitForParent(ctx context.Context) error
}

// Server hands its listening socket to a new binary and drains the old one.
// Create it with New.
type Server struct {
	upg        upgrader
	opts       Options
	log        *slog.Logger
	parentWait time.Duration

	served    atomic.Bool
	upgrading atomic.Bool
	draining  atomic.Bool
}

// New creates the Server of this process. It fails on a second call in the
// same process (tableflip allows one upgrader) and on Windows.
func New(opts Options) (*Server, error) {
	opts = withDefaults(opts)
	upg, err := tableflip.New(tableflip.Options{
		UpgradeTimeout: opts.ReadyTimeout,
		PIDFile:        opts.PIDFile,
	})
	if err != nil {
		return nil, fmt.Errorf("create upgrader: %w", err)
	}
	return newServer(upg, opts), nil
}

func newServer(upg upgrader, opts Options) *Server {
	opts = withDefaults(opts)
	return &Server{
		upg:        upg,
		opts:       opts,
		log:        opts.Logger,
		parentWait: opts.DrainWindow + opts.ShutdownTimeout + parentWaitSlack,
	}
}

func withDefaults(opts Options) Options {
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	if opts.DrainWindow <= 0 {
		opts.DrainWindow = DefaultDrainWindow
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return opts
}

// Listen returns the listener inherited from the previous process for the same
// network and address string, or creates a new one. The key is the literal
// address: "127.0.0.1:0" is inherited by a process started with the same
// arguments, not by one that asks for the port it was given. Call it before
// Serve.
func (s *Server) Listen(network, addr string) (net.Listener, error) {
	// tableflip keeps only the text of an error creating the socket; keep
	// the error itself (a *net.OpError naming the address), so that
	// callers can tell a busy port with errors.Is(err, syscall.EADDRINUSE).
	var createErr error
	ln, err := s.upg.ListenWithCallback(network, addr, func(network, addr string) (net.Listener, error) {
		var lc net.ListenConfig
		ln, err := lc.Listen(context.Background(), network, addr)
		createErr = err
		return ln, err
	})
	if createErr != nil {
		return nil, createErr
	}
	if err != nil {
		return nil, fmt.Errorf("listen %s %s: %w", network, addr, err)
	}
	return ln, nil
}

// Inherited returns the listener the previous process passed on for the
// same network and address string, or nil if it passed none; unlike
// Listen it never creates one. A process whose address differs from the
// one its predecessor listened on (another configuration or version)
// can keep the old socket rather than fail to bind beside it.
func (s *Server) Inherited(network, addr string) (net.Listener, error) {
	ln, err := s.upg.Listener(network, addr)
	if err != nil {
		return nil, fmt.Errorf("inherit %s %s: %w", network, addr, err)
	}
	return ln, nil
}

// HasParent reports whether this process was started by an upgrade, so that
// start-up-only work (such as deleting a stale Unix socket) can be skipped.
func (s *Server) HasParent() bool {
	return s.upg.HasParent()
}

// Serve runs Options.Ready, serves srv on ln, and signals readiness. It
// returns when this process should exit:
//
//   - after a successful upgrade (SIGHUP or Upgrade), once the drain and
//     Shutdown have finished: nil;
//   - on SIGINT, SIGTERM or ctx done, after the same drain and Shutdown: nil;
//   - if the readiness check fails, srv stops serving on its own, or Shutdown
//     exceeds ShutdownTimeout: an error.
//
// Serve wraps srv.Handler to add the drain header, and always closes ln.
// It may be called once. A nil srv.Handler is refused rather than read as
// http.DefaultServeMux, on which imported packages register handlers of
// their own (net/http/pprof's profiles, in this binary).
func (s *Server) Serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	if !s.served.CompareAndSwap(false, true) {
		ln.Close()
		return errors.New("serve called more than once")
	}
	defer s.upg.Stop()
	if srv.Handler == nil {
		ln.Close()
		return errors.New("serve: the server has no handler (http.DefaultServeMux is never served)")
	}

	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)

	if err := s.checkReady(ctx); err != nil {
		ln.Close()
		return err
	}

	srv.Handler = s.drainHandler(srv.Handler)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	if err := s.upg.Ready(); err != nil {
		srv.Close()
		<-served
		return fmt.Errorf("signal ready: %w", err)
	}
	s.log.Info("serving", "addr", ln.Addr().String(), "inherited", s.upg.HasParent())
	// Ready: a later failure is no start-up failure for the parent to
	// report, and this process's own upgrades set their own file.
	os.Unsetenv(envReport)

	var reason string
	for reason == "" {
		select {
		case <-s.upg.Exit():
			reason = "upgraded"
		case <-ctx.Done():
			reason = "context done"
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				go func() { _ = s.Upgrade() }() // Upgrade logs its own result.
				continue
			}
			reason = sig.String()
		case err := <-served:
			return fmt.Errorf("serve http: %w", err)
		}
	}
	s.upg.Stop()
	return s.drain(srv, ln, served, reason)
}

// checkReady runs Options.Ready bounded by ReadyTimeout.
func (s *Server) checkReady(ctx context.Context) error {
	if s.opts.Ready == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.ReadyTimeout)
	defer cancel()
	if err := s.opts.Ready(ctx); err != nil {
		return fmt.Errorf("readiness check: %w", err)
	}
	return nil
}

// drain stops accepting, answers with "Connection: close" for DrainWindow, then
// shuts srv down within ShutdownTimeout. served yields srv.Serve's result.
func (s *Server) drain(srv *http.Server, ln net.Listener, served <-chan error, reason string) error {
	// Closing this process's copy of the listener leaves the socket open in
	// the new process (if any): connections queue there, none is refused.
	if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		s.log.Warn("close listener", "error", err)
	}
	s.draining.Store(true)
	if s.opts.OnDrain != nil {
		s.opts.OnDrain()
	}
	s.log.Info("draining", "reason", reason, "window", s.opts.DrainWindow)
	time.Sleep(s.opts.DrainWindow)

	ctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(ctx)
	<-served // srv.Serve returned when ln was closed.
	if err != nil {
		srv.Close()
		return fmt.Errorf("shutdown within %s: %w", s.opts.ShutdownTimeout, err)
	}
	s.log.Info("stopped", "reason", reason)
	return nil
}

// drainHandler sets "Connection: close" on every response written while the
// server drains, so that net/http closes the connection after the response and
// the client does not reuse it.
func (s *Server) drainHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// Upgrade starts the binary now at argv[0] with the listening socket and waits
// until it is ready (nil), exits, or is not ready within ReadyTimeout (error;
// tableflip kills it). On error this process keeps serving. On success Serve
// drains and returns. One upgrade runs at a time: a concurrent call returns
// ErrUpgradeInProgress. If this process is itself the result of an upgrade
// whose parent is still draining, Upgrade first waits for the parent to exit.
// Every outcome is logged.
func (s *Server) Upgrade() error {
	if !s.upgrading.CompareAndSwap(false, true) {
		s.log.Warn("upgrade refused", "error", ErrUpgradeInProgress)
		return ErrUpgradeInProgress
	}
	defer s.upgrading.Store(false)
	err := s.upgrade()
	if s.opts.OnUpgrade != nil {
		s.opts.OnUpgrade(err)
	}
	return err
}

// upgrade runs one upgrade for Upgrade.
func (s *Server) upgrade() error {
	if err := s.waitForParent(); err != nil {
		s.log.Error("upgrade failed", "error", err)
		return err
	}
	s.log.Info("upgrade started", "ready_timeout", s.opts.ReadyTimeout)
	start := time.Now()
	if err := withReport(s.upg.Upgrade); err != nil {
		err = fmt.Errorf("upgrade: %w", err)
		s.log.Error("upgrade failed", "error", err, "elapsed", time.Since(start))
		return err
	}
	s.log.Info("upgrade succeeded", "elapsed", time.Since(start))
	return nil
}

// waitForParent waits for the previous generation to exit, bounded by its
// drain and shutdown time.
func (s *Server) waitForParent() error {
	if !s.upg.HasParent() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.parentWait)
	defer cancel()
	err := s.upg.WaitForParent(ctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("upgrade: previous process still running after %s", s.parentWait)
	default:
		// The parent is gone but misbehaved on its way out; that does not stop
		// this upgrade.
		s.log.Warn("previous process exited uncleanly", "error", err)
		return nil
	}
}
