package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/sdk"
)

// billingKeyIssued is the status printed for a billing key; the PGs give
// billing keys none.
const billingKeyIssued = "issued"

// fakeBillingKeyOptions are the inputs of `paymentctl fake billing-key`.
type fakeBillingKeyOptions struct {
	fakeClientOptions
	// CustomerID is Iamport's customer_uid, Toss's customerKey or
	// PortOne V2's customer.id.
	CustomerID string
	// Register, when set, registers the billing key with the paymentctl
	// API at once as a saved card (--register).
	Register *registration
}

// newFakeBillingKeyCmd returns `paymentctl fake billing-key`. runF replaces
// runFakeBillingKey in tests.
func newFakeBillingKeyCmd(f *factory, runF func(context.Context, *fakeBillingKeyOptions) error) *cobra.Command {
	opts := &fakeBillingKeyOptions{fakeClientOptions: fakeClientOptions{IO: f.IO}}
	cmd := &cobra.Command{
		Use:   "billing-key",
		Short: "Register a card for later payments (a saved card)",
		Long: `Register a test card as a billing key on a running fake and print the ids to
register it with paymentctl as a saved card (POST /payments/reservations).

Iamport: POST /subscribe/customers/{customer_uid}; the customer id is both
vendor.uid and source.id. Toss: POST /v1/billing/authorizations/card; vendor.uid
is the billingKey and source.id the customerKey. PortOne V2: the billing-key
window (POST /internal/billing-key-checkout); vendor.uid is the billingKey and
source.id the customer id.`,
		Example: `  paymentctl fake billing-key --pg toss --json
  paymentctl fake billing-key --pg portone --register`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.resolve(f, cmd); err != nil {
				return err
			}
			if opts.CustomerID == "" {
				opts.CustomerID = newOrderID()
			}
			reg, err := newRegistration(f, cmd)
			if err != nil {
				return err
			}
			opts.Register = reg
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runFakeBillingKey(cmd.Context(), opts)
		},
	}
	addFakeClientFlags(cmd, &opts.fakeClientOptions)
	fl := cmd.Flags()
	fl.StringVar(&opts.CustomerID, "customer-id", "", "customer id, the registration's source.id (default a fresh UUID)")
	addRegisterFlags(cmd, "then register the billing key with paymentctl as a saved card (POST /payments/reservations), as a service would")
	fl.String("title", "paymentctl fake card", "with --register: the saved card's title")
	return cmd
}

// runFakeBillingKey issues the billing key and prints it.
func runFakeBillingKey(ctx context.Context, opts *fakeBillingKeyOptions) error {
	r := fakeResult{Kind: kindBillingKey, SourceID: opts.CustomerID, Status: billingKeyIssued}
	expiry := opts.Now().AddDate(3, 0, 0)
	switch opts.PG {
	case pgIamport:
		k, err := opts.iamportClient().CreateBillingKey(ctx, opts.CustomerID, iamport.BillingKeyRequest{
			CardFields: iamport.CardFields{
				CardNumber: iamportCardNumber(fakeCardNumber),
				Expiry:     expiry.Format("2006-01"),
				Birth:      fakeBirth,
				Pwd2Digit:  fakeCardPwd,
			},
			CustomerName: fakeHolder,
		})
		if err != nil {
			return opts.fakeErr("issue a billing key", err)
		}
		r.Vendor = sdk.Vendor{Code: sdk.VendorIamport, StoreID: k.PGID, UID: k.CustomerUID}
	case pgPortOne:
		v, err := billingKeyPortOne(ctx, opts)
		if err != nil {
			return opts.fakeErr("issue a billing key", err)
		}
		r.Vendor = v
	default:
		b, err := opts.tossClient().IssueBillingKey(ctx, toss.BillingCardRequest{
			CustomerKey:         opts.CustomerID,
			CardNumber:          fakeCardNumber,
			CardExpirationYear:  expiry.Format("06"),
			CardExpirationMonth: "12",
			CardPassword:        fakeCardPwd,
			CustomerBirthday:    fakeBirth,
			ConsumerName:        fakeHolder,
		})
		if err != nil {
			return opts.fakeErr("issue a billing key", err)
		}
		r.Vendor = sdk.Vendor{Code: sdk.VendorToss, StoreID: b.MID, UID: b.BillingKey}
		r.SourceID = b.CustomerKey
	}
	if opts.Register == nil {
		r.Notes = append(r.Notes, registerNote(r))
		return printResult(opts.IO.Out, opts.JSON, r)
	}
	res, err := opts.Register.reserve(ctx, r)
	if err != nil {
		return fmt.Errorf("register the billing key with paymentctl at %s: %w", opts.Register.APIURL, err)
	}
	r.Reservation = res
	r.Notes = append(r.Notes, fmt.Sprintf("Registered with paymentctl as reservation %s; read it with the password %q.", res.ID, opts.Register.Password))
	return printResult(opts.IO.Out, opts.JSON, r)
}
