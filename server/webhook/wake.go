package webhook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
)

// How the SQLite notification table is polled: River's own listener reads
// it every 50 ms; after an enqueue of this process it is read every 2 ms
// for a while, long enough for the enqueuing transaction to commit.
const (
	coldPoll  = 50 * time.Millisecond
	hotPoll   = 2 * time.Millisecond
	hotWindow = 2 * time.Second
)

// listenPool returns a pgx pool for River's LISTEN connection, dialling
// exactly as the store's pool does (same server, credentials and
// search_path), or an error when db is not pgx's database/sql driver.
// Nothing is connected until River listens.
func listenPool(db *sql.DB) (*pgxpool.Pool, error) {
	if _, ok := db.Driver().(*stdlib.Driver); !ok {
		return nil, errors.New("the database pool is not pgx's database/sql driver")
	}
	cfg, err := pgxpool.ParseConfig("")
	if err != nil {
		return nil, fmt.Errorf("listen pool: %w", err)
	}
	// River hijacks the connection it listens on; one suffices, a second
	// covers a reconnect while the first is being closed.
	cfg.MinConns, cfg.MaxConns = 0, 2
	cfg.BeforeConnect = func(ctx context.Context, cc *pgx.ConnConfig) error {
		live, err := connConfig(ctx, db)
		if err != nil {
			return err
		}
		*cc = *live
		// pgx set this to the store connection's own buffer; left in
		// place, notifications would land there instead of on ours.
		cc.OnNotification = nil
		return nil
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("listen pool: %w", err)
	}
	return pool, nil
}

// connConfig returns a copy of the configuration a connection of db was
// opened with.
func connConfig(ctx context.Context, db *sql.DB) (*pgx.ConnConfig, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("read connection settings: %w", err)
	}
	defer conn.Close()
	var cfg *pgx.ConnConfig
	err = conn.Raw(func(dc any) error {
		// The store's connections wrap pgx's (store.openPostgres) and
		// keep its Conn method.
		c, ok := dc.(interface{ Conn() *pgx.Conn })
		if !ok {
			return fmt.Errorf("read connection settings: unexpected driver connection %T", dc)
		}
		cfg = c.Conn().Config()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// sqliteDriver is River's SQLite driver with a listener that polls faster
// after a local enqueue.
type sqliteDriver struct {
	*riversqlite.Driver
	wake *sqliteWake
}

// GetListener is called once per River client, for its notifier.
func (d *sqliteDriver) GetListener(params *riverdriver.GetListenenerParams) riverdriver.Listener {
	l := &kickedListener{Listener: d.Driver.GetListener(params)}
	d.wake.set(l)
	return l
}

// sqliteWake connects the Queue's enqueues to its client's listener.
type sqliteWake struct {
	mu sync.Mutex
	l  *kickedListener
}

func (w *sqliteWake) set(l *kickedListener) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.l = l
}

// kick announces an enqueue whose transaction is about to commit. It is a
// no-op on a nil receiver (PostgreSQL).
func (w *sqliteWake) kick() {
	if w == nil {
		return
	}
	w.mu.Lock()
	l := w.l
	w.mu.Unlock()
	if l != nil {
		l.kick()
	}
}

// kickedListener wraps River's SQLite listener, which polls the
// river_notification table, to choose how often it polls. Each wait is one
// call of the inner listener bounded by a short context: the inner
// listener reads the table once, then idles until the context ends.
type kickedListener struct {
	riverdriver.Listener

	mu       sync.Mutex
	hotUntil time.Time
	// cancelWait ends the current wait early, when a kick makes a slow
	// poll a fast one.
	cancelWait context.CancelFunc
}

func (l *kickedListener) kick() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hotUntil = time.Now().Add(hotWindow)
	if l.cancelWait != nil {
		l.cancelWait()
	}
}

// wait starts one bounded wait: hotPoll long during the hot window,
// coldPoll otherwise.
func (l *kickedListener) wait(ctx context.Context) (context.Context, context.CancelFunc) {
	l.mu.Lock()
	defer l.mu.Unlock()
	poll := coldPoll
	if time.Now().Before(l.hotUntil) {
		poll = hotPoll
	}
	wctx, cancel := context.WithTimeout(ctx, poll)
	l.cancelWait = cancel
	return wctx, cancel
}

// WaitForNotification returns the next notification, polling the table at
// the current pace until one arrives or ctx ends.
func (l *kickedListener) WaitForNotification(ctx context.Context) (*riverdriver.Notification, error) {
	for {
		wctx, cancel := l.wait(ctx)
		n, err := l.Listener.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			return n, nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case wctx.Err() != nil:
			// The poll period ended or a kick cut it short.
			continue
		default:
			return nil, err
		}
	}
}
