package portone

import "time"

// CancelRequest is the body of POST /payments/{paymentId}/cancel.
// Client.CancelPayment fills CurrentCancellableAmount from its own
// argument, so a call through it never leaves the guard out.
type CancelRequest struct {
	// StoreID is the store; "" means the client's, else the secret's.
	StoreID string `json:"storeId,omitempty"`
	// Amount to refund; nil means all that remains.
	Amount *int64 `json:"amount,omitempty"`
	// TaxFreeAmount is its tax-free part; nil means all taxable.
	TaxFreeAmount *int64 `json:"taxFreeAmount,omitempty"`
	// VatAmount is its VAT; nil lets PortOne compute it.
	VatAmount *int64 `json:"vatAmount,omitempty"`
	// Reason is required.
	Reason string `json:"reason"`
	// Requester is CUSTOMER or ADMIN.
	Requester string `json:"requester,omitempty"`
	// PromotionDiscountRetainOption is RETAIN or RELEASE (the default).
	PromotionDiscountRetainOption string `json:"promotionDiscountRetainOption,omitempty"`
	// CurrentCancellableAmount is the caller's view of the balance before
	// this cancel; PortOne refuses the cancel with
	// CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN when it is not the real one.
	// nil means no check (the SDK's default; never sent so by Client).
	CurrentCancellableAmount *int64 `json:"currentCancellableAmount,omitempty"`
	// RefundAccount is where a paid virtual account's money goes back.
	RefundAccount *RefundAccount `json:"refundAccount,omitempty"`
	// RefundEmail is for Triple-A only.
	RefundEmail string `json:"refundEmail,omitempty"`
	// SkipWebhook, when true, suppresses the cancel's webhook.
	SkipWebhook *bool `json:"skipWebhook,omitempty"`
}

// RefundAccount is the bank account a virtual account's refund goes to.
type RefundAccount struct {
	Bank              string `json:"bank"` // Bank code: SHINHAN, KOOKMIN, ...
	Number            string `json:"number"`
	HolderName        string `json:"holderName"`
	HolderPhoneNumber string `json:"holderPhoneNumber,omitempty"`
}

// CancelResponse is the answer of a cancel.
type CancelResponse struct {
	Cancellation Cancellation `json:"cancellation"`
}

// BillingKeyPaymentRequest is the body of POST
// /payments/{paymentId}/billing-key, a charge of a saved card.
type BillingKeyPaymentRequest struct {
	StoreID          string         `json:"storeId,omitempty"`
	BillingKey       string         `json:"billingKey"`
	ChannelKey       string         `json:"channelKey,omitempty"`
	OrderName        string         `json:"orderName"`
	Customer         *CustomerInput `json:"customer,omitempty"`
	CustomData       string         `json:"customData,omitempty"`
	Amount           AmountInput    `json:"amount"`
	Currency         string         `json:"currency"` // ISO 4217, e.g. KRW
	InstallmentMonth *int           `json:"installmentMonth,omitempty"`
	Country          string         `json:"country,omitempty"`
	// NoticeURLs receive this payment's webhooks instead of the
	// console's URL.
	NoticeURLs []string `json:"noticeUrls,omitempty"`
}

// AmountInput is the amount of a payment request.
type AmountInput struct {
	Total   int64  `json:"total"`
	TaxFree *int64 `json:"taxFree,omitempty"`
	Vat     *int64 `json:"vat,omitempty"`
}

// CustomerInput is the customer of a request; every field is optional.
type CustomerInput struct {
	ID          string     `json:"id,omitempty"`
	Name        *NameInput `json:"name,omitempty"`
	Email       string     `json:"email,omitempty"`
	PhoneNumber string     `json:"phoneNumber,omitempty"`
}

// NameInput is a customer's name in a request: Full, or Separated.
type NameInput struct {
	Full      string         `json:"full,omitempty"`
	Separated *SeparatedName `json:"separated,omitempty"`
}

// SeparatedName is a name in two parts.
type SeparatedName struct {
	First string `json:"first"`
	Last  string `json:"last"`
}

// BillingKeyPaymentResponse is the answer of a billing-key payment: the
// payment is PAID when it returns.
type BillingKeyPaymentResponse struct {
	Payment BillingKeyPaymentSummary `json:"payment"`
}

// BillingKeyPaymentSummary is the gist of a billing-key payment.
type BillingKeyPaymentSummary struct {
	PgTxID string    `json:"pgTxId"`
	PaidAt time.Time `json:"paidAt"`
}

// DeleteBillingKeyResponse is the answer of DELETE
// /billing-keys/{billingKey}.
type DeleteBillingKeyResponse struct {
	DeletedAt time.Time `json:"deletedAt"`
}
