package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/internal/safetext"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/store"
)

// PortOneAPI is what the service needs from PortOne V2; *portone.Client
// implements it. StoreID is the store the client's calls name, "" for
// the API secret's own.
type PortOneAPI interface {
	GetPayment(ctx context.Context, paymentID string) (portone.Payment, error)
	CancelPayment(ctx context.Context, paymentID string, currentCancellable int64, in portone.CancelRequest) (*portone.Cancellation, error)
	GetBillingKey(ctx context.Context, billingKey string) (*portone.BillingKeyInfo, error)
	StoreID() string
}

// ErrNotIssued means a saved card's billing key is not issued (deleted,
// or never issued) at the PG.
var ErrNotIssued = errors.New("billing key not issued")

// errPortOneOff refuses a request naming PortOne V2 on a server where it
// is not configured.
var errPortOneOff = fmt.Errorf("%w: vendor.code: PortOne V2 (portone) is not enabled on this server (portone.secret is not set)", ErrInvalid)

// portoneCurrency is the only currency a PortOne V2 registration accepts,
// as for the other PGs' payments the service takes.
const portoneCurrency = "KRW"

// portoneState reduces a PortOne V2 payment. Only SUCCEEDED cancellations
// count: a REQUESTED one (an asynchronous PG) has not refunded yet, and is
// kept in pending.
func portoneState(p portone.Payment) (pgState, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return pgState{}, fmt.Errorf("encode portone payment: %w", err)
	}
	b := p.Base()
	st := pgState{currency: b.Currency, price: b.Amount.Total, refund: b.Amount.Cancelled, data: data}
	var paidAt time.Time
	var cancels []portone.Cancellation
	switch v := p.(type) {
	case *portone.PaidPayment:
		paidAt, cancels = v.PaidAt, v.Cancellations
	case *portone.PartialCancelledPayment:
		paidAt, cancels = v.PaidAt, v.Cancellations
	case *portone.CancelledPayment:
		paidAt, cancels = v.PaidAt, v.Cancellations
	}
	if !paidAt.IsZero() {
		t := paidAt.UTC()
		st.paidAt = &t
	}
	for _, c := range cancels {
		if c.Status == portone.CancellationRequested {
			st.pending = append(st.pending, pgCancel{amount: c.TotalAmount, reason: c.Reason, at: c.RequestedAt.UTC()})
			continue
		}
		if c.Status != portone.CancellationSucceeded {
			continue
		}
		cd, err := json.Marshal(c)
		if err != nil {
			return pgState{}, fmt.Errorf("encode portone cancellation: %w", err)
		}
		at := c.CancelledAt
		if at.IsZero() {
			at = c.RequestedAt
		}
		st.cancels = append(st.cancels, pgCancel{amount: c.TotalAmount, reason: c.Reason, at: at.UTC(), data: cd})
	}
	if st.refund > 0 || b.Status == portone.StatusCancelled {
		var fallback time.Time
		if v, ok := p.(*portone.CancelledPayment); ok {
			fallback = v.CancelledAt
		}
		st.firstCancel = earliest(st.cancels, fallback)
	}
	return st, nil
}

// checkPortOneOrder applies the rules a PortOne V2 registration must meet
// before the PG is asked: the paymentId (vendor.uid) is the order
// (source.id), and the store is the one the client calls.
func checkPortOneOrder(api PortOneAPI, in sdk.HistoryCreate) error {
	if in.Vendor.UID != in.Source.ID {
		return requestRefusedf(ErrOrderMismatch, "a PortOne V2 payment's paymentId (vendor.uid) must be the order's source.id")
	}
	if id := api.StoreID(); id != "" && in.Vendor.StoreID != id {
		return requestRefusedf(ErrOrderMismatch, "vendor.store_id is not the PortOne V2 store this server is configured for")
	}
	return nil
}

// verifyPortOne checks a PortOne V2 payment before it is registered: the
// order and the store, its status, and its amount and currency. A paid
// payment of another amount or currency is cancelled at the PG, recorded
// as an operation first (cancelRefused).
func (s *Service) verifyPortOne(ctx context.Context, in sdk.HistoryCreate) (pgState, error) {
	api, err := s.portOneOf(storeVendor(in.Vendor))
	if err != nil {
		return pgState{}, err
	}
	if err := checkPortOneOrder(api, in); err != nil {
		return pgState{}, err
	}
	p, err := api.GetPayment(ctx, in.Vendor.UID)
	if err != nil {
		return pgState{}, pgFailure(string(in.Vendor.Code), false, err)
	}
	b := p.Base()
	if b.ID != in.Vendor.UID {
		return pgState{}, refusedf(ErrOrderMismatch, "PortOne V2 answered with another payment than vendor.uid")
	}
	if b.StoreID != in.Vendor.StoreID {
		return pgState{}, refusedf(ErrOrderMismatch, "the payment belongs to another store than vendor.store_id")
	}
	paid := false
	switch b.Status {
	case portone.StatusPaid, portone.StatusPartialCancelled, portone.StatusCancelled:
		paid = true
	case portone.StatusVirtualAccountIssued:
	case portone.StatusFailed:
		return pgState{}, refusedf(ErrNotPaid, "the payment %s failed at the PG", in.Vendor.UID)
	default:
		return pgState{}, refusedf(ErrNotPaid, "the payment %s is %s at the PG, not paid", in.Vendor.UID, pgWord(string(b.Status)))
	}
	if b.Currency != portoneCurrency || b.Amount.Total != in.Price {
		if !paid {
			return pgState{}, refusedf(ErrAmountMismatch, "wrong amount: the payment is of %d %s, not %d %s; nothing was paid, nothing was cancelled",
				b.Amount.Total, pgWord(b.Currency), in.Price, portoneCurrency)
		}
		what, err := s.cancelRefused(ctx, in, b.Cancellable(),
			fmt.Sprintf("paid %d %s, expected %d %s", b.Amount.Total, pgWord(b.Currency), in.Price, portoneCurrency))
		if err != nil {
			return pgState{}, err
		}
		return pgState{}, refusedf(ErrAmountMismatch, "wrong paid amount: it must be not %d %s but %d %s; %s",
			b.Amount.Total, pgWord(b.Currency), in.Price, portoneCurrency, what)
	}
	return portoneState(p)
}

// pgWord quotes a word the PG supplied (a status, a currency) in a
// client message: bounded and clean, whatever the PG sent.
func pgWord(s string) string { return safetext.Quote(s, maxStatus) }

// cancelPortOneCapture cancels at the PG all that remains of a PortOne V2
// payment no registration records (cancelCapture), with the balance just
// fetched as currentCancellableAmount: a retry after a cancel that did
// happen finds nothing to cancel. It reports whether it cancelled.
func (s *Service) cancelPortOneCapture(ctx context.Context, o *store.Operation) (bool, error) {
	api, err := s.portOneOf(o.Vendor)
	if err != nil {
		return false, err
	}
	p, err := api.GetPayment(ctx, o.Vendor.UID)
	if err != nil {
		return false, pgFailure(o.Vendor.Code, false, err)
	}
	b := p.Base()
	switch b.Status {
	case portone.StatusPaid, portone.StatusPartialCancelled:
	default:
		return false, nil // nothing paid, or nothing left
	}
	_, err = api.CancelPayment(ctx, o.Vendor.UID, b.Cancellable(), portone.CancelRequest{Reason: "the payment's registration was refused"})
	if portone.IsType(err, portone.TypePaymentAlreadyCancelled) {
		return false, nil
	}
	if err != nil {
		return false, pgFailure(o.Vendor.Code, true, err)
	}
	return true, nil
}

// cancelPortOne asks PortOne V2 for the refund of in.Price on history h,
// whose balance is remaining: sent as currentCancellableAmount, so that
// PortOne refuses the cancel if the balance moved meanwhile and a retry of
// a cancel that went through never refunds twice. The state is re-fetched
// after the cancel: PortOne answers with the cancellation only.
func (s *Service) cancelPortOne(ctx context.Context, h *store.History, in sdk.CancelCreate, remaining int64) (pgState, error) {
	api, err := s.portOneOf(h.Vendor)
	if err != nil {
		return pgState{}, err
	}
	amount := in.Price
	req := portone.CancelRequest{Amount: &amount, Reason: in.Reason}
	if a := in.Account; a != nil {
		req.RefundAccount = &portone.RefundAccount{Bank: a.Bank, Number: a.Account, HolderName: a.Holder, HolderPhoneNumber: a.Mobile}
	}
	c, err := api.CancelPayment(ctx, h.Vendor.UID, remaining, req)
	if err != nil {
		return pgState{}, portoneCancelError(err)
	}
	switch c.Status {
	case portone.CancellationRequested:
		// An asynchronous PG: the refund is asked for, not made, and may
		// still fail. Until PortOne's webhook or a later fetch shows it
		// SUCCEEDED or FAILED the operation stays unknown, and no other
		// cancel of the payment is sent (beginCancel): answering "done"
		// now would have a retry ask for the same refund again.
		return pgState{}, &PGError{PG: pgName(h.Vendor.Code), Unknown: true, Err: errRefundRequested}
	case portone.CancellationFailed:
		// The PG's definite answer that nothing was refunded.
		return pgState{}, &portone.Error{Status: http.StatusConflict, Type: portoneCancelFailed, Message: "PortOne V2 answered the cancel FAILED"}
	}
	p, err := api.GetPayment(ctx, h.Vendor.UID)
	if err != nil {
		// The refund happened; the fetch that would show it failed. The
		// operation becomes unknown and is resolved by a later fetch.
		return pgState{}, &PGError{PG: pgName(h.Vendor.Code), Timeout: isTimeout(err), Unknown: true, Err: err}
	}
	return portoneState(p)
}

// errRefundRequested is the cause of an unknown outcome when PortOne V2
// took a cancel as REQUESTED: the refund is asked for, not made.
var errRefundRequested = errors.New("PortOne V2 took the cancel as REQUESTED: the refund is not made yet")

// portoneCancelFailed is the error type the service gives a cancellation
// PortOne V2 answered with status FAILED (a 200 carrying a refusal).
const portoneCancelFailed portone.ErrorType = "CANCELLATION_FAILED"

// portoneCancelError maps PortOne's refusals of a cancel that say the
// balance is not there (CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT,
// PAYMENT_ALREADY_CANCELLED) to the service's own refusal (422
// refund_exceeds_balance). Other errors pass through: another refusal,
// CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN included (the balance moved at the
// PG without paymentctl, as by a cancel in PortOne's console: the PG's 409,
// and the webhook of that cancel brings the history up to date), is the
// PG's answer that nothing moved; a timeout, a lost answer or a 5xx is an
// outcome to find out.
func portoneCancelError(err error) error {
	if portone.IsType(err, portone.TypeCancelAmountExceedsCancellableAmount, portone.TypePaymentAlreadyCancelled) {
		return &portoneRefusal{err: err, refusal: refusedf(ErrRefundExceedsBalance, "PortOne V2 refused the cancel: it exceeds what remains of the payment")}
	}
	return err
}

// portoneRefusal is a PortOne refusal of a cancel as the service reports
// it: it is the PG's definite answer (the operation failed, nothing moved)
// and, for the client, refusal.
type portoneRefusal struct {
	err     error // the *portone.Error
	refusal error
}

func (e *portoneRefusal) Error() string   { return e.refusal.Error() }
func (e *portoneRefusal) Unwrap() []error { return []error{e.refusal, e.err} }

// portoneReservation fetches a billing key to register as a saved card:
// it must be issued, of the store vendor.store_id names, and issued for
// the source when it names a customer.
func (s *Service) portoneReservation(ctx context.Context, in sdk.ReservationCreate) (*portone.BillingKeyInfo, error) {
	api, err := s.portOneOf(storeVendor(in.Vendor))
	if err != nil {
		return nil, err
	}
	if id := api.StoreID(); id != "" && in.Vendor.StoreID != id {
		return nil, requestRefusedf(ErrOrderMismatch, "vendor.store_id is not the PortOne V2 store this server is configured for")
	}
	info, err := api.GetBillingKey(ctx, in.Vendor.UID)
	if err != nil {
		return nil, pgFailure(string(in.Vendor.Code), false, err)
	}
	if info.StoreID != in.Vendor.StoreID {
		return nil, refusedf(ErrOrderMismatch, "the billing key belongs to another store than vendor.store_id")
	}
	if info.Status != "ISSUED" {
		return nil, refusedf(ErrNotIssued, "the billing key is %s at the PG, not issued", pgWord(info.Status))
	}
	if info.Customer.ID != "" && info.Customer.ID != in.Source.ID {
		return nil, refusedf(ErrOrderMismatch, "the billing key was issued for another customer than source.id")
	}
	return info, nil
}
