package portone

import (
	"errors"
	"net/http"
	"regexp"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/fakepg/memstore"
	api "github.com/paymentctl/paymentctl/gateway/portone"
)

// Billing key methods of a simulated billing-key checkout.
const (
	BillingKeyMethodCard    = "CARD"
	BillingKeyMethodEasyPay = "EASY_PAY"
)

// BillingKeyCheckoutRequest is the body of POST
// /internal/billing-key-checkout: what the customer's browser does with
// the browser SDK's requestIssueBillingKey.
type BillingKeyCheckoutRequest struct {
	// BillingKeyMethod is BillingKeyMethodCard (the default) or
	// BillingKeyMethodEasyPay.
	BillingKeyMethod string        `json:"billingKeyMethod,omitempty"`
	EasyPayProvider  string        `json:"easyPayProvider,omitempty"`
	IssueID          string        `json:"issueId,omitempty"`
	IssueName        string        `json:"issueName,omitempty"`
	Customer         *api.Customer `json:"customer,omitempty"`
	CustomData       string        `json:"customData,omitempty"`
	// NoticeURLs receive the key's webhooks instead of the server's
	// webhook URL.
	NoticeURLs []string `json:"noticeUrls,omitempty"`
}

// BillingKeyCheckoutResponse is what the browser SDK hands the
// merchant's page once the key is issued.
type BillingKeyCheckoutResponse struct {
	TransactionType string `json:"transactionType"` // ISSUE_BILLING_KEY
	BillingKey      string `json:"billingKey"`
}

// billingKeyCheckout answers POST /internal/billing-key-checkout: a key
// is issued as from the billing-key window (BillingKey.Ready, then
// BillingKey.Issued).
func (s *Server) billingKeyCheckout(r *http.Request) (any, error) {
	var in BillingKeyCheckoutRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	method := api.BillingKeyMethod{Type: api.BillingKeyMethodCard, Card: cardMethod().Card}
	switch in.BillingKeyMethod {
	case "", BillingKeyMethodCard:
	case BillingKeyMethodEasyPay:
		provider := in.EasyPayProvider
		if provider == "" {
			provider = "KAKAOPAY"
		}
		method = api.BillingKeyMethod{Type: api.BillingKeyMethodEasyPay, Provider: provider, Method: cardMethod()}
	default:
		return nil, invalid("billingKeyMethod: %q is not CARD or EASY_PAY", in.BillingKeyMethod)
	}
	info := s.newBillingKey(storeOf(r), method, in.Customer, in.CustomData)
	info.IssueID, info.IssueName = in.IssueID, in.IssueName
	s.billing.Set(info.BillingKey, info)
	data := api.WebhookData{BillingKey: info.BillingKey, StoreID: info.StoreID}
	s.notify(r, in.NoticeURLs, api.EventBillingKeyReady, data)
	s.notify(r, in.NoticeURLs, api.EventBillingKeyIssued, data)
	return BillingKeyCheckoutResponse{TransactionType: "ISSUE_BILLING_KEY", BillingKey: info.BillingKey}, nil
}

// cardNumberRE and friends check a card credential of POST /billing-keys.
var (
	cardNumberRE = regexp.MustCompile(`^\d{15,16}$`)
	twoDigitsRE  = regexp.MustCompile(`^\d{2}$`)
)

// issueBillingKey answers POST /billing-keys, the API's issuance from a
// typed-in card: {billingKeyInfo: {billingKey, channels, issuedAt}}, and
// BillingKey.Issued.
func (s *Server) issueBillingKey(r *http.Request) (any, error) {
	var in struct {
		StoreID string `json:"storeId"`
		Method  struct {
			Card *struct {
				Credential struct {
					Number      string `json:"number"`
					ExpiryYear  string `json:"expiryYear"`
					ExpiryMonth string `json:"expiryMonth"`
				} `json:"credential"`
			} `json:"card"`
		} `json:"method"`
		Customer   *api.Customer `json:"customer"`
		CustomData string        `json:"customData"`
		NoticeURLs []string      `json:"noticeUrls"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := s.checkStore(r, in.StoreID); err != nil {
		return nil, err
	}
	card := in.Method.Card
	switch {
	case card == nil:
		return nil, invalid("method.card: required")
	case !cardNumberRE.MatchString(card.Credential.Number):
		return nil, invalid("method.card.credential.number: 15 or 16 digits")
	case !twoDigitsRE.MatchString(card.Credential.ExpiryYear) || !twoDigitsRE.MatchString(card.Credential.ExpiryMonth):
		return nil, invalid("method.card.credential: expiryYear and expiryMonth are two digits")
	}
	n := card.Credential.Number
	c := cardMethod().Card
	c.Bin, c.Number = n[:6], n[:6]+"******"+n[len(n)-4:]
	info := s.newBillingKey(storeOf(r), api.BillingKeyMethod{Type: api.BillingKeyMethodCard, Card: c}, in.Customer, in.CustomData)
	s.billing.Set(info.BillingKey, info)
	s.notify(r, in.NoticeURLs, api.EventBillingKeyIssued, api.WebhookData{BillingKey: info.BillingKey, StoreID: info.StoreID})
	return map[string]any{"billingKeyInfo": map[string]any{
		"billingKey": info.BillingKey, "channels": info.Channels, "issuedAt": info.IssuedAt,
	}}, nil
}

// newBillingKey is a key ISSUED now.
func (s *Server) newBillingKey(store string, method api.BillingKeyMethod, customer *api.Customer, customData string) api.BillingKeyInfo {
	now := stamp(s.now())
	info := api.BillingKeyInfo{
		Status: api.BillingKeyIssued, BillingKey: "billing-key-" + uuid.NewString(),
		MerchantID: DefaultMerchantID, StoreID: store,
		Methods: []api.BillingKeyMethod{method}, Channels: []api.SelectedChannel{*testChannel()},
		CustomData: customData, RequestedAt: now, IssuedAt: now,
	}
	if customer != nil {
		info.Customer = *customer
	}
	return info
}

// noBillingKey is 404 BILLING_KEY_NOT_FOUND.
func noBillingKey(key string) *apiError {
	return fail(api.TypeBillingKeyNotFound, "빌링키가 존재하지 않습니다. (%s)", key)
}

// getBillingKey answers GET /billing-keys/{billingKey}.
func (s *Server) getBillingKey(r *http.Request) (any, error) {
	key := r.PathValue("billingKey")
	info, ok := s.billing.Get(key)
	if !ok || info.StoreID != storeOf(r) {
		return nil, noBillingKey(key)
	}
	return info, nil
}

// deleteBillingKey answers DELETE /billing-keys/{billingKey}: the key
// becomes DELETED ({deletedAt}, BillingKey.Deleted).
func (s *Server) deleteBillingKey(r *http.Request) (any, error) {
	key := r.PathValue("billingKey")
	now := stamp(s.now())
	info, err := s.billing.Update(key, func(info api.BillingKeyInfo) (api.BillingKeyInfo, error) {
		if info.StoreID != storeOf(r) {
			return info, noBillingKey(key)
		}
		if info.Status == api.BillingKeyDeleted {
			return info, fail(api.TypeBillingKeyAlreadyDeleted, "이미 삭제된 빌링키입니다.")
		}
		info.Status, info.DeletedAt = api.BillingKeyDeleted, now
		return info, nil
	})
	if errors.Is(err, memstore.ErrNotFound) {
		return nil, noBillingKey(key)
	}
	if err != nil {
		return nil, err
	}
	s.notify(r, nil, api.EventBillingKeyDeleted, api.WebhookData{BillingKey: info.BillingKey, StoreID: info.StoreID})
	return api.DeleteBillingKeyResponse{DeletedAt: now}, nil
}

// payWithBillingKey answers POST /payments/{paymentId}/billing-key: the
// key is charged at once, the payment PAID (Transaction.Paid; no
// Transaction.Ready, which PortOne does not document for API payments).
// The DeclineRate fault declines it: the payment is FAILED
// (Transaction.Failed) and the answer 502 PG_PROVIDER.
func (s *Server) payWithBillingKey(r *http.Request) (any, error) {
	var in api.BillingKeyPaymentRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := s.checkStore(r, in.StoreID); err != nil {
		return nil, err
	}
	id := r.PathValue("paymentId")
	switch {
	case in.BillingKey == "":
		return nil, invalid("billingKey: required")
	case in.OrderName == "":
		return nil, invalid("orderName: required")
	case in.Amount.Total <= 0:
		return nil, invalid("amount.total: must be positive, got %d", in.Amount.Total)
	case in.Currency == "":
		return nil, invalid("currency: required")
	}
	taxFree, vat := int64(0), vatOf(in.Amount.Total)
	if in.Amount.TaxFree != nil {
		taxFree = *in.Amount.TaxFree
		vat = vatOf(in.Amount.Total - taxFree)
	}
	if in.Amount.Vat != nil {
		vat = *in.Amount.Vat
	}
	if taxFree < 0 || taxFree+vat > in.Amount.Total {
		return nil, fail(api.TypeSumOfPartsExceedsTotalAmount, "면세 금액과 부가세의 합이 결제 금액을 초과합니다.")
	}
	key, ok := s.billing.Get(in.BillingKey)
	if !ok || key.StoreID != storeOf(r) {
		return nil, noBillingKey(in.BillingKey)
	}
	if key.Status == api.BillingKeyDeleted {
		return nil, fail(api.TypeBillingKeyAlreadyDeleted, "삭제된 빌링키입니다.")
	}
	now := stamp(s.now())
	supply := in.Amount.Total - taxFree - vat
	p := payment{
		base: api.PaymentBase{
			Status: api.StatusReady, ID: id, TransactionID: uuid.NewString(),
			MerchantID: DefaultMerchantID, StoreID: storeOf(r), Version: "V2", BillingKey: in.BillingKey,
			RequestedAt: now, UpdatedAt: now, StatusChangedAt: now,
			OrderName: in.OrderName, Currency: in.Currency, CustomData: in.CustomData, Country: in.Country,
			Amount: api.PaymentAmount{Total: in.Amount.Total, TaxFree: taxFree, Vat: &vat, Supply: &supply},
			Method: keyMethod(key),
		},
		noticeURLs: in.NoticeURLs,
	}
	if c := in.Customer; c != nil {
		p.base.Customer = api.Customer{ID: c.ID, Email: c.Email, PhoneNumber: c.PhoneNumber}
		if c.Name != nil {
			p.base.Customer.Name = c.Name.Full
			if c.Name.Separated != nil {
				p.base.Customer.Name = c.Name.Separated.Last + c.Name.Separated.First
			}
		}
	}
	declined := s.faults.Decline()
	if declined {
		p.failedAt = now
		p.failure = api.Failure{Reason: "카드사에서 승인을 거절했습니다. (declined)", PgCode: "REJECT_CARD_COMPANY", PgMessage: "승인 거절"}
		p.setStatus(api.StatusFailed, now)
	} else {
		s.approve(&p, now)
	}
	s.mu.Lock()
	if old, ok := s.payments.Get(id); ok && (old.paidLike() || old.base.Status == api.StatusVirtualAccountIssued) {
		s.mu.Unlock()
		return nil, fail(api.TypeAlreadyPaid, "이미 결제된 결제 건입니다. (%s)", old.base.Status)
	}
	s.payments.Set(id, p)
	s.mu.Unlock()
	if declined {
		s.event(r, p, api.EventTransactionFailed, p.data())
		return nil, &apiError{status: http.StatusBadGateway, typ: api.TypePgProvider, message: p.failure.Reason,
			pgCode: p.failure.PgCode, pgMessage: p.failure.PgMessage}
	}
	s.event(r, p, api.EventTransactionPaid, p.data())
	return api.BillingKeyPaymentResponse{Payment: api.BillingKeyPaymentSummary{PgTxID: p.pgTxID, PaidAt: p.paidAt}}, nil
}

// keyMethod is the payment method of a charge of key.
func keyMethod(key api.BillingKeyInfo) *api.PaymentMethod {
	if len(key.Methods) == 0 {
		return cardMethod()
	}
	m := key.Methods[0]
	if m.Type == api.BillingKeyMethodEasyPay {
		return &api.PaymentMethod{Type: api.MethodEasyPay, Provider: m.Provider, EasyPayMethod: m.Method}
	}
	pm := cardMethod()
	if m.Card != nil {
		c := *m.Card
		pm.Card = &c
	}
	return pm
}
