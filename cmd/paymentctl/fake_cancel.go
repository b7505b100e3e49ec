package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/toss"
)

// fakeCancelOptions are the inputs of `paymentctl fake cancel`.
type fakeCancelOptions struct {
	fakeClientOptions
	// UID is the payment's imp_uid, paymentKey or paymentId.
	UID string
	// Amount to refund; 0 refunds whatever remains.
	Amount int64
	Reason string
}

// newFakeCancelCmd returns `paymentctl fake cancel`. runF replaces
// runFakeCancel in tests.
func newFakeCancelCmd(f *factory, runF func(context.Context, *fakeCancelOptions) error) *cobra.Command {
	opts := &fakeCancelOptions{fakeClientOptions: fakeClientOptions{IO: f.IO}}
	cmd := &cobra.Command{
		Use:   "cancel <imp_uid|paymentKey|paymentId>",
		Short: "Refund a payment in full or in part, at the PG",
		Long: `Cancel a payment directly at a running fake (Iamport POST /payments/cancel, Toss
POST /v1/payments/{paymentKey}/cancel, PortOne V2 POST
/payments/{paymentId}/cancel with the balance as currentCancellableAmount), as
an operator would in the PG's console; the fake sends its webhooks. Without
--amount the whole remaining amount is refunded. A virtual account is refunded
to a made-up test account.

To cancel through paymentctl instead, use its API (PUT /payments/histories/cancel).`,
		Example: `  paymentctl fake cancel --pg toss --amount 5000 --reason "one item out of stock" <paymentKey>
  paymentctl fake cancel --pg iamport imp_123456789012`,
		Args: oneUIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Amount < 0 {
				return &usageError{fmt.Errorf("--amount %d: must be positive (or absent to refund the rest)", opts.Amount)}
			}
			if err := opts.resolve(f, cmd); err != nil {
				return err
			}
			opts.UID = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runFakeCancel(cmd.Context(), opts)
		},
	}
	addFakeClientFlags(cmd, &opts.fakeClientOptions)
	cmd.Flags().Int64Var(&opts.Amount, "amount", 0, "amount to refund in won (default the whole remaining amount)")
	cmd.Flags().StringVar(&opts.Reason, "reason", "cancelled with paymentctl fake", "reason recorded with the cancel")
	return cmd
}

// runFakeCancel refunds the payment and prints it.
func runFakeCancel(ctx context.Context, opts *fakeCancelOptions) error {
	var (
		r   fakeResult
		err error
	)
	switch opts.PG {
	case pgIamport:
		r, err = cancelIamport(ctx, opts)
	case pgPortOne:
		r, err = cancelPortOne(ctx, opts)
	default:
		r, err = cancelToss(ctx, opts)
	}
	if err != nil {
		return opts.fakeErr("cancel "+opts.UID, err)
	}
	return printResult(opts.IO.Out, opts.JSON, r)
}

func cancelIamport(ctx context.Context, opts *fakeCancelOptions) (fakeResult, error) {
	c := opts.iamportClient()
	p, err := c.Payment(ctx, opts.UID)
	if err != nil {
		return fakeResult{}, err
	}
	in := iamport.CancelRequest{ImpUID: p.ImpUID, MerchantUID: p.MerchantUID, Reason: opts.Reason}
	if opts.Amount > 0 {
		a := iamport.Amount(opts.Amount)
		in.Amount = &a
	}
	if p.PayMethod == iamport.PayMethodVBank {
		in.RefundHolder, in.RefundBank, in.RefundAccount = fakeHolder, fakeIamportVBankCode, fakeRefundAccount
	}
	if p, err = c.Cancel(ctx, in); err != nil {
		return fakeResult{}, err
	}
	return iamportResult(p), nil
}

func cancelToss(ctx context.Context, opts *fakeCancelOptions) (fakeResult, error) {
	c := opts.tossClient()
	p, err := c.GetPayment(ctx, opts.UID)
	if err != nil {
		return fakeResult{}, err
	}
	in := toss.CancelRequest{CancelReason: opts.Reason, CancelAmount: opts.Amount}
	if p.Method == toss.MethodVirtualAccount {
		in.RefundReceiveAccount = &toss.RefundAccount{Bank: fakeTossBank, AccountNumber: fakeRefundAccount, HolderName: fakeHolder}
	}
	if p, err = c.Cancel(ctx, opts.UID, in); err != nil {
		return fakeResult{}, err
	}
	return tossResult(p), nil
}
