package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/gateway/toss"
)

// ErrVendorMismatch is wrapped by the data decoders when the record belongs
// to another PG than the one asked for.
var ErrVendorMismatch = errors.New("vendor mismatch")

// IamportPayment decodes Data as the Iamport payment. It fails, wrapping
// ErrVendorMismatch, when the payment is not an Iamport one.
func (h *History) IamportPayment() (*iamport.Payment, error) {
	return decodeData[iamport.Payment]("history", h.VendorCode, VendorIamport, h.Data)
}

// TossPayment decodes Data as the Toss Payments payment. It fails,
// wrapping ErrVendorMismatch, when the payment is not a Toss one.
func (h *History) TossPayment() (*toss.Payment, error) {
	return decodeData[toss.Payment]("history", h.VendorCode, VendorToss, h.Data)
}

// PortOnePayment decodes Data as the PortOne V2 payment, one of the
// portone.Payment variants by its status. It fails, wrapping
// ErrVendorMismatch, when the payment is not a PortOne V2 one.
func (h *History) PortOnePayment() (portone.Payment, error) {
	if h.VendorCode != VendorPortOne {
		return nil, fmt.Errorf("history of %q holds no %s data: %w", h.VendorCode, VendorPortOne, ErrVendorMismatch)
	}
	p, err := portone.DecodePayment(h.Data)
	if err != nil {
		return nil, fmt.Errorf("decode %s data of history: %w", VendorPortOne, err)
	}
	return p, nil
}

// PortOneBillingKey decodes Data as the PortOne V2 billing key. It fails,
// wrapping ErrVendorMismatch, when the card is not registered at PortOne
// V2.
func (r *Reservation) PortOneBillingKey() (*portone.BillingKeyInfo, error) {
	return decodeData[portone.BillingKeyInfo]("reservation", r.VendorCode, VendorPortOne, r.Data)
}

// IamportBillingKey decodes Data as the Iamport saved card
// (IIamportSubscription). It fails, wrapping ErrVendorMismatch, when the
// card is not registered at Iamport.
func (r *Reservation) IamportBillingKey() (*iamport.BillingKey, error) {
	return decodeData[iamport.BillingKey]("reservation", r.VendorCode, VendorIamport, r.Data)
}

// TossBilling decodes Data as the Toss Payments billing key
// (ITossBilling). It fails, wrapping ErrVendorMismatch, when the card is
// not registered at Toss.
func (r *Reservation) TossBilling() (*toss.Billing, error) {
	return decodeData[toss.Billing]("reservation", r.VendorCode, VendorToss, r.Data)
}

// decodeData decodes data into a T after checking that the record's
// vendor is want.
func decodeData[T any](kind string, got, want VendorCode, data json.RawMessage) (*T, error) {
	if got != want {
		return nil, fmt.Errorf("%s of %q holds no %s data: %w", kind, got, want, ErrVendorMismatch)
	}
	if d := bytes.TrimSpace(data); len(d) == 0 || bytes.Equal(d, []byte("null")) {
		return nil, fmt.Errorf("%s has no %s data", kind, want)
	}
	var out T
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("decode %s data of %s: %w", want, kind, err)
	}
	return &out, nil
}
