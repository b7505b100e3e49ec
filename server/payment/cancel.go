package payment

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/server/webhook"
)

// OperationLease is how long an operation may stay pending before it is
// taken for cut short by a crash and resolved from the PG. It is above the
// longest a request can wait on a PG (the clients' 10 s timeouts, an
// Iamport token fetch included, within the API's 45-second bound on a
// mutating request), so a call still in flight is never resolved under
// it.
const OperationLease = 90 * time.Second

// inFlightWait bounds how long a cancel waits for another cancel of the
// same payment that is at the PG; past it the request is refused with 409
// and may be retried.
const inFlightWait = 20 * time.Second

// requestKeyType keys the request's idempotency record id in a context.
type requestKeyType struct{}

// WithRequestKey returns ctx carrying the id of the idempotency record of
// the API request (the Idempotency-Key's record), so that the operations
// it makes are bound to it and a retry finds them.
func WithRequestKey(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestKeyType{}, id)
}

// requestKey returns the record id set by WithRequestKey, or "".
func requestKey(ctx context.Context) string {
	id, _ := ctx.Value(requestKeyType{}).(string)
	return id
}

// Cancel refunds all or part of a payment through its PG, exactly once:
//
//  1. Under the history's lock: wait for a cancel of the same payment that
//     is at the PG; resolve earlier operations whose outcome is unknown by
//     re-fetching the payment (a retry of a request whose refund did
//     happen answers from here, without a second refund); check the
//     balance; record the operation as pending. Commit.
//  2. Ask the PG, with the balance as Iamport's checksum, Toss's
//     refundableAmount or PortOne V2's currentCancellableAmount and, for
//     Toss, an Idempotency-Key that a re-run of the same request reuses.
//     No database lock is held meanwhile.
//  3. Under the lock again: apply the PG's answer, mark the operation
//     succeeded and record the {previous, current} event, in one
//     transaction. A PG refusal marks it failed; a call that may have
//     acted marks it unknown and answers 502/504.
//
// A crash between 2 and 3 leaves the operation pending; once its lease is
// over, the next cancel or the reconciler resolves it from the PG.
func (s *Service) Cancel(ctx context.Context, in sdk.CancelCreate) (_ *sdk.History, err error) {
	var found *store.History
	defer func() {
		if found == nil {
			s.observeFlow(ctx, FlowCancel, "", err, "source", in.Source.ID, "amount", in.Price)
			return
		}
		s.observeFlow(ctx, FlowCancel, found.Vendor.Code, err, "history", found.ID, "source", in.Source.ID, "amount", in.Price)
		s.auditRefusal(ctx, err, historyAudit("", found), AuditDetails{
			VendorUID: found.Vendor.UID, Price: found.Price, RefundBefore: found.Refund, RefundAfter: found.Refund, Amount: in.Price,
		})
	}()
	if in.Price <= 0 {
		return nil, fmt.Errorf("%w: price must be positive", ErrInvalid)
	}
	found, err = s.store.HistoryBySource(ctx, sourceOf(ctx, in.Source))
	if err != nil {
		return nil, err
	}
	if err := s.checkPassword(found.Password, in.Password); err != nil {
		return nil, err
	}
	// Before the operation is recorded: a store no longer configured
	// refuses the cancel without a row or a PG call.
	if err := s.checkStore(found.Vendor); err != nil {
		return nil, err
	}
	o, before, done, err := s.beginCancel(ctx, found.ID, in)
	if err != nil || done != nil {
		return done, err
	}
	st, err := s.cancelAtPG(ctx, before, in, o)
	if err != nil {
		return nil, s.failOperation(ctx, o, err)
	}
	var out *sdk.History
	err = s.store.WithHistoryLocked(ctx, found.ID, func(tx *store.Tx, h *store.History) error {
		if changedSince(before, h) {
			// Something else wrote the history meanwhile (a PG webhook):
			// the answer may be older than what is stored.
			if st, err = s.fetch(ctx, h.Vendor); err != nil {
				return err
			}
		}
		if err := tx.UpdateOperation(ctx, o.ID, store.OperationUpdate{State: store.OpSucceeded}); err != nil {
			return err
		}
		if out, err = s.applyAndRecord(ctx, tx, h, st, nil, auditNote{}, nil); err != nil {
			return err
		}
		// Recorded whatever the apply found: the PG's webhook about this
		// cancel may have been applied (and audited as reconciled) first.
		refund := int64(0)
		if out.Refund != nil {
			refund = *out.Refund
		}
		return s.audit(ctx, tx, historyAudit(AuditCancelled, h), AuditDetails{
			VendorUID: h.Vendor.UID, Price: h.Price, RefundBefore: before.Refund, RefundAfter: refund, Amount: in.Price,
		})
	})
	if err != nil {
		// The PG refunded but the result is not recorded; the operation
		// stays pending and is resolved from the PG after its lease.
		s.log.ErrorContext(ctx, "record a cancel made at the PG", "history", found.ID, "operation", o.ID, "err", err)
		return nil, &PGError{Unknown: true, Err: err}
	}
	s.log.InfoContext(ctx, "payment cancelled", "history", found.ID, "vendor", found.Vendor.Code, "amount", in.Price, "operation", o.ID)
	return out, nil
}

// beginCancel is step 1 of Cancel. It returns the pending operation and
// the history as it was when it was recorded, or, for a retry whose refund
// already happened, the history to answer with.
func (s *Service) beginCancel(ctx context.Context, id string, in sdk.CancelCreate) (*store.Operation, *store.History, *sdk.History, error) {
	deadline := s.now().Add(inFlightWait)
	for {
		var (
			o      *store.Operation
			before *store.History
			done   *sdk.History
			busy   bool
		)
		err := s.store.WithHistoryLocked(ctx, id, func(tx *store.Tx, h *store.History) error {
			ops, err := tx.OpenOperations(ctx, h.ID)
			if err != nil {
				return err
			}
			if s.inFlight(ops) {
				busy = true
				return nil
			}
			var waiting bool
			if h, waiting, err = s.resolveHistoryOps(ctx, tx, h, ops); err != nil {
				return err
			}
			if waiting {
				// A refund asked of the PG is not made yet: another cancel
				// now could refund twice once both are made.
				return errRefundPending
			}
			pgKey := uuid.NewString()
			if key := requestKey(ctx); key != "" {
				prior, err := tx.OperationOfRequest(ctx, key)
				switch {
				case err == nil && prior.State == store.OpSucceeded:
					// A retry of a request whose refund happened: answer
					// as the first request would have, without refunding
					// again.
					done, err = s.historyDTO(h)
					return err
				case err == nil:
					pgKey = prior.PGKey // a re-run: the PG recognises it
				case !isNotFound(err):
					return err
				}
			}
			if remaining := h.Price - h.Refund; in.Price > remaining {
				return refusedf(ErrRefundExceedsBalance, "cannot refund %d: only %d of %d remains", in.Price, remaining, h.Price)
			}
			data, err := json.Marshal(struct {
				Reason string `json:"reason"`
			}{in.Reason})
			if err != nil {
				return err
			}
			o = &store.Operation{
				ID: uuid.NewString(), Kind: store.OpCancel, HistoryID: h.ID, Vendor: h.Vendor,
				RequestKey: requestKey(ctx), PGKey: pgKey, Amount: in.Price,
				RefundBefore: h.Refund, CancelsBefore: len(h.Cancels),
			}
			if o.Data, err = s.keys.Cancel.Seal(data, []byte(o.ID)); err != nil {
				return err
			}
			before = h
			return tx.CreateOperation(ctx, o)
		})
		if err != nil || !busy {
			return o, before, done, err
		}
		if !s.now().Before(deadline) {
			return nil, nil, nil, fmt.Errorf("%w: another cancel of this payment is at the PG", ErrCancelInProgress)
		}
		select {
		case <-ctx.Done():
			return nil, nil, nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// inFlight reports whether one of ops is pending within its lease: its
// PG call may still be running.
func (s *Service) inFlight(ops []store.Operation) bool {
	for _, o := range ops {
		if o.State == store.OpPending && s.now().Sub(o.UpdatedAt) < OperationLease {
			return true
		}
	}
	return false
}

// failOperation records how a cancel's PG call failed and returns the
// error for the API: a refusal marks the operation failed; a call that may
// have acted marks it unknown.
func (s *Service) failOperation(ctx context.Context, o *store.Operation, err error) error {
	state := store.OpFailed
	if mayHaveActed(err) {
		state = store.OpUnknown
	}
	ctx = context.WithoutCancel(ctx)
	if uerr := s.store.UpdateOperation(ctx, o.ID, store.OperationUpdate{State: state, Error: errorText(err)}); uerr != nil {
		// Left pending: resolved from the PG once its lease is over.
		s.log.ErrorContext(ctx, "record a failed PG call", "operation", o.ID, "err", uerr)
	}
	if state == store.OpUnknown {
		s.log.WarnContext(ctx, "PG call outcome unknown; it will be verified", "operation", o.ID, "kind", o.Kind,
			"vendor", o.Vendor.Code, "history", o.HistoryID, "err", err)
	}
	return pgFailure(o.Vendor.Code, true, err)
}

// errorText bounds an error's text for storage.
func errorText(err error) string {
	const max = 500
	s := err.Error()
	if len(s) > max {
		s = s[:max]
	}
	return s
}

// cancelAtPG asks the PG for the refund of operation o on history h.
func (s *Service) cancelAtPG(ctx context.Context, h *store.History, in sdk.CancelCreate, o *store.Operation) (pgState, error) {
	remaining := h.Price - h.Refund
	switch sdk.VendorCode(h.Vendor.Code) {
	case sdk.VendorIamport:
		amount := iamport.Amount(in.Price)
		checksum := iamport.Amount(remaining)
		req := iamport.CancelRequest{ImpUID: h.Vendor.UID, MerchantUID: h.Source.ID, Amount: &amount, Checksum: &checksum, Reason: in.Reason}
		if a := in.Account; a != nil {
			req.RefundBank, req.RefundAccount, req.RefundHolder, req.RefundTel = a.Bank, a.Account, a.Holder, a.Mobile
		}
		pg, err := s.iamportOf(h.Vendor)
		if err != nil {
			return pgState{}, err
		}
		p, err := pg.Cancel(ctx, req)
		if err != nil {
			return pgState{}, err
		}
		return iamportState(p)
	case sdk.VendorToss:
		req := toss.CancelRequest{
			CancelReason: in.Reason, CancelAmount: in.Price,
			RefundableAmount: remaining, IdempotencyKey: o.PGKey,
		}
		if a := in.Account; a != nil {
			req.RefundReceiveAccount = &toss.RefundAccount{Bank: a.Bank, AccountNumber: a.Account, HolderName: a.Holder}
		}
		pg, err := s.tossOf(h.Vendor)
		if err != nil {
			return pgState{}, err
		}
		p, err := pg.Cancel(ctx, h.Vendor.UID, req)
		if err != nil {
			return pgState{}, err
		}
		return tossState(p)
	case sdk.VendorPortOne:
		return s.cancelPortOne(ctx, h, in, remaining)
	}
	return pgState{}, fmt.Errorf("history %s has unknown vendor %q", h.ID, h.Vendor.Code)
}

// changedSince reports whether a history was written after before was
// read: every write reseals its data, and cancels only ever grow.
func changedSince(before, now *store.History) bool {
	return before.Data != now.Data || len(before.Cancels) != len(now.Cancels)
}

// vendorOfHistory returns a history's vendor code.
func vendorOfHistory(h *store.History) sdk.VendorCode { return sdk.VendorCode(h.Vendor.Code) }

// applyAndRecord writes a PG state onto a locked history and, when a
// service would see a difference, records the {previous, current} event.
// raw is the PG webhook's body, nil when paymentctl found the change
// itself.
//
// A change is also appended to the audit trail as note says. With claims
// set, the event's delivery is claimed (webhook.Queue.ClaimDeliveryTx) and
// its Claim appended there, for the caller to pass to DeliverClaimed once
// tx has committed; without, the delivery is left to the job's workers.
func (s *Service) applyAndRecord(ctx context.Context, tx *store.Tx, h *store.History, st pgState, raw []byte, note auditNote, claims *[]webhook.Claim) (*sdk.History, error) {
	previous, err := s.historyDTO(h)
	if err != nil {
		return nil, err
	}
	current, err := s.apply(ctx, tx, h, st)
	if err != nil {
		return nil, err
	}
	if sameState(previous, current) {
		return current, nil
	}
	refund := int64(0)
	if current.Refund != nil {
		refund = *current.Refund
	}
	audit, err := s.auditChange(ctx, h, refund, note)
	if err != nil {
		return nil, err
	}
	return current, s.recordEvent(ctx, tx, h, previous, current, raw, audit, claims)
}

// errRefundPending refuses a cancel while a refund of the payment is
// asked of the PG and not made yet (a PortOne V2 REQUESTED cancellation).
var errRefundPending = fmt.Errorf("%w: a refund of this payment is requested at the PG and not made yet", ErrCancelInProgress)

// resolveHistoryOps settles the operations of a locked history whose
// outcome is not known (unknown, or pending past their lease): it
// re-fetches the payment, applies it as a webhook would, and marks each
// cancel as markOps says. It returns the history as now stored, and
// whether a cancel is left unknown because the PG still lists its refund
// as requested, not made (waiting).
func (s *Service) resolveHistoryOps(ctx context.Context, tx *store.Tx, h *store.History, ops []store.Operation) (_ *store.History, waiting bool, _ error) {
	due := s.dueOps(ops)
	if len(due) == 0 {
		return h, false, nil
	}
	st, err := s.fetch(ctx, h.Vendor)
	if err != nil {
		return nil, false, pgFailure(h.Vendor.Code, false, err)
	}
	if _, err := s.applyAndRecord(ctx, tx, h, st, nil, auditNote{event: AuditReconciled}, nil); err != nil {
		return nil, false, err
	}
	waiting, err = s.markOps(ctx, tx, h, due, st, true)
	if err != nil {
		return nil, false, err
	}
	h, err = tx.LockHistory(ctx, h.ID)
	return h, waiting, err
}

// settleOps marks the cancels of a locked history whose outcome is not
// known (unknown, or pending past their lease) succeeded when st, a state
// fetched from the PG, lists them. It never marks one failed: st may have
// been fetched before the cancel was made (a webhook job that waited for
// the lock); only resolveHistoryOps, which fetches under the lock, decides
// that a cancel did not happen.
func (s *Service) settleOps(ctx context.Context, tx *store.Tx, h *store.History, st pgState) error {
	ops, err := tx.OpenOperations(ctx, h.ID)
	if err != nil {
		return err
	}
	_, err = s.markOps(ctx, tx, h, s.dueOps(ops), st, false)
	return err
}

// dueOps returns the cancels among ops whose outcome must be found out:
// unknown ones, and pending ones past their lease (cut short by a crash).
func (s *Service) dueOps(ops []store.Operation) []store.Operation {
	var due []store.Operation
	for _, o := range ops {
		if o.Kind == store.OpCancel && (o.State == store.OpUnknown || o.State == store.OpPending && s.now().Sub(o.UpdatedAt) >= OperationLease) {
			due = append(due, o)
		}
	}
	return due
}

// markOps marks each cancel of due succeeded when the PG's state lists a
// cancel of its amount made after it started (each PG cancel answers one
// operation) and, when final is set, failed otherwise; except that a
// cancel the PG lists as requested and not made yet (st.pending, of the
// same amount) is left unknown, and reported as waiting.
func (s *Service) markOps(ctx context.Context, tx *store.Tx, h *store.History, due []store.Operation, st pgState, final bool) (waiting bool, _ error) {
	used := make([]bool, len(st.cancels))
	usedPending := make([]bool, len(st.pending))
	for _, o := range due {
		state := store.OpFailed
		for i := max(o.CancelsBefore, 0); i < len(st.cancels); i++ {
			if !used[i] && st.cancels[i].amount == o.Amount {
				used[i], state = true, store.OpSucceeded
				break
			}
		}
		if state == store.OpFailed {
			if i := slices.IndexFunc(st.pending, func(c pgCancel) bool { return c.amount == o.Amount }); i >= 0 && !usedPending[i] {
				usedPending[i], waiting = true, true
				continue
			}
		}
		if state == store.OpFailed && !final {
			continue
		}
		if err := tx.UpdateOperation(ctx, o.ID, store.OperationUpdate{State: state}); err != nil {
			return waiting, err
		}
		s.log.InfoContext(ctx, "verified a PG operation of unknown outcome", "operation", o.ID, "history", h.ID, "happened", state == store.OpSucceeded)
	}
	return waiting, nil
}
