package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// fakeDepositOptions are the inputs of `paymentctl fake deposit`.
type fakeDepositOptions struct {
	fakeClientOptions
	// UID is the virtual account payment's imp_uid, paymentKey or
	// paymentId.
	UID string
}

// newFakeDepositCmd returns `paymentctl fake deposit`. runF replaces
// runFakeDeposit in tests.
func newFakeDepositCmd(f *factory, runF func(context.Context, *fakeDepositOptions) error) *cobra.Command {
	opts := &fakeDepositOptions{fakeClientOptions: fakeClientOptions{IO: f.IO}}
	cmd := &cobra.Command{
		Use:   "deposit <imp_uid|paymentKey|paymentId>",
		Short: "Pay into a virtual account, as the customer's bank would",
		Long: `Simulate the customer paying into a virtual account issued by 'paymentctl fake
pay vbank', through the fakes' own routes (Iamport PUT /internal/deposit/{imp_uid},
Toss PUT /internal/{paymentKey}/deposit, PortOne V2 POST
/internal/payments/{paymentId}/deposit). The payment becomes paid (Iamport),
DONE (Toss) or PAID (PortOne V2) and the fake sends its webhooks.`,
		Example: `  paymentctl fake deposit --pg iamport imp_123456789012
  paymentctl fake deposit --pg portone 3f0c8a4e-0a34-4a8f-9d3e-5b1a7c2e9f10`,
		Args: oneUIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolve(f, cmd); err != nil {
				return err
			}
			opts.UID = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runFakeDeposit(cmd.Context(), opts)
		},
	}
	addFakeClientFlags(cmd, &opts.fakeClientOptions)
	return cmd
}

// runFakeDeposit pays the account in and prints the payment.
func runFakeDeposit(ctx context.Context, opts *fakeDepositOptions) error {
	var r fakeResult
	switch opts.PG {
	case pgIamport:
		p, err := opts.iamportClient().Deposit(ctx, opts.UID)
		if err != nil {
			return opts.fakeErr("deposit into "+opts.UID, err)
		}
		r = iamportResult(p)
	case pgPortOne:
		var err error
		if r, err = depositPortOne(ctx, opts); err != nil {
			return opts.fakeErr("deposit into "+opts.UID, err)
		}
	default:
		p, err := opts.tossClient().SimulateDeposit(ctx, opts.UID)
		if err != nil {
			return opts.fakeErr("deposit into "+opts.UID, err)
		}
		r = tossResult(p)
	}
	r.Notes = append(r.Notes, "The fake sends its webhooks now: 'paymentctl fake' logs them; a local 'paymentctl serve' receives them.")
	return printResult(opts.IO.Out, opts.JSON, r)
}

// oneUIDArg is a cobra.PositionalArgs that accepts exactly one PG id.
func oneUIDArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 || args[0] == "" {
		return &usageError{fmt.Errorf("%s takes one payment id (imp_uid, paymentKey or paymentId), got %d arguments", cmd.CommandPath(), len(args))}
	}
	return nil
}
