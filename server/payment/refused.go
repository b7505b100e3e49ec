package payment

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/store"
)

// refusedKeyPrefix starts the PGKey of the operation that cancels a paid
// payment refused for its amount (cancelRefused); the rest is the
// payment's uid.
const refusedKeyPrefix = "refused:"

// Why a capture no registration records is cancelled, as the PG is told
// (Toss's cancelReason, Iamport's reason).
const (
	reasonRefused = "wrong paid amount"
	reasonFailed  = "the payment's registration failed"
)

// The ends of the amount_mismatch message of a paid payment, saying what
// became of it (cancelRefused).
const (
	refusedCancelled   = "the payment was cancelled at the PG"
	refusedRetried     = "the payment is being cancelled at the PG: the cancel did not complete and will be retried"
	refusedRegistered  = "the payment is registered already and was not cancelled"
	refusedNothingPaid = "nothing was paid, nothing was cancelled"
)

// isRefused reports whether o cancels a payment refused for its amount
// (cancelRefused), not a capture whose registration failed.
func isRefused(o *store.Operation) bool { return strings.HasPrefix(o.PGKey, refusedKeyPrefix) }

// refuseWrongAmount refuses the registration of an Iamport or Toss
// payment of another amount than in.Price. A payment that moved money
// (paid, or cancelled already) is cancelled in full at the PG first
// (cancelRefused): its balance is cancellable.
func (s *Service) refuseWrongAmount(ctx context.Context, in sdk.HistoryCreate, amount, cancellable int64, paid bool) error {
	if !paid {
		return refusedf(ErrAmountMismatch, "wrong amount: the payment is of %d, not %d; %s", amount, in.Price, refusedNothingPaid)
	}
	what, err := s.cancelRefused(ctx, in, cancellable, fmt.Sprintf("paid %d, expected %d", amount, in.Price))
	if err != nil {
		return err
	}
	return refusedf(ErrAmountMismatch, "wrong paid amount: it must be not %d but %d; %s", amount, in.Price, what)
}

// cancelRefused cancels, in full, a paid payment (Iamport, Toss or
// PortOne V2) refused for its amount, so that the customer is not charged
// for an order that will not be registered; cancellable is its balance
// and detail says what was wrong.
//
// The cancel is recorded first as an operation of a capture no
// registration records (store.OpConfirm in state store.OpCompensate, as a
// Toss confirm whose registration failed), so that a cancel that fails or
// whose outcome is unknown is retried by the reconciler (cancelCapture,
// under the payment's lock), and a later registration of the payment is
// refused. A payment refused again reuses its operation: one cancel, one
// operation, however often it is registered.
//
// It returns what became of the payment, for the refusal's message; a
// failed cancel is logged (the refusal stands, the reconciler retries).
// Only an operation that could not be recorded is an error: nothing was
// cancelled then, and the registration's retry tries again.
func (s *Service) cancelRefused(ctx context.Context, in sdk.HistoryCreate, cancellable int64, detail string) (string, error) {
	ctx = context.WithoutCancel(ctx)
	o, err := s.refusedOperation(ctx, in, cancellable, detail)
	if err != nil {
		return "", fmt.Errorf("record the cancel of a payment of the wrong amount: %w", err)
	}
	if o.State == store.OpCompensated {
		return refusedCancelled, nil
	}
	if _, err := s.cancelCapture(ctx, o); err != nil {
		s.log.ErrorContext(ctx, "cancel a payment of the wrong amount; the reconciler retries", "vendor", in.Vendor.Code, "operation", o.ID, "err", err)
		return refusedRetried, nil
	}
	// Settled: compensated, or succeeded when a registration of the
	// payment (at its right amount) committed first.
	if cur, err := s.store.OperationOfID(ctx, o.ID); err == nil && cur.State == store.OpSucceeded {
		return refusedRegistered, nil
	}
	s.log.WarnContext(ctx, "cancelled a payment of the wrong amount", "vendor", in.Vendor.Code, "uid", in.Vendor.UID, "detail", detail)
	return refusedCancelled, nil
}

// refusedOperation returns the operation that cancels the refused
// payment: the one recorded by an earlier refusal (or by a failed
// registration's compensation) when there is one still open or settled,
// else a new one, recorded in state store.OpCompensate.
func (s *Service) refusedOperation(ctx context.Context, in sdk.HistoryCreate, cancellable int64, detail string) (*store.Operation, error) {
	ops, err := s.store.OperationsOfVendorPayment(ctx, string(in.Vendor.Code), in.Vendor.UID)
	if err != nil {
		return nil, err
	}
	for _, o := range ops {
		if o.Kind == store.OpConfirm && (o.State == store.OpCompensate || o.State == store.OpCompensated) {
			return &o, nil
		}
	}
	o := &store.Operation{
		ID: uuid.NewString(), Kind: store.OpConfirm, State: store.OpCompensate,
		Vendor:     storeVendor(in.Vendor),
		RequestKey: requestKey(ctx), PGKey: refusedKeyPrefix + in.Vendor.UID, Amount: cancellable,
		Error: detail,
	}
	if o.Data, err = s.keys.Cancel.Seal([]byte(`{"reason":"`+reasonRefused+`"}`), []byte(o.ID)); err != nil {
		return nil, err
	}
	return o, s.store.CreateOperation(ctx, o)
}

// cancelIamportCapture cancels at Iamport, by imp_uid, what remains of a
// payment no registration records (cancelCapture: one refused for its
// amount; an Iamport registration captures nothing). The balance just
// fetched is both the amount and the checksum, so Iamport refuses the
// cancel if the balance moved meanwhile and never cancels more than was
// paid. A retry after a cancel that did happen finds nothing left: it
// cancels nothing and reports the earlier cancel as made when the payment
// lists one of the operation's reason, so that it is audited once.
func (s *Service) cancelIamportCapture(ctx context.Context, o *store.Operation, reason string) (bool, error) {
	pg, err := s.iamportOf(o.Vendor)
	if err != nil {
		return false, err
	}
	p, err := pg.Payment(ctx, o.Vendor.UID)
	if err != nil {
		return false, pgFailure(o.Vendor.Code, false, err)
	}
	remaining := p.Amount - p.CancelAmount
	if p.Status != iamport.StatusPaid || remaining <= 0 {
		for _, c := range p.CancelHistory {
			if c.Reason == reason {
				return true, nil
			}
		}
		return false, nil // nothing paid, or nothing left
	}
	_, err = pg.Cancel(ctx, iamport.CancelRequest{
		ImpUID: o.Vendor.UID, MerchantUID: p.MerchantUID, Amount: &remaining, Checksum: &remaining, Reason: reason,
	})
	if err != nil {
		return false, pgFailure(o.Vendor.Code, true, err)
	}
	return true, nil
}
