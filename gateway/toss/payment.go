package toss

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Method is the payment method of a Payment, in the Korean spelling Toss
// uses on the wire.
type Method string

// Payment methods. The SDK knows the first five; MethodEasyPay and the
// culture gift certificates are what the real API also sends.
const (
	MethodCard            Method = "카드"
	MethodVirtualAccount  Method = "가상계좌"
	MethodTransfer        Method = "계좌이체"
	MethodMobilePhone     Method = "휴대폰"
	MethodGiftCertificate Method = "상품권"
	MethodEasyPay         Method = "간편결제"
	MethodCultureGiftCert Method = "문화상품권"
	MethodBookGiftCert    Method = "도서문화상품권"
	MethodGameGiftCert    Method = "게임문화상품권"
)

// Status is the state of a Payment.
type Status string

// Payment statuses.
const (
	StatusReady             Status = "READY"               // created, customer not authenticated yet
	StatusInProgress        Status = "IN_PROGRESS"         // authenticated, waiting for the merchant's confirm
	StatusWaitingForDeposit Status = "WAITING_FOR_DEPOSIT" // virtual account issued, not paid in
	StatusDone              Status = "DONE"                // paid
	StatusCanceled          Status = "CANCELED"            // fully canceled
	StatusPartialCanceled   Status = "PARTIAL_CANCELED"    // partly canceled, balance left
	StatusAborted           Status = "ABORTED"             // approval failed
	StatusExpired           Status = "EXPIRED"             // not confirmed or paid in time
)

// Paid reports whether money has been taken in s: DONE or partly canceled.
func (s Status) Paid() bool {
	return s == StatusDone || s == StatusPartialCanceled
}

// PaymentType is the kind of approval a Payment went through.
type PaymentType string

// Payment types.
const (
	TypeNormal   PaymentType = "NORMAL"   // one-off payment
	TypeBilling  PaymentType = "BILLING"  // charged to a billing key
	TypeBrandPay PaymentType = "BRANDPAY" // Toss BrandPay (real API only)
)

// Values of the small enumerations inside the method objects.
const (
	CardTypeCredit = "신용"
	CardTypeCheck  = "체크"
	CardTypeGift   = "기프트"

	OwnerTypePersonal  = "개인"
	OwnerTypeCorporate = "법인"

	AcquireStatusReady           = "READY"
	AcquireStatusRequested       = "REQUESTED"
	AcquireStatusCompleted       = "COMPLETED"
	AcquireStatusCancelRequested = "CANCEL_REQUESTED"
	AcquireStatusCanceled        = "CANCELED"

	AccountTypeNormal = "일반"
	AccountTypeFixed  = "고정"

	SettlementIncompleted = "INCOMPLETED"
	SettlementCompleted   = "COMPLETED"

	RefundStatusNone          = "NONE"
	RefundStatusFailed        = "FAILED"
	RefundStatusPending       = "PENDING"
	RefundStatusPartialFailed = "PARTIAL_FAILED"
	RefundStatusCompleted     = "COMPLETED"
)

// Payment is the Toss Payment object (SDK ITossPayment, the union of
// ITossCardPayment, ITossVirtualAccountPayment, ITossTransferPayment,
// ITossMobilePhonePayment and ITossGiftCertificatePayment).
//
// Encoding writes only the method objects of the payment's method (see
// MarshalJSON): Card, Discount and EasyPay for cards, VirtualAccount and
// Secret for virtual accounts, and so on. The real API writes the others as
// null, but the SDK's union is told apart by these keys. Decoding accepts
// both.
type Payment struct {
	MID            string `json:"mId"`
	Version        string `json:"version"`
	PaymentKey     string `json:"paymentKey"`
	TransactionKey string `json:"transactionKey"`
	// LastTransactionKey is the real API's name for the latest transaction
	// (the SDK's transactionKey); the fake sends both.
	LastTransactionKey string      `json:"lastTransactionKey,omitempty"`
	OrderID            string      `json:"orderId"`
	OrderName          string      `json:"orderName"`
	Method             Method      `json:"method"`
	Type               PaymentType `json:"type"`
	Status             Status      `json:"status"`
	Currency           string      `json:"currency"`
	TotalAmount        int64       `json:"totalAmount"`
	BalanceAmount      int64       `json:"balanceAmount"`
	SuppliedAmount     int64       `json:"suppliedAmount"`
	TaxFreeAmount      int64       `json:"taxFreeAmount"`
	VAT                int64       `json:"vat"`
	UseEscrow          bool        `json:"useEscrow"`
	CultureExpense     bool        `json:"cultureExpense"`
	RequestedAt        string      `json:"requestedAt"`
	// ApprovedAt is null until the payment is approved (for a virtual
	// account: until the deposit).
	ApprovedAt *string `json:"approvedAt"`
	// Cancels is null until the first cancel, then one entry per cancel.
	Cancels     []Cancel            `json:"cancels"`
	CashReceipt *CashReceiptSummary `json:"cashReceipt"`
	// Failure is the real API's reason of an ABORTED or EXPIRED payment.
	Failure *Failure `json:"failure,omitempty"`

	Card            *Card            `json:"card"`
	Discount        *Discount        `json:"discount"`
	EasyPay         *EasyPay         `json:"easyPay"`
	Secret          string           `json:"secret,omitempty"`
	VirtualAccount  *VirtualAccount  `json:"virtualAccount"`
	Transfer        *Transfer        `json:"transfer"`
	MobilePhone     *MobilePhone     `json:"mobilePhone"`
	GiftCertificate *GiftCertificate `json:"giftCertificate"`
}

// CanceledAmount returns the sum of every cancel's amount.
func (p *Payment) CanceledAmount() int64 {
	var sum int64
	for _, c := range p.Cancels {
		sum += c.CancelAmount
	}
	return sum
}

// Approved returns the approval time, or false while ApprovedAt is null or
// unreadable.
func (p *Payment) Approved() (time.Time, bool) {
	if p.ApprovedAt == nil {
		return time.Time{}, false
	}
	t, err := ParseTime(*p.ApprovedAt)
	return t, err == nil
}

// Clone returns a deep copy of p: no pointer, slice or nested object is
// shared with p.
func (p *Payment) Clone() Payment {
	c := *p
	c.ApprovedAt = clonePtr(p.ApprovedAt)
	if p.Cancels != nil {
		c.Cancels = append([]Cancel(nil), p.Cancels...)
	}
	c.CashReceipt = clonePtr(p.CashReceipt)
	c.Failure = clonePtr(p.Failure)
	c.Card = clonePtr(p.Card)
	c.Discount = clonePtr(p.Discount)
	c.EasyPay = clonePtr(p.EasyPay)
	c.VirtualAccount = clonePtr(p.VirtualAccount)
	if va := c.VirtualAccount; va != nil {
		va.RefundReceiveAccount = clonePtr(va.RefundReceiveAccount)
	}
	c.Transfer = clonePtr(p.Transfer)
	c.MobilePhone = clonePtr(p.MobilePhone)
	c.GiftCertificate = clonePtr(p.GiftCertificate)
	return c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// Card is the card object of a card payment (SDK ITossCardPayment.ICard).
type Card struct {
	// Company is the SDK's card company name; the real API sends IssuerCode
	// and AcquirerCode instead.
	Company      string `json:"company"`
	IssuerCode   string `json:"issuerCode,omitempty"`
	AcquirerCode string `json:"acquirerCode,omitempty"`
	// Number is the card number; the real API and the fake mask it.
	Number                string `json:"number"`
	InstallmentPlanMonths int    `json:"installmentPlanMonths"`
	IsInterestFree        bool   `json:"isInterestFree"`
	ApproveNo             string `json:"approveNo"`
	UseCardPoint          bool   `json:"useCardPoint"`
	CardType              string `json:"cardType"`      // CardType*
	OwnerType             string `json:"ownerType"`     // OwnerType*
	AcquireStatus         string `json:"acquireStatus"` // AcquireStatus*
	ReceiptURL            string `json:"receiptUrl"`
	// Amount is the real API's amount charged to the card.
	Amount int64 `json:"amount,omitempty"`
}

// Discount is a card company's instant discount.
type Discount struct {
	Amount int64 `json:"amount"`
}

// EasyPay names the easy-pay service a payment went through.
//
// The SDK sends it as a bare string ("토스결제", "페이코", "삼성페이"); the
// real API sends an object {provider, amount, discountAmount}. Both decode;
// it is written as the string unless it carries amounts.
type EasyPay struct {
	Provider       string `json:"provider"`
	Amount         int64  `json:"amount"`
	DiscountAmount int64  `json:"discountAmount"`
}

// MarshalJSON writes the SDK's string form, or the object when amounts are
// set.
func (e EasyPay) MarshalJSON() ([]byte, error) {
	if e.Amount == 0 && e.DiscountAmount == 0 {
		return json.Marshal(e.Provider)
	}
	type plain EasyPay
	return json.Marshal(plain(e))
}

// UnmarshalJSON reads either the string or the object form.
func (e *EasyPay) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		*e = EasyPay{}
		return json.Unmarshal(b, &e.Provider)
	}
	type plain EasyPay
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("easyPay: %w", err)
	}
	*e = EasyPay(p)
	return nil
}

// VirtualAccount is the account object of a virtual-account payment (SDK
// ITossVirtualAccountPayment.IVirtualAccount).
type VirtualAccount struct {
	AccountNumber string `json:"accountNumber"`
	AccountType   string `json:"accountType"` // AccountType*
	// Bank is the SDK's bank name; the real API sends BankCode instead.
	Bank         string `json:"bank"`
	BankCode     string `json:"bankCode,omitempty"`
	CustomerName string `json:"customerName"`
	// DueDate is the deposit deadline.
	DueDate          string `json:"dueDate"`
	Expired          bool   `json:"expired"`
	SettlementStatus string `json:"settlementStatus"` // Settlement*
	RefundStatus     string `json:"refundStatus"`     // RefundStatus*
	// RefundReceiveAccount is the real API's refund target, set once a
	// refund was asked for.
	RefundReceiveAccount *RefundAccount `json:"refundReceiveAccount,omitempty"`
	// DepositorName is the real API's name of who paid in.
	DepositorName string `json:"depositorName,omitempty"`
}

// RefundAccount is the bank account a virtual-account refund goes to.
type RefundAccount struct {
	Bank          string `json:"bank,omitempty"`
	BankCode      string `json:"bankCode,omitempty"` // real API spelling
	AccountNumber string `json:"accountNumber"`      // digits only, at most 20
	HolderName    string `json:"holderName"`
}

// Transfer is the object of a bank-transfer payment.
type Transfer struct {
	Bank             string `json:"bank"`
	BankCode         string `json:"bankCode,omitempty"` // real API spelling
	SettlementStatus string `json:"settlementStatus"`
}

// MobilePhone is the object of a mobile-phone payment.
type MobilePhone struct {
	Carrier             string `json:"carrier"`
	CustomerMobilePhone string `json:"customerMobilePhone"`
	SettlementStatus    string `json:"settlementStatus"`
	ReceiptURL          string `json:"receiptUrl,omitempty"` // real API only
}

// GiftCertificate is the object of a gift-certificate payment. Its
// SettlementStatus is "COMPLETE" or "INCOMPLETE".
type GiftCertificate struct {
	ApproveNo        string `json:"approveNo"`
	SettlementStatus string `json:"settlementStatus"`
}

// Cancel is one entry of Payment.Cancels (SDK ITossPaymentCancel).
type Cancel struct {
	CancelAmount     int64  `json:"cancelAmount"`
	CancelReason     string `json:"cancelReason"`
	TaxFreeAmount    int64  `json:"taxFreeAmount"`
	TaxAmount        int64  `json:"taxAmount"`
	RefundableAmount int64  `json:"refundableAmount"`
	CanceledAt       string `json:"canceledAt"`
	// TransactionKey identifies the cancel transaction (real API); the
	// fake sets it so a cancel can be told apart from an identical one.
	TransactionKey string `json:"transactionKey,omitempty"`
	// CancelStatus is the real API's "DONE" once the cancel went through.
	CancelStatus string `json:"cancelStatus,omitempty"`
}

// Failure is why a payment was aborted, in the error's own shape.
type Failure struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// methodFields lists the method-specific keys of a payment object; each
// method's SDK type has only its own (ITossCardPayment has card, discount
// and easyPay; ITossVirtualAccountPayment has virtualAccount and secret).
func methodFields(m Method) []string {
	switch m {
	case MethodCard, MethodEasyPay:
		return []string{"card", "discount", "easyPay"}
	case MethodVirtualAccount:
		return []string{"virtualAccount", "secret"}
	case MethodTransfer:
		return []string{"transfer"}
	case MethodMobilePhone:
		return []string{"mobilePhone"}
	case MethodGiftCertificate, MethodCultureGiftCert, MethodBookGiftCert, MethodGameGiftCert:
		return []string{"giftCertificate"}
	}
	return nil
}

// MarshalJSON writes the common fields plus only the method-specific ones
// of p's method. The published SDK types ITossPayment as a union told
// apart by those keys: a virtual-account payment carrying "card": null is
// read as a broken card payment.
func (p Payment) MarshalJSON() ([]byte, error) {
	type plain Payment // without this method
	b, err := json.Marshal(plain(p))
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	keep := make(map[string]bool)
	for _, k := range methodFields(p.Method) {
		keep[k] = true
	}
	for _, k := range []string{"card", "discount", "easyPay", "virtualAccount", "transfer", "mobilePhone", "giftCertificate"} {
		if !keep[k] {
			delete(m, k)
		}
	}
	return json.Marshal(m)
}
