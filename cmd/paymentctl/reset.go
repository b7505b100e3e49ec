package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
)

// resetOptions are the inputs of `paymentctl reset`.
type resetOptions struct {
	IO     *iostreams
	Config *config.Config
	Mode   config.Mode
}

// newResetCmd returns `paymentctl reset`. runF replaces runReset in tests.
func newResetCmd(f *factory, runF func(context.Context, *resetOptions) error) *cobra.Command {
	opts := &resetOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "reset <mode>",
		Short: "Rebuild a local or dev deployment from scratch, with sample data",
		Long: `Pull, build, stop the server, drop and re-create the schema, migrate, seed sample
data by running the payment flows against the fake PGs, and restart: the
original's reset:dev. Only for local and dev; real is always refused.`,
		Example: `  paymentctl reset dev`,
		Args:    modeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			mode := config.Mode(args[0])
			if mode == config.ModeReal {
				return &usageError{fmt.Errorf("reset refuses real mode: it drops every table")}
			}
			cfg, err := f.loadConfig(cmd)
			if err != nil {
				return err
			}
			opts.Config, opts.Mode = cfg, mode
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runReset(cmd.Context(), opts)
		},
	}
	return cmd
}

// runReset rebuilds the deployment.
func runReset(_ context.Context, _ *resetOptions) error {
	return notImplemented("reset", "issue 5, operations")
}
