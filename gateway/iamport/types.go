package iamport

import "encoding/json"

// Envelope is the shape of every Iamport answer: Code 0 means success and
// Response carries the payload; otherwise Message explains and Response is
// usually null. The real API sends message null on success, the SDK's fake
// "success".
type Envelope[T any] struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	Response T      `json:"response"`
}

// Status is the state of a payment.
type Status string

// Payment states. A partially cancelled payment stays StatusPaid with a
// positive cancel_amount; only a payment cancelled in full is
// StatusCancelled.
const (
	StatusReady     Status = "ready"
	StatusPaid      Status = "paid"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
)

// PayMethod says how a payment was made and which detail fields it carries.
type PayMethod string

// Payment methods as the SDK lists them.
const (
	PayMethodCard         PayMethod = "card"
	PayMethodTrans        PayMethod = "trans"
	PayMethodVBank        PayMethod = "vbank"
	PayMethodPhone        PayMethod = "phone"
	PayMethodSamsung      PayMethod = "samsung"
	PayMethodKPay         PayMethod = "kpay"
	PayMethodKakaoPay     PayMethod = "kakaopay"
	PayMethodPayco        PayMethod = "payco"
	PayMethodLPay         PayMethod = "lpay"
	PayMethodSSGPay       PayMethod = "ssgpay"
	PayMethodTossPay      PayMethod = "tosspay"
	PayMethodCultureland  PayMethod = "cultureland"
	PayMethodSmartCulture PayMethod = "smartculture"
	PayMethodHappyMoney   PayMethod = "happymoney"
	PayMethodBookNLife    PayMethod = "booknlife"
	PayMethodPoint        PayMethod = "point"
)

// Currency is an ISO currency code Iamport accepts.
type Currency string

// Currencies the SDK allows.
const (
	CurrencyKRW Currency = "KRW"
	CurrencyUSD Currency = "USD"
	CurrencyEUR Currency = "EUR"
	CurrencyJPY Currency = "JPY"
)

// PaymentBase holds the fields every payment has (IIamportPayment.IBase).
// Nullable strings are pointers: nil is JSON null.
type PaymentBase struct {
	PayMethod    PayMethod `json:"pay_method"`
	ImpUID       string    `json:"imp_uid"`
	MerchantUID  string    `json:"merchant_uid"`
	Name         *string   `json:"name"`
	Amount       Amount    `json:"amount"`
	CancelAmount Amount    `json:"cancel_amount"`
	Currency     Currency  `json:"currency"`
	ReceiptURL   string    `json:"receipt_url"`
	// CashReceiptIssue is the SDK's spelling of the cash-receipt flag.
	CashReceiptIssue bool `json:"cash_receipt_issue"`
	// CashReceiptIssued is the real API's spelling; the fake sends both
	// with the same value.
	CashReceiptIssued bool            `json:"cash_receipt_issued"`
	Channel           string          `json:"channel"`
	PGProvider        string          `json:"pg_provider"`
	EmbPGProvider     *string         `json:"emb_pg_provider"`
	PGID              string          `json:"pg_id"`
	PGTID             string          `json:"pg_tid"`
	Escrow            bool            `json:"escrow"`
	BuyerName         *string         `json:"buyer_name"`
	BuyerEmail        *string         `json:"buyer_email"`
	BuyerTel          *string         `json:"buyer_tel"`
	BuyerAddr         *string         `json:"buyer_addr"`
	BuyerPostcode     *string         `json:"buyer_postcode"`
	CustomerUID       *string         `json:"customer_uid"`
	CustomerUIDUsage  *string         `json:"customer_uid_usage"`
	CustomData        *string         `json:"custom_data"`
	UserAgent         *string         `json:"user_agent"`
	Status            Status          `json:"status"`
	StartedAt         Timestamp       `json:"started_at"`
	PaidAt            Timestamp       `json:"paid_at"`
	FailedAt          Timestamp       `json:"failed_at"`
	CancelledAt       Timestamp       `json:"cancelled_at"`
	FailReason        *string         `json:"fail_reason"`
	CancelReason      *string         `json:"cancel_reason"`
	CancelHistory     []PaymentCancel `json:"cancel_history"`
	// NoticeURL is the per-payment webhook URL given at creation; Iamport
	// does not return it, the fake echoes it when set.
	NoticeURL string `json:"notice_url,omitempty"`
}

// CardDetails are the extra fields of a card payment (IIamportCardPayment).
type CardDetails struct {
	CardCode   string `json:"card_code"`
	CardName   string `json:"card_name"`
	CardNumber string `json:"card_number"`
	CardQuota  int    `json:"card_quota"`
	ApplyNum   string `json:"apply_num"`
}

// VBankDetails are the extra fields of a virtual-account payment
// (IIamportVBankPayment).
type VBankDetails struct {
	VBankCode     string    `json:"vbank_code"`
	VBankName     string    `json:"vbank_name"`
	VBankNum      string    `json:"vbank_num"`
	VBankHolder   string    `json:"vbank_holder"`
	VBankDate     Timestamp `json:"vbank_date"`
	VBankIssuedAt Timestamp `json:"vbank_issued_at"`
}

// TransferDetails are the extra fields of a bank-transfer payment
// (IIamportTransferPayment).
type TransferDetails struct {
	BankCode string `json:"bank_code"`
	BankName string `json:"bank_name"`
}

// Payment is IIamportPayment, a union discriminated by PayMethod. Decoding
// fills whichever detail fields are present; encoding writes only the
// details that belong to PayMethod (card and samsung → card, vbank → vbank,
// trans → transfer).
type Payment struct {
	PaymentBase
	CardDetails
	VBankDetails
	TransferDetails
}

// MarshalJSON writes the base fields plus the details of p's pay method.
func (p Payment) MarshalJSON() ([]byte, error) {
	out := struct {
		PaymentBase
		*CardDetails
		*VBankDetails
		*TransferDetails
	}{PaymentBase: p.PaymentBase}
	if out.CancelHistory == nil {
		out.CancelHistory = []PaymentCancel{}
	}
	switch p.PayMethod {
	case PayMethodCard, PayMethodSamsung:
		out.CardDetails = &p.CardDetails
	case PayMethodVBank:
		out.VBankDetails = &p.VBankDetails
	case PayMethodTrans:
		out.TransferDetails = &p.TransferDetails
	}
	return json.Marshal(out)
}

// Remaining is the amount that can still be cancelled.
func (p *Payment) Remaining() Amount { return p.Amount - p.CancelAmount }

// PaymentCancel is one row of a payment's cancel history
// (IIamportPaymentCancel).
type PaymentCancel struct {
	PGID        string    `json:"pg_id"`
	PGTID       string    `json:"pg_tid"`
	Amount      Amount    `json:"amount"`
	CancelledAt Timestamp `json:"cancelled_at"`
	Reason      string    `json:"reason"`
	ReceiptURL  string    `json:"receipt_url"`
}

// PaymentPage is a page of payments as the real API lists them
// (GET /payments/findAll/{merchant_uid}).
type PaymentPage struct {
	Total    int       `json:"total"`
	Previous int       `json:"previous"`
	Next     int       `json:"next"`
	List     []Payment `json:"list"`
}

// CancelRequest is the body of POST /payments/cancel
// (IIamportPaymentCancel.ICreate).
type CancelRequest struct {
	ImpUID      string `json:"imp_uid"`
	MerchantUID string `json:"merchant_uid"`
	// Amount to cancel; nil cancels whatever remains.
	Amount *Amount `json:"amount,omitempty"`
	// Checksum is the refundable balance the caller believes in; when not
	// nil Iamport refuses the cancel unless it matches. Sent as null when
	// nil, as the SDK requires the key.
	Checksum      *Amount `json:"checksum"`
	Reason        string  `json:"reason"`
	TaxFree       *Amount `json:"tax_free,omitempty"`
	RefundHolder  string  `json:"refund_holder,omitempty"`
	RefundBank    string  `json:"refund_bank,omitempty"`
	RefundAccount string  `json:"refund_account,omitempty"`
	RefundTel     string  `json:"refund_tel,omitempty"`
}

// Webhook is the body Iamport posts to a notification URL
// (IIamportPayment.IWebhook). It is only a hint: re-fetch the payment.
type Webhook struct {
	ImpUID      string `json:"imp_uid"`
	MerchantUID string `json:"merchant_uid"`
	Status      Status `json:"status"`
}

// TokenRequest is the body of POST /users/getToken
// (IIamportUser.IAccessor).
type TokenRequest struct {
	ImpKey    string `json:"imp_key"`
	ImpSecret string `json:"imp_secret"`
}

// Token is an access token (IIamportUser). Now and ExpiredAt are the
// server's clock.
type Token struct {
	AccessToken string    `json:"access_token"`
	Now         Timestamp `json:"now"`
	ExpiredAt   Timestamp `json:"expired_at"`
}

// CardFields are the card data shared by billing-key issue and one-time
// payments. Patterns (SDK tags): card_number dddd-dddd-dddd-dddd, expiry
// YYYY-MM, birth YYMMDD or a 10-digit business number, pwd_2digit two
// digits.
type CardFields struct {
	CardNumber string `json:"card_number"`
	Expiry     string `json:"expiry"`
	Birth      string `json:"birth"`
	Pwd2Digit  string `json:"pwd_2digit,omitempty"`
	CVC        string `json:"cvc,omitempty"`
}

// BillingKeyRequest is the body of POST /subscribe/customers/{customer_uid}
// (IIamportSubscription.ICreate).
type BillingKeyRequest struct {
	CustomerUID string `json:"customer_uid"`
	CardFields
	CustomerName  string `json:"customer_name,omitempty"`
	CustomerTel   string `json:"customer_tel,omitempty"`
	CustomerEmail string `json:"customer_email,omitempty"`
	// CustomerAddr is the real API's field.
	CustomerAddr string `json:"customer_addr,omitempty"`
	// CustomrAddr is the SDK's (misspelt) field; the fake reads either.
	CustomrAddr      string `json:"customr_addr,omitempty"`
	CustomerPostcode string `json:"customer_postcode,omitempty"`
}

// BillingKey is a card registered for server-initiated payments
// (IIamportSubscription). Inserted and Updated are Unix seconds.
type BillingKey struct {
	CustomerUID      string    `json:"customer_uid"`
	PGProvider       string    `json:"pg_provider"`
	PGID             string    `json:"pg_id"`
	CardName         string    `json:"card_name"`
	CardCode         string    `json:"card_code"`
	CardNumber       string    `json:"card_number"`
	CardType         string    `json:"card_type"`
	CustomerName     *string   `json:"customer_name"`
	CustomerTel      *string   `json:"customer_tel"`
	CustomerEmail    *string   `json:"customer_email"`
	CustomerAddr     *string   `json:"customer_addr"`
	CustomerPostcode *string   `json:"customer_postcode"`
	Inserted         Timestamp `json:"inserted"`
	Updated          Timestamp `json:"updated"`
}

// OrderFields describe what is being charged; shared by one-time and
// billing-key payments (IIamportSubscription.IAgain without customer_uid).
type OrderFields struct {
	MerchantUID            string   `json:"merchant_uid"`
	Amount                 Amount   `json:"amount"`
	Name                   string   `json:"name"`
	Currency               Currency `json:"currency,omitempty"`
	TaxFree                *Amount  `json:"tax_free,omitempty"`
	CardQuota              int      `json:"card_quota,omitempty"`
	BuyerName              string   `json:"buyer_name,omitempty"`
	BuyerEmail             string   `json:"buyer_email,omitempty"`
	BuyerTel               string   `json:"buyer_tel,omitempty"`
	BuyerAddr              string   `json:"buyer_addr,omitempty"`
	BuyerPostcode          string   `json:"buyer_postcode,omitempty"`
	InterestFreeByMerchant bool     `json:"interest_free_by_merchant,omitempty"`
	UseCardPoint           bool     `json:"use_card_point,omitempty"`
	CustomData             string   `json:"custom_data,omitempty"`
	NoticeURL              string   `json:"notice_url,omitempty"`
}

// OnetimeRequest is the body of POST /subscribe/payments/onetime
// (IIamportSubscription.IOnetime): a card payment without a checkout
// window. With CustomerUID the card is also registered as a billing key.
type OnetimeRequest struct {
	CardFields
	OrderFields
	CustomerUID string `json:"customer_uid,omitempty"`
}

// AgainRequest is the body of POST /subscribe/payments/again
// (IIamportSubscription.IAgain): a payment with a stored billing key.
type AgainRequest struct {
	CustomerUID string `json:"customer_uid"`
	OrderFields
}

// VBankRequest is the body of POST /vbanks (IIamportVBankPayment.ICreate).
type VBankRequest struct {
	MerchantUID   string    `json:"merchant_uid"`
	Amount        Amount    `json:"amount"`
	VBankCode     string    `json:"vbank_code"`
	VBankDue      Timestamp `json:"vbank_due"`
	VBankHolder   string    `json:"vbank_holder"`
	Name          string    `json:"name,omitempty"`
	BuyerName     string    `json:"buyer_name,omitempty"`
	BuyerEmail    string    `json:"buyer_email,omitempty"`
	BuyerTel      string    `json:"buyer_tel,omitempty"`
	BuyerAddr     string    `json:"buyer_addr,omitempty"`
	BuyerPostcode string    `json:"buyer_postcode,omitempty"`
	PG            string    `json:"pg,omitempty"`
	NoticeURL     string    `json:"notice_url,omitempty"`
	CustomData    string    `json:"custom_data,omitempty"`
	PGAPIKey      string    `json:"pg_api_key,omitempty"`
}

// VBankUpdate is the body of PUT /vbanks (IIamportVBankPayment.IUpdate);
// the real API takes imp_uid in the path (PUT /vbanks/{imp_uid}).
type VBankUpdate struct {
	ImpUID   string     `json:"imp_uid"`
	Amount   *Amount    `json:"amount,omitempty"`
	VBankDue *Timestamp `json:"vbank_due,omitempty"`
}

// ReceiptType is who a cash receipt is issued to.
type ReceiptType string

// Cash-receipt types.
const (
	ReceiptPerson  ReceiptType = "person"
	ReceiptCompany ReceiptType = "company"
)

// IdentifierType says what a cash-receipt identifier is.
type IdentifierType string

// Cash-receipt identifier types.
const (
	IdentifierPerson   IdentifierType = "person"
	IdentifierBusiness IdentifierType = "business"
	IdentifierPhone    IdentifierType = "phone"
	IdentifierTaxcard  IdentifierType = "taxcard"
)

// ReceiptRequest is the body of POST /receipts/{imp_uid}
// (IIamportReceipt.ICreate).
type ReceiptRequest struct {
	ImpUID         string         `json:"imp_uid"`
	Identifier     string         `json:"identifier"`
	IdentifierType IdentifierType `json:"identifier_type,omitempty"`
	Type           ReceiptType    `json:"type,omitempty"`
	BuyerName      string         `json:"buyer_name,omitempty"`
	BuyerEmail     string         `json:"buyer_email,omitempty"`
	BuyerTel       string         `json:"buyer_tel,omitempty"`
	TaxFree        *Amount        `json:"tax_free,omitempty"`
}

// Receipt is a cash receipt (IIamportReceipt). CancelledAt 0 means valid.
type Receipt struct {
	ImpUID      string      `json:"imp_uid"`
	ReceiptUID  string      `json:"receipt_uid"`
	ApplyNum    string      `json:"apply_num"`
	Type        ReceiptType `json:"type"`
	Amount      Amount      `json:"amount"`
	VAT         Amount      `json:"vat"`
	ReceiptURL  string      `json:"receipt_url"`
	AppliedAt   Timestamp   `json:"applied_at"`
	CancelledAt Timestamp   `json:"cancelled_at"`
}

// Carrier is a Korean mobile carrier code.
type Carrier string

// Carriers the certification API knows.
const (
	CarrierSKT Carrier = "SKT"
	CarrierKT  Carrier = "KT"
	CarrierLGT Carrier = "LGT"
)

// CertificationRequest is the body of POST /certifications/otp/request
// (IIamportCertification.ICreate). Birth is YYYYMMDD.
type CertificationRequest struct {
	Name        string  `json:"name"`
	Phone       string  `json:"phone"`
	Birth       string  `json:"birth"`
	GenderDigit string  `json:"gender_digit"`
	Carrier     Carrier `json:"carrier"`
	IsMVNO      bool    `json:"is_mvno,omitempty"`
	// Commpany keeps the SDK's spelling.
	Commpany    string `json:"commpany,omitempty"`
	MerchantUID string `json:"merchant_uid,omitempty"`
	PG          string `json:"pg,omitempty"`
}

// CertificationConfirm is the body of POST
// /certifications/otp/confirm/{imp_uid}.
type CertificationConfirm struct {
	OTP string `json:"otp"`
}

// CertificationStarted is the answer to an OTP request.
type CertificationStarted struct {
	ImpUID string `json:"imp_uid"`
}

// Certification is an identity check (IIamportCertification). The record
// exists before the check is done; Certified says whether it is.
type Certification struct {
	ImpUID       string    `json:"imp_uid"`
	MerchantUID  *string   `json:"merchant_uid"`
	Name         string    `json:"name"`
	Gender       string    `json:"gender"`
	Birth        Timestamp `json:"birth"`
	Birthday     string    `json:"birthday"`
	Foreigner    bool      `json:"foreigner"`
	Phone        string    `json:"phone"`
	Carrier      Carrier   `json:"carrier"`
	Certified    bool      `json:"certified"`
	CertifiedAt  Timestamp `json:"certified_at"`
	UniqueKey    string    `json:"unique_key"`
	UniqueInSite string    `json:"unique_in_site"`
	PGTID        string    `json:"pg_tid"`
	PGProvider   string    `json:"pg_provider"`
	Origin       string    `json:"origin"`
	// OTP is fake-only: the code a test types to finish the check.
	OTP string `json:"__otp,omitempty"`
}
