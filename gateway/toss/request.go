package toss

// Discriminators the SDK (and the fakes) put into create bodies. The real API
// ignores them; Client fills them in when they are empty.
const (
	CreateMethodCard           = "card"
	CreateMethodVirtualAccount = "virtual-account"
	CreateMethodBilling        = "billing"
)

// KeyInRequest is the body of POST /v1/payments/key-in (SDK
// ITossCardPayment.ICreate): a card payment with the card number typed in.
type KeyInRequest struct {
	// Method is "card" (CreateMethodCard).
	Method              string `json:"method"`
	CardNumber          string `json:"cardNumber"`          // digits only
	CardExpirationYear  string `json:"cardExpirationYear"`  // YY
	CardExpirationMonth string `json:"cardExpirationMonth"` // MM
	CardPassword        string `json:"cardPassword,omitempty"`
	CardInstallmentPlan int    `json:"cardInstallmentPlan,omitempty"`
	Amount              int64  `json:"amount"`
	TaxFreeAmount       int64  `json:"taxFreeAmount,omitempty"`
	OrderID             string `json:"orderId"`
	OrderName           string `json:"orderName,omitempty"`
	CustomerBirthday    string `json:"customerBirthday,omitempty"` // YYMMDD
	CustomerEmail       string `json:"customerEmail,omitempty"`
	VBV                 *VBV   `json:"vbv,omitempty"`
	// Approved is the fakes' __approved flag: false leaves the payment
	// IN_PROGRESS until the merchant confirms it, as if the customer had
	// paid in Toss's checkout window. nil or true approves at once.
	Approved *bool `json:"__approved,omitempty"`
}

// VBV carries the result of a 3-D Secure authentication, for foreign cards.
type VBV struct {
	CAVV string `json:"cavv"`
	XID  string `json:"xid"`
	ECI  string `json:"eci"`
}

// Approval is the body of the original approve route POST
// /v1/payments/{paymentKey} (SDK ITossPayment.IApproval).
type Approval struct {
	OrderID string `json:"orderId"`
	Amount  int64  `json:"amount"`
}

// ConfirmRequest is the body of the real confirm route POST
// /v1/payments/confirm.
type ConfirmRequest struct {
	PaymentKey string `json:"paymentKey"`
	OrderID    string `json:"orderId"`
	Amount     int64  `json:"amount"`
	// IdempotencyKey, when set, is sent as the Idempotency-Key header (not
	// in the body): Toss runs the first confirm with a key and answers a
	// repeat within 15 days with that first answer (see IdempotencyHeader).
	IdempotencyKey string `json:"-"`
}

// VirtualAccountRequest is the body of POST /v1/virtual-accounts (SDK
// ITossVirtualAccountPayment.ICreate).
type VirtualAccountRequest struct {
	// Method is "virtual-account" (CreateMethodVirtualAccount).
	Method       string `json:"method"`
	OrderID      string `json:"orderId"`
	OrderName    string `json:"orderName"`
	Bank         string `json:"bank"`
	CustomerName string `json:"customerName"`
	Amount       int64  `json:"amount"`
	// Approved is the fakes' __approved flag: false leaves the payment
	// IN_PROGRESS until the merchant confirms it; nil or true issues the
	// account at once (WAITING_FOR_DEPOSIT).
	Approved *bool `json:"__approved,omitempty"`
}

// CancelRequest is the body of POST /v1/payments/{paymentKey}/cancel (SDK
// ITossPaymentCancel.ICreate).
type CancelRequest struct {
	// PaymentKey repeats the path value; the SDK requires it, the real API
	// ignores it. Client fills it in.
	PaymentKey   string `json:"paymentKey,omitempty"`
	CancelReason string `json:"cancelReason"`
	// CancelAmount is the amount to refund; 0 (omitted) cancels the whole
	// remaining balance.
	CancelAmount int64 `json:"cancelAmount,omitempty"`
	// RefundReceiveAccount is required to refund a paid virtual account.
	RefundReceiveAccount *RefundAccount `json:"refundReceiveAccount,omitempty"`
	TaxAmount            int64          `json:"taxAmount,omitempty"`
	TaxFreeAmount        int64          `json:"taxFreeAmount,omitempty"`
	// RefundableAmount, when set, is the balance the caller believes is
	// left before this cancel. Toss refuses the cancel with 400
	// NOT_MATCHES_REFUNDABLE_AMOUNT when the payment's balanceAmount
	// differs, so two cancels computed from the same balance cannot both
	// run. 0 is not sent.
	RefundableAmount int64 `json:"refundableAmount,omitempty"`
	// IdempotencyKey, when set, is sent as the Idempotency-Key header (not
	// in the body): Toss runs the first cancel with a key and answers a
	// repeat within 15 days with that first answer (see IdempotencyHeader).
	IdempotencyKey string `json:"-"`
}
