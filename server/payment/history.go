package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/gateway/iamport"
	"github.com/paymentctl/paymentctl/server/gateway/toss"
	"github.com/paymentctl/paymentctl/server/store"
)

// CreateHistory verifies a payment with its PG and registers it.
func (s *Service) CreateHistory(ctx context.Context, in sdk.HistoryCreate) (*sdk.History, error) {
	if err := vendorOf(in.Vendor.Code); err != nil {
		return nil, err
	}
	fetchedAt := s.now()
	st, err := s.verify(ctx, in)
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
		Source:     storeSource(in.Source),
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
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		// Before the insert, so that a webhook kept meanwhile is either
		// seen by replayPending or sees this history (LockVendorPayment).
		if err := tx.LockVendorPayment(ctx, string(in.Vendor.Code), in.Vendor.UID); err != nil {
			return err
		}
		if err := tx.CreateHistory(ctx, h); err != nil {
			return err
		}
		cancels, err := s.addCancels(ctx, tx, id, st.cancels)
		if err != nil {
			return err
		}
		h.Cancels = cancels
		return s.replayPending(ctx, tx, string(in.Vendor.Code), in.Vendor.UID, fetchedAt)
	})
	if err != nil {
		return nil, err
	}
	// The store filled in what it stored (id, times as kept); no need to
	// read the new record back.
	return s.historyDTO(h)
}

// verify asks the PG about the payment before anything is written.
func (s *Service) verify(ctx context.Context, in sdk.HistoryCreate) (pgState, error) {
	switch in.Vendor.Code {
	case sdk.VendorIamport:
		p, err := s.iamport.Payment(ctx, in.Vendor.UID)
		if err != nil {
			return pgState{}, err
		}
		if p.Status == iamport.StatusFailed {
			return pgState{}, refusedf("the payment %s failed at the PG", in.Vendor.UID)
		}
		// source.id is the order's merchant_uid (as Toss's orderId is
		// checked by its confirm). Before the amount check: a payment of
		// another order is refused, never cancelled as a wrong amount.
		if p.MerchantUID != in.Source.ID {
			return pgState{}, refusedf("the payment %s was made for order %q, not for source.id %q", in.Vendor.UID, p.MerchantUID, in.Source.ID)
		}
		if int64(p.Amount) != in.Price {
			s.cancelWrongAmount(ctx, in, int64(p.Amount))
			return pgState{}, refusedf("wrong paid amount: it must be not %d but %d; the payment was cancelled at the PG", int64(p.Amount), in.Price)
		}
		return iamportState(p)
	case sdk.VendorToss:
		p, err := s.toss.GetPayment(ctx, in.Vendor.UID)
		if err != nil {
			return pgState{}, err
		}
		switch p.Status {
		case toss.StatusReady, toss.StatusInProgress:
			// Not captured yet: refuse a mismatch without confirming it
			// (Toss expires it), confirm otherwise.
			if p.OrderID != in.Source.ID {
				return pgState{}, refusedf("the payment %s belongs to order %s, not %s", in.Vendor.UID, p.OrderID, in.Source.ID)
			}
			if p.TotalAmount != in.Price {
				return pgState{}, refusedf("wrong amount: the payment is of %d, not %d; it was not confirmed", p.TotalAmount, in.Price)
			}
			p, err = s.toss.Confirm(ctx, toss.ConfirmRequest{PaymentKey: in.Vendor.UID, OrderID: in.Source.ID, Amount: in.Price})
			if err != nil {
				return pgState{}, err
			}
		case toss.StatusAborted, toss.StatusExpired:
			return pgState{}, refusedf("the payment %s is %s at the PG", in.Vendor.UID, p.Status)
		default:
			if p.OrderID != in.Source.ID {
				return pgState{}, refusedf("the payment %s belongs to order %s, not %s", in.Vendor.UID, p.OrderID, in.Source.ID)
			}
			if p.TotalAmount != in.Price {
				s.cancelWrongAmount(ctx, in, p.TotalAmount)
				return pgState{}, refusedf("wrong paid amount: it must be not %d but %d; the payment was cancelled at the PG", p.TotalAmount, in.Price)
			}
		}
		return tossState(p)
	}
	return pgState{}, fmt.Errorf("%w: unknown vendor %q", ErrInvalid, in.Vendor.Code)
}

// cancelWrongAmount cancels, in full, a payment whose amount is not what
// the service expected, so the customer is not charged for an order that
// will not be registered. A failure is logged: the refusal stands.
func (s *Service) cancelWrongAmount(ctx context.Context, in sdk.HistoryCreate, paid int64) {
	const reason = "wrong paid amount"
	var err error
	switch in.Vendor.Code {
	case sdk.VendorIamport:
		_, err = s.iamport.Cancel(ctx, iamport.CancelRequest{ImpUID: in.Vendor.UID, MerchantUID: in.Source.ID, Reason: reason})
	case sdk.VendorToss:
		_, err = s.toss.Cancel(ctx, in.Vendor.UID, toss.CancelRequest{CancelReason: reason})
	}
	if err != nil {
		s.log.Error("cancel a payment of the wrong amount", "vendor", in.Vendor.Code, "uid", in.Vendor.UID, "paid", paid, "expected", in.Price, "err", err)
		return
	}
	s.log.Warn("cancelled a payment of the wrong amount", "vendor", in.Vendor.Code, "uid", in.Vendor.UID, "paid", paid, "expected", in.Price)
}

// History returns a history by id after checking its password.
func (s *Service) History(ctx context.Context, id, password string) (*sdk.History, error) {
	h, err := s.store.History(ctx, id)
	if err != nil {
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
	h, err := s.store.HistoryBySource(ctx, storeSource(in.Source))
	if err != nil {
		return nil, err
	}
	if err := s.checkPassword(h.Password, in.Password); err != nil {
		return nil, err
	}
	return s.historyDTO(h)
}

// Cancel refunds all or part of a payment through its PG. The history row
// stays locked from the balance check to the stored result, so concurrent
// cancels of one payment run one after the other.
func (s *Service) Cancel(ctx context.Context, in sdk.CancelCreate) (*sdk.History, error) {
	found, err := s.store.HistoryBySource(ctx, storeSource(in.Source))
	if err != nil {
		return nil, err
	}
	if err := s.checkPassword(found.Password, in.Password); err != nil {
		return nil, err
	}
	var out *sdk.History
	err = s.store.WithHistoryLocked(ctx, found.ID, func(tx *store.Tx, h *store.History) error {
		if remaining := h.Price - h.Refund; in.Price > remaining {
			return refusedf("cannot refund %d: only %d of %d remains", in.Price, remaining, h.Price)
		}
		if in.Price <= 0 {
			return fmt.Errorf("%w: price must be positive", ErrInvalid)
		}
		previous, err := s.historyDTO(h)
		if err != nil {
			return err
		}
		st, err := s.cancelAtPG(ctx, h, in)
		if err != nil {
			return err
		}
		current, err := s.apply(ctx, tx, h, st)
		if err != nil {
			return err
		}
		out = current
		return s.recordEvent(ctx, tx, h, previous, current, nil)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// cancelAtPG asks the PG for the refund.
func (s *Service) cancelAtPG(ctx context.Context, h *store.History, in sdk.CancelCreate) (pgState, error) {
	switch sdk.VendorCode(h.Vendor.Code) {
	case sdk.VendorIamport:
		amount := iamport.Amount(in.Price)
		checksum := iamport.Amount(h.Price - h.Refund)
		req := iamport.CancelRequest{ImpUID: h.Vendor.UID, MerchantUID: h.Source.ID, Amount: &amount, Checksum: &checksum, Reason: in.Reason}
		if a := in.Account; a != nil {
			req.RefundBank, req.RefundAccount, req.RefundHolder, req.RefundTel = a.Bank, a.Account, a.Holder, a.Mobile
		}
		p, err := s.iamport.Cancel(ctx, req)
		if err != nil {
			return pgState{}, err
		}
		return iamportState(p)
	case sdk.VendorToss:
		req := toss.CancelRequest{CancelReason: in.Reason, CancelAmount: in.Price}
		if a := in.Account; a != nil {
			req.RefundReceiveAccount = &toss.RefundAccount{Bank: a.Bank, AccountNumber: a.Account, HolderName: a.Holder}
		}
		p, err := s.toss.Cancel(ctx, h.Vendor.UID, req)
		if err != nil {
			return pgState{}, err
		}
		return tossState(p)
	}
	return pgState{}, fmt.Errorf("history %s has unknown vendor %q", h.ID, h.Vendor.Code)
}

// apply writes a PG state onto a locked history and returns the result.
func (s *Service) apply(ctx context.Context, tx *store.Tx, h *store.History, st pgState) (*sdk.History, error) {
	sealed, err := s.keys.History.Seal(st.data, []byte(h.ID))
	if err != nil {
		return nil, err
	}
	err = tx.UpdateHistory(ctx, h.ID, store.HistoryUpdate{
		Currency: st.currency, Price: st.price, Refund: st.refund,
		PaidAt: st.paidAt, CancelledAt: st.firstCancel, Data: sealed,
	})
	if err != nil {
		return nil, err
	}
	if _, err := s.addCancels(ctx, tx, h.ID, st.cancels); err != nil {
		return nil, err
	}
	updated, err := tx.History(ctx, h.ID)
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

// storeSource converts an API source.
func storeSource(s sdk.Source) store.Source {
	return store.Source{Schema: s.Schema, Table: s.Table, ID: s.ID}
}

// isNotFound reports whether err means the record does not exist.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
