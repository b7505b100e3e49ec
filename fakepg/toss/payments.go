package toss

import (
	"errors"
	"net/http"
	"time"

	"github.com/paymentctl/paymentctl/fakepg/memstore"
	tossapi "github.com/paymentctl/paymentctl/gateway/toss"
)

// Constant parts of every payment.
const (
	merchantID  = "tosspayments"
	apiVersion  = "2022-11-16" // the real API's current version (the original fake said "1.3")
	cardCompany = "신한카드"
	dueAfter    = 7 * 24 * time.Hour // virtual-account deposit deadline, the real default
)

func rejectCard() *apiError {
	return &apiError{http.StatusForbidden, tossapi.CodeRejectCardPayment,
		"한도초과 혹은 잔액부족으로 결제에 실패했습니다. (injected decline)"}
}

// newPayment returns the fields every payment shares. Status is left for
// the caller. The VAT split is Toss's: a tenth of the taxable amount,
// rounded.
func (s *Server) newPayment(now time.Time, method tossapi.Method, typ tossapi.PaymentType, orderID, orderName string, amount, taxFree int64) tossapi.Payment {
	tx := newKey()
	taxable := amount - taxFree
	vat := (taxable*2 + 11) / 22
	return tossapi.Payment{
		MID:                merchantID,
		Version:            apiVersion,
		PaymentKey:         newKey(),
		TransactionKey:     tx,
		LastTransactionKey: tx,
		OrderID:            orderID,
		OrderName:          orderName,
		Method:             method,
		Type:               typ,
		Currency:           "KRW",
		TotalAmount:        amount,
		BalanceAmount:      amount,
		SuppliedAmount:     taxable - vat,
		TaxFreeAmount:      taxFree,
		VAT:                vat,
		RequestedAt:        tossapi.FormatTime(now),
	}
}

// newCard returns the card object of a card payment.
func newCard(number string, installment int, paymentKey string) *tossapi.Card {
	return &tossapi.Card{
		Company:               cardCompany,
		Number:                number, // the SDK's Pattern<"[0-9]{16}">, as the original fake
		InstallmentPlanMonths: installment,
		ApproveNo:             randomDigits(8),
		CardType:              tossapi.CardTypeCredit,
		OwnerType:             tossapi.OwnerTypePersonal,
		AcquireStatus:         tossapi.AcquireStatusReady,
		ReceiptURL:            "https://fake-toss.invalid/receipts/" + paymentKey,
	}
}

// newTransaction stamps a new transaction on p.
func newTransaction(p *tossapi.Payment) string {
	tx := newKey()
	p.TransactionKey, p.LastTransactionKey = tx, tx
	return tx
}

func stamp(t time.Time) *string {
	s := tossapi.FormatTime(t)
	return &s
}

// insert stores a new payment unless its orderId was used by a payment that
// still exists.
func (s *Server) insert(r *http.Request, p tossapi.Payment) error {
	s.createMu.Lock()
	defer s.createMu.Unlock()
	store := storeOf(r)
	order := s.orderKey(store, p.OrderID)
	if key, ok := s.orders.Get(order); ok {
		if _, ok := s.payments.Get(key); ok {
			return &apiError{http.StatusBadRequest, tossapi.CodeDuplicatedOrderID,
				"이미 승인 및 취소가 진행된 중복된 주문번호 입니다. 다른 주문번호로 진행해주세요."}
		}
	}
	if s.perStore {
		s.owners.Set(p.PaymentKey, store)
	}
	s.payments.Set(p.PaymentKey, p)
	s.orders.Set(order, p.PaymentKey)
	return nil
}

// orderKey is what an orderId is kept under: order ids are per merchant
// account, so with Options.Stores each store has its own.
func (s *Server) orderKey(store, orderID string) string {
	if !s.perStore {
		return orderID
	}
	return store + "\x00" + orderID
}

// owns reports whether a payment belongs to the store: always, without
// Options.Stores.
func (s *Server) owns(store, paymentKey string) bool {
	if !s.perStore {
		return true
	}
	owner, ok := s.owners.Get(paymentKey)
	return ok && owner == store
}

// update applies fn to a deep copy of the stored payment and stores the
// result, so answers already handed out are never changed underneath. It
// returns the status before the change and the new payment.
func (s *Server) update(r *http.Request, paymentKey string, fn func(p *tossapi.Payment) error) (tossapi.Status, tossapi.Payment, error) {
	if !s.owns(storeOf(r), paymentKey) {
		return "", tossapi.Payment{}, notFoundPayment()
	}
	var before tossapi.Status
	p, err := s.payments.Update(paymentKey, func(cur tossapi.Payment) (tossapi.Payment, error) {
		before = cur.Status
		next := cur.Clone()
		if err := fn(&next); err != nil {
			return cur, err
		}
		return next, nil
	})
	if errors.Is(err, memstore.ErrNotFound) {
		return "", tossapi.Payment{}, notFoundPayment()
	}
	return before, p, err
}

// getPayment answers GET /v1/payments/{paymentKey}.
func (s *Server) getPayment(r *http.Request) (any, error) {
	key := r.PathValue("paymentKey")
	p, ok := s.payments.Get(key)
	if !ok || !s.owns(storeOf(r), key) {
		return nil, notFoundPayment()
	}
	return p, nil
}

// getPaymentByOrder answers GET /v1/payments/orders/{orderId}.
func (s *Server) getPaymentByOrder(r *http.Request) (any, error) {
	key, ok := s.orders.Get(s.orderKey(storeOf(r), r.PathValue("orderId")))
	if !ok {
		return nil, notFoundPayment()
	}
	p, ok := s.payments.Get(key)
	if !ok {
		return nil, notFoundPayment()
	}
	return p, nil
}

// keyIn answers POST /v1/payments/key-in: a card payment, approved at once
// unless __approved is false.
func (s *Server) keyIn(r *http.Request) (any, error) {
	var in tossapi.KeyInRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var bad problems
	bad.discriminator(in.Method, tossapi.CreateMethodCard)
	bad.card(in.CardNumber, in.CardExpirationYear, in.CardExpirationMonth)
	bad.positive("amount", in.Amount)
	bad.nonNegative("taxFreeAmount", in.TaxFreeAmount)
	if in.TaxFreeAmount > in.Amount {
		bad.add("taxFreeAmount: more than amount")
	}
	bad.orderID(in.OrderID)
	if in.CardInstallmentPlan < 0 || in.CardInstallmentPlan > 36 {
		bad.add("cardInstallmentPlan: must be 0 to 36")
	}
	if in.CustomerBirthday != "" && !validBirthday(in.CustomerBirthday) {
		bad.add("customerBirthday: must be YYMMDD")
	}
	if err := bad.err(); err != nil {
		return nil, err
	}

	approveNow := in.Approved == nil || *in.Approved
	if approveNow && s.faults.Decline() {
		return nil, rejectCard()
	}
	now := s.now()
	p := s.newPayment(now, tossapi.MethodCard, tossapi.TypeNormal, in.OrderID, in.OrderName, in.Amount, in.TaxFreeAmount)
	p.Card = newCard(in.CardNumber, in.CardInstallmentPlan, p.PaymentKey)
	p.Status = tossapi.StatusInProgress
	if approveNow {
		p.Status = tossapi.StatusDone
		p.ApprovedAt = stamp(now)
	}
	if err := s.insert(r, p); err != nil {
		return nil, err
	}
	s.emit(r, "", p, false)
	return p, nil
}

// approve answers the original route POST /v1/payments/{paymentKey}.
func (s *Server) approve(r *http.Request) (any, error) {
	var in tossapi.Approval
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	return s.approvePayment(r, r.PathValue("paymentKey"), in.OrderID, in.Amount)
}

// confirm answers the real route POST /v1/payments/confirm.
func (s *Server) confirm(r *http.Request) (any, error) {
	var in tossapi.ConfirmRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.PaymentKey == "" {
		return nil, invalid("paymentKey: required")
	}
	return s.approvePayment(r, in.PaymentKey, in.OrderID, in.Amount)
}

// approvePayment approves a payment waiting for the merchant (READY or
// IN_PROGRESS): a card payment becomes DONE (or ABORTED when the decline
// fault fires), a virtual account is issued (WAITING_FOR_DEPOSIT).
func (s *Server) approvePayment(r *http.Request, paymentKey, orderID string, amount int64) (any, error) {
	var bad problems
	bad.require("orderId", orderID)
	bad.positive("amount", amount)
	if err := bad.err(); err != nil {
		return nil, err
	}
	declined := false
	before, p, err := s.update(r, paymentKey, func(p *tossapi.Payment) error {
		if p.OrderID != orderID {
			return invalid("orderId %q does not match the payment's", orderID)
		}
		if p.TotalAmount != amount {
			return invalid("amount %d does not match the payment's %d", amount, p.TotalAmount)
		}
		switch p.Status {
		case tossapi.StatusReady, tossapi.StatusInProgress:
		case tossapi.StatusCanceled, tossapi.StatusPartialCanceled:
			return &apiError{http.StatusBadRequest, tossapi.CodeAlreadyCanceledPayment, "이미 취소된 결제 입니다."}
		default:
			return &apiError{http.StatusBadRequest, tossapi.CodeAlreadyProcessedPayment,
				"이미 처리된 결제 입니다. (status " + string(p.Status) + ")"}
		}
		newTransaction(p)
		if p.Method == tossapi.MethodVirtualAccount {
			p.Status = tossapi.StatusWaitingForDeposit
			return nil
		}
		if s.faults.Decline() {
			declined = true
			rej := rejectCard()
			p.Status = tossapi.StatusAborted
			p.Failure = &tossapi.Failure{Code: rej.code, Message: rej.message}
			return nil
		}
		p.Status = tossapi.StatusDone
		p.ApprovedAt = stamp(s.now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.emit(r, before, p, false)
	if declined {
		return nil, rejectCard()
	}
	return p, nil
}

// createVirtualAccount answers POST /v1/virtual-accounts: the account is
// issued at once, or after the merchant's approval when __approved is
// false.
func (s *Server) createVirtualAccount(r *http.Request) (any, error) {
	var in tossapi.VirtualAccountRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var bad problems
	bad.discriminator(in.Method, tossapi.CreateMethodVirtualAccount)
	bad.orderID(in.OrderID)
	bad.require("orderName", in.OrderName)
	bad.require("bank", in.Bank)
	bad.require("customerName", in.CustomerName)
	bad.positive("amount", in.Amount)
	if err := bad.err(); err != nil {
		return nil, err
	}

	now := s.now()
	p := s.newPayment(now, tossapi.MethodVirtualAccount, tossapi.TypeNormal, in.OrderID, in.OrderName, in.Amount, 0)
	p.Secret = newKey()
	p.VirtualAccount = &tossapi.VirtualAccount{
		AccountNumber:    randomDigits(14),
		AccountType:      tossapi.AccountTypeNormal,
		Bank:             in.Bank,
		CustomerName:     in.CustomerName,
		DueDate:          tossapi.FormatTime(now.Add(dueAfter))[:len("2006-01-02")], // the SDK's Format<"date">
		SettlementStatus: tossapi.SettlementIncompleted,
		RefundStatus:     tossapi.RefundStatusNone,
	}
	p.Status = tossapi.StatusWaitingForDeposit
	if in.Approved != nil && !*in.Approved {
		p.Status = tossapi.StatusInProgress
	}
	if err := s.insert(r, p); err != nil {
		return nil, err
	}
	s.emit(r, "", p, false)
	return p, nil
}

// cancel answers POST /v1/payments/{paymentKey}/cancel: refund the whole
// balance, or cancelAmount of it. A repeated Idempotency-Key is answered
// before this runs (see idempotency).
func (s *Server) cancel(r *http.Request) (any, error) {
	key := r.PathValue("paymentKey")
	var in tossapi.CancelRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var bad problems
	if in.PaymentKey != "" && in.PaymentKey != key {
		bad.add("paymentKey: the body's %q differs from the path's", in.PaymentKey)
	}
	bad.require("cancelReason", in.CancelReason)
	bad.nonNegative("cancelAmount", in.CancelAmount)
	bad.nonNegative("taxAmount", in.TaxAmount)
	bad.nonNegative("taxFreeAmount", in.TaxFreeAmount)
	bad.nonNegative("refundableAmount", in.RefundableAmount)
	if in.RefundReceiveAccount != nil {
		bad.refundAccount(in.RefundReceiveAccount)
	}
	if err := bad.err(); err != nil {
		return nil, err
	}

	before, p, err := s.update(r, key, func(p *tossapi.Payment) error {
		return s.applyCancel(p, in)
	})
	if err != nil {
		return nil, err
	}
	s.emit(r, before, p, true)
	return p, nil
}

// applyCancel changes p for one cancel request.
func (s *Server) applyCancel(p *tossapi.Payment, in tossapi.CancelRequest) error {
	switch p.Status {
	case tossapi.StatusDone, tossapi.StatusPartialCanceled, tossapi.StatusWaitingForDeposit:
	case tossapi.StatusCanceled:
		return &apiError{http.StatusBadRequest, tossapi.CodeAlreadyCanceledPayment, "이미 취소된 결제 입니다."}
	default:
		return &apiError{http.StatusForbidden, tossapi.CodeNotCancelablePayment,
			"취소 할 수 없는 결제 입니다. (status " + string(p.Status) + ")"}
	}
	// refundableAmount is the balance the caller computed the cancel
	// from; another cancel in between makes it stale. Toss answers 400
	// NOT_MATCHES_REFUNDABLE_AMOUNT (its error table). 0 reads as absent:
	// a zero balance is CANCELED, refused above.
	if in.RefundableAmount != 0 && in.RefundableAmount != p.BalanceAmount {
		return &apiError{http.StatusBadRequest, tossapi.CodeNotMatchesRefundableAmount,
			"잔액 결과가 일치하지 않습니다. (refundableAmount " + itoa(in.RefundableAmount) + ", balance " + itoa(p.BalanceAmount) + ")"}
	}
	amount := in.CancelAmount
	if amount == 0 {
		amount = p.BalanceAmount
	}
	if amount > p.BalanceAmount {
		return &apiError{http.StatusForbidden, tossapi.CodeNotCancelableAmount,
			"취소 할 수 없는 금액 입니다. (asked " + itoa(amount) + ", balance " + itoa(p.BalanceAmount) + ")"}
	}
	now := s.now()
	tx := newTransaction(p)
	if p.Status == tossapi.StatusWaitingForDeposit {
		// Nothing was paid in: cancel the issuance, refund nothing.
		if amount != p.BalanceAmount {
			return &apiError{http.StatusForbidden, tossapi.CodeNotCancelableAmount,
				"취소 할 수 없는 금액 입니다. (an unpaid virtual account is canceled whole)"}
		}
		p.BalanceAmount = 0
		p.Status = tossapi.StatusCanceled
		return nil
	}
	paidVA := p.Method == tossapi.MethodVirtualAccount
	if paidVA && in.RefundReceiveAccount == nil {
		return invalid("refundReceiveAccount: required to refund a virtual account")
	}
	if in.TaxFreeAmount > amount {
		return invalid("taxFreeAmount: more than the canceled amount")
	}
	taxAmount := in.TaxAmount
	if taxAmount == 0 {
		taxAmount = amount - in.TaxFreeAmount
	}
	p.BalanceAmount -= amount
	p.Cancels = append(p.Cancels, tossapi.Cancel{
		CancelAmount:     amount,
		CancelReason:     in.CancelReason,
		TaxFreeAmount:    in.TaxFreeAmount,
		TaxAmount:        taxAmount,
		RefundableAmount: p.BalanceAmount,
		CanceledAt:       tossapi.FormatTime(now),
		TransactionKey:   tx,
		CancelStatus:     "DONE",
	})
	p.Status = tossapi.StatusPartialCanceled
	if p.BalanceAmount == 0 {
		p.Status = tossapi.StatusCanceled
		if p.Card != nil {
			p.Card.AcquireStatus = tossapi.AcquireStatusCanceled
		}
	}
	if paidVA {
		acct := *in.RefundReceiveAccount
		p.VirtualAccount.RefundReceiveAccount = &acct
		p.VirtualAccount.RefundStatus = tossapi.RefundStatusCompleted
	}
	return nil
}

// deposit answers PUT /internal/{paymentKey}/deposit: the customer pays the
// issued virtual account in full.
func (s *Server) deposit(r *http.Request) (any, error) {
	before, p, err := s.update(r, r.PathValue("paymentKey"), func(p *tossapi.Payment) error {
		if p.Method != tossapi.MethodVirtualAccount {
			return invalid("not a virtual account payment (method %s)", p.Method)
		}
		switch p.Status {
		case tossapi.StatusWaitingForDeposit:
		case tossapi.StatusReady, tossapi.StatusInProgress:
			return invalid("the virtual account is not issued yet: approve the payment first")
		case tossapi.StatusCanceled, tossapi.StatusPartialCanceled:
			return &apiError{http.StatusBadRequest, tossapi.CodeAlreadyCanceledPayment, "이미 취소된 결제 입니다."}
		default:
			return &apiError{http.StatusBadRequest, tossapi.CodeAlreadyProcessedPayment,
				"이미 처리된 결제 입니다. (status " + string(p.Status) + ")"}
		}
		newTransaction(p)
		p.Status = tossapi.StatusDone
		p.ApprovedAt = stamp(s.now())
		p.VirtualAccount.SettlementStatus = tossapi.SettlementCompleted
		p.VirtualAccount.DepositorName = p.VirtualAccount.CustomerName
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.emit(r, before, p, false)
	return p, nil
}

// cancelDeposit answers DELETE /internal/{paymentKey}/deposit: the bank
// reverses a deposit and the account waits for money again (fake-pg.md §5.2,
// "DONE back to WAITING_FOR_DEPOSIT").
func (s *Server) cancelDeposit(r *http.Request) (any, error) {
	before, p, err := s.update(r, r.PathValue("paymentKey"), func(p *tossapi.Payment) error {
		if p.Method != tossapi.MethodVirtualAccount {
			return invalid("not a virtual account payment (method %s)", p.Method)
		}
		if p.Status != tossapi.StatusDone {
			return invalid("only a paid, uncanceled virtual account can lose its deposit (status %s)", p.Status)
		}
		newTransaction(p)
		p.Status = tossapi.StatusWaitingForDeposit
		p.ApprovedAt = nil
		p.VirtualAccount.SettlementStatus = tossapi.SettlementIncompleted
		p.VirtualAccount.DepositorName = ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.emit(r, before, p, false)
	return p, nil
}
