package toss

// Billing is a billing key: a card registered for later charges without the
// customer (SDK ITossBilling).
type Billing struct {
	MID         string `json:"mId"`
	CustomerKey string `json:"customerKey"`
	BillingKey  string `json:"billingKey"`
	// Method is always 카드.
	Method          Method `json:"method"`
	CardCompany     string `json:"cardCompany"`
	CardNumber      string `json:"cardNumber"`
	AuthenticatedAt string `json:"authenticatedAt"`
}

// BillingCardRequest is the body of POST /v1/billing/authorizations/card
// (SDK ITossBilling.ICreate): issue a billing key from a typed-in card.
type BillingCardRequest struct {
	CustomerKey         string `json:"customerKey"`
	CardNumber          string `json:"cardNumber"`
	CardExpirationYear  string `json:"cardExpirationYear"`
	CardExpirationMonth string `json:"cardExpirationMonth"`
	CardPassword        string `json:"cardPassword"`
	// CustomerBirthday (YYMMDD) is the SDK's identity field; the real API
	// calls it CustomerIdentityNumber. One of the two is required.
	CustomerBirthday       string `json:"customerBirthday,omitempty"`
	CustomerIdentityNumber string `json:"customerIdentityNumber,omitempty"`
	// ConsumerName is spelled as in the SDK.
	ConsumerName  string `json:"consumerName,omitempty"`
	CustomerEmail string `json:"customerEmail,omitempty"`
	VBV           *VBV   `json:"vbv,omitempty"`
}

// BillingIssueRequest is the body of the real API's POST
// /v1/billing/authorizations/issue: exchange the authKey the checkout window
// returned for a billing key.
type BillingIssueRequest struct {
	AuthKey     string `json:"authKey"`
	CustomerKey string `json:"customerKey"`
}

// CustomerKeyRequest is the body of POST /v1/billing/authorizations/{key}
// (SDK ITossBilling.ICustomerKey), the SDK's billing key look-up.
type CustomerKeyRequest struct {
	CustomerKey string `json:"customerKey"`
}

// BillingPaymentRequest is the body of POST /v1/billing/{billingKey} (SDK
// ITossBilling.IPaymentStore plus the real API's optional fields).
type BillingPaymentRequest struct {
	// Method is "billing" (CreateMethodBilling).
	Method string `json:"method"`
	// BillingKey repeats the path value; Client fills it in.
	BillingKey  string `json:"billingKey"`
	CustomerKey string `json:"customerKey"`
	OrderID     string `json:"orderId"`
	Amount      int64  `json:"amount"`
	// The remaining fields are the real API's.
	OrderName           string `json:"orderName,omitempty"`
	CustomerEmail       string `json:"customerEmail,omitempty"`
	CustomerName        string `json:"customerName,omitempty"`
	TaxFreeAmount       int64  `json:"taxFreeAmount,omitempty"`
	CardInstallmentPlan int    `json:"cardInstallmentPlan,omitempty"`
	// IdempotencyKey, when set, is sent as the Idempotency-Key header (not
	// in the body), so a retried charge runs once (see IdempotencyHeader).
	IdempotencyKey string `json:"-"`
}
