package webhook

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/paymentctl/paymentctl/internal/safetext"
	"github.com/paymentctl/paymentctl/migrations"
	"github.com/paymentctl/paymentctl/server/store"
)

// River queue names, one per job kind so that a flood of deliveries to a
// slow service never delays inbound processing.
const (
	inboundQueue  = "webhook_inbound"
	deliveryQueue = "webhook_delivery"
)

// riverInsertTopic is the notification topic on which River's producers
// learn of new jobs (its internal notifier.NotificationTopicInsert), with
// payload {"queue": name}. TestCommitWakesWorkers fails if a River upgrade
// changes it.
const riverInsertTopic = "river_insert"

const (
	// defaultWorkers is the concurrency of inbound events when
	// Options.Workers is 0: each holds the payment's lock while it writes.
	defaultWorkers = 10
	// postgresDeliveryWorkers is the concurrency of deliveries on
	// PostgreSQL when Options.Workers is 0. A delivery mostly waits: on the
	// service's answer (up to its 10 s timeout) and on the commit of its
	// attempt's record. With 10, a backlog drained at 537-745 a second,
	// each worker waiting its turn at the WAL flush, and ten slow services
	// stalled every delivery; with 50, at 1,022-1,329 (docs/performance.md).
	// SQLite keeps defaultWorkers: its one writer at a time made 50
	// workers slower than 10 (BenchmarkDeliveryBacklog: 247-333 against
	// 473-499 a second).
	postgresDeliveryWorkers = 50
	// defaultPollInterval is how often workers look for due jobs that no
	// notification announced (retries, other instances' jobs when LISTEN is
	// unavailable).
	defaultPollInterval = time.Second
	// fetchCooldown is the least time between two fetches of one queue; a
	// notification right after a fetch waits this long.
	fetchCooldown = 2 * time.Millisecond
	// jobTimeout bounds one attempt of a webhook job; a PG re-fetch (two at
	// most, 10 s each) or a delivery (10 s HTTP timeout) ends within it.
	jobTimeout = 30 * time.Second
	// rescueAfter is when a job left running by a crashed instance is
	// retried by another one (River's rescuer looks every 30 s, so a job is
	// rescued within about a minute). It exceeds jobTimeout, so a job that
	// is still alive has been cancelled by then and never runs twice at
	// once.
	rescueAfter = 40 * time.Second
	// defaultHTTPTimeout bounds one delivery when Options.HTTPClient is nil.
	defaultHTTPTimeout = 10 * time.Second
	// hardStopTimeout is how long Stop waits for cancelled jobs to return
	// once its own deadline has passed.
	hardStopTimeout = 5 * time.Second
	// givenUpRetention is how long River keeps jobs that were given up
	// (cancelled, discarded) before deleting them, so that an operator can
	// still list and retry them (Failing, Retry); River's default is a
	// day for cancelled jobs.
	givenUpRetention = 30 * 24 * time.Hour
)

// ErrPermanent marks a failure that retrying cannot fix. Wrap it in an
// error returned by Processor.Process or Payloads.Delivery to end the job
// at once instead of retrying it.
var ErrPermanent = errors.New("permanent failure")

// Inbound is a PG webhook as received: which PG sent it, and its raw body
// sealed by the caller, so the queue never stores plaintext card data.
type Inbound struct {
	// Vendor is the PG's code, e.g. "toss.payments" or "iamport".
	Vendor string `json:"vendor"`
	// SealedBody is the PG's raw body, sealed (server/seal).
	SealedBody string `json:"sealed_body"`
	// ReceivedAt is when paymentctl received it.
	ReceivedAt time.Time `json:"received_at"`
	// Key names what the webhook is about, e.g. "iamport:imp_123", so that
	// webhooks about one payment coalesce (EnqueueInboundTx). Empty means
	// the event is never coalesced.
	Key string `json:"key,omitempty" river:"unique"`
}

// Processor applies inbound PG events; the payment service implements it.
type Processor interface {
	// Process applies one inbound PG event: re-fetch the payment from the
	// PG, update the history, snapshot previous and current, and enqueue
	// the delivery with Queue.EnqueueDeliveryTx in the same transaction. An
	// error retries the event later (see InboundRetry) unless it wraps
	// ErrPermanent. The event may be processed more than once.
	Process(ctx context.Context, ev Inbound) error
}

// Payloads gives the deliveries their content and keeps their outcome; the
// payment service implements it.
type Payloads interface {
	// Delivery returns where and what to POST for a stored webhook event:
	// the service's webhook URL, the body, already encrypted for the wire
	// with the owning service's keys, and the key to sign it with (nil:
	// Options.Secret). An error retries the delivery later unless it
	// wraps ErrPermanent.
	Delivery(ctx context.Context, webhookID string) (Message, error)
	// GaveUp records that the delivery of an event was given up after
	// attempts attempts (the audit trail); an error is logged.
	GaveUp(ctx context.Context, webhookID string, attempts int) error
	// RecordAttempt stores one delivery attempt: the HTTP status and the
	// start of the reply's body (at most 1 KiB of valid UTF-8, which may
	// echo what the service was sent: seal it), or status 0 and errText
	// when no reply arrived. at is the attempt's start, as signed in webhook-timestamp.
	RecordAttempt(ctx context.Context, webhookID string, status int, body, errText string, at time.Time) error
}

// Message is what a delivery POSTs and how it signs it.
type Message struct {
	// URL is the service's webhook_url.
	URL string
	// Body is the event, encrypted with the owning service's keys.
	Body []byte
	// Secret is the Standard Webhooks key of the owning service; nil
	// means Options.Secret.
	Secret []byte
}

// Options configures New.
type Options struct {
	// DB is the store's connection pool (store.Store.SQLDB); the jobs live
	// in the same database as the payments.
	DB *sql.DB
	// Dialect is migrations.Postgres or migrations.SQLite
	// (store.Store.Dialect).
	Dialect string
	// Processor applies inbound events. Required.
	Processor Processor
	// Payloads supplies and records deliveries. Required.
	Payloads Payloads
	// Secret is the Standard Webhooks signing key (config webhook.secret,
	// decoded from its whsec_ form by sdk.ParseWebhookSecret), used as the
	// HMAC-SHA256 key of sdk.SignWebhook. Required.
	Secret []byte
	// HTTPClient sends deliveries. Nil means a client with a 10 s timeout
	// that does not follow redirects and connects with DialContext.
	HTTPClient *http.Client
	// DialContext opens the connections of the default client; paymentctl
	// passes an egress.Dialer's, which refuses destinations outside the
	// webhook address policy on the address it connects to. When set, the
	// default client ignores the HTTP(S)_PROXY environment: a proxy would
	// be dialed instead of the destination. Nil dials anything.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Retry is the delivery retry policy; the zero value means
	// DeliveryRetry().
	Retry RetryPolicy
	// InboundRetry is the retry policy of inbound events; the zero value
	// means InboundRetry().
	InboundRetry RetryPolicy
	// Workers is how many jobs of each kind run at once (default 10, and
	// 50 deliveries on PostgreSQL).
	Workers int
	// PollInterval is how often workers look for due jobs that no
	// notification announced, such as retries (default 1 s).
	PollInterval time.Duration
	// CoalesceWindow is the length of the windows in which inbound events
	// with the same Inbound.Key share one job (EnqueueInboundTx); default
	// 2 s. Tests lengthen it so that no window ends mid-test.
	CoalesceWindow time.Duration
	// Logger receives delivery failures and give-ups, and River's warnings.
	// Nil discards them.
	Logger *slog.Logger
	// Sweeper, when set with a positive SweepInterval, runs every
	// SweepInterval as a River periodic job (on the elected leader only).
	Sweeper       Sweeper
	SweepInterval time.Duration
	// Now is the clock for webhook-timestamp, attempt records and retry
	// budgets (default time.Now). River schedules retries on the wall
	// clock, so it must stay close to it.
	Now func() time.Time
}

// Queue enqueues and works webhook jobs. It is safe for concurrent use. A
// Queue can be started once; after Stop, open a new one.
type Queue struct {
	client    *river.Client[*sql.Tx]
	db        *sql.DB
	dialect   string
	processor Processor
	payloads  Payloads
	sweeper   Sweeper
	secret    []byte
	http      *http.Client
	delivery  RetryPolicy
	inbound   RetryPolicy
	window    time.Duration
	log       *slog.Logger
	now       func() time.Time

	// wake shortens SQLite's notification polling after an enqueue; nil on
	// PostgreSQL.
	wake *sqliteWake
	// ownNotify is set when the client's driver is a pgDriver, which
	// drops River's notifications of the webhook queues: notifyTx then
	// sends them as the store's AtCommit statements. Otherwise River's
	// driver sends them.
	ownNotify bool
	// listenPool holds the LISTEN connection on PostgreSQL, or is nil.
	listenPool *pgxpool.Pool
	// warmed is closed when Warm's connection is open (or failed to); nil
	// when Warm was not called.
	warmed chan struct{}
	// transport is the default client's own transport (Options.DialContext),
	// or nil.
	transport *http.Transport
	started   atomic.Bool
	stopped   atomic.Bool

	// claimWindow is how long a claimed delivery waits for its first
	// attempt before River takes it (claimWindow the constant; tests
	// shorten it).
	claimWindow time.Duration
	// firstSlots bounds the first attempts DeliverClaimed runs at once.
	firstSlots chan struct{}
	// firstMu orders DeliverClaimed's check of stopped and firstWG.Add
	// before Stop's wait.
	firstMu sync.Mutex
	firstWG sync.WaitGroup
	// firstCtx is the context of first attempts; cancelFirst ends them
	// when Stop's deadline passes.
	firstCtx    context.Context
	cancelFirst context.CancelFunc
}

// New builds a Queue over the store's pool. It does not touch the
// database; River's tables must exist (see Migrate) before Start or an
// enqueue.
func New(opts Options) (*Queue, error) {
	q, err := fromOptions(opts)
	if err != nil {
		return nil, err
	}
	workers, deliveryWorkers := opts.Workers, opts.Workers
	if workers <= 0 {
		workers, deliveryWorkers = defaultWorkers, defaultWorkers
		if opts.Dialect == migrations.Postgres {
			deliveryWorkers = postgresDeliveryWorkers
		}
	}
	poll := opts.PollInterval
	if poll <= 0 {
		poll = defaultPollInterval
	}
	ws := river.NewWorkers()
	queues := map[string]river.QueueConfig{
		inboundQueue:  {MaxWorkers: workers},
		deliveryQueue: {MaxWorkers: deliveryWorkers},
	}
	var periodic []*river.PeriodicJob
	if q.sweeper != nil && opts.SweepInterval > 0 {
		if err := river.AddWorkerSafely(ws, &sweepWorker{q: q}); err != nil {
			return nil, fmt.Errorf("new webhook queue: %w", err)
		}
		queues[sweepQueue] = river.QueueConfig{MaxWorkers: 1}
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(opts.SweepInterval),
			func() (river.JobArgs, *river.InsertOpts) { return sweepArgs{}, nil },
			&river.PeriodicJobOpts{ID: "reconcile", RunOnStart: true}))
	}
	if err := river.AddWorkerSafely(ws, &inboundWorker{q: q}); err != nil {
		return nil, fmt.Errorf("new webhook queue: %w", err)
	}
	if err := river.AddWorkerSafely(ws, &deliveryWorker{q: q}); err != nil {
		return nil, fmt.Errorf("new webhook queue: %w", err)
	}
	q.firstSlots = make(chan struct{}, deliveryWorkers)
	driver, err := q.driver(opts.DB, opts.Dialect)
	if err != nil {
		return nil, err
	}
	client, err := river.NewClient(driver, &river.Config{
		Logger:               slog.New(minLevel{Handler: q.log.Handler(), level: slog.LevelWarn}),
		Queues:               queues,
		PeriodicJobs:         periodic,
		Workers:              ws,
		FetchCooldown:        min(fetchCooldown, poll),
		FetchPollInterval:    poll,
		JobTimeout:           jobTimeout,
		RescueStuckJobsAfter: rescueAfter,
		// Given-up jobs stay listable; completed ones go after River's
		// default day.
		CancelledJobRetentionPeriod: givenUpRetention,
		DiscardedJobRetentionPeriod: givenUpRetention,
		// Jobs carry the ID of the request that caused them.
		Middleware: []rivertype.Middleware{&requestIDMiddleware{}},
	})
	if err != nil {
		q.closePool()
		return nil, fmt.Errorf("new webhook queue: %w", err)
	}
	q.client = client
	return q, nil
}

// fromOptions checks opts and fills in the defaults, short of River's client.
func fromOptions(opts Options) (*Queue, error) {
	switch {
	case opts.DB == nil:
		return nil, errors.New("new webhook queue: no database")
	case opts.Processor == nil || opts.Payloads == nil:
		return nil, errors.New("new webhook queue: processor and payloads are required")
	case len(opts.Secret) == 0:
		return nil, errors.New("new webhook queue: empty signing secret")
	case opts.CoalesceWindow < 0:
		return nil, errors.New("new webhook queue: negative coalesce window")
	}
	q := &Queue{
		db:        opts.DB,
		dialect:   opts.Dialect,
		processor: opts.Processor,
		payloads:  opts.Payloads,
		sweeper:   opts.Sweeper,
		secret:    append([]byte(nil), opts.Secret...),
		http:      opts.HTTPClient,
		delivery:  cmp.Or(opts.Retry, DeliveryRetry()),
		inbound:   cmp.Or(opts.InboundRetry, InboundRetry()),
		window:    cmp.Or(opts.CoalesceWindow, defaultCoalesceWindow),
		log:       opts.Logger,
		now:       opts.Now,
	}
	if err := q.delivery.Validate(); err != nil {
		return nil, fmt.Errorf("new webhook queue: delivery: %w", err)
	}
	if err := q.inbound.Validate(); err != nil {
		return nil, fmt.Errorf("new webhook queue: inbound: %w", err)
	}
	if q.http == nil {
		q.http = &http.Client{
			Timeout: defaultHTTPTimeout,
			// A redirect is the service's misconfiguration; it is recorded
			// and retried like any other non-2xx answer. Not following it
			// also keeps a redirect from leading past the address policy.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		if opts.DialContext != nil {
			t := http.DefaultTransport.(*http.Transport).Clone()
			t.Proxy = nil
			t.DialContext = opts.DialContext
			q.http.Transport, q.transport = t, t
		}
	}
	if q.log == nil {
		q.log = slog.New(slog.DiscardHandler)
	}
	if q.now == nil {
		q.now = time.Now
	}
	q.claimWindow = claimWindow
	q.firstCtx, q.cancelFirst = context.WithCancel(context.Background())
	return q, nil
}

// driver picks River's driver for the dialect. On PostgreSQL it adds a
// LISTEN connection when the pool is pgx's, so commits wake the workers.
func (q *Queue) driver(db *sql.DB, dialect string) (riverdriver.Driver[*sql.Tx], error) {
	switch dialect {
	case migrations.Postgres:
		pool, err := listenPool(db)
		if err != nil {
			q.log.Warn("webhook queue without LISTEN; new jobs wait for the fetch poll", "err", err)
			return riverdatabasesql.New(db), nil
		}
		q.listenPool = pool
		d := riverdatabasesql.NewWithPgxListener(db, pool)
		q.ownNotify = true
		return &pgDriver{Driver: d}, nil
	case migrations.SQLite:
		q.wake = &sqliteWake{}
		return &sqliteDriver{Driver: riversqlite.New(db), wake: q.wake}, nil
	default:
		return nil, fmt.Errorf("new webhook queue: unknown database dialect %q (want %q or %q)", dialect, migrations.Postgres, migrations.SQLite)
	}
}

// Migrate creates or upgrades River's own tables (river_job and friends) in
// the database, next to paymentctl's; on PostgreSQL in the first schema of
// the search_path. It is idempotent. Run it after the application's
// migrations.
func Migrate(ctx context.Context, db *sql.DB, dialect string) error {
	var m interface {
		Migrate(ctx context.Context, direction rivermigrate.Direction, opts *rivermigrate.MigrateOpts) (*rivermigrate.MigrateResult, error)
	}
	var err error
	cfg := &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)}
	switch dialect {
	case migrations.Postgres:
		m, err = rivermigrate.New(riverdatabasesql.New(db), cfg)
	case migrations.SQLite:
		m, err = rivermigrate.New(riversqlite.New(db), cfg)
	default:
		return fmt.Errorf("migrate job queue: unknown database dialect %q", dialect)
	}
	if err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	return nil
}

// warmTimeout bounds Warm's dial; River's own dial at Start follows a
// failed or slow one.
const warmTimeout = 5 * time.Second

// Warm opens the LISTEN connection on PostgreSQL in the background and
// returns at once, so that Start finds it open instead of dialling it
// then; Start waits for it. A serving process calls it after New while it
// assembles the rest. It does nothing on SQLite or when called again; a
// failed dial is left to Start, which reports it.
func (q *Queue) Warm() {
	if q.listenPool == nil || q.warmed != nil {
		return
	}
	q.warmed = make(chan struct{})
	go func() {
		defer close(q.warmed)
		ctx, cancel := context.WithTimeout(q.firstCtx, warmTimeout)
		defer cancel()
		if c, err := q.listenPool.Acquire(ctx); err == nil {
			c.Release() // idle in the pool, for River's listener
		}
	}()
}

// Start starts working jobs in the background and returns. The workers run
// until Stop; cancelling ctx does not stop them, so that a shutdown signal
// can still be followed by a graceful Stop.
func (q *Queue) Start(ctx context.Context) error {
	if q.stopped.Load() {
		return errors.New("start webhook queue: already stopped")
	}
	if q.warmed != nil {
		// One LISTEN connection: River's listener takes Warm's.
		select {
		case <-q.warmed:
		case <-ctx.Done():
		}
	}
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start webhook queue: %w", err)
	}
	q.started.Store(true)
	return nil
}

// Stop stops fetching jobs and waits for the running ones to finish. If ctx
// ends first, the running jobs are cancelled (they are retried later, by
// this database's next Queue) and Stop returns ctx's error. Jobs not yet
// started stay stored for the next Queue.
func (q *Queue) Stop(ctx context.Context) error {
	q.stopped.Store(true)
	defer q.closePool()
	defer q.cancelFirst()
	q.waitFirstAttempts(ctx)
	err := q.client.Stop(ctx)
	if err == nil || ctx.Err() == nil {
		if err != nil {
			return fmt.Errorf("stop webhook queue: %w", err)
		}
		return nil
	}
	hardCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hardStopTimeout)
	defer cancel()
	if hardErr := q.client.StopAndCancel(hardCtx); hardErr != nil {
		q.log.Error("webhook jobs did not return after cancellation", "err", hardErr)
	}
	return fmt.Errorf("stop webhook queue: running jobs cancelled: %w", err)
}

// closePool releases the queue's own connections: the LISTEN pool and the
// default client's idle delivery connections.
func (q *Queue) closePool() {
	if q.listenPool != nil {
		q.listenPool.Close()
	}
	if q.transport != nil {
		q.transport.CloseIdleConnections()
	}
}

// defaultCoalesceWindow is the period of inbound jobs' uniqueness when
// Options.CoalesceWindow is 0: at most one job per Inbound.Key is inserted
// for each window of this length. Webhooks about one payment seldom come
// less than 2 s apart unless they are a burst (PG retries, a flood), and a
// follow-up job waits for River's scheduler (every 5 s) anyway.
const defaultCoalesceWindow = 2 * time.Second

// maxFollowUps bounds the windows EnqueueInboundTx tries after the current
// one; the next window's job cannot have started yet, so one is enough
// unless clocks jump.
const maxFollowUps = 3

// allJobStates makes an inbound job's uniqueness hold in every state:
// whether a duplicate may already have re-fetched is decided from its
// state (coalescedOnto), not by River.
func allJobStates() []rivertype.JobState {
	return []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted,
		rivertype.JobStateDiscarded, rivertype.JobStatePending, rivertype.JobStateRetryable,
		rivertype.JobStateRunning, rivertype.JobStateScheduled,
	}
}

// coalescedOnto reports whether a webhook can rely on an existing job in
// the given state instead of a job of its own: the job has not started
// (available, scheduled, pending), so its re-fetch of the payment comes
// after this webhook's change. A running job may have fetched already; a
// finished one has; a retryable one has failed and may wait minutes for
// its next attempt.
func coalescedOnto(state rivertype.JobState) bool {
	switch state {
	case rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStatePending:
		return true
	}
	return false
}

// EnqueueInboundTx stores an inbound PG event in tx; it is processed once tx
// commits, and never if tx rolls back.
//
// Events with the same Key coalesce: while a job for the key has not
// started, another event adds nothing (it returns nil: the queued job will
// re-fetch the payment, which covers this event too, since the PG changed
// the payment before sending the event). Once the job for the key has
// started, the event gets a job of its own, at the start of the next
// window (Options.CoalesceWindow), on which the later events of the window
// coalesce. So a burst of webhooks about one payment costs at most one PG
// re-fetch per window, and the first webhook of a quiet payment runs at
// once. River's unique jobs do the bookkeeping (one job per key and window,
// whatever its state), inside tx, on both databases.
func (q *Queue) EnqueueInboundTx(ctx context.Context, tx *sql.Tx, ev Inbound) error {
	if tx == nil {
		return errors.New("enqueue inbound webhook: no transaction")
	}
	if ev.Vendor == "" {
		return errors.New("enqueue inbound webhook: no vendor")
	}
	if ev.ReceivedAt.IsZero() {
		ev.ReceivedAt = q.now()
	}
	opts := &river.InsertOpts{Queue: inboundQueue, MaxAttempts: q.inbound.MaxAttempts()}
	if ev.Key != "" {
		opts.UniqueOpts = river.UniqueOpts{ByArgs: true, ByPeriod: q.window, ByState: allJobStates()}
	}
	// River buckets a job into windows by its own clock, the wall clock.
	next := time.Now().Truncate(q.window)
	for range maxFollowUps + 1 {
		res, err := q.client.InsertTx(ctx, tx, inboundArgs(ev), opts)
		if err != nil {
			return fmt.Errorf("enqueue inbound %s webhook: %w", ev.Vendor, err)
		}
		switch {
		case res.UniqueSkippedAsDuplicate && coalescedOnto(res.Job.State):
			return nil
		case res.UniqueSkippedAsDuplicate:
			next = next.Add(q.window)
			opts.ScheduledAt = next
			continue
		case res.Job.State != rivertype.JobStateAvailable:
			return nil // scheduled: River's scheduler makes it available
		}
		if err := q.notifyTx(ctx, tx, inboundQueue); err != nil {
			return fmt.Errorf("enqueue inbound %s webhook: %w", ev.Vendor, err)
		}
		return nil
	}
	// Every window tried has a started job (the clock jumped): insert a
	// job of its own, uncoalesced.
	opts.UniqueOpts = river.UniqueOpts{}
	if _, err := q.client.InsertTx(ctx, tx, inboundArgs(ev), opts); err != nil {
		return fmt.Errorf("enqueue inbound %s webhook: %w", ev.Vendor, err)
	}
	return nil
}

// EnqueueDeliveryTx schedules the delivery of the stored webhook event
// webhookID in tx; it is sent once tx commits, and never if tx rolls back.
// While a delivery of the event is pending or retrying, enqueueing it again
// does nothing.
func (q *Queue) EnqueueDeliveryTx(ctx context.Context, tx *sql.Tx, webhookID string) error {
	if tx == nil {
		return errors.New("enqueue webhook delivery: no transaction")
	}
	if webhookID == "" {
		return errors.New("enqueue webhook delivery: no webhook id")
	}
	_, err := q.client.InsertTx(ctx, tx, deliveryArgs{WebhookID: webhookID}, q.deliveryOpts())
	if err != nil {
		return fmt.Errorf("enqueue delivery of webhook %s: %w", webhookID, err)
	}
	if err := q.notifyTx(ctx, tx, deliveryQueue); err != nil {
		return fmt.Errorf("enqueue delivery of webhook %s: %w", webhookID, err)
	}
	return nil
}

// deliveryOpts are the insert options of a delivery job: at most one
// live job per event.
func (q *Queue) deliveryOpts() *river.InsertOpts {
	return &river.InsertOpts{
		Queue:       deliveryQueue,
		MaxAttempts: q.delivery.MaxAttempts(),
		UniqueOpts: river.UniqueOpts{
			ByArgs: true,
			// Live states only: a delivered or abandoned event may be
			// delivered again on purpose.
			ByState: []rivertype.JobState{
				rivertype.JobStateAvailable,
				rivertype.JobStatePending,
				rivertype.JobStateRetryable,
				rivertype.JobStateRunning,
				rivertype.JobStateScheduled,
			},
		},
	}
}

// notifyTx announces a job inserted in tx to the workers of every instance,
// delivered when tx commits. River's InsertTx would announce jobs too, but
// at most once per queue every FetchCooldown: a job enqueued right after
// the previous one (the usual case when one event follows another) would
// wait for the fetch poll, up to a second. On PostgreSQL, River's own
// announcements of the webhook queues are dropped (pgDriver), so that an
// enqueue sends one NOTIFY, not two.
//
// On PostgreSQL the NOTIFY is the store's AtCommit statement: PostgreSQL
// sends a notification at commit whenever it ran, so it travels with the
// COMMIT and costs the transaction no round trip of its own. It is
// River's own (riverdatabasesql's NotifyMany: the topic is the schema
// and the topic name, joined by a dot).
func (q *Queue) notifyTx(ctx context.Context, tx *sql.Tx, queue string) error {
	var err error
	if q.ownNotify {
		_, err = tx.ExecContext(ctx, store.AtCommit+"SELECT pg_notify(concat(current_schema(), '.', '"+
			riverInsertTopic+`'), '{"queue":"`+queue+`"}')`)
	} else {
		err = q.client.Driver().UnwrapExecutor(tx).NotifyMany(ctx, &riverdriver.NotifyManyParams{
			Payload: []string{`{"queue":"` + queue + `"}`},
			Topic:   riverInsertTopic,
		})
	}
	if err != nil {
		return fmt.Errorf("notify workers: %w", err)
	}
	q.wake.kick()
	return nil
}

// maxJobError bounds the error text River stores for a failed attempt
// (river_job.errors) and the queue logs.
const maxJobError = 512

// fail turns a failed attempt into River's outcome: a cancelled job for
// ErrPermanent or an exhausted budget, otherwise the error itself, which
// River retries at the worker's NextRetry. what names the job in the log
// lines ("webhook delivery", "pg webhook"), attrs say which one it is. The
// error River gets has its text cleaned (see jobError): River stores it as
// JSON in the same batch as other jobs' completions, so text PostgreSQL
// refuses would fail them all.
//
// final reports whether the job ends here (failed permanently or given
// up) rather than being retried.
func (q *Queue) fail(ctx context.Context, job *rivertype.JobRow, policy RetryPolicy, what string, err error, attrs ...any) (_ error, final bool) {
	safe := newJobError(err)
	attrs = append(attrs, "job", job.ID, "attempt", job.Attempt, "err", safe.Error())
	if errors.Is(err, ErrPermanent) {
		q.log.ErrorContext(ctx, what+" failed permanently", attrs...)
		return river.JobCancel(safe), true
	}
	if job.Attempt >= job.MaxAttempts || policy.giveUp(job.CreatedAt, q.now(), job.Attempt) {
		q.log.ErrorContext(ctx, what+" given up", attrs...)
		return river.JobCancel(newJobError(fmt.Errorf("give up after %d attempts: %w", job.Attempt, err))), true
	}
	q.log.InfoContext(ctx, what+" failed; will retry", attrs...)
	return safe, false
}

// jobError is an error whose text is safe to store and log: bounded, and
// without NUL, control characters or invalid UTF-8, whatever text from a
// PG or a client the error it wraps carries.
type jobError struct {
	text string
	err  error
}

// newJobError wraps err with its cleaned text.
func newJobError(err error) *jobError {
	return &jobError{text: safetext.Clean(err.Error(), maxJobError), err: err}
}

func (e *jobError) Error() string { return e.text }

// Unwrap returns the original error, so errors.Is still sees through it.
func (e *jobError) Unwrap() error { return e.err }

// minLevel drops records below level; River reports every retry at info
// level, which the queue already logs in its own words.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(attrs), level: h.level}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), level: h.level}
}
