package toss

import (
	"net/http"

	tossapi "github.com/paymentctl/paymentctl/gateway/toss"
)

// billingCompany is the card company of every billing key.
const billingCompany = "신한"

// billingRecord is a stored billing key with the card it charges.
type billingRecord struct {
	billing    tossapi.Billing
	cardNumber string // as typed in
	store      string // the store that issued it, with Options.Stores
}

func notFoundBilling() *apiError {
	return &apiError{http.StatusNotFound, tossapi.CodeNotFound, "존재하지 않는 정보 입니다. (unknown billing key)"}
}

func wrongCustomer() *apiError {
	return &apiError{http.StatusForbidden, tossapi.CodeNotMatchesCustomerKey,
		"빌링 인증 고객키와 결제 요청 고객키가 일치하지 않습니다."}
}

// issueBilling answers POST /v1/billing/authorizations/card.
func (s *Server) issueBilling(r *http.Request) (any, error) {
	var in tossapi.BillingCardRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var bad problems
	bad.require("customerKey", in.CustomerKey)
	bad.card(in.CardNumber, in.CardExpirationYear, in.CardExpirationMonth)
	bad.require("cardPassword", in.CardPassword)
	switch {
	case in.CustomerBirthday != "":
		if !validBirthday(in.CustomerBirthday) {
			bad.add("customerBirthday: must be YYMMDD")
		}
	case in.CustomerIdentityNumber == "":
		bad.add("customerBirthday or customerIdentityNumber: required")
	}
	if err := bad.err(); err != nil {
		return nil, err
	}
	b := tossapi.Billing{
		MID:             merchantID,
		CustomerKey:     in.CustomerKey,
		BillingKey:      newKey(),
		Method:          tossapi.MethodCard,
		CardCompany:     billingCompany,
		CardNumber:      in.CardNumber, // the SDK's Pattern<"[0-9]{16}">
		AuthenticatedAt: tossapi.FormatTime(s.now()),
	}
	s.billings.Set(b.BillingKey, billingRecord{billing: b, cardNumber: in.CardNumber, store: storeOf(r)})
	return b, nil
}

// issueBillingByAuthKey answers POST /v1/billing/authorizations/issue. The
// fake has no checkout window, so an authKey is the billing key itself.
func (s *Server) issueBillingByAuthKey(r *http.Request) (any, error) {
	var in tossapi.BillingIssueRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var bad problems
	bad.require("authKey", in.AuthKey)
	bad.require("customerKey", in.CustomerKey)
	if err := bad.err(); err != nil {
		return nil, err
	}
	return s.billingFor(r, in.AuthKey, in.CustomerKey)
}

// getBilling answers POST /v1/billing/authorizations/{billingKey}, the
// SDK's look-up of a billing key for its customer.
func (s *Server) getBilling(r *http.Request) (any, error) {
	var in tossapi.CustomerKeyRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.CustomerKey == "" {
		return nil, invalid("customerKey: required")
	}
	return s.billingFor(r, r.PathValue("billingKey"), in.CustomerKey)
}

// billingFor returns a billing key of the caller's store for its own
// customer.
func (s *Server) billingFor(r *http.Request, billingKey, customerKey string) (tossapi.Billing, error) {
	rec, ok := s.billings.Get(billingKey)
	if !ok || rec.store != storeOf(r) {
		return tossapi.Billing{}, notFoundBilling()
	}
	if rec.billing.CustomerKey != customerKey {
		return tossapi.Billing{}, wrongCustomer()
	}
	return rec.billing, nil
}

// payBilling answers POST /v1/billing/{billingKey}: an immediate card
// payment of type BILLING, for the billing key's own customer only.
func (s *Server) payBilling(r *http.Request) (any, error) {
	billingKey := r.PathValue("billingKey")
	var in tossapi.BillingPaymentRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var bad problems
	bad.discriminator(in.Method, tossapi.CreateMethodBilling)
	if in.BillingKey != "" && in.BillingKey != billingKey {
		bad.add("billingKey: the body's %q differs from the path's", in.BillingKey)
	}
	bad.require("customerKey", in.CustomerKey)
	bad.orderID(in.OrderID)
	bad.positive("amount", in.Amount)
	bad.nonNegative("taxFreeAmount", in.TaxFreeAmount)
	if in.TaxFreeAmount > in.Amount {
		bad.add("taxFreeAmount: more than amount")
	}
	if in.CardInstallmentPlan < 0 || in.CardInstallmentPlan > 36 {
		bad.add("cardInstallmentPlan: must be 0 to 36")
	}
	if err := bad.err(); err != nil {
		return nil, err
	}
	rec, ok := s.billings.Get(billingKey)
	if !ok || rec.store != storeOf(r) {
		return nil, notFoundBilling()
	}
	if rec.billing.CustomerKey != in.CustomerKey {
		return nil, wrongCustomer()
	}
	if s.faults.Decline() {
		return nil, rejectCard()
	}
	now := s.now()
	p := s.newPayment(now, tossapi.MethodCard, tossapi.TypeBilling, in.OrderID, in.OrderName, in.Amount, in.TaxFreeAmount)
	p.Card = newCard(rec.cardNumber, in.CardInstallmentPlan, p.PaymentKey)
	p.Status = tossapi.StatusDone
	p.ApprovedAt = stamp(now)
	if err := s.insert(r, p); err != nil {
		return nil, err
	}
	s.emit(r, "", p, false)
	return p, nil
}
