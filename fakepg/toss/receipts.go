package toss

import (
	"errors"
	"net/http"

	"github.com/paymentctl/paymentctl/fakepg/memstore"
	tossapi "github.com/paymentctl/paymentctl/gateway/toss"
)

// receiptRecord is a stored cash receipt and the payment it belongs to.
type receiptRecord struct {
	receipt    tossapi.CashReceipt
	paymentKey string
}

// issueCashReceipt answers POST /v1/cash-receipts: one receipt per paid
// payment, for at most its balance.
func (s *Server) issueCashReceipt(r *http.Request) (any, error) {
	var in tossapi.CashReceiptRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var bad problems
	if in.Type != tossapi.CashReceiptIncomeDeduction && in.Type != tossapi.CashReceiptExpenseProof {
		bad.add("type: must be %q or %q", tossapi.CashReceiptIncomeDeduction, tossapi.CashReceiptExpenseProof)
	}
	bad.require("paymentKey", in.PaymentKey)
	bad.require("orderId", in.OrderID)
	bad.require("orderName", in.OrderName)
	if in.RegistrationNumber == "" && in.CustomerIdentityNumber == "" {
		bad.add("registrationNumber or customerIdentityNumber: required")
	}
	bad.positive("amount", in.Amount)
	bad.nonNegative("taxFreeAmount", in.TaxFreeAmount)
	if in.TaxFreeAmount > in.Amount {
		bad.add("taxFreeAmount: more than amount")
	}
	if err := bad.err(); err != nil {
		return nil, err
	}

	key := newKey()
	rc := tossapi.CashReceipt{
		ReceiptKey:     key,
		Type:           in.Type,
		OrderID:        in.OrderID,
		OrderName:      in.OrderName,
		ApprovalNumber: randomDigits(9),
		ApprovedAt:     tossapi.FormatTime(s.now()),
		ReceiptURL:     "https://fake-toss.invalid/cash-receipts/" + key,
		Amount:         in.Amount,
		TaxFreeAmount:  in.TaxFreeAmount,
	}
	_, _, err := s.update(r, in.PaymentKey, func(p *tossapi.Payment) error {
		switch {
		case p.OrderID != in.OrderID:
			return invalid("orderId %q does not match the payment's", in.OrderID)
		case !p.Status.Paid():
			return invalid("the payment is not paid (status %s)", p.Status)
		case p.CashReceipt != nil:
			return invalid("a cash receipt was issued for this payment already")
		case in.Amount > p.BalanceAmount:
			return invalid("amount %d is more than the payment's balance %d", in.Amount, p.BalanceAmount)
		}
		p.CashReceipt = &tossapi.CashReceiptSummary{
			Type:          rc.Type,
			Amount:        rc.Amount,
			TaxFreeAmount: rc.TaxFreeAmount,
			IssueNumber:   rc.ApprovalNumber,
			ReceiptURL:    rc.ReceiptURL,
			ReceiptKey:    rc.ReceiptKey,
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.receipts.Set(key, receiptRecord{receipt: rc, paymentKey: in.PaymentKey})
	return rc, nil
}

// cancelCashReceipt answers POST /v1/cash-receipts/{receiptKey}/cancel. The
// whole receipt is canceled; a partial amount is refused.
func (s *Server) cancelCashReceipt(r *http.Request) (any, error) {
	key := r.PathValue("receiptKey")
	var in tossapi.CashReceiptCancelRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	rec, err := s.receipts.Update(key, func(rec receiptRecord) (receiptRecord, error) {
		switch {
		case rec.receipt.CanceledAt != nil:
			return rec, invalid("the cash receipt is canceled already")
		case in.Amount != 0 && in.Amount != rec.receipt.Amount:
			return rec, invalid("amount: only the whole receipt (%d) can be canceled", rec.receipt.Amount)
		}
		rec.receipt.CanceledAt = stamp(s.now())
		return rec, nil
	})
	if errors.Is(err, memstore.ErrNotFound) {
		return nil, &apiError{http.StatusNotFound, tossapi.CodeNotFound, "존재하지 않는 정보 입니다. (unknown receipt)"}
	}
	if err != nil {
		return nil, err
	}
	// The payment may have expired meanwhile; the receipt is canceled anyway.
	_, _, _ = s.update(r, rec.paymentKey, func(p *tossapi.Payment) error {
		if p.CashReceipt != nil && p.CashReceipt.ReceiptKey == key {
			p.CashReceipt = nil
		}
		return nil
	})
	return rec.receipt, nil
}
