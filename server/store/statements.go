package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/paymentctl/paymentctl/migrations"
)

// Hand-written SQL of the hot paths, all in this file.
//
// gorm builds every statement anew (clauses, callbacks) and scans rows by
// reflection; on the encrypted read, the API's hottest path, that was a
// quarter of the server's CPU beside the database round trip
// (docs/performance.md). The statements here go to database/sql directly,
// with their text fixed per dialect, so the PostgreSQL driver (pgx) keeps
// one prepared statement per connection for each and every execution is a
// single Bind/Execute round trip. Everything else stays on gorm. The
// history look-ups outside a transaction on PostgreSQL go one step further,
// to pgx's own interface on the same pool's connection (pgxread.go).
//
// Each statement is written once with PostgreSQL's $n placeholders, in
// order, and rewritten to SQLite's ? by newStatements; both dialects get
// the same columns and the same order. A column added to a table read here
// (for example a tenancy column) is added to its column list and to the
// matching scan.

// rawQuerier is what the hand-written statements run on: the pool
// (*sql.DB) or the transaction under a Tx (*sql.Tx).
type rawQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// historyColumns are the columns of a history and of its cancels, in the
// order scanHistoryRows reads them.
const historyColumns = `h.id, h.service, h.source_schema, h.source_table, h.source_id, h.vendor_code, h.vendor_uid, h.vendor_store_id,
 h.payment_reservation_id, h.currency, h.price, h.refund, h.webhook_url, h.data, h.password,
 h.created_at, h.paid_at, h.cancelled_at,
 c.id, c.amount, c.reason, c.data, c.created_at, c.sequence`

// historyQuery selects a history matching where (on h) and its cancels,
// oldest first, in one statement: a read is one round trip.
func historyQuery(where string) string {
	return `SELECT ` + historyColumns + `
FROM payment_histories h LEFT JOIN payment_history_cancels c ON c.payment_history_id = h.id
WHERE ` + where + `
ORDER BY c.created_at, c.sequence, c.id`
}

// insertHistory stores a history (CreateHistory).
const insertHistory = `INSERT INTO payment_histories (id, service, source_schema, source_table, source_id, vendor_code, vendor_uid,
 vendor_store_id, payment_reservation_id, currency, price, refund, webhook_url, data, password, created_at, paid_at, cancelled_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`

// operationColumns are the columns of an operation, in the order
// scanOperations reads them.
const operationColumns = `id, kind, state, history_id, vendor_code, vendor_uid, vendor_store_id, request_key, pg_key,
 amount, refund_before, cancels_before, data, error, attempts, created_at, updated_at, resolved_at`

// applyPending marks the pending webhooks of a payment applied and
// returns them (ApplyPendingWebhooks): one statement where a look-up and
// an update per row were, and of two transactions applying the same row,
// the second, waiting on its lock, finds it applied and gets nothing.
const applyPending = `UPDATE payment_pending_webhooks SET applied_at = $1
WHERE vendor_code = $2 AND vendor_uid = $3 AND applied_at IS NULL
RETURNING id, vendor_code, vendor_uid, data, received_at, applied_at`

// insertAudit stores an audit event (RegisterHistory).
const insertAudit = `INSERT INTO payment_audit_events (id, history_id, service, event, vendor_code, store_id, request_id, data, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

// captureCancelled is true when a confirm operation of the payment
// (vendor_code $1, vendor_uid $2) is in state compensate or compensated:
// its registration is refused (ErrCaptureCancelled).
const captureCancelled = `SELECT EXISTS (SELECT 1 FROM payment_operations
WHERE vendor_code = $1 AND vendor_uid = $2 AND kind = 'confirm' AND state IN ('compensate', 'compensated'))`

// registerHistory is captureCancelled, insertHistory, insertAudit and
// applyPending in one statement, PostgreSQL's data-modifying CTEs
// (RegisterHistory): one round trip where four were. They run on one
// snapshot, taken after the payment's lock, which keeps new pending
// webhooks of the payment out until the commit, and shows the operations
// committed before it; a failure of any of them fails the statement. The
// first column says whether the payment's capture is cancelled (the
// caller then rolls the transaction back); the others are the applied
// webhooks, NULL when there are none.
const registerHistory = `WITH history AS (
INSERT INTO payment_histories (id, service, source_schema, source_table, source_id, vendor_code, vendor_uid,
 vendor_store_id, payment_reservation_id, currency, price, refund, webhook_url, data, password, created_at, paid_at, cancelled_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
), audit AS (
INSERT INTO payment_audit_events (id, history_id, service, event, vendor_code, store_id, request_id, data, created_at)
VALUES ($19, $20, $21, $22, $23, $24, $25, $26, $27)
), applied AS (
UPDATE payment_pending_webhooks SET applied_at = $28
WHERE vendor_code = $29 AND vendor_uid = $30 AND applied_at IS NULL
RETURNING id, vendor_code, vendor_uid, data, received_at, applied_at
)
SELECT c.cancelled, a.id, a.vendor_code, a.vendor_uid, a.data, a.received_at, a.applied_at
FROM (SELECT EXISTS (SELECT 1 FROM payment_operations
 WHERE vendor_code = $29 AND vendor_uid = $30 AND kind = 'confirm' AND state IN ('compensate', 'compensated')) AS cancelled) c
LEFT JOIN applied a ON true`

// updateHistory writes the PG-derived state of a history (UpdateHistory;
// cancelled_at only when it has none) and returns the history as the
// update left it with its cancels, as historyByID does, in one statement
// (PostgreSQL's data-modifying CTE; UpdateAndReadHistory): one round trip
// where two were. The cancels are those of the statement's snapshot,
// which holds every cancel the transaction added before it.
const updateHistory = `WITH h AS (
UPDATE payment_histories SET currency = $1, price = $2, refund = $3, paid_at = $4, data = $5,
 cancelled_at = COALESCE(cancelled_at, $6)
WHERE id = $7
RETURNING *
)
SELECT ` + historyColumns + `
FROM h LEFT JOIN payment_history_cancels c ON c.payment_history_id = h.id
ORDER BY c.created_at, c.sequence, c.id`

// insertWebhook stores a webhook event (RecordWebhook).
const insertWebhook = `INSERT INTO payment_history_webhooks (id, payment_history_id, previous, current, data, created_at)
VALUES ($1, $2, $3, $4, $5, $6)`

// recordWebhook is insertAudit and insertWebhook in one statement
// (RecordWebhook): one round trip where two were; a failure of either
// fails both.
const recordWebhook = `WITH audit AS (
INSERT INTO payment_audit_events (id, history_id, service, event, vendor_code, store_id, request_id, data, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
)
INSERT INTO payment_history_webhooks (id, payment_history_id, previous, current, data, created_at)
VALUES ($10, $11, $12, $13, $14, $15)`

// statements holds the hand-written statements in one dialect's
// placeholders.
type statements struct {
	historyByID        string
	historyByVendor    string
	historyBySource    string
	insertHistory      string
	insertAudit        string
	registerHistory    string // PostgreSQL only; "" on SQLite
	updateHistory      string // PostgreSQL only; "" on SQLite
	insertWebhook      string
	recordWebhook      string // PostgreSQL only; "" on SQLite
	operationsOfVendor string
	captureCancelled   string
	applyPending       string
	lockVendor         string
}

// newStatements returns the statements for dialect.
func newStatements(dialect string) *statements {
	s := &statements{
		historyByID:        historyQuery(`h.id = $1`),
		historyByVendor:    historyQuery(`h.vendor_code = $1 AND h.vendor_uid = $2`),
		historyBySource:    historyQuery(`h.service = $1 AND h.source_schema = $2 AND h.source_table = $3 AND h.source_id = $4`),
		insertHistory:      insertHistory,
		insertAudit:        insertAudit,
		registerHistory:    registerHistory,
		updateHistory:      updateHistory,
		insertWebhook:      insertWebhook,
		recordWebhook:      recordWebhook,
		operationsOfVendor: `SELECT ` + operationColumns + ` FROM payment_operations WHERE vendor_code = $1 AND vendor_uid = $2 ORDER BY created_at`,
		applyPending:       applyPending,
		captureCancelled:   captureCancelled,
		// PostgreSQL only (LockVendorPayment): SQLite's transactions hold
		// the database's write lock already.
		lockVendor: `SELECT pg_advisory_xact_lock(hashtextextended(CAST($1 AS text), 0))`,
	}
	if dialect == migrations.SQLite {
		// SQLite has no data-modifying CTEs: RegisterHistory,
		// UpdateAndReadHistory and RecordWebhook run their statements in
		// turn.
		s.registerHistory, s.updateHistory, s.recordWebhook = "", "", ""
		for _, q := range []*string{&s.historyByID, &s.historyByVendor, &s.historyBySource, &s.insertHistory,
			&s.insertAudit, &s.insertWebhook, &s.operationsOfVendor, &s.applyPending, &s.lockVendor, &s.captureCancelled} {
			*q = questionMarks(*q)
		}
	}
	return s
}

// questionMarks rewrites $1, $2, ... into ?, which SQLite binds by
// position; the statements use each placeholder once, in order.
func questionMarks(q string) string {
	var pairs []string
	for i := 99; i >= 1; i-- { // $18 before $1
		pairs = append(pairs, "$"+strconv.Itoa(i), "?")
	}
	return strings.NewReplacer(pairs...).Replace(q)
}

// queryHistory runs one of the history statements and returns the
// history, with its cancels; no row is ErrNotFound. On PostgreSQL outside
// a transaction it runs on pgx's own interface (pgxread.go).
func (q *queries) queryHistory(ctx context.Context, op, query string, args ...any) (*History, error) {
	start := time.Now()
	var h *History
	if q.pgxPool != nil {
		var err error
		if h, err = queryHistoryPgx(ctx, q.pgxPool, query, args...); err != nil {
			return nil, q.rawFail(err, op, query)
		}
	} else {
		rows, err := q.raw.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, q.rawFail(err, op, query)
		}
		if h, err = scanHistoryRows(rows); err != nil {
			return nil, q.rawFail(err, op, query)
		}
	}
	q.reportSlow(start, query)
	if h == nil {
		return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return h, nil
}

// scanHistoryRows reads the rows of historyQuery: the history's columns
// on each, one cancel's (all NULL when it has none) after them. It closes
// rows and returns nil when there are none.
func scanHistoryRows(rows *sql.Rows) (*History, error) {
	defer rows.Close()
	s := new(historyScan)
	dest := s.dest()
	var h *History
	for rows.Next() {
		if h != nil {
			// Further rows repeat the history: only the cancel is kept.
			var skip any
			for i := range historyOnlyColumns {
				dest[i] = &skip
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		h = s.add(h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return finishHistory(h), nil
}

// rawFail maps the error of a hand-written statement as gorm maps its
// own (TranslateError), then onto the package's sentinels (translate),
// and reports it through the store's Logf as the gorm logger reports
// its statements' errors: with placeholders only, and not when it is an
// expected ErrConflict or ErrNotFound or the caller gave up.
func (q *queries) rawFail(err error, op, query string) error {
	if t, ok := q.db.Dialector.(gorm.ErrorTranslator); ok {
		err = t.Translate(err)
	}
	out := translate(err, op)
	if q.logf != nil && !errors.Is(out, ErrConflict) && !errors.Is(out, ErrNotFound) && !errors.Is(err, context.Canceled) {
		q.logf("%s: %v\n%s", op, err, query)
	}
	return out
}

// reportSlow reports a hand-written statement that took longer than
// slowQuery, as gorm's logger does for its own.
func (q *queries) reportSlow(start time.Time, query string) {
	if d := time.Since(start); d > slowQuery && q.logf != nil {
		q.logf("SLOW SQL >= %v [%.3fms]\n%s", slowQuery, float64(d.Microseconds())/1000, query)
	}
}

// execRaw runs a hand-written statement that returns no rows and returns
// how many rows it changed.
func (q *queries) execRaw(ctx context.Context, op, query string, args ...any) (int64, error) {
	start := time.Now()
	res, err := q.raw.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, q.rawFail(err, op, query)
	}
	q.reportSlow(start, query)
	n, err := res.RowsAffected()
	if err != nil {
		return 0, q.rawFail(err, op, query)
	}
	return n, nil
}

// scanOperations reads rows of operationColumns and closes rows.
func scanOperations(rows *sql.Rows) ([]Operation, error) {
	defer rows.Close()
	out := []Operation{}
	for rows.Next() {
		var r operationRow
		err := rows.Scan(&r.ID, &r.Kind, &r.State, &r.HistoryID, &r.VendorCode, &r.VendorUID, &r.VendorStoreID, &r.RequestKey, &r.PGKey,
			&r.Amount, &r.RefundBefore, &r.CancelsBefore, &r.Data, &r.Error, &r.Attempts, &r.CreatedAt, &r.UpdatedAt, &r.ResolvedAt)
		if err != nil {
			return nil, err
		}
		out = append(out, r.domain())
	}
	return out, rows.Err()
}

// scanRegistered reads the rows of registerHistory and closes rows: whether
// the payment's capture is cancelled, and the applied webhooks.
func scanRegistered(rows *sql.Rows) (cancelled bool, _ []PendingWebhook, _ error) {
	defer rows.Close()
	out := []PendingWebhook{}
	for rows.Next() {
		var r struct {
			ID, VendorCode, VendorUID, Data sql.NullString
			ReceivedAt, AppliedAt           sql.NullTime
		}
		if err := rows.Scan(&cancelled, &r.ID, &r.VendorCode, &r.VendorUID, &r.Data, &r.ReceivedAt, &r.AppliedAt); err != nil {
			return false, nil, err
		}
		if !r.ID.Valid {
			continue // no webhook kept: the one row of the LEFT JOIN
		}
		row := pendingWebhookRow{ID: r.ID.String, VendorCode: r.VendorCode.String, VendorUID: r.VendorUID.String,
			Data: r.Data.String, ReceivedAt: r.ReceivedAt.Time}
		if r.AppliedAt.Valid {
			row.AppliedAt = &r.AppliedAt.Time
		}
		out = append(out, row.domain())
	}
	return cancelled, out, rows.Err()
}

// scanPending reads rows of payment_pending_webhooks (id, vendor_code,
// vendor_uid, data, received_at, applied_at) and closes rows.
func scanPending(rows *sql.Rows) ([]PendingWebhook, error) {
	defer rows.Close()
	out := []PendingWebhook{}
	for rows.Next() {
		var r pendingWebhookRow
		if err := rows.Scan(&r.ID, &r.VendorCode, &r.VendorUID, &r.Data, &r.ReceivedAt, &r.AppliedAt); err != nil {
			return nil, err
		}
		out = append(out, r.domain())
	}
	return out, rows.Err()
}
