package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
)

// updateOptions are the inputs of `paymentctl update`.
type updateOptions struct {
	IO     *iostreams
	Config *config.Config
	Mode   config.Mode
	Ref    string
}

// newUpdateCmd returns `paymentctl update`. runF replaces runUpdate in tests.
func newUpdateCmd(f *factory, runF func(context.Context, *updateOptions) error) *cobra.Command {
	opts := &updateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "update <mode>",
		Short: "Roll a new revision out to every instance of a mode, without downtime",
		Long: `Ask the updater master of <mode> (local, dev or real) to roll a revision out.
Instances go one at a time: fetch, build, verify, hand the listening socket to
the new binary, wait for health. The first failure rolls that instance back and
stops the rollout. Progress streams per instance; the end shows the commit each
instance runs.`,
		Example: `  paymentctl update real
  paymentctl update dev --ref v1.4.0`,
		Args: modeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.loadConfig(cmd)
			if err != nil {
				return err
			}
			opts.Config, opts.Mode = cfg, config.Mode(args[0])
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runUpdate(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Ref, "ref", "", "git ref to deploy (default: the latest commit of the deployed branch)")
	return cmd
}

// runUpdate asks the master to roll out.
func runUpdate(_ context.Context, _ *updateOptions) error {
	return notImplemented("update", "issue 5, operations")
}
