package store

import (
	"context"
	"fmt"
	"time"
)

// AuditEvent is one money event of the audit trail
// (payment_audit_events): append-only, written in the transaction of the
// change it records where there is one. What it names in the clear is
// what an operator filters by; the details (amounts, reasons, PG ids) are
// in Data, sealed by the payment service. Passwords and card data are
// never part of it.
type AuditEvent struct {
	// ID is a UUID; AddAuditEvent generates one when it is empty.
	ID string
	// HistoryID is the payment's history; empty for a refused
	// registration, which has none.
	HistoryID string
	// Service is the owning (or, for a refusal, the calling) service; ""
	// is the default service.
	Service string
	// Event is what happened: registered, refused, cancelled, reconciled
	// or delivery_given_up.
	Event      string
	VendorCode string
	StoreID    string
	// RequestID is the X-Request-Id of the request that caused it; empty
	// for the reconciler's and the webhook workers' events without one.
	RequestID string
	// Data is the sealed details.
	Data string
	// CreatedAt is when it happened; the store's now when zero.
	CreatedAt time.Time
}

type auditRow struct {
	ID         string    `gorm:"column:id;primaryKey"`
	HistoryID  *string   `gorm:"column:history_id"`
	Service    string    `gorm:"column:service"`
	Event      string    `gorm:"column:event"`
	VendorCode string    `gorm:"column:vendor_code"`
	StoreID    string    `gorm:"column:store_id"`
	RequestID  string    `gorm:"column:request_id"`
	Data       string    `gorm:"column:data"`
	CreatedAt  time.Time `gorm:"column:created_at"`
}

// TableName tells gorm the table.
func (auditRow) TableName() string { return "payment_audit_events" }

func (r *auditRow) domain() AuditEvent {
	return AuditEvent{
		ID: r.ID, HistoryID: deref(r.HistoryID), Service: r.Service, Event: r.Event,
		VendorCode: r.VendorCode, StoreID: r.StoreID, RequestID: r.RequestID,
		Data: r.Data, CreatedAt: r.CreatedAt.UTC(),
	}
}

// AddAuditEvent appends e to the audit trail, filling in its ID and
// CreatedAt when they are empty. Nothing updates or deletes an event (on
// both databases a trigger refuses it).
func (q *queries) AddAuditEvent(ctx context.Context, e *AuditEvent) error {
	op := "add audit event"
	row, err := q.auditRowOf(op, e)
	if err != nil {
		return err
	}
	if err := q.conn(ctx).Create(&row).Error; err != nil {
		return translate(err, op)
	}
	e.ID, e.CreatedAt = row.ID, row.CreatedAt
	return nil
}

// auditRowOf checks e and returns the row that stores it, with its id and
// time filled in.
func (q *queries) auditRowOf(op string, e *AuditEvent) (auditRow, error) {
	id, err := newID(e.ID)
	if err != nil {
		return auditRow{}, fmt.Errorf("%s: %w", op, err)
	}
	if !storable(e.HistoryID, e.Service, e.Event, e.VendorCode, e.StoreID, e.RequestID, e.Data) {
		return auditRow{}, unstorable(op)
	}
	row := auditRow{
		ID: id, Service: e.Service, Event: e.Event, VendorCode: e.VendorCode, StoreID: e.StoreID,
		RequestID: e.RequestID, Data: e.Data, CreatedAt: q.stampOrNow(e.CreatedAt),
	}
	if e.HistoryID != "" {
		if !validID(e.HistoryID) {
			return auditRow{}, fmt.Errorf("%s: history %q: %w", op, e.HistoryID, ErrInvalid)
		}
		row.HistoryID = &e.HistoryID
	}
	return row, nil
}

// AuditTrail returns the audit events of a history, oldest first; none
// (and no error) for an unknown id.
func (q *queries) AuditTrail(ctx context.Context, historyID string) ([]AuditEvent, error) {
	if !validID(historyID) {
		return nil, nil
	}
	var rows []auditRow
	err := q.conn(ctx).Where("history_id = ?", historyID).Order("created_at, id").Find(&rows).Error
	if err != nil {
		return nil, translate(err, "read the audit trail of "+historyID)
	}
	out := make([]AuditEvent, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}
