package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
)

// serveOptions are the inputs of `paymentctl serve`.
type serveOptions struct {
	IO     *iostreams
	Config *config.Config
}

// newServeCmd returns `paymentctl serve`. runF replaces runServe in tests.
func newServeCmd(f *factory, runF func(context.Context, *serveOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the payment server",
		Long: `Run the payment API. With no configuration it runs in local mode: an embedded
SQLite file (paymentctl.db), both fake PGs in process and wired to the server's
webhook routes. In dev and real mode it uses PostgreSQL and the real PGs, refuses
an outdated schema (run 'paymentctl schema'), and hands its listening socket to a
new binary on SIGHUP without dropping a request.`,
		Example: `  # local, no setup
  paymentctl serve

  # production, configuration from the environment
  PAYMENT_MODE=real paymentctl serve --log-format json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.loadConfig(cmd)
			if err != nil {
				return err
			}
			opts := &serveOptions{IO: f.IO, Config: cfg}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runServe(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.String(config.FlagName("api.host"), "", "interface to listen on (PAYMENT_API_HOST)")
	fl.Int(config.FlagName("api.port"), 0, "port of the API (PAYMENT_API_PORT, default 37821)")
	fl.String(config.FlagName("database.url"), "", "database DSN, postgres://… or sqlite:path (PAYMENT_DATABASE_URL)")
	return cmd
}

// runServe runs the server until ctx ends.
func runServe(_ context.Context, _ *serveOptions) error {
	return notImplemented("serve", "issue 4, the payment server")
}
