package portone

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/fakepg/memstore"
	api "github.com/paymentctl/paymentctl/gateway/portone"
)

// payment is a stored payment: the fields every status shares and those
// of the statuses it went through. view renders the variant of its
// status.
type payment struct {
	base          api.PaymentBase // Status is the current one
	pgTxID        string
	paidAt        time.Time
	failedAt      time.Time
	failure       api.Failure
	cancellations []api.Cancellation
	cancelledAt   time.Time
	receiptURL    string
	noticeURLs    []string
	// lastWebhook is the latest Transaction.* webhook, for resend.
	lastWebhook *sentWebhook
}

// sentWebhook is what resend-webhook sends again.
type sentWebhook struct {
	id   string
	typ  string
	data api.WebhookData
	at   time.Time
}

// clone returns p with slices of its own, for an Update that appends.
func (p payment) clone() payment {
	p.cancellations = slices.Clone(p.cancellations)
	p.noticeURLs = slices.Clone(p.noticeURLs)
	return p
}

// paidLike reports whether money was taken (PAID, PARTIAL_CANCELLED or
// CANCELLED): the paymentId may not be paid again.
func (p payment) paidLike() bool {
	switch p.base.Status {
	case api.StatusPaid, api.StatusPartialCancelled, api.StatusCancelled:
		return true
	}
	return false
}

// view renders p as the API's variant of its status.
func (p payment) view() api.Payment {
	b := p.base
	switch b.Status {
	case api.StatusReady:
		return &api.ReadyPayment{PaymentBase: b}
	case api.StatusPayPending:
		return &api.PayPendingPayment{PaymentBase: b, PgTxID: p.pgTxID}
	case api.StatusVirtualAccountIssued:
		return &api.VirtualAccountIssuedPayment{PaymentBase: b, PgTxID: p.pgTxID}
	case api.StatusPaid:
		return &api.PaidPayment{PaymentBase: b, PgTxID: p.pgTxID, PaidAt: p.paidAt, ReceiptURL: p.receiptURL,
			Disputes: []api.Dispute{}, Cancellations: slices.Clone(p.cancellations)}
	case api.StatusPartialCancelled:
		return &api.PartialCancelledPayment{PaymentBase: b, PgTxID: p.pgTxID, PaidAt: p.paidAt, ReceiptURL: p.receiptURL,
			Cancellations: slices.Clone(p.cancellations), CancelledAt: p.cancelledAt}
	case api.StatusCancelled:
		return &api.CancelledPayment{PaymentBase: b, PgTxID: p.pgTxID, PaidAt: p.paidAt, ReceiptURL: p.receiptURL,
			Cancellations: slices.Clone(p.cancellations), CancelledAt: p.cancelledAt}
	default:
		return &api.FailedPayment{PaymentBase: b, FailedAt: p.failedAt, Failure: p.failure}
	}
}

// setStatus moves p to status at now.
func (p *payment) setStatus(status api.Status, now time.Time) {
	p.base.Status = status
	p.base.StatusChangedAt = now
	p.base.UpdatedAt = now
}

// data is the data of a Transaction.* webhook about p.
func (p payment) data() api.WebhookData {
	return api.WebhookData{PaymentID: p.base.ID, StoreID: p.base.StoreID, TransactionID: p.base.TransactionID}
}

// event announces a Transaction.* webhook about p (as stored after the
// change) and remembers it for resend-webhook.
func (s *Server) event(r *http.Request, p payment, typ string, data api.WebhookData) {
	s.notify(r, p.noticeURLs, typ, data)
	_, _ = s.payments.Update(p.base.ID, func(q payment) (payment, error) {
		q.lastWebhook = &sentWebhook{id: uuid.NewString(), typ: typ, data: data, at: stamp(s.now())}
		return q, nil
	})
}

// notFound is 404 PAYMENT_NOT_FOUND.
func notFound(id string) *apiError {
	return fail(api.TypePaymentNotFound, "결제 건이 존재하지 않습니다. (%s)", id)
}

// update applies fn to a stored payment of the caller's store
// atomically; a missing one, or another store's, is 404.
func (s *Server) update(r *http.Request, id string, fn func(p *payment) error) (payment, error) {
	store := storeOf(r)
	p, err := s.payments.Update(id, func(p payment) (payment, error) {
		if p.base.StoreID != store {
			return p, notFound(id)
		}
		p = p.clone()
		err := fn(&p)
		return p, err
	})
	if errors.Is(err, memstore.ErrNotFound) {
		return p, notFound(id)
	}
	return p, err
}

// getPayment answers GET /payments/{paymentId}.
func (s *Server) getPayment(r *http.Request) (any, error) {
	id := r.PathValue("paymentId")
	p, ok := s.payments.Get(id)
	if !ok || p.base.StoreID != storeOf(r) {
		return nil, notFound(id)
	}
	return p.view(), nil
}

// cancel answers POST /payments/{paymentId}/cancel. The checks, in this
// order (PortOne does not document its own): the body, the payment's
// existence and status, currentCancellableAmount, the amount against the
// balance, the tax-free and VAT parts, a refund account for a paid
// virtual account.
func (s *Server) cancel(r *http.Request) (any, error) {
	var in api.CancelRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := s.checkStore(r, in.StoreID); err != nil {
		return nil, err
	}
	if in.Reason == "" {
		return nil, invalid("reason: required")
	}
	if in.Amount != nil && *in.Amount <= 0 {
		return nil, invalid("amount: must be positive, got %d", *in.Amount)
	}
	id := r.PathValue("paymentId")
	var c api.Cancellation
	p, err := s.update(r, id, func(p *payment) error {
		var err error
		c, err = s.applyCancel(p, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	if in.SkipWebhook == nil || !*in.SkipWebhook {
		typ := api.EventTransactionPartialCancelled
		switch {
		case c.Status == api.CancellationRequested:
			typ = api.EventTransactionCancelPending
		case p.base.Status == api.StatusCancelled:
			typ = api.EventTransactionCancelled
		}
		data := p.data()
		data.CancellationID = c.ID
		s.event(r, p, typ, data)
	}
	return api.CancelResponse{Cancellation: c}, nil
}

// applyCancel checks and applies one cancel to p.
func (s *Server) applyCancel(p *payment, in api.CancelRequest) (api.Cancellation, error) {
	switch p.base.Status {
	case api.StatusCancelled:
		return api.Cancellation{}, fail(api.TypePaymentAlreadyCancelled, "이미 취소된 결제입니다.")
	case api.StatusPaid, api.StatusPartialCancelled:
	default:
		return api.Cancellation{}, fail(api.TypePaymentNotPaid, "결제 완료 상태가 아닙니다. (%s)", p.base.Status)
	}
	a := &p.base.Amount
	balance := a.Total - a.Cancelled
	if in.CurrentCancellableAmount != nil && *in.CurrentCancellableAmount != balance {
		return api.Cancellation{}, fail(api.TypeCancellableAmountConsistencyBroken,
			"취소 가능 금액이 일치하지 않습니다. (currentCancellableAmount %d, actual %d)", *in.CurrentCancellableAmount, balance)
	}
	amount := balance
	if in.Amount != nil {
		amount = *in.Amount
	}
	if amount > balance {
		return api.Cancellation{}, fail(api.TypeCancelAmountExceedsCancellableAmount,
			"취소 금액이 취소 가능 금액을 초과합니다. (amount %d, cancellable %d)", amount, balance)
	}
	taxFreeLeft := a.TaxFree - a.CancelledTaxFree
	taxFree := int64(0)
	switch {
	case in.TaxFreeAmount != nil:
		taxFree = *in.TaxFreeAmount
	case in.Amount == nil:
		taxFree = taxFreeLeft // all that remains, tax-free part included
	}
	if taxFree < 0 || taxFree > taxFreeLeft {
		return api.Cancellation{}, fail(api.TypeCancelTaxFreeAmountExceedsCancellable,
			"면세 취소 금액이 취소 가능 면세 금액을 초과합니다. (%d, cancellable %d)", taxFree, taxFreeLeft)
	}
	vat := vatOf(amount - taxFree)
	if in.VatAmount != nil {
		vat = *in.VatAmount
	}
	if taxFree+vat > amount {
		return api.Cancellation{}, fail(api.TypeSumOfPartsExceedsCancelAmount,
			"면세 금액과 부가세의 합이 취소 금액을 초과합니다.")
	}
	if p.base.Method != nil && p.base.Method.Type == api.MethodVirtualAccount && in.RefundAccount == nil {
		return api.Cancellation{}, invalid("refundAccount: required to refund a virtual account")
	}
	now := stamp(s.now())
	c := api.Cancellation{
		Status: api.CancellationSucceeded, ID: uuid.NewString(),
		TotalAmount: amount, TaxFreeAmount: taxFree, VatAmount: vat, Reason: in.Reason,
		RequestedAt: now, Trigger: "API",
	}
	if s.asyncCancels.Load() {
		// Asked of an asynchronous PG: nothing moves until it settles.
		// Like PortOne's documentation, the fake does not hold the
		// requested amount back from the balance, so a client that
		// cancels again before it settles is refunded twice.
		c.Status = api.CancellationRequested
		p.cancellations = append(p.cancellations, c)
		p.base.UpdatedAt = now
		return c, nil
	}
	p.cancellations = append(p.cancellations, c)
	p.succeed(len(p.cancellations)-1, now)
	return p.cancellations[len(p.cancellations)-1], nil
}

// succeed makes p's cancellation i SUCCEEDED at now and refunds it.
func (p *payment) succeed(i int, now time.Time) {
	c := &p.cancellations[i]
	c.Status, c.PgCancellationID, c.CancelledAt, c.ReceiptURL = api.CancellationSucceeded, "pgcancel-"+randomHex(8), now, p.receiptURL
	a := &p.base.Amount
	a.Cancelled += c.TotalAmount
	a.CancelledTaxFree += c.TaxFreeAmount
	p.cancelledAt = now
	status := api.StatusPartialCancelled
	if a.Cancelled == a.Total {
		status = api.StatusCancelled
	}
	p.setStatus(status, now)
}

// SetAsyncCancels sets Options.AsyncCancels: cancels from now on are
// REQUESTED, or made at once again.
func (s *Server) SetAsyncCancels(on bool) { s.asyncCancels.Store(on) }

// SettleCancellations settles the REQUESTED cancellations of a payment, as
// an asynchronous PG eventually does: with succeed, each is refunded
// (SUCCEEDED, or FAILED when the balance no longer covers it) and a
// Transaction.PartialCancelled or .Cancelled webhook is sent for it;
// without, each is FAILED and nothing is refunded (PortOne documents no
// webhook for that). It returns how many it settled.
func (s *Server) SettleCancellations(ctx context.Context, paymentID string, succeed bool) (int, error) {
	now := stamp(s.now())
	var settled []string // refunded, each announced
	n := 0
	p, err := s.payments.Update(paymentID, func(p payment) (payment, error) {
		p = p.clone()
		settled, n = nil, 0
		for i := range p.cancellations {
			c := &p.cancellations[i]
			if c.Status != api.CancellationRequested {
				continue
			}
			n++
			if succeed && c.TotalAmount <= p.base.Amount.Total-p.base.Amount.Cancelled {
				p.succeed(i, now)
				settled = append(settled, c.ID)
				continue
			}
			c.Status = api.CancellationFailed
			p.base.UpdatedAt = now
		}
		return p, nil
	})
	if err != nil {
		return 0, fmt.Errorf("settle the cancellations of %s: %w", paymentID, err)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, "/", nil)
	if err != nil {
		return 0, err
	}
	for _, id := range settled {
		typ := api.EventTransactionPartialCancelled
		if p.base.Status == api.StatusCancelled {
			typ = api.EventTransactionCancelled
		}
		data := p.data()
		data.CancellationID = id
		s.event(r, p, typ, data)
	}
	return n, nil
}

// vatOf is the VAT of a taxable amount, 1/11 of it rounded half up.
func vatOf(taxable int64) int64 { return (2*taxable + 11) / 22 }

// preRegistration is what a merchant said a payment will be.
type preRegistration struct {
	total, taxFree *int64
	currency       string
}

// preRegister answers POST /payments/{paymentId}/pre-register: a
// checkout of that paymentId must then match the amount and currency.
func (s *Server) preRegister(r *http.Request) (any, error) {
	var in struct {
		StoreID       string `json:"storeId"`
		TotalAmount   *int64 `json:"totalAmount"`
		TaxFreeAmount *int64 `json:"taxFreeAmount"`
		Currency      string `json:"currency"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := s.checkStore(r, in.StoreID); err != nil {
		return nil, err
	}
	id := r.PathValue("paymentId")
	if p, ok := s.payments.Get(id); ok && p.paidLike() {
		return nil, fail(api.TypeAlreadyPaid, "이미 결제된 결제 건입니다.")
	}
	s.prereg.Set(id, preRegistration{total: in.TotalAmount, taxFree: in.TaxFreeAmount, currency: in.Currency})
	return struct{}{}, nil
}

// closeVirtualAccount answers POST
// /payments/{paymentId}/virtual-account/close: the account is closed
// unpaid, the payment FAILED. PortOne does not document a webhook for it;
// the fake sends Transaction.Failed.
func (s *Server) closeVirtualAccount(r *http.Request) (any, error) {
	id := r.PathValue("paymentId")
	now := stamp(s.now())
	p, err := s.update(r, id, func(p *payment) error {
		if p.base.Status != api.StatusVirtualAccountIssued {
			return fail(api.TypePaymentNotWaitingForDeposit, "입금 대기 상태가 아닙니다. (%s)", p.base.Status)
		}
		p.failedAt = now
		p.failure = api.Failure{Reason: "가상계좌가 입금 전에 말소되었습니다. (virtual account closed)"}
		p.setStatus(api.StatusFailed, now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.event(r, p, api.EventTransactionFailed, p.data())
	return map[string]time.Time{"closedAt": now}, nil
}

// resendWebhook answers POST /payments/{paymentId}/resend-webhook: the
// latest Transaction.* webhook of the payment is sent again, as a new
// message. A webhookId other than the latest one's is 404
// WEBHOOK_NOT_FOUND.
func (s *Server) resendWebhook(r *http.Request) (any, error) {
	var in struct {
		StoreID   string `json:"storeId"`
		WebhookID string `json:"webhookId"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := s.checkStore(r, in.StoreID); err != nil {
		return nil, err
	}
	id := r.PathValue("paymentId")
	p, ok := s.payments.Get(id)
	if !ok || p.base.StoreID != storeOf(r) {
		return nil, notFound(id)
	}
	last := p.lastWebhook
	if last == nil || in.WebhookID != "" && in.WebhookID != last.id {
		return nil, fail(api.TypeWebhookNotFound, "웹훅 내역이 존재하지 않습니다.")
	}
	s.notify(r, p.noticeURLs, last.typ, last.data)
	url := s.WebhookURL()
	if len(p.noticeURLs) > 0 {
		url = p.noticeURLs[0]
	}
	return map[string]api.PaymentWebhook{"webhook": {
		ID: last.id, URL: url, PaymentStatus: string(p.base.Status), IsAsync: ptr(true), Trigger: "MANUAL", TriggeredAt: stamp(s.now()),
	}}, nil
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
