package main

import (
	"context"
	"time"

	fakeportone "github.com/paymentctl/paymentctl/fakepg/portone"
	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/sdk"
)

// This file holds the PortOne V2 side of the `paymentctl fake`
// subcommands. A PortOne payment's paymentId is chosen by the merchant:
// the order id (--order-id) is both the registration's source.id and
// vendor.uid, as paymentctl requires for PortOne V2.

// fakePortOneRefundBank is the bank of the made-up refund account of a
// virtual account (a PortOne Bank code).
const fakePortOneRefundBank = "KOOKMIN"

// portoneClient returns a client of the fake PortOne V2's real routes
// with its default secret.
func (o *fakeClientOptions) portoneClient() *portone.Client {
	return portone.New(portone.Options{BaseURL: o.PortOneURL, Secret: fakeportone.DefaultSecret, Timeout: fakeCallTimeout})
}

// portoneBrowser returns a client of the fake PortOne V2's own routes,
// which do what the customer's browser does.
func (o *fakeClientOptions) portoneBrowser() *fakeportone.Browser {
	return fakeportone.NewBrowser(o.PortOneURL, fakeportone.DefaultSecret, fakeCallTimeout)
}

// portoneResult describes a PortOne V2 payment.
func portoneResult(p portone.Payment) fakeResult {
	b := p.Base()
	r := fakeResult{
		Kind:      kindPayment,
		Vendor:    sdk.Vendor{Code: sdk.VendorPortOne, StoreID: b.StoreID, UID: b.ID},
		SourceID:  b.ID,
		Status:    string(b.Status),
		Price:     b.Amount.Total,
		Cancelled: b.Amount.Cancelled,
	}
	if m := b.Method; m != nil {
		switch m.Type {
		case portone.MethodVirtualAccount:
			r.Method = payVBank
			r.VirtualAccount = &fakeAccount{Bank: m.Bank, Number: m.AccountNumber, Holder: m.RemitteeName}
			if !m.ExpiredAt.IsZero() {
				r.VirtualAccount.Due = m.ExpiredAt.In(kst()).Format(time.RFC3339)
			}
		case portone.MethodCard, portone.MethodEasyPay:
			r.Method = payCard
		default:
			r.Method = m.Type
		}
	}
	return r
}

// payPortOne makes the payment as the customer's browser would: a card
// is paid at once (PAID), a virtual account is issued.
func payPortOne(ctx context.Context, opts *fakePayOptions) (fakeResult, error) {
	in := fakeportone.CheckoutRequest{
		PaymentID: opts.OrderID, OrderName: fakeOrderName, TotalAmount: opts.Amount, Currency: "KRW",
		PayMethod: fakeportone.PayMethodCard, Customer: &portone.Customer{Name: fakeHolder},
	}
	if opts.Method == payVBank {
		in.PayMethod = fakeportone.PayMethodVirtualAccount
	}
	out, err := opts.portoneBrowser().Checkout(ctx, in)
	if err != nil {
		return fakeResult{}, err
	}
	p, err := opts.portoneClient().GetPayment(ctx, out.PaymentID)
	if err != nil {
		return fakeResult{}, err
	}
	r := portoneResult(p)
	if out.Code != "" {
		r.Notes = append(r.Notes, "Declined: "+out.Message)
	}
	return r, nil
}

// depositPortOne pays into a PortOne V2 virtual account.
func depositPortOne(ctx context.Context, opts *fakeDepositOptions) (fakeResult, error) {
	p, err := opts.portoneBrowser().Deposit(ctx, opts.UID)
	if err != nil {
		return fakeResult{}, err
	}
	return portoneResult(p), nil
}

// cancelPortOne refunds a PortOne V2 payment with its current balance as
// currentCancellableAmount.
func cancelPortOne(ctx context.Context, opts *fakeCancelOptions) (fakeResult, error) {
	c := opts.portoneClient()
	p, err := c.GetPayment(ctx, opts.UID)
	if err != nil {
		return fakeResult{}, err
	}
	in := portone.CancelRequest{Reason: opts.Reason}
	if opts.Amount > 0 {
		in.Amount = &opts.Amount
	}
	if m := p.Base().Method; m != nil && m.Type == portone.MethodVirtualAccount {
		in.RefundAccount = &portone.RefundAccount{Bank: fakePortOneRefundBank, Number: fakeRefundAccount, HolderName: fakeHolder}
	}
	if _, err := c.CancelPayment(ctx, opts.UID, p.Base().Cancellable(), in); err != nil {
		return fakeResult{}, err
	}
	if p, err = c.GetPayment(ctx, opts.UID); err != nil {
		return fakeResult{}, err
	}
	return portoneResult(p), nil
}

// billingKeyPortOne issues a billing key as the billing-key window would,
// for the customer opts.CustomerID.
func billingKeyPortOne(ctx context.Context, opts *fakeBillingKeyOptions) (sdk.Vendor, error) {
	out, err := opts.portoneBrowser().IssueBillingKey(ctx, fakeportone.BillingKeyCheckoutRequest{
		Customer: &portone.Customer{ID: opts.CustomerID, Name: fakeHolder},
	})
	if err != nil {
		return sdk.Vendor{}, err
	}
	info, err := opts.portoneClient().GetBillingKey(ctx, out.BillingKey)
	if err != nil {
		return sdk.Vendor{}, err
	}
	return sdk.Vendor{Code: sdk.VendorPortOne, StoreID: info.StoreID, UID: info.BillingKey}, nil
}
