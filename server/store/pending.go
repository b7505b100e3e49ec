package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/paymentctl/paymentctl/migrations"
)

// PendingWebhook is a PG webhook that arrived before its payment was
// registered (payment_pending_webhooks). It is applied once a history with
// the same vendor (code, uid) exists, and deleted by ExpirePendingWebhooks
// when none is registered in time.
type PendingWebhook struct {
	// ID is a UUID; KeepPendingWebhook generates one when it is empty.
	ID         string
	VendorCode string
	VendorUID  string
	// Data is the PG's raw webhook body, sealed.
	Data string
	// ReceivedAt is the store's now when zero.
	ReceivedAt time.Time
	// AppliedAt is nil until MarkPendingWebhookApplied.
	AppliedAt *time.Time
}

type pendingWebhookRow struct {
	ID         string     `gorm:"column:id;primaryKey"`
	VendorCode string     `gorm:"column:vendor_code"`
	VendorUID  string     `gorm:"column:vendor_uid"`
	Data       string     `gorm:"column:data"`
	ReceivedAt time.Time  `gorm:"column:received_at"`
	AppliedAt  *time.Time `gorm:"column:applied_at"`
}

// TableName tells gorm the table.
func (pendingWebhookRow) TableName() string { return "payment_pending_webhooks" }

func (r *pendingWebhookRow) domain() PendingWebhook {
	return PendingWebhook{
		ID:         r.ID,
		VendorCode: r.VendorCode,
		VendorUID:  r.VendorUID,
		Data:       r.Data,
		ReceivedAt: r.ReceivedAt.UTC(),
		AppliedAt:  utcPtr(r.AppliedAt),
	}
}

// DefaultPendingWebhookTTL is how long a pending webhook is kept when its
// payment is never registered: a forged or mistaken id costs one row for
// this long, a legitimate payment is registered within minutes.
const DefaultPendingWebhookTTL = 7 * 24 * time.Hour

// KeepPendingWebhook keeps a webhook for later. At most one unapplied row
// is kept per vendor (code, uid): a second webhook for the same payment
// replaces the kept one's body and received time when it was received
// later, and is dropped when it was received earlier (a registration only
// needs the latest time, to tell whether its PG fetch came after it). p is
// filled in with the row kept: its ID (a new one, or the existing row's),
// ReceivedAt and Data. p.ReceivedAt is the store's now when zero.
func (q *queries) KeepPendingWebhook(ctx context.Context, p *PendingWebhook) error {
	op := "keep pending webhook of " + p.VendorCode + " " + p.VendorUID
	id, err := newID(p.ID)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if !storable(p.VendorCode, p.VendorUID, p.Data) {
		return unstorable("add pending webhook")
	}
	var rows []pendingWebhookRow
	err = q.conn(ctx).Raw(`INSERT INTO payment_pending_webhooks (id, vendor_code, vendor_uid, data, received_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (vendor_code, vendor_uid) WHERE applied_at IS NULL
DO UPDATE SET data = excluded.data, received_at = excluded.received_at
WHERE excluded.received_at >= payment_pending_webhooks.received_at
RETURNING id, vendor_code, vendor_uid, data, received_at, applied_at`,
		id, p.VendorCode, p.VendorUID, p.Data, q.stampOrNow(p.ReceivedAt)).Scan(&rows).Error
	if err != nil {
		return translate(err, op)
	}
	if len(rows) == 0 {
		// A later webhook is kept already.
		err = q.conn(ctx).Where("vendor_code = ? AND vendor_uid = ? AND applied_at IS NULL", p.VendorCode, p.VendorUID).
			Take(&rows).Error
		if err != nil {
			return translate(err, op)
		}
	}
	*p = rows[0].domain()
	return nil
}

// PendingWebhooks returns the webhooks for the vendor (code, uid) not yet
// applied, oldest first: since KeepPendingWebhook, at most one.
func (q *queries) PendingWebhooks(ctx context.Context, code, uid string) ([]PendingWebhook, error) {
	if !storable(code, uid) {
		return nil, nil // none can have been kept
	}
	var rows []pendingWebhookRow
	err := q.conn(ctx).
		Where("vendor_code = ? AND vendor_uid = ? AND applied_at IS NULL", code, uid).
		Order("received_at, id").Find(&rows).Error
	if err != nil {
		return nil, translate(err, "list pending webhooks of "+code+" "+uid)
	}
	out := make([]PendingWebhook, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

// ApplyPendingWebhooks marks every pending webhook of the payment (code,
// uid) applied and returns them, oldest first, as they were before (with
// AppliedAt nil): the ones this call applied. Of two concurrent callers,
// each row goes to exactly one; the other gets none of it.
func (q *queries) ApplyPendingWebhooks(ctx context.Context, code, uid string) ([]PendingWebhook, error) {
	if !storable(code, uid) {
		return nil, nil // none can have been kept
	}
	op := "apply pending webhooks of " + code + " " + uid
	query := q.stmts.applyPending
	rows, err := q.raw.QueryContext(ctx, query, stamp(q.now()), code, uid)
	if err != nil {
		return nil, q.rawFail(err, op, query)
	}
	out, err := scanApplied(rows)
	if err != nil {
		return nil, q.rawFail(err, op, query)
	}
	return out, nil
}

// scanApplied reads the rows the applyPending statement returned (and
// closes them) as ApplyPendingWebhooks returns them: oldest first, as they
// were before (AppliedAt nil).
func scanApplied(rows *sql.Rows) ([]PendingWebhook, error) {
	out, err := scanPending(rows)
	if err != nil {
		return nil, err
	}
	return asApplied(out), nil
}

// asApplied returns webhooks just marked applied as they were before
// (AppliedAt nil), in the order they were received.
func asApplied(out []PendingWebhook) []PendingWebhook {
	for i := range out {
		out[i].AppliedAt = nil
	}
	slices.SortFunc(out, func(a, b PendingWebhook) int {
		return cmp.Or(a.ReceivedAt.Compare(b.ReceivedAt), strings.Compare(a.ID, b.ID))
	})
	return out
}

// MarkPendingWebhookApplied records that the pending webhook with the given
// id has been applied. Marking it twice is ErrConflict, so of two concurrent
// appliers exactly one succeeds; an unknown id is ErrNotFound.
func (q *queries) MarkPendingWebhookApplied(ctx context.Context, id string) error {
	op := "mark pending webhook " + id + " applied"
	if !validID(id) {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	res := q.conn(ctx).Model(&pendingWebhookRow{}).
		Where("id = ? AND applied_at IS NULL", id).
		Update("applied_at", stamp(q.now()))
	if res.Error != nil {
		return translate(res.Error, op)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var row pendingWebhookRow
	if err := q.conn(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return translate(err, op)
	}
	return fmt.Errorf("%s: %w: already applied", op, ErrConflict)
}

// LockVendorPayment serialises, until the transaction ends, the
// transactions that register the payment the PG knows as (code, uid) and
// those that keep a webhook for it as pending: whichever commits second
// sees the other's rows, so a webhook arriving during a registration is
// either replayed by it or finds the history. On PostgreSQL it is a
// transaction-level advisory lock on a hash of the pair (a collision only
// serialises two unrelated payments); on SQLite the transaction already
// holds the database's write lock.
func (tx *Tx) LockVendorPayment(ctx context.Context, code, uid string) error {
	if !storable(code, uid) {
		return unstorable("lock payment")
	}
	if tx.dialect != migrations.Postgres {
		return nil
	}
	_, err := tx.execRaw(ctx, "lock payment "+code+" "+uid, tx.stmts.lockVendor, code+" "+uid)
	return err
}

// ExpirePendingWebhooks deletes the pending webhooks received more than ttl
// ago, applied or not, and returns how many it deleted.
func (q *queries) ExpirePendingWebhooks(ctx context.Context, ttl time.Duration) (int64, error) {
	res := q.conn(ctx).Where("received_at < ?", stamp(q.now().Add(-ttl))).Delete(&pendingWebhookRow{})
	if res.Error != nil {
		return 0, translate(res.Error, "expire pending webhooks")
	}
	return res.RowsAffected, nil
}

// CountPendingWebhooks returns how many webhooks wait for their payment to
// be registered (kept and not applied).
func (q *queries) CountPendingWebhooks(ctx context.Context) (int64, error) {
	var n int64
	if err := q.conn(ctx).Model(&pendingWebhookRow{}).Where("applied_at IS NULL").Count(&n).Error; err != nil {
		return 0, translate(err, "count pending webhooks")
	}
	return n, nil
}

// HasHistoryForOrder reports whether a payment registered with the vendor
// code was made for the order orderID (its source id: a Toss orderId, an
// Iamport merchant_uid). A Toss deposit callback names only its order.
func (q *queries) HasHistoryForOrder(ctx context.Context, code, orderID string) (bool, error) {
	var rows []historyRow
	err := q.conn(ctx).Select("id").Where("vendor_code = ? AND source_id = ?", code, orderID).Limit(1).Find(&rows).Error
	if err != nil {
		return false, translate(err, "find "+code+" history of order "+orderID)
	}
	return len(rows) > 0, nil
}

// maxOrderStores bounds StoresOfOrder: an order id is a source id, unique
// per source table, so a handful of histories share one at most.
const maxOrderStores = 8

// StoresOfOrder returns the distinct store ids of the payments registered
// with the vendor code for the order orderID (see HasHistoryForOrder), at
// most maxOrderStores: a Toss deposit callback names only its order, and
// the order's payment is fetched with its store's credentials.
func (q *queries) StoresOfOrder(ctx context.Context, code, orderID string) ([]string, error) {
	var ids []string
	err := q.conn(ctx).Model(&historyRow{}).Distinct("vendor_store_id").
		Where("vendor_code = ? AND source_id = ?", code, orderID).Limit(maxOrderStores).Pluck("vendor_store_id", &ids).Error
	if err != nil {
		return nil, translate(err, "find the stores of "+code+" order "+orderID)
	}
	return ids, nil
}
