package portone

import (
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	api "github.com/paymentctl/paymentctl/gateway/portone"
)

// Pay methods of a simulated checkout, as the browser SDK's requestPayment
// names them.
const (
	PayMethodCard           = "CARD"
	PayMethodVirtualAccount = "VIRTUAL_ACCOUNT"
	PayMethodEasyPay        = "EASY_PAY"
)

// Outcomes of a simulated checkout.
const (
	OutcomeApprove    = ""            // card and easy pay: PAID; virtual account: issued
	OutcomeDecline    = "DECLINE"     // FAILED, as a PG decline
	OutcomeReady      = "READY"       // the window was opened and left: READY
	OutcomePayPending = "PAY_PENDING" // approval pending at the PG
)

// virtualAccountDays is how long an issued account waits for the deposit.
const virtualAccountDays = 7

// CheckoutRequest is the body of POST /internal/checkout: what the
// customer's browser does with the browser SDK's requestPayment. Field
// names follow that SDK.
type CheckoutRequest struct {
	// PaymentID is the merchant's id of the payment; required. A READY or
	// FAILED payment of that id gets a new attempt; a paid one is
	// refused with ALREADY_PAID.
	PaymentID string `json:"paymentId"`
	// OrderName is required.
	OrderName string `json:"orderName"`
	// TotalAmount must be positive; TaxFreeAmount is its tax-free part.
	TotalAmount   int64 `json:"totalAmount"`
	TaxFreeAmount int64 `json:"taxFreeAmount,omitempty"`
	// Currency defaults to KRW.
	Currency string `json:"currency,omitempty"`
	// PayMethod is PayMethodCard (the default), PayMethodVirtualAccount
	// or PayMethodEasyPay.
	PayMethod string `json:"payMethod,omitempty"`
	// EasyPayProvider names an easy pay (KAKAOPAY, the default, NAVERPAY,
	// TOSSPAY, ...); the easy pay charges a card.
	EasyPayProvider string `json:"easyPayProvider,omitempty"`
	// Bank issues a virtual account (SHINHAN, the default, KOOKMIN, ...).
	Bank string `json:"bank,omitempty"`
	// Outcome is OutcomeApprove (""), OutcomeDecline, OutcomeReady or
	// OutcomePayPending. The DeclineRate fault also declines card and
	// easy-pay checkouts.
	Outcome    string        `json:"outcome,omitempty"`
	Customer   *api.Customer `json:"customer,omitempty"`
	CustomData string        `json:"customData,omitempty"`
	// NoticeURLs receive this payment's webhooks instead of the server's
	// webhook URL.
	NoticeURLs []string `json:"noticeUrls,omitempty"`
}

// CheckoutResponse is what the browser SDK hands the merchant's page
// after the checkout; Code and the other failure fields are set when the
// payment failed.
type CheckoutResponse struct {
	TransactionType string `json:"transactionType"` // PAYMENT
	TxID            string `json:"txId"`
	PaymentID       string `json:"paymentId"`
	Code            string `json:"code,omitempty"` // FAILURE_TYPE_PG
	Message         string `json:"message,omitempty"`
	PgCode          string `json:"pgCode,omitempty"`
	PgMessage       string `json:"pgMessage,omitempty"`
}

// checkout answers POST /internal/checkout: the payment is created (or a
// new attempt of a READY or FAILED one is made) as READY, announced with
// Transaction.Ready, then approved, declined, issued a virtual account or
// left pending as asked, with that transition's webhook.
func (s *Server) checkout(r *http.Request) (any, error) {
	var in CheckoutRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := checkCheckout(&in); err != nil {
		return nil, err
	}
	if err := s.matchPreRegistration(in); err != nil {
		return nil, err
	}
	now := stamp(s.now())
	p := s.newPayment(storeOf(r), in, now)
	s.mu.Lock()
	if old, ok := s.payments.Get(in.PaymentID); ok && (old.paidLike() || old.base.Status == api.StatusVirtualAccountIssued) {
		s.mu.Unlock()
		return nil, fail(api.TypeAlreadyPaid, "이미 결제된 결제 건입니다. (%s)", old.base.Status)
	}
	s.payments.Set(in.PaymentID, p)
	s.mu.Unlock()
	s.event(r, p, api.EventTransactionReady, p.data())

	out := CheckoutResponse{TransactionType: "PAYMENT", TxID: p.base.TransactionID, PaymentID: p.base.ID}
	decline := in.Outcome == OutcomeDecline || in.PayMethod != PayMethodVirtualAccount && in.Outcome == OutcomeApprove && s.faults.Decline()
	var typ string
	p, err := s.update(r, in.PaymentID, func(p *payment) error {
		switch {
		case in.Outcome == OutcomeReady:
		case decline:
			p.failedAt = now
			p.failure = api.Failure{Reason: "카드사에서 승인을 거절했습니다. (declined)", PgCode: "REJECT_CARD_COMPANY", PgMessage: "승인 거절"}
			p.setStatus(api.StatusFailed, now)
			typ = api.EventTransactionFailed
		case in.Outcome == OutcomePayPending:
			p.base.Channel = testChannel()
			p.pgTxID = "pgtx-" + randomHex(10)
			p.setStatus(api.StatusPayPending, now)
			typ = api.EventTransactionPayPending
		case in.PayMethod == PayMethodVirtualAccount:
			p.base.Method = virtualAccount(in.Bank, now)
			p.base.Channel = testChannel()
			p.pgTxID = "pgtx-" + randomHex(10)
			p.setStatus(api.StatusVirtualAccountIssued, now)
			typ = api.EventTransactionVirtualAccountIssued
		default:
			s.approve(p, now)
			typ = api.EventTransactionPaid
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if typ != "" {
		s.event(r, p, typ, p.data())
	}
	if decline {
		out.Code, out.Message = "FAILURE_TYPE_PG", p.failure.Reason
		out.PgCode, out.PgMessage = p.failure.PgCode, p.failure.PgMessage
	}
	return out, nil
}

// checkCheckout validates a checkout and fills its defaults.
func checkCheckout(in *CheckoutRequest) error {
	switch {
	case in.PaymentID == "":
		return invalid("paymentId: required")
	case len(in.PaymentID) > 200:
		return invalid("paymentId: at most 200 characters")
	case in.OrderName == "":
		return invalid("orderName: required")
	case in.TotalAmount <= 0:
		return invalid("totalAmount: must be positive, got %d", in.TotalAmount)
	case in.TaxFreeAmount < 0 || in.TaxFreeAmount > in.TotalAmount:
		return invalid("taxFreeAmount: must be between 0 and totalAmount, got %d", in.TaxFreeAmount)
	}
	if in.Currency == "" {
		in.Currency = "KRW"
	}
	if in.PayMethod == "" {
		in.PayMethod = PayMethodCard
	}
	switch in.PayMethod {
	case PayMethodCard, PayMethodVirtualAccount, PayMethodEasyPay:
	default:
		return invalid("payMethod: %q is not CARD, VIRTUAL_ACCOUNT or EASY_PAY", in.PayMethod)
	}
	switch in.Outcome {
	case OutcomeApprove, OutcomeDecline, OutcomeReady, OutcomePayPending:
	default:
		return invalid("outcome: %q is not \"\", DECLINE, READY or PAY_PENDING", in.Outcome)
	}
	if in.PayMethod == PayMethodEasyPay && in.EasyPayProvider == "" {
		in.EasyPayProvider = "KAKAOPAY"
	}
	return nil
}

// matchPreRegistration refuses a checkout whose amount or currency is not
// what the merchant pre-registered for the paymentId.
func (s *Server) matchPreRegistration(in CheckoutRequest) error {
	pre, ok := s.prereg.Get(in.PaymentID)
	if !ok {
		return nil
	}
	switch {
	case pre.total != nil && *pre.total != in.TotalAmount:
		return fail(api.TypeInformationMismatch, "사전 등록된 결제 금액(%d)과 다릅니다. (%d)", *pre.total, in.TotalAmount)
	case pre.taxFree != nil && *pre.taxFree != in.TaxFreeAmount:
		return fail(api.TypeInformationMismatch, "사전 등록된 면세 금액(%d)과 다릅니다. (%d)", *pre.taxFree, in.TaxFreeAmount)
	case pre.currency != "" && pre.currency != in.Currency:
		return fail(api.TypeInformationMismatch, "사전 등록된 통화(%s)와 다릅니다. (%s)", pre.currency, in.Currency)
	}
	return nil
}

// newPayment is a READY payment of a checkout: a new attempt with its
// own transactionId.
func (s *Server) newPayment(store string, in CheckoutRequest, now time.Time) payment {
	vat := vatOf(in.TotalAmount - in.TaxFreeAmount)
	supply := in.TotalAmount - in.TaxFreeAmount - vat
	p := payment{
		base: api.PaymentBase{
			Status: api.StatusReady, ID: in.PaymentID, TransactionID: uuid.NewString(),
			MerchantID: DefaultMerchantID, StoreID: store, Version: "V2",
			RequestedAt: now, UpdatedAt: now, StatusChangedAt: now,
			OrderName: in.OrderName, Currency: in.Currency, CustomData: in.CustomData,
			Amount: api.PaymentAmount{Total: in.TotalAmount, TaxFree: in.TaxFreeAmount, Vat: &vat, Supply: &supply},
		},
		noticeURLs: in.NoticeURLs,
	}
	if in.Customer != nil {
		p.base.Customer = *in.Customer
	}
	switch in.PayMethod {
	case PayMethodCard:
		p.base.Method = cardMethod()
	case PayMethodEasyPay:
		p.base.Method = &api.PaymentMethod{Type: api.MethodEasyPay, Provider: in.EasyPayProvider, EasyPayMethod: cardMethod()}
	}
	return p
}

// approve makes p PAID at now.
func (s *Server) approve(p *payment, now time.Time) {
	p.base.Channel = testChannel()
	p.base.Amount.Paid = p.base.Amount.Total
	p.pgTxID = "pgtx-" + randomHex(10)
	p.paidAt = now
	p.receiptURL = "https://receipt.example.invalid/portone/" + p.base.TransactionID
	p.setStatus(api.StatusPaid, now)
}

// deposit answers POST /internal/payments/{paymentId}/deposit: the
// customer pays into the virtual account, which makes the payment PAID
// (Transaction.Paid). A payment not waiting for a deposit, or whose
// account expired, is refused with 409 PAYMENT_NOT_WAITING_FOR_DEPOSIT.
func (s *Server) deposit(r *http.Request) (any, error) {
	id := r.PathValue("paymentId")
	now := stamp(s.now())
	p, err := s.update(r, id, func(p *payment) error {
		if p.base.Status != api.StatusVirtualAccountIssued {
			return fail(api.TypePaymentNotWaitingForDeposit, "입금 대기 상태가 아닙니다. (%s)", p.base.Status)
		}
		if m := p.base.Method; m != nil && !m.ExpiredAt.IsZero() && now.After(m.ExpiredAt) {
			return fail(api.TypePaymentNotWaitingForDeposit, "입금 기한이 지났습니다. (%s)", m.ExpiredAt.Format(time.RFC3339))
		}
		s.approve(p, now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.event(r, p, api.EventTransactionPaid, p.data())
	return p.view(), nil
}

// testChannel is the channel of every fake payment.
func testChannel() *api.SelectedChannel {
	return &api.SelectedChannel{Type: api.ChannelTest, ID: channelID, Key: channelKey, Name: channelName,
		PgProvider: pgProvider, PgMerchantID: pgMerchantID}
}

// cardMethod is the card of a card or easy-pay payment.
func cardMethod() *api.PaymentMethod {
	return &api.PaymentMethod{
		Type: api.MethodCard,
		Card: &api.Card{Publisher: "SHINHAN", Issuer: "SHINHAN", Brand: "VISA", Type: "CREDIT", OwnerType: "PERSONAL",
			Bin: "411111", Name: "신한카드", Number: "411111******1111"},
		ApprovalNumber: randomDigits(8),
		Installment:    &api.Installment{Month: 0, IsInterestFree: false},
	}
}

// virtualAccount is a virtual account issued at now.
func virtualAccount(bank string, now time.Time) *api.PaymentMethod {
	if bank == "" {
		bank = "SHINHAN"
	}
	return &api.PaymentMethod{
		Type: api.MethodVirtualAccount, Bank: strings.ToUpper(bank), AccountNumber: randomDigits(14),
		AccountType: "NORMAL", RemitteeName: "paymentctl fake", IssuedAt: now,
		ExpiredAt: now.Add(virtualAccountDays * 24 * time.Hour),
	}
}
