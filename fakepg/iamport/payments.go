package iamport

import (
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/paymentctl/paymentctl/fakepg/memstore"
	gw "github.com/paymentctl/paymentctl/gateway/iamport"
)

// receiptBase prefixes the receipt URLs the fake hands out.
const receiptBase = "https://fakepg.invalid/iamport/receipts/"

// Identifiers the fake reports as its PG.
const (
	pgProvider = "fakepg"
	pgID       = "fakepg_mid"
)

// noPayment is the real API's answer for an unknown payment.
func noPayment() error { return notFound("존재하지 않는 결제정보입니다.") }

// payment reads a payment of the caller's store or answers 404.
func (s *Server) payment(store, impUID string) (gw.Payment, error) {
	p, ok := s.payments.Get(impUID)
	if !ok || !s.owns(store, impUID) {
		return gw.Payment{}, noPayment()
	}
	return p, nil
}

// updatePayment applies fn to a stored payment of the caller's store
// atomically.
func (s *Server) updatePayment(store, impUID string, fn func(p gw.Payment) (gw.Payment, error)) (gw.Payment, error) {
	if !s.owns(store, impUID) {
		return gw.Payment{}, noPayment()
	}
	p, err := s.payments.Update(impUID, fn)
	if errors.Is(err, memstore.ErrNotFound) {
		return p, noPayment()
	}
	return p, err
}

// owns reports whether a payment belongs to the store: always, without
// Options.Stores.
func (s *Server) owns(store, impUID string) bool {
	if !s.perStore {
		return true
	}
	owner, ok := s.owners.Get(impUID)
	return ok && owner == store
}

// byMerchant lists the live payments of an order made by the store,
// newest first, keeping those with the given status ("" keeps all).
func (s *Server) byMerchant(store, merchantUID string, status gw.Status) []gw.Payment {
	ids, _ := s.merchants.Get(merchantUID)
	var out []gw.Payment
	for _, id := range slices.Backward(ids) {
		if p, ok := s.payments.Get(id); ok && s.owns(store, id) && (status == "" || p.Status == status) {
			out = append(out, p)
		}
	}
	return out
}

// create stores a new payment of the store. An order id that already has
// a payment of the store which did not fail is refused, as the real API
// refuses paying an order twice; a declined attempt may be retried under
// the same id.
func (s *Server) create(store string, p gw.Payment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.byMerchant(store, p.MerchantUID, "") {
		if q.Status != gw.StatusFailed {
			return refused("이미 결제가 진행된 주문번호(merchant_uid)입니다: %s", p.MerchantUID)
		}
	}
	if s.perStore {
		s.owners.Set(p.ImpUID, store)
	}
	s.payments.Set(p.ImpUID, p)
	ids, _ := s.merchants.Get(p.MerchantUID)
	s.merchants.Set(p.MerchantUID, append(slices.Clone(ids), p.ImpUID))
	return nil
}

// newPayment fills the fields every payment the fake makes shares.
func (s *Server) newPayment(c *call, method gw.PayMethod, merchantUID string, amount gw.Amount) gw.Payment {
	impUID := "imp_" + randomDigits(12)
	return gw.Payment{PaymentBase: gw.PaymentBase{
		PayMethod:     method,
		ImpUID:        impUID,
		MerchantUID:   merchantUID,
		Amount:        amount,
		Currency:      gw.CurrencyKRW,
		ReceiptURL:    receiptBase + impUID,
		Channel:       "api",
		PGProvider:    pgProvider,
		PGID:          pgID,
		PGTID:         "fake_" + randomHex(10),
		UserAgent:     nullable(c.r.UserAgent()),
		StartedAt:     gw.TimestampOf(s.now()),
		CancelHistory: []gw.PaymentCancel{},
	}}
}

// cardPayment builds an unpaid card payment for an order.
func (s *Server) cardPayment(c *call, o gw.OrderFields, cardNumber string) gw.Payment {
	p := s.newPayment(c, gw.PayMethodCard, o.MerchantUID, o.Amount)
	p.Name = nullable(o.Name)
	if o.Currency != "" {
		p.Currency = o.Currency
	}
	p.BuyerName = nullable(o.BuyerName)
	p.BuyerEmail = nullable(o.BuyerEmail)
	p.BuyerTel = nullable(o.BuyerTel)
	p.BuyerAddr = nullable(o.BuyerAddr)
	p.BuyerPostcode = nullable(o.BuyerPostcode)
	p.CustomData = nullable(o.CustomData)
	p.NoticeURL = o.NoticeURL
	code, name := cardIssuer(cardNumber)
	p.CardDetails = gw.CardDetails{CardCode: code, CardName: name, CardNumber: cardNumber, CardQuota: o.CardQuota}
	return p
}

// charge runs the card approval: declined when the Decline fault fires,
// else paid. A decline is stored as a failed payment and answered like
// the real API's refusal: HTTP 200, code -1, the reason as message, and
// the failed payment as response. No webhook is sent for a decline.
func (s *Server) charge(c *call, p gw.Payment) (gw.Payment, error) {
	now := gw.TimestampOf(s.now())
	if s.faults.Decline() {
		reason := declineReason()
		p.Status, p.FailedAt, p.FailReason = gw.StatusFailed, now, &reason
		if err := s.create(c.store, p); err != nil {
			return p, err
		}
		return p, &apiError{status: 200, code: -1, msg: reason, response: p}
	}
	p.Status, p.PaidAt = gw.StatusPaid, now
	p.ApplyNum = randomDigits(8)
	if err := s.create(c.store, p); err != nil {
		return p, err
	}
	c.notify(p, gw.StatusPaid)
	return p, nil
}

func declineReason() string {
	reasons := [...]string{"한도초과", "잔액부족", "거래정지카드", "유효기간 오류"}
	return "[fakepg] 카드 승인 거절: " + reasons[mrand.IntN(len(reasons))]
}

// getPayment answers GET /payments/{imp_uid}. The extension query of the
// SDK (PayPal) is accepted and ignored.
func (s *Server) getPayment(c *call) (any, error) {
	if v := c.r.URL.Query().Get("extension"); v != "" && v != "true" && v != "false" {
		return nil, invalid("extension %q is not a boolean", v)
	}
	return s.payment(c.store, c.r.PathValue("imp_uid"))
}

// findPayment answers GET /payments/find/{merchant_uid}[/{payment_status}]
// with the order's newest payment.
func (s *Server) findPayment(c *call) (any, error) {
	status, err := statusParam(c.r.PathValue("payment_status"))
	if err != nil {
		return nil, err
	}
	list := s.byMerchant(c.store, c.r.PathValue("merchant_uid"), status)
	if len(list) == 0 {
		return nil, noPayment()
	}
	return list[0], nil
}

// findAllPayments answers GET /payments/findAll/{merchant_uid}[/{payment_status}]
// with every payment of the order, newest first, in one page.
func (s *Server) findAllPayments(c *call) (any, error) {
	status, err := statusParam(c.r.PathValue("payment_status"))
	if err != nil {
		return nil, err
	}
	list := s.byMerchant(c.store, c.r.PathValue("merchant_uid"), status)
	if len(list) == 0 {
		return nil, noPayment()
	}
	return gw.PaymentPage{Total: len(list), List: list}, nil
}

// payOnetime answers POST /subscribe/payments/onetime: an immediate card
// payment; with customer_uid the card is also kept as a billing key.
func (s *Server) payOnetime(c *call) (any, error) {
	var in gw.OnetimeRequest
	if err := decode(c.r, &in, "card_number", "expiry", "birth", "merchant_uid", "amount", "name"); err != nil {
		return nil, err
	}
	var ck checker
	ck.card(in.CardFields)
	ck.order(in.OrderFields)
	if ck.err != nil {
		return nil, ck.err
	}
	p := s.cardPayment(c, in.OrderFields, in.CardNumber)
	if in.CustomerUID != "" {
		p.CustomerUID, p.CustomerUIDUsage = nullable(in.CustomerUID), nullable("issue")
	}
	p, err := s.charge(c, p)
	if err != nil {
		return nil, err
	}
	if in.CustomerUID != "" {
		s.saveBillingKey(c.store, in.CustomerUID, gw.BillingKeyRequest{
			CardFields:       in.CardFields,
			CustomerName:     in.BuyerName,
			CustomerTel:      in.BuyerTel,
			CustomerEmail:    in.BuyerEmail,
			CustomerAddr:     in.BuyerAddr,
			CustomerPostcode: in.BuyerPostcode,
		})
	}
	return p, nil
}

// payAgain answers POST /subscribe/payments/again: a payment with a stored
// billing key, whose customer details stand in for missing buyer details.
func (s *Server) payAgain(c *call) (any, error) {
	var in gw.AgainRequest
	if err := decode(c.r, &in, "customer_uid", "merchant_uid", "amount", "name"); err != nil {
		return nil, err
	}
	var ck checker
	ck.nonEmpty("customer_uid", in.CustomerUID)
	ck.order(in.OrderFields)
	if ck.err != nil {
		return nil, ck.err
	}
	key, ok := s.billingKeys.Get(s.billingKeyID(c.store, in.CustomerUID))
	if !ok {
		return nil, notFound("등록되지 않은 customer_uid 입니다: %s", in.CustomerUID)
	}
	p := s.cardPayment(c, in.OrderFields, key.CardNumber)
	p.CardCode, p.CardName = key.CardCode, key.CardName
	p.CustomerUID, p.CustomerUIDUsage = nullable(in.CustomerUID), nullable("payment")
	p.BuyerName = firstNonNil(p.BuyerName, key.CustomerName)
	p.BuyerTel = firstNonNil(p.BuyerTel, key.CustomerTel)
	p.BuyerEmail = firstNonNil(p.BuyerEmail, key.CustomerEmail)
	p.BuyerAddr = firstNonNil(p.BuyerAddr, key.CustomerAddr)
	p.BuyerPostcode = firstNonNil(p.BuyerPostcode, key.CustomerPostcode)
	p, err := s.charge(c, p)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func firstNonNil(a, b *string) *string {
	if a != nil {
		return a
	}
	return b
}

// cancelPayment answers POST /payments/cancel. A partial cancel keeps the
// payment "paid" and adds to cancel_amount; cancelling what remains makes
// it "cancelled". Every cancel is announced with a "cancelled" webhook.
func (s *Server) cancelPayment(c *call) (any, error) {
	var in gw.CancelRequest
	if err := decode(c.r, &in, "reason"); err != nil {
		return nil, err
	}
	var ck checker
	if in.ImpUID == "" && in.MerchantUID == "" {
		ck.fail("$input.imp_uid or $input.merchant_uid is required")
	}
	if in.Amount != nil {
		ck.positive("amount", *in.Amount)
	}
	ck.notNegative("checksum", in.Checksum)
	ck.notNegative("tax_free", in.TaxFree)
	if ck.err != nil {
		return nil, ck.err
	}
	impUID := in.ImpUID
	if impUID == "" {
		paid := s.byMerchant(c.store, in.MerchantUID, gw.StatusPaid)
		if len(paid) == 0 {
			return nil, notFound("취소할 결제건이 존재하지 않습니다.")
		}
		impUID = paid[0].ImpUID
	}
	now, pgTID := s.now(), "fake_"+randomHex(10)
	p, err := s.updatePayment(c.store, impUID, func(p gw.Payment) (gw.Payment, error) {
		return applyCancel(p, in, now, pgTID)
	})
	if err != nil {
		return nil, err
	}
	c.notify(p, gw.StatusCancelled)
	return p, nil
}

// applyCancel returns p after the cancel in, or the reason it is refused.
func applyCancel(p gw.Payment, in gw.CancelRequest, now time.Time, pgTID string) (gw.Payment, error) {
	switch p.Status {
	case gw.StatusPaid:
	case gw.StatusCancelled:
		return p, refused("이미 전액취소된 주문입니다.")
	default:
		return p, refused("결제완료 상태가 아니므로 취소할 수 없습니다. (status: %s)", p.Status)
	}
	if in.MerchantUID != "" && in.MerchantUID != p.MerchantUID {
		return p, refused("imp_uid 와 merchant_uid 가 같은 결제건을 가리키지 않습니다.")
	}
	remaining := p.Remaining()
	if in.Checksum != nil && *in.Checksum != remaining {
		return p, refused("checksum(%d)이 취소 가능 잔액(%d)과 일치하지 않습니다.", *in.Checksum, remaining)
	}
	amount := remaining
	if in.Amount != nil {
		amount = *in.Amount
	}
	if amount > remaining {
		return p, refused("취소 금액은 결제 또는 잔여 금액보다 클 수 없습니다. (요청 %d, 잔액 %d)", amount, remaining)
	}
	if in.TaxFree != nil && *in.TaxFree > amount {
		return p, refused("면세 금액(%d)이 취소 금액(%d)보다 클 수 없습니다.", *in.TaxFree, amount)
	}
	if p.PayMethod == gw.PayMethodVBank && (in.RefundHolder == "" || in.RefundBank == "" || in.RefundAccount == "") {
		return p, refused("가상계좌 취소는 계좌번호, 예금주, 은행명을 입력해야 합니다.")
	}
	at := gw.TimestampOf(now)
	reason := in.Reason
	p.CancelHistory = append(slices.Clone(p.CancelHistory), gw.PaymentCancel{
		PGID: p.PGID, PGTID: pgTID, Amount: amount, CancelledAt: at, Reason: reason, ReceiptURL: p.ReceiptURL,
	})
	p.CancelAmount += amount
	p.CancelReason = &reason
	p.CancelledAt = at
	if p.CancelAmount == p.Amount {
		p.Status = gw.StatusCancelled
	}
	return p, nil
}

// createVBank answers POST /vbanks: a virtual account waiting ("ready")
// for the deposit, announced with a "ready" webhook.
func (s *Server) createVBank(c *call) (any, error) {
	var in gw.VBankRequest
	if err := decode(c.r, &in, "merchant_uid", "amount", "vbank_code", "vbank_due", "vbank_holder"); err != nil {
		return nil, err
	}
	now := s.now()
	var ck checker
	ck.nonEmpty("merchant_uid", in.MerchantUID)
	ck.positive("amount", in.Amount)
	ck.nonEmpty("vbank_code", in.VBankCode)
	ck.nonEmpty("vbank_holder", in.VBankHolder)
	if !in.VBankDue.Time().After(now) {
		ck.fail("$input.vbank_due %d is not in the future", in.VBankDue)
	}
	ck.uri("notice_url", in.NoticeURL)
	if ck.err != nil {
		return nil, ck.err
	}
	p := s.newPayment(c, gw.PayMethodVBank, in.MerchantUID, in.Amount)
	p.Name = nullable(in.Name)
	p.BuyerName = nullable(in.BuyerName)
	p.BuyerEmail = nullable(in.BuyerEmail)
	p.BuyerTel = nullable(in.BuyerTel)
	p.BuyerAddr = nullable(in.BuyerAddr)
	p.BuyerPostcode = nullable(in.BuyerPostcode)
	p.CustomData = nullable(in.CustomData)
	p.NoticeURL = in.NoticeURL
	p.Status = gw.StatusReady
	p.VBankDetails = gw.VBankDetails{
		VBankCode:     in.VBankCode,
		VBankName:     bankName(in.VBankCode),
		VBankNum:      randomDigits(14),
		VBankHolder:   in.VBankHolder,
		VBankDate:     in.VBankDue,
		VBankIssuedAt: gw.TimestampOf(now),
	}
	if err := s.create(c.store, p); err != nil {
		return nil, err
	}
	c.notify(p, gw.StatusReady)
	return p, nil
}

// updateVBank answers PUT /vbanks (imp_uid in the body, the SDK's form)
// and PUT /vbanks/{imp_uid} (the real API's form): it changes the amount
// or due date of an account still waiting for its deposit.
func (s *Server) updateVBank(c *call) (any, error) {
	var in gw.VBankUpdate
	if err := decode(c.r, &in); err != nil {
		return nil, err
	}
	impUID := c.r.PathValue("imp_uid")
	if impUID == "" {
		impUID = in.ImpUID
	}
	now := s.now()
	var ck checker
	ck.nonEmpty("imp_uid", impUID)
	if in.Amount != nil {
		ck.positive("amount", *in.Amount)
	}
	if in.VBankDue != nil && !in.VBankDue.Time().After(now) {
		ck.fail("$input.vbank_due %d is not in the future", *in.VBankDue)
	}
	if ck.err != nil {
		return nil, ck.err
	}
	return s.updatePayment(c.store, impUID, func(p gw.Payment) (gw.Payment, error) {
		if err := waitingVBank(p, now, false); err != nil {
			return p, err
		}
		if in.Amount != nil {
			p.Amount = *in.Amount
		}
		if in.VBankDue != nil {
			p.VBankDate = *in.VBankDue
		}
		return p, nil
	})
}

// deposit answers PUT (and, as in 1.0.x, GET) /internal/deposit/{imp_uid}:
// the customer pays into the virtual account, which becomes "paid" and is
// announced with a "paid" webhook.
func (s *Server) deposit(c *call) (any, error) {
	now := s.now()
	p, err := s.updatePayment(c.store, c.r.PathValue("imp_uid"), func(p gw.Payment) (gw.Payment, error) {
		if err := waitingVBank(p, now, true); err != nil {
			return p, err
		}
		p.Status, p.PaidAt = gw.StatusPaid, gw.TimestampOf(now)
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	c.notify(p, gw.StatusPaid)
	return p, nil
}

// waitingVBank refuses anything but a virtual account waiting for its
// deposit (and, with checkDue, one whose due date has not passed).
func waitingVBank(p gw.Payment, now time.Time, checkDue bool) error {
	if p.PayMethod != gw.PayMethodVBank {
		return refused("가상계좌 결제건이 아닙니다. (Not a virtual bank payment.)")
	}
	if p.Status != gw.StatusReady {
		return refused("입금 대기 중인 가상계좌가 아닙니다. (status: %s)", p.Status)
	}
	if checkDue && p.VBankDate != 0 && now.After(p.VBankDate.Time()) {
		return refused("가상계좌 입금기한이 지났습니다.")
	}
	return nil
}

// cardIssuer derives a card company from the first digit of the number,
// so the same card always reports the same issuer.
func cardIssuer(number string) (code, name string) {
	if number == "" {
		return "361", "BC카드"
	}
	switch number[0] {
	case '1':
		return "366", "신한카드"
	case '2':
		return "365", "삼성카드"
	case '3':
		return "367", "현대카드"
	case '4':
		return "381", "KB국민카드"
	case '5':
		return "368", "롯데카드"
	case '6':
		return "371", "NH농협카드"
	case '7':
		return "374", "하나카드"
	case '8':
		return "041", "우리카드"
	default:
		return "361", "BC카드"
	}
}

// bankName names a bank from its Iamport code (numeric or English).
func bankName(code string) string {
	switch strings.ToUpper(code) {
	case "088", "SHINHAN":
		return "신한은행"
	case "004", "KOOKMIN", "KB":
		return "KB국민은행"
	case "020", "WOORI":
		return "우리은행"
	case "081", "HANA":
		return "하나은행"
	case "011", "NONGHYUP", "NH":
		return "NH농협은행"
	case "003", "IBK":
		return "IBK기업은행"
	case "090", "KAKAOBANK":
		return "카카오뱅크"
	default:
		return fmt.Sprintf("은행(%s)", code)
	}
}
