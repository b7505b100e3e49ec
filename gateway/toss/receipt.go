package toss

// Cash receipt kinds.
const (
	CashReceiptIncomeDeduction = "소득공제" // for a person's income tax deduction
	CashReceiptExpenseProof    = "지출증빙" // proof of a business expense
)

// CashReceipt is an issued cash receipt (SDK ITossCashReceipt).
type CashReceipt struct {
	ReceiptKey     string `json:"receiptKey"`
	Type           string `json:"type"` // CashReceipt*
	OrderID        string `json:"orderId"`
	OrderName      string `json:"orderName"`
	ApprovalNumber string `json:"approvalNumber"`
	ApprovedAt     string `json:"approvedAt"`
	// CanceledAt is null until the receipt is canceled.
	CanceledAt *string `json:"canceledAt"`
	ReceiptURL string  `json:"receiptUrl"`
	// Amount and TaxFreeAmount are the real API's; the fake sends them.
	Amount        int64 `json:"amount,omitempty"`
	TaxFreeAmount int64 `json:"taxFreeAmount,omitempty"`
}

// CashReceiptSummary is Payment.CashReceipt (SDK ITossCashReceipt.ISummary).
type CashReceiptSummary struct {
	Type          string `json:"type"`
	Amount        int64  `json:"amount"`
	TaxFreeAmount int64  `json:"taxFreeAmount"`
	IssueNumber   string `json:"issueNumber"`
	ReceiptURL    string `json:"receiptUrl"`
	// ReceiptKey is the real API's key of the receipt; the fake sends it.
	ReceiptKey string `json:"receiptKey,omitempty"`
}

// CashReceiptRequest is the body of POST /v1/cash-receipts (SDK
// ITossCashReceipt.ICreate).
type CashReceiptRequest struct {
	Type       string `json:"type"` // CashReceipt*
	PaymentKey string `json:"paymentKey"`
	OrderID    string `json:"orderId"`
	OrderName  string `json:"orderName"`
	// RegistrationNumber (phone, resident or business number) is the SDK's
	// name; the real API calls it CustomerIdentityNumber. One of the two is
	// required.
	RegistrationNumber     string `json:"registrationNumber,omitempty"`
	CustomerIdentityNumber string `json:"customerIdentityNumber,omitempty"`
	Amount                 int64  `json:"amount"`
	TaxFreeAmount          int64  `json:"taxFreeAmount,omitempty"`
	BusinessNumber         string `json:"businessNumber,omitempty"`
}

// CashReceiptCancelRequest is the body of POST
// /v1/cash-receipts/{receiptKey}/cancel (SDK ITossCashReceipt.ICancel); 0
// cancels the whole receipt.
type CashReceiptCancelRequest struct {
	Amount int64 `json:"amount,omitempty"`
}
