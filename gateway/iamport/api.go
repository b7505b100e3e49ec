package iamport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Payment fetches one payment by its Iamport id (GET /payments/{imp_uid}).
func (c *Client) Payment(ctx context.Context, impUID string) (*Payment, error) {
	if impUID == "" {
		return nil, errors.New("get iamport payment: empty imp_uid")
	}
	var p Payment
	if err := c.call(ctx, http.MethodGet, "/payments/"+url.PathEscape(impUID), nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// PaymentsByMerchantUID lists every payment made for one order id, newest
// first (GET /payments/findAll/{merchant_uid}). It accepts both a bare list
// and the paged {total, previous, next, list} shape in the envelope.
func (c *Client) PaymentsByMerchantUID(ctx context.Context, merchantUID string) ([]Payment, error) {
	if merchantUID == "" {
		return nil, errors.New("list iamport payments: empty merchant_uid")
	}
	var raw json.RawMessage
	if err := c.call(ctx, http.MethodGet, "/payments/findAll/"+url.PathEscape(merchantUID), nil, &raw); err != nil {
		return nil, err
	}
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		var list []Payment
		if err := json.Unmarshal(t, &list); err != nil {
			return nil, fmt.Errorf("list iamport payments: %w", err)
		}
		return list, nil
	}
	var page PaymentPage
	if err := json.Unmarshal(raw, &page); err != nil {
		return nil, fmt.Errorf("list iamport payments: %w", err)
	}
	return page.List, nil
}

// PayOnetime charges a card without a checkout window
// (POST /subscribe/payments/onetime). A card the issuer declines comes
// back as *Error (code -1) whose Response holds the failed payment; see
// FailedPayment.
func (c *Client) PayOnetime(ctx context.Context, in OnetimeRequest) (*Payment, error) {
	var p Payment
	if err := c.call(ctx, http.MethodPost, "/subscribe/payments/onetime", in, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// PayAgain charges a stored billing key (POST /subscribe/payments/again).
// A decline is reported as for PayOnetime.
func (c *Client) PayAgain(ctx context.Context, in AgainRequest) (*Payment, error) {
	var p Payment
	if err := c.call(ctx, http.MethodPost, "/subscribe/payments/again", in, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// FailedPayment extracts the failed payment a decline carries, if err is
// such a decline.
func FailedPayment(err error) (*Payment, bool) {
	var e *Error
	if !errors.As(err, &e) || len(e.Response) == 0 {
		return nil, false
	}
	var p Payment
	if json.Unmarshal(e.Response, &p) != nil || p.ImpUID == "" {
		return nil, false
	}
	return &p, true
}

// CreateBillingKey registers a card under customerUID
// (POST /subscribe/customers/{customer_uid}); in.CustomerUID is filled
// from the argument when empty.
func (c *Client) CreateBillingKey(ctx context.Context, customerUID string, in BillingKeyRequest) (*BillingKey, error) {
	if customerUID == "" {
		return nil, errors.New("create iamport billing key: empty customer_uid")
	}
	if in.CustomerUID == "" {
		in.CustomerUID = customerUID
	}
	var k BillingKey
	if err := c.call(ctx, http.MethodPost, "/subscribe/customers/"+url.PathEscape(customerUID), in, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// BillingKey fetches a registered card (GET /subscribe/customers/{customer_uid}).
func (c *Client) BillingKey(ctx context.Context, customerUID string) (*BillingKey, error) {
	return c.billingKey(ctx, http.MethodGet, customerUID)
}

// DeleteBillingKey removes a registered card and returns it
// (DELETE /subscribe/customers/{customer_uid}).
func (c *Client) DeleteBillingKey(ctx context.Context, customerUID string) (*BillingKey, error) {
	return c.billingKey(ctx, http.MethodDelete, customerUID)
}

func (c *Client) billingKey(ctx context.Context, method, customerUID string) (*BillingKey, error) {
	if customerUID == "" {
		return nil, errors.New("iamport billing key: empty customer_uid")
	}
	var k BillingKey
	if err := c.call(ctx, method, "/subscribe/customers/"+url.PathEscape(customerUID), nil, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// Cancel refunds a payment in full (in.Amount nil) or in part
// (POST /payments/cancel) and returns the payment after the refund.
func (c *Client) Cancel(ctx context.Context, in CancelRequest) (*Payment, error) {
	if in.ImpUID == "" && in.MerchantUID == "" {
		return nil, errors.New("cancel iamport payment: need imp_uid or merchant_uid")
	}
	var p Payment
	if err := c.call(ctx, http.MethodPost, "/payments/cancel", in, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// CreateVBank issues a virtual account to pay into (POST /vbanks); the
// payment starts "ready".
func (c *Client) CreateVBank(ctx context.Context, in VBankRequest) (*Payment, error) {
	var p Payment
	if err := c.call(ctx, http.MethodPost, "/vbanks", in, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// UpdateVBank changes the amount or due date of an unpaid virtual account
// (PUT /vbanks/{imp_uid}, the real API's path).
func (c *Client) UpdateVBank(ctx context.Context, in VBankUpdate) (*Payment, error) {
	if in.ImpUID == "" {
		return nil, errors.New("update iamport vbank: empty imp_uid")
	}
	var p Payment
	if err := c.call(ctx, http.MethodPut, "/vbanks/"+url.PathEscape(in.ImpUID), in, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Deposit simulates the customer paying into a virtual account. Only the
// fake has this route (PUT /internal/deposit/{imp_uid}).
func (c *Client) Deposit(ctx context.Context, impUID string) (*Payment, error) {
	if impUID == "" {
		return nil, errors.New("iamport deposit: empty imp_uid")
	}
	var p Payment
	if err := c.call(ctx, http.MethodPut, "/internal/deposit/"+url.PathEscape(impUID), nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// IssueReceipt issues a cash receipt for a payment (POST /receipts/{imp_uid});
// in.ImpUID is filled from the argument when empty.
func (c *Client) IssueReceipt(ctx context.Context, impUID string, in ReceiptRequest) (*Receipt, error) {
	if impUID == "" {
		return nil, errors.New("issue iamport receipt: empty imp_uid")
	}
	if in.ImpUID == "" {
		in.ImpUID = impUID
	}
	var r Receipt
	if err := c.call(ctx, http.MethodPost, "/receipts/"+url.PathEscape(impUID), in, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Receipt fetches a payment's cash receipt (GET /receipts/{imp_uid}).
func (c *Client) Receipt(ctx context.Context, impUID string) (*Receipt, error) {
	return c.receipt(ctx, http.MethodGet, impUID)
}

// CancelReceipt cancels a payment's cash receipt (DELETE /receipts/{imp_uid}).
func (c *Client) CancelReceipt(ctx context.Context, impUID string) (*Receipt, error) {
	return c.receipt(ctx, http.MethodDelete, impUID)
}

func (c *Client) receipt(ctx context.Context, method, impUID string) (*Receipt, error) {
	if impUID == "" {
		return nil, errors.New("iamport receipt: empty imp_uid")
	}
	var r Receipt
	if err := c.call(ctx, method, "/receipts/"+url.PathEscape(impUID), nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// RequestCertification starts an SMS identity check and returns its imp_uid
// (POST /certifications/otp/request).
func (c *Client) RequestCertification(ctx context.Context, in CertificationRequest) (string, error) {
	var s CertificationStarted
	if err := c.call(ctx, http.MethodPost, "/certifications/otp/request", in, &s); err != nil {
		return "", err
	}
	return s.ImpUID, nil
}

// ConfirmCertification completes an identity check with the OTP the person
// received (POST /certifications/otp/confirm/{imp_uid}).
func (c *Client) ConfirmCertification(ctx context.Context, impUID, otp string) (*Certification, error) {
	if impUID == "" {
		return nil, errors.New("confirm iamport certification: empty imp_uid")
	}
	var cert Certification
	path := "/certifications/otp/confirm/" + url.PathEscape(impUID)
	if err := c.call(ctx, http.MethodPost, path, CertificationConfirm{OTP: otp}, &cert); err != nil {
		return nil, err
	}
	return &cert, nil
}

// Certification fetches an identity check (GET /certifications/{imp_uid}).
func (c *Client) Certification(ctx context.Context, impUID string) (*Certification, error) {
	return c.certification(ctx, http.MethodGet, impUID)
}

// DeleteCertification deletes an identity check and returns it
// (DELETE /certifications/{imp_uid}).
func (c *Client) DeleteCertification(ctx context.Context, impUID string) (*Certification, error) {
	return c.certification(ctx, http.MethodDelete, impUID)
}

func (c *Client) certification(ctx context.Context, method, impUID string) (*Certification, error) {
	if impUID == "" {
		return nil, errors.New("iamport certification: empty imp_uid")
	}
	var cert Certification
	if err := c.call(ctx, method, "/certifications/"+url.PathEscape(impUID), nil, &cert); err != nil {
		return nil, err
	}
	return &cert, nil
}
