package updater

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paymentctl/paymentctl/buildinfo"
	"github.com/paymentctl/paymentctl/sdk"
)

// Defaults for the zero values of the Options durations.
const (
	DefaultHeartbeat     = 2 * time.Second
	DefaultHealthTimeout = 60 * time.Second
	DefaultStageTimeout  = 20 * time.Minute
	DefaultSwitchTimeout = 3 * time.Minute
	DefaultWriteTimeout  = time.Minute
)

// healthInterval is how often the master asks a new process for its commit.
const healthInterval = 200 * time.Millisecond

// agentReadTimeout bounds reading a request, which is small and signed.
const agentReadTimeout = 30 * time.Second

// Releaser is the instance side of a rollout; *Releases implements it.
type Releaser interface {
	// Resolve turns a ref into the target commit (on the master).
	Resolve(ctx context.Context, ref string) (Target, error)
	// Stage fetches, builds and verifies the target without touching
	// what serves.
	Stage(ctx context.Context, t Target) (*Staged, error)
	// Switch makes the staged hash current and hands off to it; on error
	// the old process still serves the old release.
	Switch(ctx context.Context, hash string) error
	// Rollback goes from hash, which serves, back to the previous release.
	Rollback(ctx context.Context, hash string) error
	// State describes the release directory.
	State() ReleaseState
}

// Probe returns the commit the payment API at apiURL reports.
type Probe func(ctx context.Context, apiURL string) (sdk.Commit, error)

// Options configures an Agent.
type Options struct {
	// Name identifies this instance; default "<host name>:<API port>".
	Name string
	// Key signs and verifies every request (DeriveKey of the system
	// password). Required.
	Key []byte
	// Master is the host:port of the master's agent; empty makes this
	// agent the master.
	Master string
	// AdvertiseHost is the host other agents reach this agent at; empty
	// means the address the master sees the registration come from (and,
	// for the master's own entry, loopback).
	AdvertiseHost string
	// APIURL is this instance's payment API as reached from this host
	// (http://127.0.0.1:<port>); APIHost, when set, and APIPort are sent
	// to the master, which otherwise uses the registration's address.
	APIURL  string
	APIHost string
	APIPort int
	// Releases does the instance's part of a rollout. Required.
	Releases Releaser
	// Probe reads an instance's commit from its API. Required on the
	// master; see SystemProbe.
	Probe Probe
	// StateDir is where the master keeps its member list (members.json)
	// and the update lock (update.lock), so that both survive the
	// master's own handoff. Empty keeps them in memory only.
	StateDir string
	// Heartbeat is how often a slave registers; members not heard from
	// for MemberTTL (default 5 heartbeats) are forgotten.
	Heartbeat time.Duration
	MemberTTL time.Duration
	// HealthTimeout bounds the wait for a new process to serve the target
	// commit after a handoff; StageTimeout bounds a build and
	// SwitchTimeout a handoff.
	HealthTimeout time.Duration
	StageTimeout  time.Duration
	SwitchTimeout time.Duration
	// WriteTimeout bounds the answer of a short verb (status, members,
	// register), from the end of the request's headers. Stage, update
	// and rollback answer within their own timeouts plus a minute, and
	// the update stream within WriteTimeout of each of its writes, so a
	// rollout outlasts it. Default DefaultWriteTimeout.
	WriteTimeout time.Duration
	// Commit, Version and PID describe this process; defaults from
	// buildinfo and os.Getpid.
	Commit  string
	Version string
	PID     int
	// Operator answers the operator verbs (failing deliveries, retry,
	// audit trail) for `paymentctl webhooks` and `audit`; nil refuses
	// them (501).
	Operator Operator
	// Now reads the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives registrations and rollout progress; nil discards.
	Logger *slog.Logger
}

// Agent is one instance's updater agent: an HTTP server of signed, fixed
// verbs. Every agent answers the instance verbs; the master also keeps the
// member list and runs rollouts. Create it with New, start it with Start,
// stop it with Close.
type Agent struct {
	opts     Options
	log      *slog.Logger
	verifier *Verifier
	master   bool

	// life bounds the agent's own work (requests, builds, rollouts), which
	// outlives any one request: a rollout goes on when its caller leaves.
	// Close cancels it, after waiting for a rollout this process must
	// finish once it has handed off.
	life   context.Context
	cancel context.CancelFunc
	hbStop context.CancelFunc

	srv     *http.Server
	ln      net.Listener
	started atomic.Bool
	closing sync.Once
	wg      sync.WaitGroup

	handedOff atomic.Bool
	busy      sync.Mutex // one stage, update or rollback at a time

	members *registry // master only
	lockMu  sync.Mutex
	run     *rolloutRun
	last    *Result
}

// New checks opts and returns an Agent.
func New(opts Options) (*Agent, error) {
	if len(opts.Key) == 0 {
		return nil, errors.New("updater: no key")
	}
	if opts.Releases == nil {
		return nil, errors.New("updater: no releases")
	}
	master := opts.Master == ""
	if master && opts.Probe == nil {
		return nil, errors.New("updater: the master needs a probe")
	}
	if !master {
		if _, _, err := net.SplitHostPort(opts.Master); err != nil {
			return nil, fmt.Errorf("updater: master address %q: %w", opts.Master, err)
		}
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if opts.MemberTTL <= 0 {
		opts.MemberTTL = 5 * opts.Heartbeat
	}
	if opts.HealthTimeout <= 0 {
		opts.HealthTimeout = DefaultHealthTimeout
	}
	if opts.StageTimeout <= 0 {
		opts.StageTimeout = DefaultStageTimeout
	}
	if opts.SwitchTimeout <= 0 {
		opts.SwitchTimeout = DefaultSwitchTimeout
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.Commit == "" {
		opts.Commit = buildinfo.Get().Commit
	}
	if opts.Version == "" {
		opts.Version = buildinfo.Get().Version
	}
	if opts.PID == 0 {
		opts.PID = os.Getpid()
	}
	if opts.Name == "" {
		host, err := os.Hostname()
		if err != nil {
			host = "localhost"
		}
		opts.Name = net.JoinHostPort(host, strconv.Itoa(opts.APIPort))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	a := &Agent{
		opts:     opts,
		log:      opts.Logger,
		verifier: NewVerifier(opts.Key, opts.Now),
		master:   master,
	}
	a.life, a.cancel = context.WithCancel(context.Background())
	return a, nil
}

// IsMaster reports whether this agent is the master.
func (a *Agent) IsMaster() bool { return a.master }

// Start serves the agent on ln (inherited across handoffs like the API's
// listener) and, on a slave, starts registering with the master. It
// returns at once.
func (a *Agent) Start(ln net.Listener) error {
	if !a.started.CompareAndSwap(false, true) {
		return errors.New("updater: agent already started")
	}
	a.ln = ln
	if a.master {
		a.members = newRegistry(a.selfMember(), a.opts.MemberTTL, a.opts.StateDir, a.opts.Now, a.log)
	}
	a.srv = &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       agentReadTimeout,
		WriteTimeout:      a.opts.WriteTimeout,
		IdleTimeout:       time.Minute,
		BaseContext:       func(net.Listener) context.Context { return a.life },
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			a.log.Error("updater agent stopped serving", "error", err)
		}
	}()
	hb, stop := context.WithCancel(a.life)
	a.hbStop = stop
	if !a.master {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.heartbeat(hb)
		}()
	}
	role := "master"
	if !a.master {
		role = "slave of " + a.opts.Master
	}
	a.log.Info("updater agent serving", "addr", ln.Addr().String(), "role", role, "name", a.opts.Name)
	return nil
}

// Close stops the agent: it stops registering and accepting, and waits
// for the requests in progress within ctx. After this process handed off
// (an update or rollback verb succeeded here), a rollout this master runs
// goes on to its end, bounded by ctx; otherwise rollouts and builds in
// progress are cancelled.
func (a *Agent) Close(ctx context.Context) error {
	var err error
	a.closing.Do(func() {
		if !a.started.Load() {
			a.cancel()
			return
		}
		a.hbStop()
		if !a.handedOff.Load() {
			a.cancel()
		}
		if cerr := a.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			a.log.Warn("close updater listener", "error", cerr)
		}
		if err = a.srv.Shutdown(ctx); err != nil {
			a.srv.Close()
			err = fmt.Errorf("stop updater agent: %w", err)
		}
		// A rollout may outlive its stream (the caller left): wait for it
		// too, then cancel whatever remains.
		done := make(chan struct{})
		go func() { a.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("stop updater agent: %w", ctx.Err())
			}
		}
		a.cancel()
	})
	return err
}

// Retire tells the agent that this process has handed off to a new one,
// whose agent owns the socket now: this one stops accepting and
// registering, refuses further instance verbs, and lets a rollout it runs
// as the master finish (see Close). The agent calls it itself after an
// update or rollback verb; serve also calls it after a handoff by SIGHUP.
func (a *Agent) Retire() {
	if !a.started.Load() || !a.handedOff.CompareAndSwap(false, true) {
		return
	}
	a.hbStop()
	if err := a.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		a.log.Warn("close updater listener", "error", err)
	}
	// Connections kept alive to this process must not carry further verbs.
	a.srv.SetKeepAlivesEnabled(false)
	a.log.Info("updater agent handed off; the new process answers now")
}

// selfMember is the master's own entry.
func (a *Agent) selfMember() Member {
	return Member{
		Name:   a.opts.Name,
		Agent:  a.dialAddr(),
		APIURL: a.opts.APIURL,
		Master: true,
		PID:    a.opts.PID,
		Commit: a.opts.Commit,
	}
}

// dialAddr is where this agent is reached from this host.
func (a *Agent) dialAddr() string {
	host, port, err := net.SplitHostPort(a.ln.Addr().String())
	if err != nil {
		return a.ln.Addr().String()
	}
	if a.opts.AdvertiseHost != "" {
		host = a.opts.AdvertiseHost
	} else if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// heartbeat registers with the master now and every Heartbeat until ctx
// ends.
func (a *Agent) heartbeat(ctx context.Context) {
	_, port, _ := net.SplitHostPort(a.ln.Addr().String())
	agentPort, _ := strconv.Atoi(port)
	reg := registration{
		Name:      a.opts.Name,
		AgentHost: a.opts.AdvertiseHost,
		AgentPort: agentPort,
		APIHost:   a.opts.APIHost,
		APIPort:   a.opts.APIPort,
		PID:       a.opts.PID,
		Commit:    a.opts.Commit,
	}
	c, err := a.peer(a.opts.Master)
	if err != nil {
		a.log.Error("updater: cannot register", "error", err)
		return
	}
	failing := false
	t := time.NewTicker(a.opts.Heartbeat)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, DefaultCallTimeout)
		_, err := c.register(cctx, reg)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			a.log.Warn("updater: cannot register with the master; retrying", "master", a.opts.Master, "error", err)
			failing = true
		case err == nil && failing:
			a.log.Info("updater: registered with the master", "master", a.opts.Master)
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// peer returns a client of the agent at addr. Every request opens a new
// connection: after a handoff a kept-alive connection would still reach
// the old process.
func (a *Agent) peer(addr string) (*Client, error) {
	return NewClient(addr, a.opts.Key, ClientOptions{Now: a.opts.Now})
}

// Handler returns the agent's HTTP handler: signature check, then the
// verbs.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+pathRegister, a.masterOnly(a.handleRegister))
	mux.HandleFunc("GET "+pathMembers, a.masterOnly(a.handleMembers))
	mux.HandleFunc("POST "+pathUpdate, a.masterOnly(a.handleUpdate))
	mux.HandleFunc("GET "+pathStatus, a.masterOnly(a.handleStatus))
	mux.HandleFunc("GET "+pathInstance, a.handleInstance)
	mux.HandleFunc("GET "+pathDeliveries, a.operatorVerb(a.handleDeliveries))
	mux.HandleFunc("POST "+pathDeliveryRetry, a.operatorVerb(a.handleDeliveryRetry))
	mux.HandleFunc("GET "+pathAuditTrail, a.operatorVerb(a.handleAuditTrail))
	// A build or a handoff takes longer than the server's write timeout.
	mux.HandleFunc("POST "+pathInstanceStage, writeWithin(a.opts.StageTimeout+time.Minute, a.instanceVerb(a.handleStage)))
	mux.HandleFunc("POST "+pathInstanceUpdate, writeWithin(a.opts.SwitchTimeout+time.Minute, a.instanceVerb(a.handleSwitch)))
	mux.HandleFunc("POST "+pathInstanceRollback, writeWithin(a.opts.SwitchTimeout+time.Minute, a.instanceVerb(a.handleRollback)))
	return a.authenticate(mux)
}

// writeWithin lets h answer within d of now instead of the server's
// write timeout (Options.WriteTimeout), for verbs that run longer.
func writeWithin(d time.Duration, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// Not supported by a test's recorder, where no deadline applies.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
		h(w, r)
	}
}

// authenticate reads the body (bounded) and verifies the signature before
// any verb runs.
func (a *Agent) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("read body: %w", err))
			return
		}
		if len(body) > maxRequestBody {
			writeError(w, http.StatusRequestEntityTooLarge, errors.New("request body too large"))
			return
		}
		if err := a.verifier.Verify(r, body); err != nil {
			a.log.Warn("updater: refused a request", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path, "error", err)
			writeError(w, http.StatusUnauthorized, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// masterOnly refuses master verbs on a slave.
func (a *Agent) masterOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !a.master {
			writeError(w, http.StatusMisdirectedRequest, fmt.Errorf("this agent is a slave; its master is %s", a.opts.Master))
			return
		}
		h(w, r)
	}
}
