package store

import (
	"context"
	"fmt"
	"time"

	"github.com/paymentctl/paymentctl/migrations"
)

// PendingWebhook is a PG webhook that arrived before its payment was
// registered (payment_pending_webhooks). It is applied once a history with
// the same vendor (code, uid) exists.
type PendingWebhook struct {
	// ID is a UUID; AddPendingWebhook generates one when it is empty.
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

// AddPendingWebhook keeps a webhook for later, filling in p.ID and
// p.ReceivedAt when they are empty.
func (q *queries) AddPendingWebhook(ctx context.Context, p *PendingWebhook) error {
	id, err := newID(p.ID)
	if err != nil {
		return fmt.Errorf("add pending webhook: %w", err)
	}
	row := pendingWebhookRow{
		ID:         id,
		VendorCode: p.VendorCode,
		VendorUID:  p.VendorUID,
		Data:       p.Data,
		ReceivedAt: q.stampOrNow(p.ReceivedAt),
	}
	if err := q.conn(ctx).Create(&row).Error; err != nil {
		return translate(err, "add pending webhook")
	}
	p.ID, p.ReceivedAt, p.AppliedAt = row.ID, row.ReceivedAt, nil
	return nil
}

// PendingWebhooks returns the webhooks for the vendor (code, uid) not yet
// applied, oldest first.
func (q *queries) PendingWebhooks(ctx context.Context, code, uid string) ([]PendingWebhook, error) {
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
	if tx.dialect != migrations.Postgres {
		return nil
	}
	err := tx.conn(ctx).Exec("SELECT pg_advisory_xact_lock(hashtextextended(CAST(? AS text), 0))", code+" "+uid).Error
	if err != nil {
		return translate(err, "lock payment "+code+" "+uid)
	}
	return nil
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
