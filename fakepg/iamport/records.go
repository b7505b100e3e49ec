package iamport

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/paymentctl/paymentctl/fakepg/memstore"
	gw "github.com/paymentctl/paymentctl/gateway/iamport"
)

// Billing keys (IIamportSubscription).

// saveBillingKey stores the card of in under customerUID, echoing the
// customer details given; re-registering keeps the first inserted time.
func (s *Server) saveBillingKey(store, customerUID string, in gw.BillingKeyRequest) gw.BillingKey {
	now := gw.TimestampOf(s.now())
	code, name := cardIssuer(in.CardNumber)
	addr := in.CustomerAddr
	if addr == "" {
		addr = in.CustomrAddr
	}
	k := gw.BillingKey{
		CustomerUID:      customerUID,
		PGProvider:       pgProvider,
		PGID:             pgID,
		CardName:         name,
		CardCode:         code,
		CardNumber:       in.CardNumber,
		CardType:         "credit",
		CustomerName:     nullable(in.CustomerName),
		CustomerTel:      nullable(in.CustomerTel),
		CustomerEmail:    nullable(in.CustomerEmail),
		CustomerAddr:     nullable(addr),
		CustomerPostcode: nullable(in.CustomerPostcode),
		Inserted:         now,
		Updated:          now,
	}
	id := s.billingKeyID(store, customerUID)
	if old, ok := s.billingKeys.Get(id); ok {
		k.Inserted = old.Inserted
	}
	s.billingKeys.Set(id, k)
	return k
}

// createBillingKey answers POST /subscribe/customers/{customer_uid}. The
// path names the key; a customer_uid in the body, if any, must agree.
func (s *Server) createBillingKey(c *call) (any, error) {
	uid := c.r.PathValue("customer_uid")
	var in gw.BillingKeyRequest
	if err := decode(c.r, &in, "card_number", "expiry", "birth"); err != nil {
		return nil, err
	}
	var ck checker
	if in.CustomerUID != "" && in.CustomerUID != uid {
		ck.fail("$input.customer_uid %q differs from the path's %q", in.CustomerUID, uid)
	}
	ck.card(in.CardFields)
	ck.email("customer_email", in.CustomerEmail)
	if ck.err != nil {
		return nil, ck.err
	}
	return s.saveBillingKey(c.store, uid, in), nil
}

func noBillingKey(uid string) error {
	return notFound("등록되지 않은 customer_uid 입니다: %s", uid)
}

// billingKeyID is what a customer_uid's billing key is kept under:
// customer_uids are per merchant account, so with Options.Stores each
// store has its own.
func (s *Server) billingKeyID(store, customerUID string) string {
	if !s.perStore {
		return customerUID
	}
	return store + "\x00" + customerUID
}

// getBillingKey answers GET /subscribe/customers/{customer_uid}.
func (s *Server) getBillingKey(c *call) (any, error) {
	uid := c.r.PathValue("customer_uid")
	k, ok := s.billingKeys.Get(s.billingKeyID(c.store, uid))
	if !ok {
		return nil, noBillingKey(uid)
	}
	return k, nil
}

// deleteBillingKey answers DELETE /subscribe/customers/{customer_uid}.
func (s *Server) deleteBillingKey(c *call) (any, error) {
	uid := c.r.PathValue("customer_uid")
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.billingKeyID(c.store, uid)
	k, ok := s.billingKeys.Get(id)
	if !ok {
		return nil, noBillingKey(uid)
	}
	s.billingKeys.Delete(id)
	return k, nil
}

// Cash receipts (IIamportReceipt).

func noReceipt() error {
	return notFound("현금영수증 발행 이력이 존재하지 않습니다.")
}

// issueReceipt answers POST /receipts/{imp_uid}: a cash receipt over what
// remains of a paid payment. A second receipt is refused until the first
// is cancelled.
func (s *Server) issueReceipt(c *call) (any, error) {
	impUID := c.r.PathValue("imp_uid")
	var in gw.ReceiptRequest
	if err := decode(c.r, &in, "identifier"); err != nil {
		return nil, err
	}
	var ck checker
	if in.ImpUID != "" && in.ImpUID != impUID {
		ck.fail("$input.imp_uid %q differs from the path's %q", in.ImpUID, impUID)
	}
	ck.nonEmpty("identifier", in.Identifier)
	switch in.IdentifierType {
	case "", gw.IdentifierPerson, gw.IdentifierBusiness, gw.IdentifierPhone, gw.IdentifierTaxcard:
	default:
		ck.fail("$input.identifier_type %q is not one of person, business, phone, taxcard", in.IdentifierType)
	}
	switch in.Type {
	case "", gw.ReceiptPerson, gw.ReceiptCompany:
	default:
		ck.fail("$input.type %q is not one of person, company", in.Type)
	}
	ck.notNegative("tax_free", in.TaxFree)
	ck.email("buyer_email", in.BuyerEmail)
	if ck.err != nil {
		return nil, ck.err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.payment(c.store, impUID)
	if err != nil {
		return nil, err
	}
	if p.Status != gw.StatusPaid {
		return nil, refused("결제완료 상태가 아닙니다. (Not paid yet.)")
	}
	if r, ok := s.receipts.Get(impUID); ok && r.CancelledAt == 0 {
		return nil, refused("이미 발행된 현금영수증이 있습니다. (Already issued.)")
	}
	amount := p.Remaining()
	var taxFree gw.Amount
	if in.TaxFree != nil {
		taxFree = min(*in.TaxFree, amount)
	}
	typ := in.Type
	if typ == "" {
		typ = gw.ReceiptPerson
	}
	rec := gw.Receipt{
		ImpUID:     impUID,
		ReceiptUID: "rct_" + randomHex(8),
		ApplyNum:   randomDigits(9),
		Type:       typ,
		Amount:     amount,
		VAT:        vatOf(amount - taxFree),
		ReceiptURL: receiptBase + impUID + "/cash",
		AppliedAt:  gw.TimestampOf(s.now()),
	}
	if _, err := s.updatePayment(c.store, impUID, setCashReceipt(true)); err != nil {
		return nil, err
	}
	s.receipts.Set(impUID, rec)
	return rec, nil
}

// vatOf is the VAT included in a taxable amount (1/11), rounded half up.
func vatOf(taxable gw.Amount) gw.Amount { return (2*taxable + 11) / 22 }

func setCashReceipt(issued bool) func(gw.Payment) (gw.Payment, error) {
	return func(p gw.Payment) (gw.Payment, error) {
		p.CashReceiptIssue, p.CashReceiptIssued = issued, issued
		return p, nil
	}
}

// getReceipt answers GET /receipts/{imp_uid}; a cancelled receipt is
// returned with its cancelled_at.
func (s *Server) getReceipt(c *call) (any, error) {
	r, ok := s.receipts.Get(c.r.PathValue("imp_uid"))
	if !ok {
		return nil, noReceipt()
	}
	return r, nil
}

// cancelReceipt answers DELETE /receipts/{imp_uid}.
func (s *Server) cancelReceipt(c *call) (any, error) {
	impUID := c.r.PathValue("imp_uid")
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.receipts.Get(impUID)
	if !ok {
		return nil, noReceipt()
	}
	if r.CancelledAt != 0 {
		return nil, refused("이미 취소된 현금영수증입니다. (Already cancelled.)")
	}
	r.CancelledAt = gw.TimestampOf(s.now())
	s.receipts.Set(impUID, r)
	if _, err := s.updatePayment(c.store, impUID, setCashReceipt(false)); err != nil {
		var e *apiError
		if !errors.As(err, &e) || e.status != http.StatusNotFound {
			return nil, err
		}
	}
	return r, nil
}

// Certifications (IIamportCertification).

func noCertification() error { return notFound("존재하지 않는 인증정보입니다.") }

// requestCertification answers POST /certifications/otp/request. No SMS is
// sent: the six-digit OTP is exposed as __otp by GET /certifications/{imp_uid}.
func (s *Server) requestCertification(c *call) (any, error) {
	var in gw.CertificationRequest
	if err := decode(c.r, &in, "name", "phone", "birth", "gender_digit", "carrier"); err != nil {
		return nil, err
	}
	var ck checker
	ck.nonEmpty("name", in.Name)
	ck.match("birth", in.Birth, birthdayRE, false)
	ck.match("gender_digit", in.GenderDigit, digitRE, false)
	phone := strings.ReplaceAll(in.Phone, "-", "")
	if _, err := strconv.ParseUint(phone, 10, 64); err != nil || len(phone) < 10 || len(phone) > 11 {
		ck.fail("$input.phone %q is not a mobile number", in.Phone)
	}
	switch in.Carrier {
	case gw.CarrierSKT, gw.CarrierKT, gw.CarrierLGT:
	default:
		ck.fail("$input.carrier %q is not one of SKT, KT, LGT", in.Carrier)
	}
	if ck.err != nil {
		return nil, ck.err
	}
	birth, err := time.Parse("20060102", in.Birth)
	if err != nil {
		return nil, invalid("$input.birth %q is not a date", in.Birth)
	}
	digit := int(in.GenderDigit[0] - '0')
	gender := "female"
	if digit%2 == 1 {
		gender = "male"
	}
	cert := gw.Certification{
		ImpUID:       "imp_" + randomDigits(12),
		MerchantUID:  nullable(in.MerchantUID),
		Name:         in.Name,
		Gender:       gender,
		Birth:        gw.Timestamp(birth.Unix()),
		Birthday:     in.Birth,
		Foreigner:    digit >= 5 && digit <= 8,
		Phone:        phone,
		Carrier:      in.Carrier,
		UniqueKey:    randomHex(32),
		UniqueInSite: randomHex(16),
		PGTID:        "fake_" + randomHex(10),
		PGProvider:   "danal",
		Origin:       pgProvider,
		OTP:          randomDigits(6),
	}
	s.certs.Set(cert.ImpUID, cert)
	return gw.CertificationStarted{ImpUID: cert.ImpUID}, nil
}

// confirmCertification answers POST /certifications/otp/confirm/{imp_uid}.
func (s *Server) confirmCertification(c *call) (any, error) {
	var in gw.CertificationConfirm
	if err := decode(c.r, &in, "otp"); err != nil {
		return nil, err
	}
	now := gw.TimestampOf(s.now())
	cert, err := s.certs.Update(c.r.PathValue("imp_uid"), func(v gw.Certification) (gw.Certification, error) {
		if v.Certified {
			return v, refused("이미 인증이 완료되었습니다. (Already certified.)")
		}
		if in.OTP != v.OTP {
			return v, refused("인증번호가 일치하지 않습니다. (Wrong OTP value.)")
		}
		v.Certified, v.CertifiedAt = true, now
		return v, nil
	})
	if errors.Is(err, memstore.ErrNotFound) {
		return nil, noCertification()
	}
	if err != nil {
		return nil, err
	}
	return cert, nil
}

// getCertification answers GET /certifications/{imp_uid}.
func (s *Server) getCertification(c *call) (any, error) {
	cert, ok := s.certs.Get(c.r.PathValue("imp_uid"))
	if !ok {
		return nil, noCertification()
	}
	return cert, nil
}

// deleteCertification answers DELETE /certifications/{imp_uid}.
func (s *Server) deleteCertification(c *call) (any, error) {
	impUID := c.r.PathValue("imp_uid")
	s.mu.Lock()
	defer s.mu.Unlock()
	cert, ok := s.certs.Get(impUID)
	if !ok {
		return nil, noCertification()
	}
	s.certs.Delete(impUID)
	return cert, nil
}
