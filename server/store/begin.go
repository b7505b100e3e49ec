package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/paymentctl/paymentctl/migrations"
)

// A transaction that starts by taking a payment's lock (InLockedTx) sends
// BEGIN and the lock in one round trip on PostgreSQL: both travel as one
// simple-protocol query, "BEGIN; SELECT pg_advisory_xact_lock(...)", which
// PostgreSQL runs in order, the transaction continuing after the query.
// The lock is therefore taken before any later statement of the
// transaction takes its snapshot, exactly as with a separate lock
// statement (LockVendorPayment), and the transaction is an ordinary
// database/sql one for gorm and River.
//
// database/sql passes nothing but a context and the isolation options to
// the driver's BeginTx, so the lock's key rides in the context
// (beginLock), read by the connections of openPostgres (lockingConn).

// beginLock asks lockingConn.BeginTx to take key's lock with BEGIN, and
// records whether it did.
type beginLock struct {
	key   string
	taken bool
}

// beginLockKey is the context key of a *beginLock.
type beginLockKey struct{}

// InLockedTx runs fn as InTx does, holding the payment's lock
// (LockVendorPayment) from the transaction's start; on PostgreSQL the lock
// is taken with BEGIN, in one round trip. A transaction whose lock was not
// taken with its BEGIN (SQLite, where the transaction is the lock, or a
// connection that cannot) takes it with LockVendorPayment before fn.
func (s *Store) InLockedTx(ctx context.Context, code, uid string, fn func(tx *Tx) error) error {
	if !storable(code, uid) {
		return unstorable("lock payment")
	}
	lock := &beginLock{key: code + " " + uid}
	if s.dialect == migrations.Postgres {
		ctx = context.WithValue(ctx, beginLockKey{}, lock)
	}
	return s.InTx(ctx, func(tx *Tx) error {
		if !lock.taken {
			if err := tx.LockVendorPayment(ctx, code, uid); err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

// lockBeginQuery is BEGIN followed by the lock of key, as one
// simple-protocol query. The key is sent hex-encoded, so that no text of
// the caller's is ever parsed as SQL; the lock hashes the same text as
// LockVendorPayment's statement does, so both take the same lock.
func lockBeginQuery(key string) string {
	return "BEGIN; SELECT pg_advisory_xact_lock(hashtextextended(convert_from(decode('" +
		hex.EncodeToString([]byte(key)) + "', 'hex'), 'UTF8'), 0))"
}

// openPostgres opens the PostgreSQL pool through pgx's database/sql
// driver, its connections able to begin a transaction with a lock
// (lockingConn).
func openPostgres(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse postgres dsn: %w", err)
	}
	return sql.OpenDB(lockingConnector{Connector: stdlib.GetConnector(*cfg)}), nil
}

// lockingConnector makes lockingConns.
type lockingConnector struct {
	driver.Connector
}

// Connect opens a connection of pgx's driver, wrapped in a lockingConn.
func (c lockingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(*stdlib.Conn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("connect to postgres: unexpected driver connection %T", conn)
	}
	return &lockingConn{stdConn: sc}, nil
}

// lockingConn is pgx's database/sql connection (every method of which it
// keeps) whose BeginTx takes a payment's lock with BEGIN when the context
// asks for it (beginLock).
type lockingConn struct {
	*stdConn
	// inTx is set from BeginTx to the end of the transaction it began;
	// atCommit holds that transaction's AtCommit statements.
	inTx     bool
	atCommit []string
}

// stdConn names pgx's connection in lockingConn, whose embedded field
// would otherwise be called Conn and hide the method Conn (the *pgx.Conn
// under it, which the webhook queue reads).
type stdConn = stdlib.Conn

// BeginTx begins a transaction as pgx's driver does; with a beginLock in
// ctx and default options, BEGIN and the lock go in one query. If that
// query fails after BEGIN ran, the connection is closed (database/sql then
// drops it): it must not go back to the pool inside a transaction.
func (c *lockingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.atCommit = c.atCommit[:0]
	lock, ok := ctx.Value(beginLockKey{}).(*beginLock)
	if !ok || lock.taken || opts != (driver.TxOptions{}) {
		tx, err := c.stdConn.BeginTx(ctx, opts)
		if err != nil {
			return nil, err
		}
		c.inTx = true
		return connTx{Tx: tx, ctx: ctx, c: c}, nil
	}
	pc := c.Conn()
	if pc.IsClosed() {
		return nil, driver.ErrBadConn
	}
	tx, err := pc.BeginTx(ctx, pgx.TxOptions{BeginQuery: lockBeginQuery(lock.key)})
	if err != nil {
		if !pc.IsClosed() && pc.PgConn().TxStatus() != 'I' {
			pc.Close(context.WithoutCancel(ctx))
		}
		return nil, err
	}
	lock.taken = true
	c.inTx = true
	return connTx{Tx: lockedTx{ctx: ctx, tx: tx}, ctx: ctx, c: c}, nil
}

// lockedTx is a transaction begun with its lock by lockingConn.BeginTx,
// ended as pgx's driver ends its own.
type lockedTx struct {
	ctx context.Context
	tx  pgx.Tx
}

// Commit commits the transaction.
func (t lockedTx) Commit() error { return t.tx.Commit(t.ctx) }

// Rollback rolls the transaction back.
func (t lockedTx) Rollback() error { return t.tx.Rollback(t.ctx) }

// AtCommit begins a statement that a transaction on PostgreSQL may send
// with its COMMIT instead of on its own: ExecContext on a lockingConn in a
// transaction it began holds such a statement, without arguments, and
// Commit sends the statements held and COMMIT as one simple-protocol
// query, one round trip instead of one more each. It is meant for
// statements whose effect is only seen at commit anyway and whose result
// nobody reads: NOTIFY (pg_notify), which PostgreSQL delivers at commit
// whenever it ran in the transaction. The statement's text must be the
// program's own; a rollback drops it (a rollback to a savepoint does not:
// nothing here uses savepoints). Anywhere else (SQLite, a statement
// outside a transaction, a pool not opened by the store) the statement
// runs at once, which has the same effect.
const AtCommit = "/* at commit */ "

// ExecContext runs query as pgx's driver does, except that a statement
// marked AtCommit inside a transaction of this connection is held for
// the commit (connTx.Commit).
func (c *lockingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.inTx && len(args) == 0 && strings.HasPrefix(query, AtCommit) {
		c.atCommit = append(c.atCommit, query)
		return driver.RowsAffected(0), nil
	}
	return c.stdConn.ExecContext(ctx, query, args)
}

// connTx is a transaction begun by lockingConn.BeginTx: pgx's own, or a
// lockedTx, whose commit also sends the statements held for it
// (AtCommit).
type connTx struct {
	driver.Tx
	ctx context.Context
	c   *lockingConn
}

// Commit commits the transaction, with the statements held for it in
// the same query when there are any. As with pgx's own commit, a failed
// commit that leaves the connection inside a transaction closes it, and a
// transaction PostgreSQL had aborted reports pgx.ErrTxCommitRollback.
func (t connTx) Commit() error {
	held := t.c.atCommit
	t.c.atCommit, t.c.inTx = t.c.atCommit[:0], false
	if len(held) == 0 {
		return t.Tx.Commit()
	}
	pc := t.c.Conn()
	var q strings.Builder
	for _, s := range held {
		q.WriteString(s)
		q.WriteString(";\n")
	}
	q.WriteString("COMMIT")
	results, err := pc.PgConn().Exec(t.ctx, q.String()).ReadAll()
	if err != nil {
		if !pc.IsClosed() && pc.PgConn().TxStatus() != 'I' {
			pc.Close(context.WithoutCancel(t.ctx))
		}
		return err
	}
	if n := len(results); n == 0 || results[n-1].CommandTag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// Rollback rolls the transaction back, dropping the statements held for
// it.
func (t connTx) Rollback() error {
	t.c.atCommit, t.c.inTx = t.c.atCommit[:0], false
	return t.Tx.Rollback()
}
