package portone

import (
	"encoding/json"
	"time"
)

// Billing key statuses (BillingKeyInfo.Status).
const (
	BillingKeyIssued  = "ISSUED"
	BillingKeyDeleted = "DELETED"
)

// Billing key method types (BillingKeyMethod.Type).
const (
	BillingKeyMethodCard     = "BillingKeyPaymentMethodCard"
	BillingKeyMethodEasyPay  = "BillingKeyPaymentMethodEasyPay"
	BillingKeyMethodMobile   = "BillingKeyPaymentMethodMobile"
	BillingKeyMethodTransfer = "BillingKeyPaymentMethodTransfer"
	BillingKeyMethodPaypal   = "BillingKeyPaymentMethodPaypal"
)

// BillingKeyInfo is a billing key (a saved means of payment) as GET
// /billing-keys/{billingKey} answers it. The API's union on Status
// (ISSUED, DELETED) is one struct: only a DELETED key has DeletedAt.
type BillingKeyInfo struct {
	Status      string             `json:"status"`
	BillingKey  string             `json:"billingKey"`
	MerchantID  string             `json:"merchantId"`
	StoreID     string             `json:"storeId"`
	Methods     []BillingKeyMethod `json:"methods,omitempty"`
	Channels    []SelectedChannel  `json:"channels"` // sent as [] when empty
	Customer    Customer           `json:"customer"`
	CustomData  string             `json:"customData,omitempty"`
	IssueID     string             `json:"issueId,omitempty"`
	IssueName   string             `json:"issueName,omitempty"`
	RequestedAt time.Time          `json:"requestedAt,omitzero"`
	IssuedAt    time.Time          `json:"issuedAt"`
	DeletedAt   time.Time          `json:"deletedAt,omitzero"`
	// ChannelGroup and PgBillingKeyIssueResponses are kept as sent.
	ChannelGroup               *ChannelGroup   `json:"channelGroup,omitempty"`
	PgBillingKeyIssueResponses json.RawMessage `json:"pgBillingKeyIssueResponses,omitempty"`
}

// MarshalJSON encodes b with channels as [] when empty.
func (b BillingKeyInfo) MarshalJSON() ([]byte, error) {
	type plain BillingKeyInfo
	if b.Channels == nil {
		b.Channels = []SelectedChannel{}
	}
	return json.Marshal(plain(b))
}

// BillingKeyMethod is a billing key's means of payment. Type says which
// of the union's members it is.
type BillingKeyMethod struct {
	Type string `json:"type"`
	// Card, and an easy pay's card.
	Card *Card `json:"card,omitempty"`
	// Easy pay: the provider and the easy pay's own method (a
	// PaymentMethodCard, PaymentMethodTransfer or
	// PaymentMethodEasyPayMethodCharge).
	Provider string         `json:"provider,omitempty"`
	Method   *PaymentMethod `json:"method,omitempty"`
	// Mobile.
	PhoneNumber string `json:"phoneNumber,omitempty"`
	// Transfer.
	Bank          string `json:"bank,omitempty"`
	AccountNumber string `json:"accountNumber,omitempty"`
}
