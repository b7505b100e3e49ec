package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

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
// single Bind/Execute round trip. Everything else stays on gorm.
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
}

// historyColumns are the columns of a history and of its cancels, in the
// order scanHistoryRows reads them.
const historyColumns = `h.id, h.source_schema, h.source_table, h.source_id, h.vendor_code, h.vendor_uid, h.vendor_store_id,
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

// statements holds the hand-written statements in one dialect's
// placeholders.
type statements struct {
	historyByID     string
	historyByVendor string
	historyBySource string
}

// newStatements returns the statements for dialect.
func newStatements(dialect string) *statements {
	s := &statements{
		historyByID:     historyQuery(`h.id = $1`),
		historyByVendor: historyQuery(`h.vendor_code = $1 AND h.vendor_uid = $2`),
		historyBySource: historyQuery(`h.source_schema = $1 AND h.source_table = $2 AND h.source_id = $3`),
	}
	if dialect == migrations.SQLite {
		for _, q := range []*string{&s.historyByID, &s.historyByVendor, &s.historyBySource} {
			*q = questionMarks(*q)
		}
	}
	return s
}

// questionMarks rewrites $1, $2, ... into ?, which SQLite binds by
// position; the statements use each placeholder once, in order.
func questionMarks(q string) string {
	var pairs []string
	for i := 9; i >= 1; i-- { // $10 would need to go before $1; none has that many
		pairs = append(pairs, "$"+strconv.Itoa(i), "?")
	}
	return strings.NewReplacer(pairs...).Replace(q)
}

// queryHistory runs one of the history statements and returns the
// history, with its cancels; no row is ErrNotFound.
func (q *queries) queryHistory(ctx context.Context, op, query string, args ...any) (*History, error) {
	start := time.Now()
	rows, err := q.raw.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, q.rawError(err, op, query)
	}
	h, err := scanHistoryRows(rows)
	if err != nil {
		return nil, q.rawError(err, op, query)
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
	var h *History
	for rows.Next() {
		var (
			r           History
			reservation sql.NullString
			refund      sql.NullInt64
			paid, canc  sql.NullTime
			cID         sql.NullString
			cAmount     sql.NullInt64
			cReason     sql.NullString
			cData       sql.NullString
			cCreated    sql.NullTime
			cSequence   sql.NullInt64
		)
		err := rows.Scan(&r.ID, &r.Source.Schema, &r.Source.Table, &r.Source.ID, &r.Vendor.Code, &r.Vendor.UID, &r.Vendor.StoreID,
			&reservation, &r.Currency, &r.Price, &refund, &r.WebhookURL, &r.Data, &r.Password,
			&r.CreatedAt, &paid, &canc,
			&cID, &cAmount, &cReason, &cData, &cCreated, &cSequence)
		if err != nil {
			return nil, err
		}
		if h == nil {
			r.ReservationID, r.Refund = reservation.String, refund.Int64
			r.CreatedAt = r.CreatedAt.UTC()
			r.PaidAt, r.CancelledAt = nullTime(paid), nullTime(canc)
			h = &r
		}
		if !cID.Valid {
			continue
		}
		c := Cancel{ID: cID.String, HistoryID: h.ID, Amount: cAmount.Int64, Reason: cReason.String, Data: cData.String}
		if cCreated.Valid {
			c.CreatedAt = cCreated.Time.UTC()
		}
		if cSequence.Valid {
			seq := int(cSequence.Int64)
			c.Sequence = &seq
		}
		h.Cancels = append(h.Cancels, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if h != nil && h.Cancels == nil {
		h.Cancels = []Cancel{}
	}
	return h, nil
}

// nullTime returns t as a UTC pointer, nil when NULL.
func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// rawError wraps a failed hand-written statement as translate does, and
// reports it through the store's Logf unless the caller was cancelled:
// as gorm's logger reports its statements' errors, with placeholders only.
func (q *queries) rawError(err error, op, query string) error {
	if q.logf != nil && !errors.Is(err, context.Canceled) {
		q.logf("%s: %v\n%s", op, err, query)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// reportSlow reports a hand-written statement that took longer than
// slowQuery, as gorm's logger does for its own.
func (q *queries) reportSlow(start time.Time, query string) {
	if d := time.Since(start); d > slowQuery && q.logf != nil {
		q.logf("SLOW SQL >= %v [%.3fms]\n%s", slowQuery, float64(d.Microseconds())/1000, query)
	}
}
