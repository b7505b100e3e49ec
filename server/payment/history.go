package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/store"
)

// CreateHistory verifies a payment with its PG and registers it.
//
// Everything that can refuse the registration is checked before a Toss
// payment is confirmed (captured): the order, the amount, and that neither
// the source nor the payment is registered already. The confirm is
// recorded as an operation first; if the registration still fails after
// it (a race, a database failure), the payment is cancelled at the PG, or
// left to the reconciler to cancel (see compensate).
func (s *Service) CreateHistory(ctx context.Context, in sdk.HistoryCreate) (_ *sdk.History, err error) {
	defer func() {
		s.observeFlow(ctx, FlowRegister, string(in.Vendor.Code), err, "uid", in.Vendor.UID, "source", in.Source.ID)
		s.auditRefusal(ctx, err,
			store.AuditEvent{Service: ServiceOf(ctx), VendorCode: string(in.Vendor.Code), StoreID: in.Vendor.StoreID},
			AuditDetails{VendorUID: in.Vendor.UID, Amount: in.Price})
	}()
	if err := vendorOf(in.Vendor.Code); err != nil {
		return nil, err
	}
	fetchedAt := s.now()
	st, confirm, err := s.verify(ctx, in)
	if err != nil {
		return nil, err
	}
	id := uuid.NewString()
	sealed, err := s.keys.History.Seal(st.data, []byte(id))
	if err != nil {
		return nil, err
	}
	h := &store.History{
		ID:         id,
		Vendor:     store.Vendor{Code: string(in.Vendor.Code), StoreID: in.Vendor.StoreID, UID: in.Vendor.UID},
		Source:     sourceOf(ctx, in.Source),
		Currency:   st.currency,
		Price:      st.price,
		Refund:     st.refund,
		WebhookURL: in.WebhookURL,
		Data:       sealed,
		Password:   s.keys.Passwords.Hash(in.Password),
		PaidAt:     st.paidAt,
		// A payment registered already cancelled keeps its first cancel time.
		CancelledAt: st.firstCancel,
	}
	event := historyAudit(AuditRegistered, h)
	if err := s.sealAudit(ctx, &event, AuditDetails{
		VendorUID: h.Vendor.UID, Price: h.Price, RefundBefore: 0, RefundAfter: h.Refund, Amount: in.Price,
	}); err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		// Before the insert, so that a webhook kept meanwhile is either
		// seen by replayPending or sees this history (LockVendorPayment),
		// and so that the reconciler does not cancel this payment as an
		// orphaned capture while it is being registered.
		if err := tx.LockVendorPayment(ctx, string(in.Vendor.Code), in.Vendor.UID); err != nil {
			return err
		}
		if err := s.settleConfirms(ctx, tx, h); err != nil {
			return err
		}
		// The history, its audit event and the payment's kept webhooks
		// applied: one statement on PostgreSQL.
		applied, err := tx.RegisterHistory(ctx, h, &event, s.queue != nil)
		if err != nil {
			return err
		}
		cancels, err := s.addCancels(ctx, tx, id, st.cancels)
		if err != nil {
			return err
		}
		h.Cancels = cancels
		return s.replayPending(ctx, tx, string(in.Vendor.Code), in.Vendor.UID, fetchedAt, applied)
	})
	if err != nil {
		if confirm != nil {
			s.compensate(context.WithoutCancel(ctx), confirm, err)
		}
		return nil, err
	}
	s.log.InfoContext(ctx, "payment registered", "history", id, "vendor", in.Vendor.Code, "price", st.price, "confirmed", confirm != nil)
	// The store filled in what it stored (id, times as kept); no need to
	// read the new record back.
	return s.historyDTO(h)
}

// settleConfirms marks the open confirm operations of the payment being
// registered as succeeded, inside the registration's transaction: the
// history now records what they captured. A payment whose earlier
// registration failed after its capture is being cancelled: it is refused.
func (s *Service) settleConfirms(ctx context.Context, tx *store.Tx, h *store.History) error {
	if h.Vendor.Code == string(sdk.VendorIamport) {
		// An Iamport registration confirms nothing: no confirm operation
		// of an Iamport payment exists to settle or refuse it by (only
		// Toss's confirm and PortOne V2's capture make them).
		return nil
	}
	ops, err := tx.OperationsOfVendorPayment(ctx, h.Vendor.Code, h.Vendor.UID)
	if err != nil {
		return err
	}
	for _, o := range ops {
		if o.Kind != store.OpConfirm {
			continue
		}
		switch o.State {
		case store.OpCompensate, store.OpCompensated:
			return refusedf(ErrNotPaid, "the payment %s was cancelled at the PG because an earlier registration of it failed", h.Vendor.UID)
		case store.OpPending, store.OpUnknown:
			if err := tx.UpdateOperation(ctx, o.ID, store.OperationUpdate{State: store.OpSucceeded, HistoryID: h.ID}); err != nil {
				return err
			}
		}
	}
	return nil
}

// precheck refuses, before any money is captured, a registration that the
// insert would refuse: a source or a PG payment registered already.
func (s *Service) precheck(ctx context.Context, in sdk.HistoryCreate) error {
	if _, err := s.store.HistoryBySource(ctx, sourceOf(ctx, in.Source)); err == nil {
		return fmt.Errorf("%w: the source is registered already", store.ErrConflict)
	} else if !isNotFound(err) {
		return err
	}
	if _, err := s.store.HistoryByVendor(ctx, string(in.Vendor.Code), in.Vendor.UID); err == nil {
		return fmt.Errorf("%w: the payment is registered already", store.ErrConflict)
	} else if !isNotFound(err) {
		return err
	}
	ops, err := s.store.OperationsOfVendorPayment(ctx, string(in.Vendor.Code), in.Vendor.UID)
	if err != nil {
		return err
	}
	for _, o := range ops {
		if o.Kind == store.OpConfirm && (o.State == store.OpCompensate || o.State == store.OpCompensated) {
			return refusedf(ErrNotPaid, "the payment %s was cancelled at the PG because an earlier registration of it failed", in.Vendor.UID)
		}
	}
	return nil
}

// verify asks the PG about the payment before anything is written. For a
// Toss payment it confirms, it returns the confirm operation.
func (s *Service) verify(ctx context.Context, in sdk.HistoryCreate) (pgState, *store.Operation, error) {
	switch in.Vendor.Code {
	case sdk.VendorIamport:
		pg, err := s.iamportOf(storeVendor(in.Vendor))
		if err != nil {
			return pgState{}, nil, err
		}
		p, err := pg.Payment(ctx, in.Vendor.UID)
		if err != nil {
			return pgState{}, nil, pgFailure(string(in.Vendor.Code), false, err)
		}
		if p.Status == iamport.StatusFailed {
			return pgState{}, nil, refusedf(ErrNotPaid, "the payment %s failed at the PG", in.Vendor.UID)
		}
		// source.id is the order's merchant_uid (as Toss's orderId is
		// checked by its confirm). Before the amount check: a payment of
		// another order is refused, never cancelled as a wrong amount.
		if p.MerchantUID != in.Source.ID {
			return pgState{}, nil, refusedf(ErrOrderMismatch, "the payment %s was made for order %q, not for source.id %q", in.Vendor.UID, p.MerchantUID, in.Source.ID)
		}
		if int64(p.Amount) != in.Price {
			s.cancelWrongAmount(ctx, in, int64(p.Amount))
			return pgState{}, nil, refusedf(ErrAmountMismatch, "wrong paid amount: it must be not %d but %d; the payment was cancelled at the PG", int64(p.Amount), in.Price)
		}
		st, err := iamportState(p)
		return st, nil, err
	case sdk.VendorToss:
		pg, err := s.tossOf(storeVendor(in.Vendor))
		if err != nil {
			return pgState{}, nil, err
		}
		p, err := pg.GetPayment(ctx, in.Vendor.UID)
		if err != nil {
			return pgState{}, nil, pgFailure(string(in.Vendor.Code), false, err)
		}
		var confirm *store.Operation
		switch p.Status {
		case toss.StatusReady, toss.StatusInProgress:
			// Not captured yet: refuse a mismatch without confirming it
			// (Toss expires it), confirm otherwise.
			if p.OrderID != in.Source.ID {
				return pgState{}, nil, refusedf(ErrOrderMismatch, "the payment %s belongs to order %s, not %s", in.Vendor.UID, p.OrderID, in.Source.ID)
			}
			if p.TotalAmount != in.Price {
				return pgState{}, nil, refusedf(ErrAmountMismatch, "wrong amount: the payment is of %d, not %d; it was not confirmed", p.TotalAmount, in.Price)
			}
			if err := s.precheck(ctx, in); err != nil {
				return pgState{}, nil, err
			}
			if p, confirm, err = s.confirm(ctx, pg, in); err != nil {
				return pgState{}, nil, err
			}
		case toss.StatusAborted, toss.StatusExpired:
			return pgState{}, nil, refusedf(ErrNotPaid, "the payment %s is %s at the PG", in.Vendor.UID, p.Status)
		default:
			if p.OrderID != in.Source.ID {
				return pgState{}, nil, refusedf(ErrOrderMismatch, "the payment %s belongs to order %s, not %s", in.Vendor.UID, p.OrderID, in.Source.ID)
			}
			if p.TotalAmount != in.Price {
				s.cancelWrongAmount(ctx, in, p.TotalAmount)
				return pgState{}, nil, refusedf(ErrAmountMismatch, "wrong paid amount: it must be not %d but %d; the payment was cancelled at the PG", p.TotalAmount, in.Price)
			}
		}
		st, err := tossState(p)
		return st, confirm, err
	case sdk.VendorPortOne:
		st, err := s.verifyPortOne(ctx, in)
		return st, nil, err
	}
	return pgState{}, nil, fmt.Errorf("%w: unknown vendor %q", ErrInvalid, in.Vendor.Code)
}

// confirm captures a Toss payment, recorded as an operation before the
// call. Toss's Idempotency-Key is derived from the payment, so a retried
// registration never confirms twice.
func (s *Service) confirm(ctx context.Context, pg TossAPI, in sdk.HistoryCreate) (*toss.Payment, *store.Operation, error) {
	data, err := json.Marshal(in.Source)
	if err != nil {
		return nil, nil, err
	}
	o := &store.Operation{
		ID: uuid.NewString(), Kind: store.OpConfirm,
		Vendor:     storeVendor(in.Vendor),
		RequestKey: requestKey(ctx), PGKey: "confirm:" + in.Vendor.UID, Amount: in.Price,
	}
	if o.Data, err = s.keys.Cancel.Seal(data, []byte(o.ID)); err != nil {
		return nil, nil, err
	}
	if err := s.store.CreateOperation(ctx, o); err != nil {
		return nil, nil, err
	}
	p, err := pg.Confirm(ctx, toss.ConfirmRequest{PaymentKey: in.Vendor.UID, OrderID: in.Source.ID, Amount: in.Price, IdempotencyKey: o.PGKey})
	if err != nil {
		return nil, nil, s.failOperation(ctx, o, err)
	}
	return p, o, nil
}

// compensate deals with a confirm whose registration failed (cause): the
// money is captured at the PG and no history records it. Unless another
// registration recorded the same payment meanwhile, the payment is
// cancelled at the PG; if that fails, the operation is left to the
// reconciler, which retries it.
func (s *Service) compensate(ctx context.Context, o *store.Operation, cause error) {
	if h, err := s.store.HistoryByVendor(ctx, o.Vendor.Code, o.Vendor.UID); err == nil {
		// Recorded by a concurrent registration of the same payment.
		if err := s.store.UpdateOperation(ctx, o.ID, store.OperationUpdate{State: store.OpSucceeded, HistoryID: h.ID}); err != nil {
			s.log.ErrorContext(ctx, "settle a confirm", "operation", o.ID, "err", err)
		}
		return
	}
	s.log.WarnContext(ctx, "registration failed after the payment was captured; cancelling it at the PG",
		"vendor", o.Vendor.Code, "operation", o.ID, "cause", cause)
	if err := s.store.UpdateOperation(ctx, o.ID, store.OperationUpdate{State: store.OpCompensate, Error: errorText(cause)}); err != nil {
		s.log.ErrorContext(ctx, "record a capture to cancel", "operation", o.ID, "err", err)
	}
	if _, err := s.cancelCapture(ctx, o); err != nil {
		s.log.ErrorContext(ctx, "cancel an orphaned capture; the reconciler retries", "operation", o.ID, "err", err)
	}
}

// cancelCapture cancels at the PG the payment of a confirm operation in
// state compensate, under the payment's vendor lock (so that no
// registration of it commits meanwhile), and marks the operation
// compensated. It reports whether it cancelled anything.
func (s *Service) cancelCapture(ctx context.Context, o *store.Operation) (bool, error) {
	cancelled := false
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockVendorPayment(ctx, o.Vendor.Code, o.Vendor.UID); err != nil {
			return err
		}
		// Settled by another caller meanwhile (the registration's own
		// compensation and the reconciler's retry may both get here with
		// the operation as read before): a second cancel would be
		// answered by the PG's idempotent replay as if it had cancelled
		// again, and audited twice.
		if cur, err := tx.OperationOfID(ctx, o.ID); err != nil {
			return err
		} else if cur.State == store.OpCompensated || cur.State == store.OpSucceeded {
			return nil
		}
		if h, err := tx.HistoryByVendor(ctx, o.Vendor.Code, o.Vendor.UID); err == nil {
			return tx.UpdateOperation(ctx, o.ID, store.OperationUpdate{State: store.OpSucceeded, HistoryID: h.ID})
		} else if !isNotFound(err) {
			return err
		}
		var err error
		if cancelled, err = s.cancelCaptureAtPG(ctx, o); err != nil {
			return err
		}
		if cancelled {
			// A money event with no history. The registration's service
			// when it runs in its request; the reconciler's retry does not
			// know it (payment_operations keeps none).
			if err := s.audit(ctx, tx, store.AuditEvent{Service: ServiceOf(ctx), Event: AuditCancelled, VendorCode: o.Vendor.Code, StoreID: o.Vendor.StoreID},
				AuditDetails{VendorUID: o.Vendor.UID, Price: o.Amount, RefundAfter: o.Amount, Amount: o.Amount, Reason: "registration_failed"}); err != nil {
				return err
			}
		}
		return tx.UpdateOperation(ctx, o.ID, store.OperationUpdate{State: store.OpCompensated})
	})
	if err == nil && cancelled {
		s.log.InfoContext(ctx, "cancelled an orphaned capture at the PG", "vendor", o.Vendor.Code, "operation", o.ID, "amount", o.Amount)
	}
	return cancelled, err
}

// cancelCaptureAtPG cancels in full at the PG the payment of a capture
// no registration records, and reports whether it cancelled anything (a
// payment cancelled already is not an error).
func (s *Service) cancelCaptureAtPG(ctx context.Context, o *store.Operation) (bool, error) {
	if o.Vendor.Code == string(sdk.VendorPortOne) {
		return s.cancelPortOneCapture(ctx, o)
	}
	pg, err := s.tossOf(o.Vendor)
	if err != nil {
		return false, err
	}
	_, err = pg.Cancel(ctx, o.Vendor.UID, toss.CancelRequest{
		CancelReason: "the payment's registration failed", IdempotencyKey: "compensate:" + o.ID,
	})
	if err != nil && !toss.IsCode(err, toss.CodeAlreadyCanceledPayment) {
		return false, pgFailure(o.Vendor.Code, true, err)
	}
	return err == nil, nil
}

// cancelWrongAmount cancels, in full, a payment whose amount is not what
// the service expected, so the customer is not charged for an order that
// will not be registered. A failure is logged: the refusal stands.
func (s *Service) cancelWrongAmount(ctx context.Context, in sdk.HistoryCreate, paid int64) {
	const reason = "wrong paid amount"
	var err error
	switch in.Vendor.Code {
	case sdk.VendorIamport:
		var pg IamportAPI
		if pg, err = s.iamportOf(storeVendor(in.Vendor)); err == nil {
			_, err = pg.Cancel(ctx, iamport.CancelRequest{ImpUID: in.Vendor.UID, MerchantUID: in.Source.ID, Reason: reason})
		}
	case sdk.VendorToss:
		var pg TossAPI
		if pg, err = s.tossOf(storeVendor(in.Vendor)); err == nil {
			_, err = pg.Cancel(ctx, in.Vendor.UID, toss.CancelRequest{CancelReason: reason})
		}
	}
	if err != nil {
		s.log.ErrorContext(ctx, "cancel a payment of the wrong amount", "vendor", in.Vendor.Code, "uid", in.Vendor.UID, "paid", paid, "expected", in.Price, "err", err)
		return
	}
	s.log.WarnContext(ctx, "cancelled a payment of the wrong amount", "vendor", in.Vendor.Code, "uid", in.Vendor.UID, "paid", paid, "expected", in.Price)
}

// History returns a history by id after checking its password.
func (s *Service) History(ctx context.Context, id, password string) (*sdk.History, error) {
	h, err := s.store.History(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := owned(ctx, "find history "+id, h.Source.Service); err != nil {
		return nil, err
	}
	if err := s.checkPassword(h.Password, password); err != nil {
		return nil, err
	}
	return s.historyDTO(h)
}

// HistoryBySource returns a history by its source record after checking
// its password.
func (s *Service) HistoryBySource(ctx context.Context, in sdk.Accessor) (*sdk.History, error) {
	h, err := s.store.HistoryBySource(ctx, sourceOf(ctx, in.Source))
	if err != nil {
		return nil, err
	}
	if err := s.checkPassword(h.Password, in.Password); err != nil {
		return nil, err
	}
	return s.historyDTO(h)
}

// apply writes a PG state onto a locked history and returns the result.
func (s *Service) apply(ctx context.Context, tx *store.Tx, h *store.History, st pgState) (*sdk.History, error) {
	sealed, err := s.keys.History.Seal(st.data, []byte(h.ID))
	if err != nil {
		return nil, err
	}
	// The cancels first: the update reads the history back with them.
	if _, err := s.addCancels(ctx, tx, h.ID, st.cancels); err != nil {
		return nil, err
	}
	updated, err := tx.UpdateAndReadHistory(ctx, h.ID, store.HistoryUpdate{
		Currency: st.currency, Price: st.price, Refund: st.refund,
		PaidAt: st.paidAt, CancelledAt: st.firstCancel, Data: sealed,
	})
	if err != nil {
		return nil, err
	}
	return s.historyDTO(updated)
}

// addCancels stores the PG's cancel events; ones already stored are
// skipped by the store. It returns the events as given to the store, with
// the ids and times it filled in.
func (s *Service) addCancels(ctx context.Context, tx *store.Tx, historyID string, cs []pgCancel) ([]store.Cancel, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	rows := make([]store.Cancel, 0, len(cs))
	for i, c := range cs {
		sealed, err := s.keys.Cancel.Seal(c.data, []byte(historyID))
		if err != nil {
			return nil, err
		}
		seq := i // PGs list cancels in order and only ever append
		rows = append(rows, store.Cancel{HistoryID: historyID, Amount: c.amount, Reason: c.reason, Data: sealed, CreatedAt: c.at, Sequence: &seq})
	}
	if _, err := tx.AddCancels(ctx, historyID, rows); err != nil {
		return nil, err
	}
	return rows, nil
}

// historyDTO turns a stored history into the API's shape, opening its
// sealed PG data.
func (s *Service) historyDTO(h *store.History) (*sdk.History, error) {
	data, err := s.keys.History.Open(h.Data, []byte(h.ID))
	if err != nil {
		return nil, fmt.Errorf("open history %s: %w", h.ID, err)
	}
	out := &sdk.History{
		ID:          h.ID,
		VendorCode:  sdk.VendorCode(h.Vendor.Code),
		Vendor:      sdk.Vendor{Code: sdk.VendorCode(h.Vendor.Code), StoreID: h.Vendor.StoreID, UID: h.Vendor.UID},
		Source:      sdk.Source{Schema: h.Source.Schema, Table: h.Source.Table, ID: h.Source.ID},
		Data:        json.RawMessage(data),
		Currency:    h.Currency,
		Price:       h.Price,
		CreatedAt:   h.CreatedAt,
		PaidAt:      h.PaidAt,
		CancelledAt: h.CancelledAt,
		Cancels:     make([]sdk.CancelHistory, 0, len(h.Cancels)),
	}
	if h.Refund != 0 {
		r := h.Refund
		out.Refund = &r
	}
	if h.WebhookURL != "" {
		u := h.WebhookURL
		out.WebhookURL = &u
	}
	for _, c := range h.Cancels {
		out.Cancels = append(out.Cancels, sdk.CancelHistory{Reason: c.Reason, Price: c.Amount, CreatedAt: c.CreatedAt})
	}
	return out, nil
}

// sourceOf converts an API source of the calling service's (ServiceOf).
func sourceOf(ctx context.Context, s sdk.Source) store.Source {
	return store.Source{Service: ServiceOf(ctx), Schema: s.Schema, Table: s.Table, ID: s.ID}
}

// isNotFound reports whether err means the record does not exist.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
