package portone

import (
	"encoding/json"
	"fmt"
	"time"
)

// Status is a payment's status, the discriminator of the Payment union.
type Status string

// The payment statuses the SDK recognises.
const (
	StatusReady                Status = "READY"                  // checkout opened, nothing paid
	StatusPayPending           Status = "PAY_PENDING"            // approval pending at the PG (overseas, PayPal)
	StatusVirtualAccountIssued Status = "VIRTUAL_ACCOUNT_ISSUED" // account issued, waiting for the deposit
	StatusPaid                 Status = "PAID"                   // paid, nothing cancelled
	StatusPartialCancelled     Status = "PARTIAL_CANCELLED"      // part of it refunded
	StatusCancelled            Status = "CANCELLED"              // all of it refunded
	StatusFailed               Status = "FAILED"                 // declined, or a virtual account closed unpaid
)

// Payment is one payment as GET /payments/{paymentId} answers it: a
// *ReadyPayment, *PayPendingPayment, *VirtualAccountIssuedPayment,
// *PaidPayment, *PartialCancelledPayment, *CancelledPayment, *FailedPayment
// or, for a status this package does not know, *UnrecognizedPayment. Use a
// type switch for the fields of one status; Base has those every status
// shares. DecodePayment reads one.
type Payment interface {
	// Base returns the fields every status has.
	Base() *PaymentBase
	isPayment()
}

// PaymentBase holds the fields common to every payment status. Status is
// set by the variant when it is encoded.
type PaymentBase struct {
	Status        Status `json:"status"`
	ID            string `json:"id"`            // the paymentId, chosen by the merchant
	TransactionID string `json:"transactionId"` // PortOne's id of the attempt this object reflects
	MerchantID    string `json:"merchantId"`
	StoreID       string `json:"storeId"`
	// Method is absent until the customer chose one.
	Method       *PaymentMethod   `json:"method,omitempty"`
	Channel      *SelectedChannel `json:"channel,omitempty"` // required from PAY_PENDING to CANCELLED
	ChannelGroup *ChannelGroup    `json:"channelGroup,omitempty"`
	// Version is V1 for a payment made through the Iamport API, else V2.
	Version           string           `json:"version"`
	ScheduleID        string           `json:"scheduleId,omitempty"`
	BillingKey        string           `json:"billingKey,omitempty"`
	Webhooks          []PaymentWebhook `json:"webhooks,omitempty"`
	RequestedAt       time.Time        `json:"requestedAt"`
	UpdatedAt         time.Time        `json:"updatedAt"`
	StatusChangedAt   time.Time        `json:"statusChangedAt"`
	OrderName         string           `json:"orderName"`
	Amount            PaymentAmount    `json:"amount"`
	Currency          string           `json:"currency"`
	Customer          Customer         `json:"customer"`
	PromotionID       string           `json:"promotionId,omitempty"`
	IsCulturalExpense *bool            `json:"isCulturalExpense,omitempty"`
	Escrow            json.RawMessage  `json:"escrow,omitempty"`
	Products          json.RawMessage  `json:"products,omitempty"`
	ProductCount      *int             `json:"productCount,omitempty"`
	CustomData        string           `json:"customData,omitempty"`
	Country           string           `json:"country,omitempty"`
}

// Base returns b itself; every variant has it through embedding.
func (b *PaymentBase) Base() *PaymentBase { return b }

// Cancellable is what may still be refunded, the value a cancel's
// currentCancellableAmount must carry: the total less what was cancelled.
func (b *PaymentBase) Cancellable() int64 { return b.Amount.Total - b.Amount.Cancelled }

// ReadyPayment is a payment whose checkout was opened (READY).
type ReadyPayment struct {
	PaymentBase
}

// PayPendingPayment is a payment whose approval is pending at the PG
// (PAY_PENDING).
type PayPendingPayment struct {
	PaymentBase
	PgTxID string `json:"pgTxId,omitempty"`
}

// VirtualAccountIssuedPayment is a payment waiting for the customer's
// deposit into the virtual account in Method (VIRTUAL_ACCOUNT_ISSUED). It
// has no PaidAt.
type VirtualAccountIssuedPayment struct {
	PaymentBase
	PgTxID string `json:"pgTxId,omitempty"`
}

// PaidPayment is a paid payment with nothing refunded (PAID).
type PaidPayment struct {
	PaymentBase
	PgTxID        string          `json:"pgTxId,omitempty"`
	PaidAt        time.Time       `json:"paidAt"`
	PgResponse    string          `json:"pgResponse,omitempty"`
	CashReceipt   json.RawMessage `json:"cashReceipt,omitempty"`
	ReceiptURL    string          `json:"receiptUrl,omitempty"`
	Disputes      []Dispute       `json:"disputes"` // sent as [] when empty
	Cancellations []Cancellation  `json:"cancellations,omitempty"`
}

// PartialCancelledPayment is a paid payment of which part was refunded
// (PARTIAL_CANCELLED).
type PartialCancelledPayment struct {
	PaymentBase
	PgTxID        string          `json:"pgTxId,omitempty"`
	PaidAt        time.Time       `json:"paidAt,omitzero"`
	CashReceipt   json.RawMessage `json:"cashReceipt,omitempty"`
	ReceiptURL    string          `json:"receiptUrl,omitempty"`
	Cancellations []Cancellation  `json:"cancellations"` // sent as [] when empty
	CancelledAt   time.Time       `json:"cancelledAt"`   // of the latest cancel
}

// CancelledPayment is a payment refunded in full (CANCELLED).
type CancelledPayment struct {
	PaymentBase
	PgTxID        string          `json:"pgTxId,omitempty"`
	PaidAt        time.Time       `json:"paidAt,omitzero"`
	CashReceipt   json.RawMessage `json:"cashReceipt,omitempty"`
	ReceiptURL    string          `json:"receiptUrl,omitempty"`
	Cancellations []Cancellation  `json:"cancellations"` // sent as [] when empty
	CancelledAt   time.Time       `json:"cancelledAt"`
}

// FailedPayment is a declined payment, or a virtual account closed
// before the deposit (FAILED).
type FailedPayment struct {
	PaymentBase
	FailedAt time.Time `json:"failedAt"`
	Failure  Failure   `json:"failure"`
}

// UnrecognizedPayment is a payment of a status this package does not
// know. PaymentBase holds what could be decoded of it, Raw the body as
// received, which is also what it encodes to.
type UnrecognizedPayment struct {
	PaymentBase
	Raw json.RawMessage
}

func (*ReadyPayment) isPayment()                {}
func (*PayPendingPayment) isPayment()           {}
func (*VirtualAccountIssuedPayment) isPayment() {}
func (*PaidPayment) isPayment()                 {}
func (*PartialCancelledPayment) isPayment()     {}
func (*CancelledPayment) isPayment()            {}
func (*FailedPayment) isPayment()               {}
func (*UnrecognizedPayment) isPayment()         {}

// MarshalJSON encodes p with status READY.
func (p ReadyPayment) MarshalJSON() ([]byte, error) {
	type plain ReadyPayment
	p.Status = StatusReady
	return json.Marshal(plain(p))
}

// MarshalJSON encodes p with status PAY_PENDING.
func (p PayPendingPayment) MarshalJSON() ([]byte, error) {
	type plain PayPendingPayment
	p.Status = StatusPayPending
	return json.Marshal(plain(p))
}

// MarshalJSON encodes p with status VIRTUAL_ACCOUNT_ISSUED.
func (p VirtualAccountIssuedPayment) MarshalJSON() ([]byte, error) {
	type plain VirtualAccountIssuedPayment
	p.Status = StatusVirtualAccountIssued
	return json.Marshal(plain(p))
}

// MarshalJSON encodes p with status PAID and disputes as [] when empty.
func (p PaidPayment) MarshalJSON() ([]byte, error) {
	type plain PaidPayment
	p.Status = StatusPaid
	if p.Disputes == nil {
		p.Disputes = []Dispute{}
	}
	return json.Marshal(plain(p))
}

// MarshalJSON encodes p with status PARTIAL_CANCELLED.
func (p PartialCancelledPayment) MarshalJSON() ([]byte, error) {
	type plain PartialCancelledPayment
	p.Status = StatusPartialCancelled
	if p.Cancellations == nil {
		p.Cancellations = []Cancellation{}
	}
	return json.Marshal(plain(p))
}

// MarshalJSON encodes p with status CANCELLED.
func (p CancelledPayment) MarshalJSON() ([]byte, error) {
	type plain CancelledPayment
	p.Status = StatusCancelled
	if p.Cancellations == nil {
		p.Cancellations = []Cancellation{}
	}
	return json.Marshal(plain(p))
}

// MarshalJSON encodes p with status FAILED.
func (p FailedPayment) MarshalJSON() ([]byte, error) {
	type plain FailedPayment
	p.Status = StatusFailed
	return json.Marshal(plain(p))
}

// MarshalJSON returns the body as it was received.
func (p UnrecognizedPayment) MarshalJSON() ([]byte, error) {
	if len(p.Raw) == 0 {
		return json.Marshal(p.PaymentBase)
	}
	return p.Raw, nil
}

// DecodePayment reads a Payment from JSON, choosing the variant by its
// status. An unknown status gives an *UnrecognizedPayment, not an error;
// a body that is not a JSON object with a string status is an error.
func DecodePayment(b []byte) (Payment, error) {
	var probe struct {
		Status *Status `json:"status"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("decode payment: %w", err)
	}
	if probe.Status == nil {
		return nil, fmt.Errorf("decode payment: no status")
	}
	var p Payment
	switch *probe.Status {
	case StatusReady:
		p = new(ReadyPayment)
	case StatusPayPending:
		p = new(PayPendingPayment)
	case StatusVirtualAccountIssued:
		p = new(VirtualAccountIssuedPayment)
	case StatusPaid:
		p = new(PaidPayment)
	case StatusPartialCancelled:
		p = new(PartialCancelledPayment)
	case StatusCancelled:
		p = new(CancelledPayment)
	case StatusFailed:
		p = new(FailedPayment)
	default:
		u := &UnrecognizedPayment{Raw: append(json.RawMessage(nil), b...)}
		// Best effort: a future status may change the shared fields too.
		_ = json.Unmarshal(b, &u.PaymentBase)
		u.Status = *probe.Status
		return u, nil
	}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("decode %s payment: %w", *probe.Status, err)
	}
	p.Base().Status = *probe.Status
	return p, nil
}

// PaymentAmount is a payment's money, in the currency's smallest unit.
type PaymentAmount struct {
	Total            int64  `json:"total"`
	TaxFree          int64  `json:"taxFree"`
	Vat              *int64 `json:"vat,omitempty"`
	Supply           *int64 `json:"supply,omitempty"`
	Discount         int64  `json:"discount"` // card-company, promotion and easy-pay discounts
	Paid             int64  `json:"paid"`     // what the customer actually paid
	Cancelled        int64  `json:"cancelled"`
	CancelledTaxFree int64  `json:"cancelledTaxFree"`
}

// Customer is the customer of a payment or billing key as PortOne reports
// it; every field is optional.
type Customer struct {
	ID          string          `json:"id,omitempty"`
	Name        string          `json:"name,omitempty"`
	BirthYear   string          `json:"birthYear,omitempty"`
	BirthMonth  string          `json:"birthMonth,omitempty"`
	BirthDay    string          `json:"birthDay,omitempty"`
	Gender      string          `json:"gender,omitempty"`
	Email       string          `json:"email,omitempty"`
	PhoneNumber string          `json:"phoneNumber,omitempty"`
	Address     json.RawMessage `json:"address,omitempty"` // {type: ONE_LINE | SEPARATED, oneLine, ...}
	Zipcode     string          `json:"zipcode,omitempty"`
}

// Channel types.
const (
	ChannelLive = "LIVE"
	ChannelTest = "TEST"
)

// SelectedChannel is the PG channel a payment went through.
type SelectedChannel struct {
	Type         string `json:"type"` // ChannelLive or ChannelTest
	ID           string `json:"id,omitempty"`
	Key          string `json:"key,omitempty"`
	Name         string `json:"name,omitempty"`
	PgProvider   string `json:"pgProvider"` // TOSSPAYMENTS, INICIS_V2, NICE_V2, KCP_V2, ...
	PgMerchantID string `json:"pgMerchantId"`
}

// ChannelGroup names the channel group of a payment.
type ChannelGroup struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	IsForTest bool   `json:"isForTest"`
}

// Payment method types (PaymentMethod.Type).
const (
	MethodCard                = "PaymentMethodCard"
	MethodVirtualAccount      = "PaymentMethodVirtualAccount"
	MethodEasyPay             = "PaymentMethodEasyPay"
	MethodTransfer            = "PaymentMethodTransfer"
	MethodMobile              = "PaymentMethodMobile"
	MethodGiftCertificate     = "PaymentMethodGiftCertificate"
	MethodConvenienceStore    = "PaymentMethodConvenienceStore"
	MethodCrypto              = "PaymentMethodCrypto"
	MethodEasyPayMethodCharge = "PaymentMethodEasyPayMethodCharge" // an easy pay's charged balance
)

// PaymentMethod is how a payment was paid. Type says which of the union's
// members it is and so which fields may be set; the others are empty.
type PaymentMethod struct {
	Type string `json:"type"`

	// Card (and an easy pay's card).
	Card           *Card        `json:"card,omitempty"`
	ApprovalNumber string       `json:"approvalNumber,omitempty"` // also a gift certificate's, where it is required
	Installment    *Installment `json:"installment,omitempty"`
	PointUsed      *bool        `json:"pointUsed,omitempty"`

	// Virtual account (AccountNumber required), transfer, easy-pay charge.
	Bank          string    `json:"bank,omitempty"` // Bank code: SHINHAN, KOOKMIN, WOORI, ...
	AccountNumber string    `json:"accountNumber,omitempty"`
	AccountType   string    `json:"accountType,omitempty"` // FIXED or NORMAL
	RemitteeName  string    `json:"remitteeName,omitempty"`
	RemitterName  string    `json:"remitterName,omitempty"`
	ExpiredAt     time.Time `json:"expiredAt,omitzero"`
	IssuedAt      time.Time `json:"issuedAt,omitzero"`
	RefundStatus  string    `json:"refundStatus,omitempty"`

	// Easy pay.
	Provider      string         `json:"provider,omitempty"` // KAKAOPAY, NAVERPAY, TOSSPAY, ...
	EasyPayMethod *PaymentMethod `json:"easyPayMethod,omitempty"`

	// Mobile, gift certificate, convenience store.
	PhoneNumber           string    `json:"phoneNumber,omitempty"`
	GiftCertificateType   string    `json:"giftCertificateType,omitempty"`
	ConvenienceStoreBrand string    `json:"convenienceStoreBrand,omitempty"`
	ConfirmationNumber    string    `json:"confirmationNumber,omitempty"`
	ReceiptNumber         string    `json:"receiptNumber,omitempty"`
	PaymentDeadline       time.Time `json:"paymentDeadline,omitzero"`
}

// Card describes a card; every field is optional.
type Card struct {
	Publisher string `json:"publisher,omitempty"`
	Issuer    string `json:"issuer,omitempty"`
	Brand     string `json:"brand,omitempty"` // LOCAL, VISA, MASTER, ...
	Type      string `json:"type,omitempty"`  // CREDIT, DEBIT or GIFT
	OwnerType string `json:"ownerType,omitempty"`
	Bin       string `json:"bin,omitempty"`
	Name      string `json:"name,omitempty"`
	Number    string `json:"number,omitempty"` // masked
}

// Installment is a card payment's installment plan.
type Installment struct {
	Month          int  `json:"month"`
	IsInterestFree bool `json:"isInterestFree"`
}

// Dispute is a chargeback on a payment.
type Dispute struct {
	Status      string    `json:"status"`
	PgDisputeID string    `json:"pgDisputeId,omitempty"`
	Reason      string    `json:"reason"`
	CreatedAt   time.Time `json:"createdAt"`
	ResolvedAt  time.Time `json:"resolvedAt,omitzero"`
}

// Failure says why a payment failed.
type Failure struct {
	Reason    string `json:"reason,omitempty"`
	PgCode    string `json:"pgCode,omitempty"`
	PgMessage string `json:"pgMessage,omitempty"`
}

// Cancellation statuses.
const (
	CancellationRequested = "REQUESTED" // asked of an asynchronous PG, not done yet
	CancellationSucceeded = "SUCCEEDED"
	CancellationFailed    = "FAILED"
)

// Cancellation is one cancel of a payment. The API's union on Status
// (REQUESTED, SUCCEEDED, FAILED) is one struct: the members differ only
// in ReceiptURL, which only a SUCCEEDED one has.
type Cancellation struct {
	Status                string    `json:"status"`
	ID                    string    `json:"id"`
	PgCancellationID      string    `json:"pgCancellationId,omitempty"`
	TotalAmount           int64     `json:"totalAmount"`
	TaxFreeAmount         int64     `json:"taxFreeAmount"`
	VatAmount             int64     `json:"vatAmount"`
	EasyPayDiscountAmount *int64    `json:"easyPayDiscountAmount,omitempty"`
	Reason                string    `json:"reason"`
	CancelledAt           time.Time `json:"cancelledAt,omitzero"`
	RequestedAt           time.Time `json:"requestedAt"`
	ReceiptURL            string    `json:"receiptUrl,omitempty"`
	Trigger               string    `json:"trigger,omitempty"` // CONSOLE, API, PORTONE_ADMIN, CHARGEBACK
}

// Webhook delivery statuses (PaymentWebhook.Status).
const (
	WebhookSucceeded             = "SUCCEEDED"
	WebhookFailedNotOKResponse   = "FAILED_NOT_OK_RESPONSE"
	WebhookFailedUnexpectedError = "FAILED_UNEXPECTED_ERROR"
)

// PaymentWebhook is one webhook PortOne sent about a payment.
type PaymentWebhook struct {
	ID                    string          `json:"id"`
	URL                   string          `json:"url"`
	PaymentStatus         string          `json:"paymentStatus,omitempty"`
	Status                string          `json:"status,omitempty"`
	IsAsync               *bool           `json:"isAsync,omitempty"`
	CurrentExecutionCount *int            `json:"currentExecutionCount,omitempty"`
	MaxExecutionCount     *int            `json:"maxExecutionCount,omitempty"`
	Trigger               string          `json:"trigger,omitempty"` // MANUAL, VIRTUAL_ACCOUNT_DEPOSIT, ...
	Request               json.RawMessage `json:"request,omitempty"`
	Response              json.RawMessage `json:"response,omitempty"`
	TriggeredAt           time.Time       `json:"triggeredAt,omitzero"`
}
