// Package store is paymentctl's storage layer: the only package that talks
// to the database, on PostgreSQL or SQLite, through gorm, except the hot
// paths (a history's look-ups, the registration's statements), which run
// hand-written statements on database/sql, all in statements.go, the
// history look-ups on PostgreSQL on pgx's own interface under the same
// pool (pgxread.go; docs/performance.md).
//
// Methods take a context, return domain structs (History, Reservation, ...)
// and report failures as ErrNotFound, ErrConflict or ErrInvalid (test with
// errors.Is); text with NUL or invalid UTF-8, which PostgreSQL refuses, is
// ErrInvalid on a write and ErrNotFound on a look-up, on both dialects;
// gorm's types and errors never leave the package. The schema itself lives in
// the migrations package and is applied by Migrate, never implicitly.
//
// Every query method exists on both *Store (each call on its own) and *Tx
// (several calls in one transaction, see Store.InTx). Sealed columns (data,
// response bodies) and passwords are opaque strings here: sealing and hashing
// happen in the caller.
//
// On PostgreSQL the pool's connections (begin.go) save round trips for the
// callers that ask: InLockedTx sends BEGIN and the payment's lock as one
// query, and a statement marked AtCommit (the webhook queue's NOTIFY)
// travels with the transaction's COMMIT.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/paymentctl/paymentctl/internal/safetext"
	"github.com/paymentctl/paymentctl/migrations"
)

var (
	// ErrNotFound means the requested row, or a row it refers to, does not
	// exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the write clashes with stored data: a unique key is
	// taken (vendor code+uid, source triple, idempotency key), a state
	// change was already made, or an amount invariant would break.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means a value cannot be stored as given: text holding NUL
	// or invalid UTF-8 (PostgreSQL refuses both, SQLite would keep them),
	// or an id that is not a canonical UUID. Callers validate their input
	// first; this keeps such a value a client error instead of a database
	// one.
	ErrInvalid = errors.New("invalid value")
	// ErrCaptureCancelled means a payment cannot be registered: a confirm
	// operation of it is in state OpCompensate or OpCompensated, its
	// money being or having been given back at the PG (a capture whose
	// registration failed, or a payment refused for its amount).
	ErrCaptureCancelled = errors.New("the payment is cancelled at the PG: its capture was not registered")
)

// DefaultIdempotencyTTL is how long an idempotency key is remembered unless
// WithIdempotencyTTL says otherwise.
const DefaultIdempotencyTTL = 24 * time.Hour

// IdempotencyLease is how long a record may stay running before
// BeginIdempotency takes it for abandoned (its process died mid-request;
// a live request releases or completes its record) and lets the key start
// afresh. It is far above the longest a request can take (the PG
// clients' timeouts and the server's write timeout), so a slow request is
// never run twice.
const IdempotencyLease = 10 * time.Minute

// slowQuery is the threshold above which a query is reported through the
// Logf given with WithLogf.
const slowQuery = 500 * time.Millisecond

// Store is a handle on the payments database. It is safe for concurrent use.
type Store struct {
	queries
	sqlDB *sql.DB
}

// Tx is a database transaction opened by Store.InTx or
// Store.WithHistoryLocked. It offers the same query methods as Store; all of
// them run inside the transaction. A Tx must not be used after the function
// it was passed to has returned.
type Tx struct {
	queries
}

// queries holds the query methods shared by Store and Tx; db is either the
// pool or a transaction, and raw the same under gorm, for the hand-written
// statements (statements.go).
type queries struct {
	db  *gorm.DB
	raw rawQuerier
	// pgxPool is the pool when it is pgx's (PostgreSQL) and the queries
	// are not in a transaction: the history look-ups then run on pgx's
	// own interface (pgxread.go). Nil otherwise.
	pgxPool *sql.DB
	stmts   *statements
	dialect string
	now     func() time.Time
	ttl     time.Duration
	logf    func(format string, args ...any)
}

// Option configures Open.
type Option func(*options)

type options struct {
	now  func() time.Time
	logf func(format string, args ...any)
	ttl  time.Duration
}

// WithClock sets the clock used for created/received/applied times and
// idempotency expiry. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithLogf reports slow queries and unexpected database errors through logf;
// errors the store answers as ErrConflict or ErrNotFound are expected and
// not reported. Statements are logged with placeholders, never with their
// arguments, so no secret reaches the log. Without it the store logs
// nothing.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(o *options) { o.logf = logf }
}

// WithIdempotencyTTL sets how long idempotency keys live
// (DefaultIdempotencyTTL when unset or not positive).
func WithIdempotencyTTL(d time.Duration) Option {
	return func(o *options) { o.ttl = d }
}

// Open connects to the database named by dsn and checks the connection.
//
// PostgreSQL: "postgres://..." or "postgresql://...". Tables live in the
// first schema of the search_path; a search_path (or a Prisma-style schema)
// query parameter selects it, as in "postgres://u@h/db?search_path=payments".
//
// SQLite: "sqlite:path", "file:path" or a path ending in .db, .sqlite or
// .sqlite3. The database runs in WAL mode with foreign keys on and a busy
// timeout, and every read-write transaction begins IMMEDIATE, so concurrent
// writers queue instead of failing with SQLITE_BUSY. A missing database
// file is created with mode 0600, and SQLite gives its -wal and -shm files
// the same mode: payments are for the server's user only.
//
// Open does not migrate; see Migrate and SchemaUpToDate.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.ttl <= 0 {
		o.ttl = DefaultIdempotencyTTL
	}
	target, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if target.file != "" {
		if err := createPrivate(target.file); err != nil {
			return nil, err
		}
	}
	cfg := &gorm.Config{
		// Turns driver errors into gorm.ErrDuplicatedKey and friends, which
		// translate() maps onto ErrConflict and ErrNotFound.
		TranslateError: true,
		// Single statements are atomic already; the implicit transaction
		// gorm wraps around each create/update/delete only costs a round trip
		// (and, on SQLite, the write lock earlier than needed).
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return stamp(o.now()) },
		Logger:                 newLogger(o.logf),
		// gorm's own ping ignores ctx; Open pings below with it.
		DisableAutomaticPing: true,
	}
	dialector, err := target.dialector()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", target.dialect, err)
	}
	db, err := gorm.Open(dialector, cfg)
	if err != nil {
		if db != nil {
			if sqlDB, dbErr := db.DB(); dbErr == nil {
				sqlDB.Close()
			}
		}
		return nil, fmt.Errorf("open %s database: %w", target.dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", target.dialect, err)
	}
	target.tunePool(sqlDB)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", target.dialect, err)
	}
	var pgxPool *sql.DB
	if target.dialect == migrations.Postgres {
		pgxPool = sqlDB
	}
	return &Store{
		queries: queries{db: db, raw: sqlDB, pgxPool: pgxPool, stmts: newStatements(target.dialect), dialect: target.dialect, now: o.now, ttl: o.ttl, logf: o.logf},
		sqlDB:   sqlDB,
	}, nil
}

// Dialect returns migrations.Postgres or migrations.SQLite.
func (s *Store) Dialect() string { return s.dialect }

// SQLDB returns the connection pool under gorm, for the job queue and for
// migrations. Closing it closes the Store.
func (s *Store) SQLDB() *sql.DB { return s.sqlDB }

// Close closes the connection pool.
func (s *Store) Close() error { return s.sqlDB.Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s database: %w", s.dialect, err)
	}
	return nil
}

// Migrate applies every pending migration (paymentctl schema).
func (s *Store) Migrate(ctx context.Context) error {
	return migrations.Apply(ctx, s.sqlDB, s.dialect)
}

// SchemaUpToDate reports whether every migration this binary knows has been
// applied; serve refuses to start otherwise. It does not write.
func (s *Store) SchemaUpToDate(ctx context.Context) (bool, error) {
	return migrations.UpToDate(ctx, s.sqlDB, s.dialect)
}

// InTx runs fn in one transaction, committed when fn returns nil and rolled
// back when it returns an error (which InTx returns unchanged) or panics.
// On SQLite the transaction holds the database's write lock from its start,
// so transactions are serialised. Inside fn use tx, never the Store: on
// SQLite a write through the Store would wait for fn's own lock until the
// busy timeout.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	var fnErr error
	err := s.db.WithContext(ctx).Transaction(func(gtx *gorm.DB) error {
		sqlTx, ok := gtx.Statement.ConnPool.(*sql.Tx)
		if !ok {
			// Open configures nothing else (no prepared-statement pool).
			fnErr = errors.New("transaction: not a database/sql transaction")
			return fnErr
		}
		q := s.queries
		q.db, q.raw, q.pgxPool = gtx, sqlTx, nil
		fnErr = fn(&Tx{queries: q})
		return fnErr
	})
	if err != nil && fnErr == nil {
		// Begin or commit failed; fn's own errors pass through unchanged.
		return translate(err, "transaction")
	}
	return err
}

// SQLTx returns the *sql.Tx under the transaction, so that other libraries
// (the River job queue) can write in the same transaction. It returns nil if
// the connection pool is not a plain *sql.Tx, which Open never configures.
func (tx *Tx) SQLTx() *sql.Tx {
	sqlTx, _ := tx.db.Statement.ConnPool.(*sql.Tx)
	return sqlTx
}

// conn returns the gorm handle bound to ctx.
func (q *queries) conn(ctx context.Context) *gorm.DB {
	return q.db.WithContext(ctx)
}

// stamp normalises a time for storage: UTC, microsecond precision (what
// PostgreSQL keeps), so the two dialects store and compare alike.
func stamp(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// stampOrNow stamps t, or the store's current time when t is zero.
func (q *queries) stampOrNow(t time.Time) time.Time {
	if t.IsZero() {
		t = q.now()
	}
	return stamp(t)
}

// newID returns id when it is a canonical UUID, a fresh UUIDv4 when it is
// empty, and ErrInvalid otherwise (PostgreSQL would reject it, SQLite
// would not). The error says what is wrong with the id, not the id: it
// may be a client's, and the error reaches logs and job records.
func newID(id string) (string, error) {
	if id == "" {
		return uuid.NewString(), nil
	}
	if !safetext.CanonicalUUID(id) {
		return "", fmt.Errorf("id: %w: not a uuid, got %s", ErrInvalid, safetext.DescribeToken(id, 36, "-"))
	}
	return id, nil
}

// validID reports whether id can name a row: a UUID in the canonical
// form. Look-ups by another id answer ErrNotFound on both dialects instead
// of a PostgreSQL syntax error; PostgreSQL's uuid type refuses
// "urn:uuid:…", which uuid.Parse accepts.
func validID(id string) bool { return safetext.CanonicalUUID(id) }

// storable reports whether every text can be stored, and compared, on both
// dialects: valid UTF-8 without NUL.
func storable(texts ...string) bool {
	for _, s := range texts {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return false
		}
	}
	return true
}

// unstorable is the error of a write of text storable refused.
func unstorable(op string) error {
	return fmt.Errorf("%s: %w: text with NUL or invalid UTF-8", op, ErrInvalid)
}

// translate maps database errors onto the package's sentinels and prefixes
// the operation. Other errors are wrapped so callers can still detect
// context cancellation.
func translate(err error, op string) error {
	var liteErr *gosqlite.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%s: %w: duplicate key", op, ErrConflict)
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return fmt.Errorf("%s: referenced row: %w", op, ErrNotFound)
	case errors.Is(err, gorm.ErrCheckConstraintViolated),
		errors.As(err, &liteErr) && liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_CHECK:
		return fmt.Errorf("%s: %w: amount or state out of range", op, ErrConflict)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

// newLogger keeps gorm quiet unless a Logf is given, and then reports only
// unexpected errors and slow queries, without bound values (see
// quietExpected).
func newLogger(logf func(format string, args ...any)) logger.Interface {
	if logf == nil {
		return logger.Discard
	}
	return quietExpected{logger.New(logfWriter(logf), logger.Config{
		SlowThreshold:             slowQuery,
		LogLevel:                  logger.Warn,
		IgnoreRecordNotFoundError: true,
		ParameterizedQueries:      true,
	})}
}

// quietExpected is a gorm logger that does not report the errors the
// store answers as ErrConflict or ErrNotFound (a unique key taken, a
// missing referenced row, a CHECK constraint; see translate): they are
// a client's 409 or 404, not a failure, and logging them put a SQL
// statement in the log for every duplicate registration. Such a query
// is still reported when it is slow.
type quietExpected struct{ logger.Interface }

// LogMode keeps the filter on a logger of another level.
func (l quietExpected) LogMode(level logger.LogLevel) logger.Interface {
	return quietExpected{l.Interface.LogMode(level)}
}

// ParamsFilter drops the query's arguments, so a statement is logged with
// its placeholders only. gorm asks the logger it holds, this wrapper, not
// the one inside, which would otherwise go unasked and let gorm inline
// the values (sealed data, password hashes).
func (quietExpected) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

// Trace reports the query as gorm does, without an expected error.
func (l quietExpected) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if t := translate(err, ""); errors.Is(t, ErrConflict) || errors.Is(t, ErrNotFound) {
		err = nil
	}
	l.Interface.Trace(ctx, begin, fc, err)
}

// logfWriter adapts a Logf function to gorm's logger.Writer.
type logfWriter func(format string, args ...any)

// Printf implements logger.Writer.
func (f logfWriter) Printf(format string, args ...any) { f(format, args...) }
