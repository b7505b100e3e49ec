package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/fakepg"
	fakeiamport "github.com/paymentctl/paymentctl/fakepg/iamport"
	fakeportone "github.com/paymentctl/paymentctl/fakepg/portone"
	faketoss "github.com/paymentctl/paymentctl/fakepg/toss"
	"github.com/paymentctl/paymentctl/internal/safetext"
	"github.com/paymentctl/paymentctl/migrations"
	"github.com/paymentctl/paymentctl/server/egress"
	"github.com/paymentctl/paymentctl/server/metrics"
	"github.com/paymentctl/paymentctl/server/monitor"
	"github.com/paymentctl/paymentctl/server/payment"
	"github.com/paymentctl/paymentctl/server/requestid"
	"github.com/paymentctl/paymentctl/server/seal"
	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/server/throttle"
	"github.com/paymentctl/paymentctl/server/webhook"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// Options configure an App.
type Options struct {
	// Config is the validated configuration. Required.
	Config *config.Config
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// RunningFakes makes local mode use fake PGs that another process
	// (`paymentctl serve` or `paymentctl fake`) runs on the configured
	// fake ports instead of starting its own: for commands that work on a
	// running local deployment, such as `paymentctl reconcile local`.
	RunningFakes bool
	// FakeIamportAddr, FakeTossAddr and FakePortOneAddr are where local
	// mode starts the fake PGs; empty means the configured fake ports on
	// 127.0.0.1. Tests use "127.0.0.1:0".
	FakeIamportAddr, FakeTossAddr, FakePortOneAddr string
	// Listen opens the metrics listener and, in local mode, the in-process
	// fakes' listeners; serve passes its socket-handoff server's, so a
	// re-executed binary inherits them. Nil listens normally.
	Listen func(network, addr string) (net.Listener, error)
	// Inbox mounts the test receiver POST /payments/internal/webhook even
	// outside local mode (tests).
	Inbox bool
	// DeliveryRetry and InboundRetry override the webhook retry policies
	// (tests shrink them); zero values keep the production policies.
	DeliveryRetry, InboundRetry webhook.RetryPolicy
	// PollInterval is how often the webhook workers look for due retries;
	// zero keeps the queue's default. Tests shorten it.
	PollInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// PGTimeout bounds each call to a PG; zero keeps the clients' 10 s.
	// Tests shorten it to provoke timeouts.
	PGTimeout time.Duration
	// CompensateAfter is how long the reconciler waits for a registration's
	// retry before cancelling a capture no history records; zero keeps
	// payment.SweepOptions' default. Tests shorten it.
	CompensateAfter time.Duration
}

// App is one paymentctl server instance without its listener: the store,
// the PG clients (and, in local mode, the fake PGs), the payment service,
// the webhook queue and the HTTP handler. `paymentctl serve` puts it
// behind the zero-downtime listener; Start (embed.go) serves it on a
// loopback port for tests.
type App struct {
	// Config is the configuration the instance runs with.
	Config *config.Config
	// Handler is the HTTP API.
	Handler http.Handler
	// Store is the database.
	Store *store.Store
	// Inbox holds what the test receiver got; nil when not mounted.
	Inbox *Inbox
	// Fakes are the in-process fake PGs of local mode; nil otherwise.
	Fakes *fakepg.Fakes
	// Monitor samples the process.
	Monitor *monitor.Monitor
	// Metrics are the Prometheus collectors, served on their own listener
	// (config metrics.addr) by Start.
	Metrics *metrics.Metrics
	// Payments is the payment service (the reconcile command runs its
	// sweep).
	Payments *payment.Service

	queue       *webhook.Queue
	throttle    *throttle.Limiter // nil when throttling is off
	pgTransport *http.Transport
	metricsAddr string
	listen      func(network, addr string) (net.Listener, error)
	log         *slog.Logger
	health      health
}

// pgIdleConns is how many idle connections to each PG the App's clients
// keep (http.Transport.MaxIdleConnsPerHost, two by default): about as many
// as calls to one PG run at once under load, so that each call finds one.
const pgIdleConns = 64

// NewApp opens the database and assembles the server. On SQLite it
// applies the migrations (the zero-setup default); on PostgreSQL it
// refuses an outdated schema, which only `paymentctl schema` changes.
func NewApp(ctx context.Context, opts Options) (app *App, err error) {
	cfg := opts.Config
	if cfg == nil {
		return nil, errors.New("server: a configuration is required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Lines logged for a request carry its ID (requestLog).
	log = slog.New(requestid.NewHandler(log.Handler()))
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	a := &App{Config: cfg, log: log, Metrics: metrics.New(), metricsAddr: cfg.Metrics.Addr, listen: opts.Listen}
	if a.listen == nil {
		a.listen = net.Listen
	}
	defer func() {
		if err != nil {
			_ = a.Close(context.WithoutCancel(ctx))
		}
	}()

	wire, err := wirecrypt.New(cfg.Connection.Encryption.Key.Reveal(), cfg.Connection.Encryption.IV.Reveal())
	if err != nil {
		return nil, fmt.Errorf("connection encryption: %w", err)
	}
	wireGCM, err := wirecrypt.NewGCM(cfg.Connection.Encryption.Key.Reveal())
	if err != nil {
		return nil, fmt.Errorf("connection encryption: %w", err)
	}
	keys, err := keysFrom(cfg)
	if err != nil {
		return nil, err
	}

	a.Store, err = store.Open(ctx, cfg.DatabaseURL(), store.WithClock(now), store.WithLogf(func(f string, args ...any) {
		// A database error may quote a value it refused.
		log.Warn(safetext.Clean(fmt.Sprintf(f, args...), maxLoggedErr))
	}))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// The schema is checked (PostgreSQL) or migrated (SQLite) while the
	// rest is assembled, which does not use the database; its verdict
	// comes first, as when it was checked before the rest was built.
	schema := make(chan error, 1)
	go func() { schema <- prepareSchema(ctx, a.Store) }()
	err = a.assemble(ctx, opts, log, now, wire, wireGCM, keys)
	if serr := <-schema; serr != nil {
		return nil, serr
	}
	if err != nil {
		return nil, err
	}
	// Found current (or just migrated): the first GET /readyz need not
	// ask again, as no later one does within schemaCheckEvery.
	a.health.schemaFound(time.Now())
	return a, nil
}

// assemble builds the App's parts over its open Store: the PG clients
// (and local mode's fakes), the payment service, the webhook queue and
// the HTTP handler. It does not use the database.
func (a *App) assemble(ctx context.Context, opts Options, log *slog.Logger, now func() time.Time, wire *wirecrypt.Cipher, wireGCM *wirecrypt.GCM, keys payment.Keys) error {
	cfg := opts.Config
	gateways, portoneSigs, err := a.gateways(ctx, cfg, opts)
	if err != nil {
		return err
	}
	ts, err := newTenants(cfg, wire, wireGCM)
	if err != nil {
		return err
	}
	svc, err := payment.New(payment.Options{
		Store: a.Store, Gateways: gateways, Keys: keys,
		Wire: wire, Services: forwarding(cfg, ts), Logger: log, Now: now,
	})
	if err != nil {
		return err
	}
	a.Payments = svc
	svc.SetSweepObserver(a.Metrics.ReconcileObserver(payment.DriftKinds()))
	// Local mode's services (and its test receiver) run on this machine.
	dests := egress.New(egress.Options{Allowed: cfg.WebhookAllowedNetworks(), Loopback: cfg.Mode == config.ModeLocal})
	a.queue, err = webhook.New(webhook.Options{
		DB: a.Store.SQLDB(), Dialect: a.Store.Dialect(),
		Processor: svc, Payloads: countedPayloads{Payloads: svc, metrics: a.Metrics},
		// The reconciler: a River periodic job, run by the elected leader
		// of the instances sharing the database.
		Sweeper:       payment.Reconciler{Service: svc, Options: payment.SweepOptions{Interval: cfg.Reconcile.Interval, CompensateAfter: opts.CompensateAfter}},
		SweepInterval: cfg.Reconcile.Interval,
		Secret:        cfg.WebhookKey(),
		DialContext:   (&egress.Dialer{Policy: dests}).DialContext,
		Retry:         opts.DeliveryRetry,
		InboundRetry:  opts.InboundRetry,
		PollInterval:  opts.PollInterval,
		Logger:        log,
		Now:           now,
	})
	if err != nil {
		return fmt.Errorf("webhook queue: %w", err)
	}
	// River's LISTEN connection is dialled while the schema is checked.
	a.queue.Warm()
	svc.SetQueue(a.queue)
	a.observe(svc, now)

	if opts.Inbox || cfg.Mode == config.ModeLocal {
		a.Inbox = NewInbox(log)
	}
	th, lim, err := newThrottling(cfg, a.Store, a.Metrics, now, log)
	if err != nil {
		return err
	}
	a.throttle = lim
	a.Monitor = monitor.New(monitor.Options{Now: now})
	a.Handler = newRouter(routerOptions{
		Payments: svc, Webhooks: svc, Monitor: a.Monitor,
		PortOneWebhooks: portoneSigs, Now: now,
		Ready:       func(c *gin.Context) error { return a.Store.Ping(c.Request.Context()) },
		Readiness:   a.readiness,
		Wire:        wire,
		WireGCM:     wireGCM,
		Tenants:     ts,
		Idempotency: a.Store, Sealer: keys.Webhook, Destinations: dests,
		Throttle: th, TrustedProxies: cfg.APITrustedProxies(),
		Inbox:      a.Inbox,
		Middleware: []gin.HandlerFunc{a.Monitor.Middleware(), a.Metrics.Middleware()},
		Logger:     log,
	})
	return nil
}

// Start starts the webhook workers and the periodic clean-ups of expired
// idempotency keys, throttle counters and pending webhooks; it returns at
// once; the clean-ups' first passes are cleanupDelay after Start. Stop
// them with Close.
func (a *App) Start(ctx context.Context) error {
	if err := a.queue.Start(ctx); err != nil {
		return fmt.Errorf("start webhook queue: %w", err)
	}
	go func() {
		// The clean-ups' first passes wait cleanupDelay: at start River's
		// services open their connections at once, and three statements
		// more then made the readiness checks' pings, the start's own and
		// the first GET /readyz, wait for connections of their own.
		select {
		case <-ctx.Done():
			return
		case <-time.After(cleanupDelay):
		}
		go a.expireIdempotencyKeys(ctx)
		if a.throttle != nil {
			go a.throttle.Prune(ctx)
		}
		go a.sweepPendingWebhooks(ctx)
	}()
	if a.metricsAddr != "" {
		go a.serveMetrics(ctx)
	}
	return nil
}

// serveMetrics serves /metrics on its own listener until ctx ends. The
// listener comes from Options.Listen, so serve's handoff passes it on; if
// the address is taken it retries every second.
func (a *App) serveMetrics(ctx context.Context) {
	var ln net.Listener
	for warned := false; ; warned = true {
		var err error
		if ln, err = a.listen("tcp", a.metricsAddr); err == nil {
			break
		}
		if !warned {
			a.log.Warn("metrics listener unavailable, retrying", "addr", a.metricsAddr, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.Metrics.Handler())
	// A scrape is one small GET: short limits, and an idle timeout above
	// the usual scrape intervals so Prometheus keeps its connection.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	a.log.Debug("metrics serving", "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		a.log.Warn("metrics server", "err", err)
	}
}

// cleanupDelay is how long after Start the periodic clean-ups start:
// past the start-up, whose readiness checks they would slow.
const cleanupDelay = 2 * time.Second

// countedPayloads counts delivery attempts as they are recorded.
type countedPayloads struct {
	webhook.Payloads
	metrics *metrics.Metrics
}

// RecordAttempt counts the attempt, then records it.
func (p countedPayloads) RecordAttempt(ctx context.Context, webhookID string, status int, body, errText string, at time.Time) error {
	p.metrics.Delivery(status)
	return p.Payloads.RecordAttempt(ctx, webhookID, status, body, errText, at)
}

// expireIdempotencyKeys forgets keys older than 24 hours, hourly, until
// ctx ends.
func (a *App) expireIdempotencyKeys(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := a.Store.ExpireIdempotencyKeys(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("expire idempotency keys", "err", err)
		} else if n > 0 {
			a.log.Debug("expired idempotency keys", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// WireWebhooks points the in-process fake PGs' webhooks at this server's
// receivers once its address is known (local mode).
func (a *App) WireWebhooks(apiURL string) {
	if a.Fakes == nil {
		return
	}
	apiURL = strings.TrimRight(apiURL, "/")
	if a.Fakes.Iamport != nil {
		a.Fakes.Iamport.SetWebhookURL(apiURL + "/payments/webhooks/iamport")
	}
	if a.Fakes.Toss != nil {
		a.Fakes.Toss.SetWebhookURL(apiURL + "/payments/webhooks/toss")
	}
	if a.Fakes.PortOne != nil {
		a.Fakes.PortOne.SetWebhookURL(apiURL + "/payments/webhooks/portone")
	}
}

// Close stops the webhook workers (letting running jobs finish within
// ctx), the fake PGs and the database.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	if a.queue != nil {
		errs = append(errs, a.queue.Stop(ctx))
	}
	if a.pgTransport != nil {
		a.pgTransport.CloseIdleConnections()
	}
	if a.Fakes != nil {
		errs = append(errs, a.Fakes.Close(ctx))
	}
	if a.Store != nil {
		errs = append(errs, a.Store.Close())
	}
	return errors.Join(errs...)
}

// Migrate brings the database of st to the schema this binary expects:
// the application's migrations, then the job queue's (River). `paymentctl
// schema` does the same with its roles and reports; tests and load runs
// call this on schemas of their own.
func Migrate(ctx context.Context, st *store.Store) error {
	if err := st.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate the %s database: %w", st.Dialect(), err)
	}
	if err := webhook.Migrate(ctx, st.SQLDB(), st.Dialect()); err != nil {
		return fmt.Errorf("migrate the job queue: %w", err)
	}
	return nil
}

// prepareSchema migrates an embedded SQLite database and checks a
// PostgreSQL one.
func prepareSchema(ctx context.Context, st *store.Store) error {
	if st.Dialect() == migrations.SQLite {
		return Migrate(ctx, st)
	}
	ok, err := st.SchemaUpToDate(ctx)
	if err != nil {
		return fmt.Errorf("check the database schema: %w", err)
	}
	if !ok {
		return errors.New("the database schema is not up to date: run `paymentctl schema` (this binary needs a newer schema than the database has)")
	}
	return nil
}

// portoneSettings are PortOne V2's URL and credentials.
type portoneSettings struct {
	url, secret, storeID string
	webhookSecrets       []string
	// fake: the fake PortOne V2 of local mode, which accepts only its own
	// credentials, so every PortOne store uses those.
	fake bool
}

// fakePortOne are the in-process or standalone fake PortOne V2's
// published credentials, at url.
func fakePortOne(url string) portoneSettings {
	return portoneSettings{url: url, secret: fakeportone.DefaultSecret, storeID: fakeportone.DefaultStoreID,
		webhookSecrets: []string{fakeportone.DefaultWebhookSecret}, fake: true}
}

// gateways returns the PG clients of every store (storeClients): the
// configured PGs, or in local mode with no PG URL configured, fakes
// started in process, which every store then reaches with the fakes' own
// credentials. It returns the verifier of PortOne V2's webhooks too, nil
// when PortOne V2 is off.
func (a *App) gateways(ctx context.Context, cfg *config.Config, opts Options) (*storeClients, *portoneSigners, error) {
	iamportURL, tossURL := cfg.Iamport.URL, cfg.TossPayments.URL
	iamportKey, iamportSecret := cfg.Iamport.Key.Reveal(), cfg.Iamport.Secret.Reveal()
	tossSecret := cfg.TossPayments.Secret.Reveal()
	po := portoneSettings{url: cfg.PortOne.URL, secret: cfg.PortOne.Secret.Reveal(), storeID: cfg.PortOne.StoreID,
		webhookSecrets: cfg.PortOneWebhookSecrets()}
	if cfg.Mode == config.ModeLocal && opts.RunningFakes {
		if iamportURL == "" {
			iamportURL, iamportKey, iamportSecret = "http://"+orAddr("", cfg.Fake.IamportPort), fakeiamport.DefaultKey, fakeiamport.DefaultSecret
		}
		if tossURL == "" {
			tossURL, tossSecret = "http://"+orAddr("", cfg.Fake.TossPort), faketoss.DefaultSecretKey
		}
		if po.url == "" {
			po = fakePortOne("http://" + orAddr("", cfg.Fake.PortOnePort))
		}
	}
	// The fakes start when Iamport's or Toss's URL is left empty (PortOne
	// V2's alone does not start them: with the other two pointed at a
	// standalone `paymentctl fake`, its ports are taken); PortOne V2 with
	// no URL then uses the fake too, else it is off unless configured.
	if cfg.Mode == config.ModeLocal && (iamportURL == "" || tossURL == "") {
		fakes, err := fakepg.Start(ctx, fakepg.Options{
			IamportAddr: orAddr(opts.FakeIamportAddr, cfg.Fake.IamportPort),
			TossAddr:    orAddr(opts.FakeTossAddr, cfg.Fake.TossPort),
			PortOneAddr: orAddr(opts.FakePortOneAddr, cfg.Fake.PortOnePort),
			Logf:        func(f string, args ...any) { a.log.Debug(safetext.Clean(fmt.Sprintf(f, args...), maxLoggedErr)) },
			Listen:      opts.Listen,
			Capacity:    cfg.Fake.Capacity,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("start the fake PGs (local mode; set PAYMENT_FAKE_IAMPORT_PORT / PAYMENT_FAKE_TOSS_PORT / PAYMENT_FAKE_PORTONE_PORT if the ports are taken): %w", err)
		}
		a.Fakes = fakes
		if iamportURL == "" {
			iamportURL, iamportKey, iamportSecret = fakes.IamportURL, fakeiamport.DefaultKey, fakeiamport.DefaultSecret
		}
		if tossURL == "" {
			tossURL, tossSecret = fakes.TossURL, faketoss.DefaultSecretKey
		}
		if po.url == "" {
			po = fakePortOne(fakes.PortOneURL)
		}
	}
	// A transport of the App's own, so Close can drop its idle
	// connections: a server shutting down waits for them otherwise. It
	// keeps as many idle connections to a PG as registrations run at
	// once: with the default two, every call beyond them dialled anew and
	// closed its connection after the answer (docs/performance.md).
	a.pgTransport = http.DefaultTransport.(*http.Transport).Clone()
	a.pgTransport.MaxIdleConnsPerHost = pgIdleConns
	ep := pgEndpoints{
		iamportURL: iamportURL, iamportKey: iamportKey, iamportSecret: iamportSecret,
		tossURL: tossURL, tossSecret: tossSecret,
		fakeIamport: cfg.Mode == config.ModeLocal && cfg.Iamport.URL == "",
		fakeToss:    cfg.Mode == config.ModeLocal && cfg.TossPayments.URL == "",
		portone:     po,
	}
	clients, err := newStoreClients(cfg, ep, opts.PGTimeout, func(pg string) *http.Client {
		return &http.Client{Transport: a.Metrics.Transport(pg, a.pgTransport)}
	})
	if err != nil {
		return nil, nil, err
	}
	// PortOne V2's webhooks are signed per store: each is verified with
	// the secret of the store its body names (portone_signers.go); the
	// re-fetch then uses the store of the registered payment.
	var top []string
	if po.secret != "" { // else the top-level PortOne V2 is off
		top = po.webhookSecrets
	}
	stores := map[string][]string{}
	if !po.fake {
		for _, st := range cfg.StoresOf(config.StoreVendorPortOne) {
			stores[st.StoreID] = st.WebhookSecrets()
		}
	}
	signers, err := newPortOneSigners(top, po.storeID, stores)
	if err != nil {
		return nil, nil, fmt.Errorf("portone webhook secrets: %w", err)
	}
	return clients, signers, nil
}

// orAddr returns addr, or 127.0.0.1 on the configured port.
func orAddr(addr string, port int) string {
	if addr != "" {
		return addr
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// Keys returns the at-rest keyrings and the password hasher the server
// derives from cfg (see keysFrom), for tools that write rows the server
// reads, such as the load run's webhook backlog (scripts/load).
func Keys(cfg *config.Config) (payment.Keys, error) { return keysFrom(cfg) }

// keysFrom derives the at-rest keyrings and the password hasher from the
// configured key material. New values use the current keys; values sealed
// under a key listed in a *_PREVIOUS setting still open (rotation), and
// values written by the original (AES-CBC under the same key and IV) too,
// so an imported database reads.
func keysFrom(cfg *config.Config) (payment.Keys, error) {
	derive := func(current string, previous []string, purpose string) (seal.Key, []seal.Key, error) {
		key, err := seal.DeriveKey([]byte(current), purpose)
		if err != nil {
			return seal.Key{}, nil, fmt.Errorf("%s key: %w", purpose, err)
		}
		var old []seal.Key
		for i, p := range previous {
			k, err := seal.DeriveKey([]byte(p), purpose)
			if err != nil {
				return seal.Key{}, nil, fmt.Errorf("previous %s key %d: %w", purpose, i+1, err)
			}
			old = append(old, k)
		}
		return key, old, nil
	}
	ring := func(enc config.Encryption, purpose string) (*seal.Keyring, error) {
		key, old, err := derive(enc.Key.Reveal(), enc.PreviousKeys(), purpose)
		if err != nil {
			return nil, err
		}
		kr, err := seal.NewKeyring(purpose, key, old...)
		if err != nil {
			return nil, err
		}
		if legacy, err := wirecrypt.New(enc.Key.Reveal(), enc.IV.Reveal()); err == nil {
			kr = kr.WithLegacy(legacy)
		}
		return kr, nil
	}
	var k payment.Keys
	var err error
	if k.History, err = ring(cfg.History.Encryption, seal.PurposeHistory); err != nil {
		return k, err
	}
	if k.Reservation, err = ring(cfg.Reservation.Encryption, seal.PurposeReservation); err != nil {
		return k, err
	}
	if k.Cancel, err = ring(cfg.CancelHistory.Encryption, seal.PurposeCancel); err != nil {
		return k, err
	}
	// The webhook log had no key of its own in the original; it gets one
	// derived from the cancel-history material for another purpose.
	webhookKey, webhookOld, err := derive(cfg.CancelHistory.Encryption.Key.Reveal(), cfg.CancelHistory.Encryption.PreviousKeys(), seal.PurposeWebhook)
	if err != nil {
		return k, err
	}
	if k.Webhook, err = seal.NewKeyring(seal.PurposeWebhook, webhookKey, webhookOld...); err != nil {
		return k, err
	}
	// The audit trail too, for a purpose of its own.
	auditKey, auditOld, err := derive(cfg.CancelHistory.Encryption.Key.Reveal(), cfg.CancelHistory.Encryption.PreviousKeys(), seal.PurposeAudit)
	if err != nil {
		return k, err
	}
	if k.Audit, err = seal.NewKeyring(seal.PurposeAudit, auditKey, auditOld...); err != nil {
		return k, err
	}
	pwKey, pwOld, err := derive(cfg.Password.Secret.Reveal(), cfg.PreviousPasswordSecrets(), seal.PurposePassword)
	if err != nil {
		return k, err
	}
	k.Passwords, err = seal.NewHasher(pwKey, pwOld...)
	return k, err
}
