package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Vendor identifies a payment or saved card at its PG.
type Vendor struct {
	// Code is the PG: "iamport" or "toss.payments".
	Code string
	// StoreID is the merchant id registered at the PG.
	StoreID string
	// UID is the PG's id: imp_uid / customer_uid, paymentKey / billingKey.
	UID string
}

// Source identifies the client service's record a payment belongs to:
// the service that registered it and the record's schema, table and id.
// A source is unique per service.
type Source struct {
	// Service is the owning service's name (config services.list); ""
	// is the default service (requests without an API key), which owns
	// every record made before services existed.
	Service string
	Schema  string
	Table   string
	ID      string
}

// History is a payment registered by a client service (payment_histories).
type History struct {
	// ID is a UUID; CreateHistory generates one when it is empty.
	ID     string
	Vendor Vendor
	Source Source
	// ReservationID is the saved card the payment was made with, or empty.
	ReservationID string
	Currency      string
	// Price is the paid amount in the currency's smallest unit (KRW: won).
	Price int64
	// Refund is the total refunded so far; 0 when nothing was.
	Refund     int64
	WebhookURL string
	// Data is the PG's payment object, sealed.
	Data string
	// Password is the record password's hash.
	Password  string
	CreatedAt time.Time
	PaidAt    *time.Time
	// CancelledAt is the time of the first cancel; once set it never changes.
	CancelledAt *time.Time
	// Cancels are the cancel events, oldest first. Look-ups fill them;
	// CreateHistory ignores them.
	Cancels []Cancel
}

// Cancel is one cancel (refund) event of a history
// (payment_history_cancels). A history, amount, reason and time identify it:
// adding the same event again is a no-op.
type Cancel struct {
	// ID is a UUID; AddCancels generates one when it is empty.
	ID        string
	HistoryID string
	Amount    int64
	Reason    string
	// Data is the PG's cancel object, sealed.
	Data string
	// CreatedAt is when the PG cancelled; the store's now when zero.
	CreatedAt time.Time
	// Sequence is the cancel's position in the PG's list of cancels of
	// the payment (0 first); a history and a sequence identify a cancel.
	// Nil for rows imported from the original.
	Sequence *int
}

// HistoryUpdate is the PG-derived state of a history, written by
// UpdateHistory after a PG call or webhook.
type HistoryUpdate struct {
	Currency string
	Price    int64
	Refund   int64
	PaidAt   *time.Time
	// CancelledAt is recorded only if the history has no cancel time yet,
	// so it keeps the first one (the original overwrote it on every update).
	CancelledAt *time.Time
	// Data is the PG's payment object, sealed.
	Data string
}

type historyRow struct {
	ID                   string     `gorm:"column:id;primaryKey"`
	Service              string     `gorm:"column:service"`
	SourceSchema         string     `gorm:"column:source_schema"`
	SourceTable          string     `gorm:"column:source_table"`
	SourceID             string     `gorm:"column:source_id"`
	VendorCode           string     `gorm:"column:vendor_code"`
	VendorUID            string     `gorm:"column:vendor_uid"`
	VendorStoreID        string     `gorm:"column:vendor_store_id"`
	PaymentReservationID *string    `gorm:"column:payment_reservation_id"`
	Currency             string     `gorm:"column:currency"`
	Price                int64      `gorm:"column:price"`
	Refund               *int64     `gorm:"column:refund"`
	WebhookURL           string     `gorm:"column:webhook_url"`
	Data                 string     `gorm:"column:data"`
	Password             string     `gorm:"column:password"`
	CreatedAt            time.Time  `gorm:"column:created_at"`
	PaidAt               *time.Time `gorm:"column:paid_at"`
	CancelledAt          *time.Time `gorm:"column:cancelled_at"`
}

// TableName tells gorm the table.
func (historyRow) TableName() string { return "payment_histories" }

func (r *historyRow) domain() *History {
	h := &History{
		ID:          r.ID,
		Vendor:      Vendor{Code: r.VendorCode, StoreID: r.VendorStoreID, UID: r.VendorUID},
		Source:      Source{Service: r.Service, Schema: r.SourceSchema, Table: r.SourceTable, ID: r.SourceID},
		Currency:    r.Currency,
		Price:       r.Price,
		WebhookURL:  r.WebhookURL,
		Data:        r.Data,
		Password:    r.Password,
		CreatedAt:   r.CreatedAt.UTC(),
		PaidAt:      utcPtr(r.PaidAt),
		CancelledAt: utcPtr(r.CancelledAt),
	}
	if r.PaymentReservationID != nil {
		h.ReservationID = *r.PaymentReservationID
	}
	if r.Refund != nil {
		h.Refund = *r.Refund
	}
	return h
}

type cancelRow struct {
	ID               string    `gorm:"column:id;primaryKey"`
	PaymentHistoryID string    `gorm:"column:payment_history_id"`
	Amount           int64     `gorm:"column:amount"`
	Reason           string    `gorm:"column:reason"`
	Data             string    `gorm:"column:data"`
	CreatedAt        time.Time `gorm:"column:created_at"`
	Sequence         *int      `gorm:"column:sequence"`
}

// TableName tells gorm the table.
func (cancelRow) TableName() string { return "payment_history_cancels" }

func (r *cancelRow) domain() Cancel {
	return Cancel{
		ID:        r.ID,
		HistoryID: r.PaymentHistoryID,
		Amount:    r.Amount,
		Reason:    r.Reason,
		Data:      r.Data,
		CreatedAt: r.CreatedAt.UTC(),
		Sequence:  r.Sequence,
	}
}

// CreateHistory stores a new history. It fills in h.ID and h.CreatedAt when
// they are empty and normalises the times to what is stored (UTC,
// microseconds). A taken vendor (code, uid) or source triple is ErrConflict;
// an unknown ReservationID is ErrNotFound.
func (q *queries) CreateHistory(ctx context.Context, h *History) error {
	_, args, stored, err := q.historyArgs(h)
	if err != nil {
		return err
	}
	if _, err := q.execRaw(ctx, "create history", q.stmts.insertHistory, args...); err != nil {
		return err
	}
	stored()
	return nil
}

// historyArgs checks h and returns its id, the arguments of
// insertHistory, and a function that fills in what is stored (id, times)
// once it is.
func (q *queries) historyArgs(h *History) (string, []any, func(), error) {
	id, err := newID(h.ID)
	if err != nil {
		return "", nil, nil, fmt.Errorf("create history: %w", err)
	}
	if !storable(h.Source.Service, h.Source.Schema, h.Source.Table, h.Source.ID, h.Vendor.Code, h.Vendor.UID, h.Vendor.StoreID,
		h.Currency, h.WebhookURL, h.Data, h.Password) {
		return "", nil, nil, unstorable("create history")
	}
	var reservation *string
	if h.ReservationID != "" {
		if !validID(h.ReservationID) {
			return "", nil, nil, fmt.Errorf("create history: reservation %q: %w", h.ReservationID, ErrNotFound)
		}
		reservation = &h.ReservationID
	}
	created, paid, cancelled := q.stampOrNow(h.CreatedAt), stampPtr(h.PaidAt), stampPtr(h.CancelledAt)
	args := []any{id, h.Source.Service, h.Source.Schema, h.Source.Table, h.Source.ID, h.Vendor.Code, h.Vendor.UID, h.Vendor.StoreID,
		reservation, h.Currency, h.Price, h.Refund, h.WebhookURL, h.Data, h.Password, created, paid, cancelled}
	return id, args, func() { h.ID, h.CreatedAt, h.PaidAt, h.CancelledAt = id, created, paid, cancelled }, nil
}

// RegisterHistory stores a new history as CreateHistory does, with e, the
// audit event of its registration (as AddAuditEvent; e's HistoryID is set
// to the history's, its ID and CreatedAt filled in), and, when applyPending is set, applies the pending webhooks
// of its vendor payment and returns them (as ApplyPendingWebhooks). On
// PostgreSQL, with applyPending, that is one statement (registerHistory),
// on SQLite the three in turn; the transaction holds them together either
// way, and the caller holds the payment's lock (LockVendorPayment).
func (tx *Tx) RegisterHistory(ctx context.Context, h *History, e *AuditEvent, applyPending bool) ([]PendingWebhook, error) {
	const op = "create history"
	id, args, stored, err := tx.historyArgs(h)
	if err != nil {
		return nil, err
	}
	e.HistoryID = id
	row, err := tx.auditRowOf("add audit event", e)
	if err != nil {
		return nil, err
	}
	audit := []any{row.ID, row.HistoryID, row.Service, row.Event, row.VendorCode, row.StoreID, row.RequestID, row.Data, row.CreatedAt}
	var applied []PendingWebhook
	if query := tx.stmts.registerHistory; query != "" && applyPending {
		all := append(append(args, audit...), stamp(tx.now()), h.Vendor.Code, h.Vendor.UID)
		start := time.Now()
		rows, err := tx.raw.QueryContext(ctx, query, all...)
		if err != nil {
			return nil, tx.rawFail(err, op, query)
		}
		if applied, err = scanApplied(rows); err != nil {
			return nil, tx.rawFail(err, op, query)
		}
		tx.reportSlow(start, query)
	} else {
		if _, err := tx.execRaw(ctx, op, tx.stmts.insertHistory, args...); err != nil {
			return nil, err
		}
		if _, err := tx.execRaw(ctx, "add audit event", tx.stmts.insertAudit, audit...); err != nil {
			return nil, err
		}
		if applyPending {
			if applied, err = tx.ApplyPendingWebhooks(ctx, h.Vendor.Code, h.Vendor.UID); err != nil {
				return nil, err
			}
		}
	}
	stored()
	e.ID, e.CreatedAt = row.ID, row.CreatedAt
	return applied, nil
}

// History returns the history with the given id, with its cancels.
func (q *queries) History(ctx context.Context, id string) (*History, error) {
	op := "find history " + id
	if !validID(id) {
		return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return q.queryHistory(ctx, op, q.stmts.historyByID, id)
}

// HistoryByVendor returns the history the PG knows as (code, uid), with its
// cancels.
func (q *queries) HistoryByVendor(ctx context.Context, code, uid string) (*History, error) {
	if !storable(code, uid) {
		return nil, fmt.Errorf("find history by vendor: %w", ErrNotFound)
	}
	return q.queryHistory(ctx, "find history "+code+" "+uid, q.stmts.historyByVendor, code, uid)
}

// HistoryBySource returns the history of the client's record src, with its
// cancels; only src.Service's (another service's record is ErrNotFound).
func (q *queries) HistoryBySource(ctx context.Context, src Source) (*History, error) {
	if !storable(src.Service, src.Schema, src.Table, src.ID) {
		return nil, fmt.Errorf("find history by source: %w", ErrNotFound)
	}
	return q.queryHistory(ctx, "find history of "+src.Schema+"."+src.Table+" "+src.ID,
		q.stmts.historyBySource, src.Service, src.Schema, src.Table, src.ID)
}

// LockHistory returns the history with the given id and, on PostgreSQL,
// locks its row (SELECT ... FOR UPDATE) until the transaction ends. On
// SQLite the transaction already holds the database's write lock.
func (tx *Tx) LockHistory(ctx context.Context, id string) (*History, error) {
	h, err := tx.LockHistoryRow(ctx, id)
	if err != nil {
		return nil, err
	}
	if h.Cancels, err = tx.Cancels(ctx, h.ID); err != nil {
		return nil, err
	}
	return h, nil
}

// LockHistoryRow is LockHistory without the cancels (Cancels is nil): one
// statement, the locked row as it is now.
func (tx *Tx) LockHistoryRow(ctx context.Context, id string) (*History, error) {
	op := "lock history " + id
	if !validID(id) {
		return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	var row historyRow
	err := tx.conn(ctx).Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
		Where("id = ?", id).Take(&row).Error
	if err != nil {
		return nil, translate(err, op)
	}
	return row.domain(), nil
}

// WithHistoryLocked runs fn in a transaction holding the lock on the history
// with the given id (see LockHistory), so that concurrent cancels of one
// payment run one after the other and each sees the refund the previous one
// committed. fn's error rolls the transaction back and is returned.
func (s *Store) WithHistoryLocked(ctx context.Context, id string, fn func(tx *Tx, h *History) error) error {
	return s.InTx(ctx, func(tx *Tx) error {
		h, err := tx.LockHistory(ctx, id)
		if err != nil {
			return err
		}
		return fn(tx, h)
	})
}

// UpdateHistory writes the PG-derived state of the history with the given
// id. CancelledAt is kept if already set. A refund above the price is
// ErrConflict; an unknown id is ErrNotFound.
func (q *queries) UpdateHistory(ctx context.Context, id string, u HistoryUpdate) error {
	op := "update history " + id
	if !validID(id) {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	if !storable(u.Currency, u.Data) {
		return unstorable(op)
	}
	values := map[string]any{
		"currency": u.Currency,
		"price":    u.Price,
		"refund":   u.Refund,
		"paid_at":  stampPtr(u.PaidAt),
		"data":     u.Data,
	}
	if u.CancelledAt != nil {
		values["cancelled_at"] = gorm.Expr("COALESCE(cancelled_at, ?)", stamp(*u.CancelledAt))
	}
	res := q.conn(ctx).Model(&historyRow{}).Where("id = ?", id).Updates(values)
	if res.Error != nil {
		return translate(res.Error, op)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return nil
}

// UpdateAndReadHistory writes u onto the history with the given id as
// UpdateHistory does, and returns the history as now stored, with its
// cancels, as History does: on PostgreSQL in one statement
// (updateHistory), on SQLite the two in turn. Add the cancels of the same
// change first (AddCancels), so that they are read back with it.
func (tx *Tx) UpdateAndReadHistory(ctx context.Context, id string, u HistoryUpdate) (*History, error) {
	query := tx.stmts.updateHistory
	if query == "" {
		if err := tx.UpdateHistory(ctx, id, u); err != nil {
			return nil, err
		}
		return tx.History(ctx, id)
	}
	op := "update history " + id
	if !validID(id) {
		return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	if !storable(u.Currency, u.Data) {
		return nil, unstorable(op)
	}
	return tx.queryHistory(ctx, op, query, u.Currency, u.Price, u.Refund, stampPtr(u.PaidAt), u.Data, stampPtr(u.CancelledAt), id)
}

// AddCancels stores cancel events of the history with the given id and
// returns how many were new: events already stored (same history and
// Sequence) are skipped, so a full re-sync from the PG can be added as is. An
// unknown history is ErrNotFound. It fills in each cancel's HistoryID, an
// empty ID and CreatedAt as stored (UTC, microseconds; the store's now when
// zero), as CreateHistory does for its history.
func (q *queries) AddCancels(ctx context.Context, historyID string, cancels []Cancel) (int64, error) {
	op := "add cancels to history " + historyID
	if !validID(historyID) {
		return 0, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	if len(cancels) == 0 {
		return 0, nil
	}
	rows := make([]cancelRow, len(cancels))
	for i, c := range cancels {
		id, err := newID(c.ID)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", op, err)
		}
		if !storable(c.Reason, c.Data) {
			return 0, unstorable(op)
		}
		rows[i] = cancelRow{
			ID:               id,
			PaymentHistoryID: historyID,
			Amount:           c.Amount,
			Reason:           c.Reason,
			Data:             c.Data,
			CreatedAt:        q.stampOrNow(c.CreatedAt),
			Sequence:         c.Sequence,
		}
	}
	res := q.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&rows)
	if res.Error != nil {
		return 0, translate(res.Error, op)
	}
	for i := range rows {
		cancels[i].ID, cancels[i].HistoryID, cancels[i].CreatedAt = rows[i].ID, historyID, rows[i].CreatedAt
	}
	return res.RowsAffected, nil
}

// Cancels returns the cancel events of a history, oldest first.
func (q *queries) Cancels(ctx context.Context, historyID string) ([]Cancel, error) {
	op := "list cancels of history " + historyID
	if !validID(historyID) {
		return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	var rows []cancelRow
	err := q.conn(ctx).Where("payment_history_id = ?", historyID).
		Order("created_at, sequence, id").Find(&rows).Error
	if err != nil {
		return nil, translate(err, op)
	}
	out := make([]Cancel, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

func stampPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	s := stamp(*t)
	return &s
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// deref returns *p, or the zero value when p is nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
