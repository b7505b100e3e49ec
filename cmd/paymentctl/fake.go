package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
)

// fakeOptions are the inputs of `paymentctl fake`.
type fakeOptions struct {
	IO         *iostreams
	Config     *config.Config
	Only       string
	WebhookURL string
}

// newFakeCmd returns `paymentctl fake`. runF replaces runFake in tests.
func newFakeCmd(f *factory, runF func(context.Context, *fakeOptions) error) *cobra.Command {
	opts := &fakeOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "fake",
		Short: "Run the fake payment gateways for local simulation",
		Long: `Run fake Iamport (PortOne v1) and Toss Payments servers that speak the real APIs,
so a service can make, deposit into and cancel payments on a laptop. Every call
and every webhook is logged.`,
		Example: `  paymentctl fake --webhook-url http://127.0.0.1:37821/payments/webhooks/iamport`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.loadConfig(cmd)
			if err != nil {
				return err
			}
			opts.Config = cfg
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runFake(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Only, "only", "", "run one fake: iamport or toss")
	cmd.Flags().StringVar(&opts.WebhookURL, "webhook-url", "", "where the fakes send their webhooks")
	return cmd
}

// runFake runs the fakes until ctx ends.
func runFake(_ context.Context, _ *fakeOptions) error {
	return notImplemented("fake", "issue 3, fake payment gateways")
}
