package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// OperationKind is what a PG operation does.
type OperationKind string

// The kinds of operations.
const (
	// OpCancel is a refund of all or part of a registered payment.
	OpCancel OperationKind = "cancel"
	// OpConfirm is a Toss confirm made while registering a payment: it
	// captures the money before the history exists.
	OpConfirm OperationKind = "confirm"
)

// OperationState is where an operation stands.
type OperationState string

// The states of an operation.
const (
	// OpPending: recorded before the PG call, which is in flight or was cut
	// short by a crash (then it is resolved like OpUnknown once stale).
	OpPending OperationState = "pending"
	// OpUnknown: the PG may have acted but did not say so (a timeout, a
	// reset connection, a 5xx). Resolved by re-fetching the payment.
	OpUnknown OperationState = "unknown"
	// OpSucceeded: the PG did it, and the database holds the result.
	OpSucceeded OperationState = "succeeded"
	// OpFailed: the PG did not do it.
	OpFailed OperationState = "failed"
	// OpCompensate: a confirm whose registration failed; the captured
	// payment must be cancelled at the PG.
	OpCompensate OperationState = "compensate"
	// OpCompensated: that payment was cancelled at the PG.
	OpCompensated OperationState = "compensated"
)

// Final reports whether the state needs no more work.
func (s OperationState) Final() bool {
	return s == OpSucceeded || s == OpFailed || s == OpCompensated
}

// Operation is a money-moving PG call (payment_operations), recorded
// before it is made so that a call with an unknown outcome, or one cut
// short by a crash, is never taken for "nothing happened".
type Operation struct {
	// ID is a UUID; CreateOperation generates one when it is empty.
	ID    string
	Kind  OperationKind
	State OperationState
	// HistoryID is the payment's history; empty for a confirm until its
	// registration commits.
	HistoryID string
	Vendor    Vendor
	// RequestKey is the idempotency record of the API request that made
	// the operation, empty when it carried no Idempotency-Key. A retry of
	// that request finds its operation by it.
	RequestKey string
	// PGKey is the idempotency key sent to the PG with the call (Toss's
	// Idempotency-Key), kept so that a re-run sends the same one.
	PGKey string
	// Amount is the amount moved (refunded, or captured by a confirm).
	Amount int64
	// RefundBefore and CancelsBefore are the payment's refund and number
	// of cancels when the operation started: a cancel happened when the
	// PG's list has a cancel of Amount past CancelsBefore.
	RefundBefore  int64
	CancelsBefore int
	// Data holds the request's details (reason, refund account, order),
	// sealed.
	Data string
	// Error is the last failure's description (never client input).
	Error      string
	Attempts   int
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ResolvedAt *time.Time
}

type operationRow struct {
	ID            string     `gorm:"column:id;primaryKey"`
	Kind          string     `gorm:"column:kind"`
	State         string     `gorm:"column:state"`
	HistoryID     *string    `gorm:"column:history_id"`
	VendorCode    string     `gorm:"column:vendor_code"`
	VendorUID     string     `gorm:"column:vendor_uid"`
	VendorStoreID string     `gorm:"column:vendor_store_id"`
	RequestKey    *string    `gorm:"column:request_key"`
	PGKey         string     `gorm:"column:pg_key"`
	Amount        int64      `gorm:"column:amount"`
	RefundBefore  int64      `gorm:"column:refund_before"`
	CancelsBefore int        `gorm:"column:cancels_before"`
	Data          string     `gorm:"column:data"`
	Error         string     `gorm:"column:error"`
	Attempts      int        `gorm:"column:attempts"`
	CreatedAt     time.Time  `gorm:"column:created_at"`
	UpdatedAt     time.Time  `gorm:"column:updated_at"`
	ResolvedAt    *time.Time `gorm:"column:resolved_at"`
}

// TableName tells gorm the table.
func (operationRow) TableName() string { return "payment_operations" }

func (r *operationRow) domain() Operation {
	return Operation{
		ID: r.ID, Kind: OperationKind(r.Kind), State: OperationState(r.State),
		HistoryID:  deref(r.HistoryID),
		Vendor:     Vendor{Code: r.VendorCode, UID: r.VendorUID, StoreID: r.VendorStoreID},
		RequestKey: deref(r.RequestKey), PGKey: r.PGKey,
		Amount: r.Amount, RefundBefore: r.RefundBefore, CancelsBefore: r.CancelsBefore,
		Data: r.Data, Error: r.Error, Attempts: r.Attempts,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), ResolvedAt: utcPtr(r.ResolvedAt),
	}
}

// nullable returns nil for "" and &s otherwise.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CreateOperation stores a new operation. It fills in an empty ID, the
// state (OpPending when empty) and the times as stored.
func (q *queries) CreateOperation(ctx context.Context, o *Operation) error {
	var err error
	if o.ID, err = newID(o.ID); err != nil {
		return fmt.Errorf("create operation: %w", err)
	}
	if o.State == "" {
		o.State = OpPending
	}
	now := stamp(q.now())
	o.CreatedAt, o.UpdatedAt = now, now
	row := operationRow{
		ID: o.ID, Kind: string(o.Kind), State: string(o.State), HistoryID: nullable(o.HistoryID),
		VendorCode: o.Vendor.Code, VendorUID: o.Vendor.UID, VendorStoreID: o.Vendor.StoreID,
		RequestKey: nullable(o.RequestKey), PGKey: o.PGKey,
		Amount: o.Amount, RefundBefore: o.RefundBefore, CancelsBefore: o.CancelsBefore,
		Data: o.Data, Error: o.Error, Attempts: o.Attempts, CreatedAt: now, UpdatedAt: now,
	}
	return translate(q.conn(ctx).Create(&row).Error, "create operation")
}

// OperationUpdate is a change of an operation's state. HistoryID, when
// set, links a confirm to the history its registration created.
type OperationUpdate struct {
	State     OperationState
	Error     string
	HistoryID string
}

// UpdateOperation moves the operation with the given id to u.State and
// counts an attempt. Final states stamp resolved_at.
func (q *queries) UpdateOperation(ctx context.Context, id string, u OperationUpdate) error {
	op := "update operation " + id
	if !validID(id) {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	now := stamp(q.now())
	values := map[string]any{
		"state": string(u.State), "error": u.Error, "updated_at": now,
		"attempts": gorm.Expr("attempts + 1"),
	}
	if u.State.Final() {
		values["resolved_at"] = now
	}
	if u.HistoryID != "" {
		values["history_id"] = u.HistoryID
	}
	res := q.conn(ctx).Model(&operationRow{}).Where("id = ?", id).Updates(values)
	if res.Error != nil {
		return translate(res.Error, op)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return nil
}

// OpenOperations returns the operations of a history that are not final,
// oldest first.
func (q *queries) OpenOperations(ctx context.Context, historyID string) ([]Operation, error) {
	if !validID(historyID) {
		return nil, nil
	}
	return q.operations(ctx, "open operations of "+historyID,
		"history_id = ? AND state IN ?", historyID, openStates())
}

// OperationsOfVendorPayment returns the operations on a PG payment,
// oldest first.
func (q *queries) OperationsOfVendorPayment(ctx context.Context, code, uid string) ([]Operation, error) {
	op := "operations of " + code + " payment"
	query := q.stmts.operationsOfVendor
	rows, err := q.raw.QueryContext(ctx, query, code, uid)
	if err != nil {
		return nil, q.rawFail(err, op, query)
	}
	ops, err := scanOperations(rows)
	if err != nil {
		return nil, q.rawFail(err, op, query)
	}
	return ops, nil
}

// OperationOfRequest returns the latest operation made by the request with
// the given idempotency record id, or ErrNotFound.
func (q *queries) OperationOfRequest(ctx context.Context, requestKey string) (*Operation, error) {
	op := "operation of request " + requestKey
	if !validID(requestKey) {
		return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	var row operationRow
	err := q.conn(ctx).Where("request_key = ?", requestKey).Order("created_at DESC").Take(&row).Error
	if err != nil {
		return nil, translate(err, op)
	}
	o := row.domain()
	return &o, nil
}

// OperationOfID returns the operation with the given id, or ErrNotFound.
func (q *queries) OperationOfID(ctx context.Context, id string) (*Operation, error) {
	op := "operation " + id
	if !validID(id) {
		return nil, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	var row operationRow
	if err := q.conn(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, translate(err, op)
	}
	o := row.domain()
	return &o, nil
}

// DueOperations returns up to limit operations that need resolving: every
// unknown one and every one to compensate, and pending ones last updated
// before staleBefore (their call cannot still be in flight). Oldest
// update first.
func (q *queries) DueOperations(ctx context.Context, staleBefore time.Time, limit int) ([]Operation, error) {
	var rows []operationRow
	err := q.conn(ctx).
		Where("state IN ? OR (state = ? AND updated_at < ?)",
			[]string{string(OpUnknown), string(OpCompensate)}, string(OpPending), stamp(staleBefore)).
		Order("updated_at").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, translate(err, "due operations")
	}
	out := make([]Operation, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

// UnsettledCount is how many operations in one state need resolving
// (DueOperations).
type UnsettledCount struct {
	State OperationState
	Count int64
}

// UnsettledOperations counts the operations DueOperations would return,
// by state (every unknown one and every one to compensate, and pending
// ones last updated before staleBefore), and returns when the oldest of
// them was created (zero when there is none): the figures an operator is
// alerted on, since an operation that stays unsettled is money the PG
// may have moved and paymentctl has not recorded, or a refund of a
// refused payment not made yet. Two statements on the open operations'
// index, whatever the table's size.
func (q *queries) UnsettledOperations(ctx context.Context, staleBefore time.Time) ([]UnsettledCount, time.Time, error) {
	const where = "state IN ? OR (state = ? AND updated_at < ?)"
	args := []any{[]string{string(OpUnknown), string(OpCompensate)}, string(OpPending), stamp(staleBefore)}
	var counts []struct {
		State string
		N     int64
	}
	err := q.conn(ctx).Model(&operationRow{}).Select("state, count(*) AS n").
		Where(where, args...).Group("state").Order("state").Scan(&counts).Error
	if err != nil {
		return nil, time.Time{}, translate(err, "count unsettled operations")
	}
	out := make([]UnsettledCount, len(counts))
	for i, c := range counts {
		out[i] = UnsettledCount{State: OperationState(c.State), Count: c.N}
	}
	if len(out) == 0 {
		return out, time.Time{}, nil
	}
	var oldest operationRow
	err = q.conn(ctx).Select("created_at").Where(where, args...).Order("created_at").Limit(1).Take(&oldest).Error
	if err != nil {
		return nil, time.Time{}, translate(err, "count unsettled operations")
	}
	return out, oldest.CreatedAt.UTC(), nil
}

func (q *queries) operations(ctx context.Context, op, where string, args ...any) ([]Operation, error) {
	var rows []operationRow
	if err := q.conn(ctx).Where(where, args...).Order("created_at").Find(&rows).Error; err != nil {
		return nil, translate(err, op)
	}
	out := make([]Operation, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

// openStates are the states that still need work.
func openStates() []string {
	return []string{string(OpPending), string(OpUnknown), string(OpCompensate)}
}

// OpenHistories returns up to limit histories in a non-final state (not
// paid and not cancelled: a virtual account waiting for its deposit, a
// Toss payment in progress), least recently reconciled first, without
// their cancels.
func (q *queries) OpenHistories(ctx context.Context, limit int) ([]OpenHistory, error) {
	var rows []struct {
		History      historyRow `gorm:"embedded"`
		ReconciledAt *time.Time `gorm:"column:reconciled_at"`
	}
	err := q.conn(ctx).Table("payment_histories").
		Where("paid_at IS NULL AND cancelled_at IS NULL").
		Order("reconciled_at IS NOT NULL, reconciled_at, created_at").
		Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, translate(err, "open histories")
	}
	out := make([]OpenHistory, len(rows))
	for i := range rows {
		out[i] = OpenHistory{History: *rows[i].History.domain(), ReconciledAt: utcPtr(rows[i].ReconciledAt)}
	}
	return out, nil
}

// OpenHistory is a history in a non-final state and when the reconciler
// last looked at it.
type OpenHistory struct {
	History
	// ReconciledAt is nil until the reconciler first re-fetched it.
	ReconciledAt *time.Time
}

// MarkReconciled records that the reconciler re-fetched the history.
func (q *queries) MarkReconciled(ctx context.Context, id string, at time.Time) error {
	if !validID(id) {
		return fmt.Errorf("mark history %s reconciled: %w", id, ErrNotFound)
	}
	err := q.conn(ctx).Model(&historyRow{}).Where("id = ?", id).
		Update("reconciled_at", stamp(at)).Error
	return translate(err, "mark history "+id+" reconciled")
}
