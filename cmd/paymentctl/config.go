package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
)

// newConfigCmd returns `paymentctl config` and its subcommands.
func newConfigCmd(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config <command>",
		Short: "Show the effective configuration, or generate fresh secrets",
		Long: `Show the effective configuration, or generate fresh secrets.

Configuration comes from, lowest precedence first: defaults, the --config
YAML file (or PAYMENT_CONFIG), a .env file in the working directory, the
environment (PAYMENT_*), and flags. Every command that reads the
configuration (serve, schema, update, monitor, reset, reconcile, fake and
its subcommands, config print) takes a flag for every key: the key with
dashes for dots and underscores (api.port: --api-port). Their --help shows
the flags they are about; these are all of them, with their environment
variables:

` + configFlagsHelp() + `
A flag holding a secret is visible to other users of the machine (ps);
prefer the environment or a file for secrets.

One setting is a list and has no flag: stores, the PG merchant accounts
with credentials of their own, in the file or as PAYMENT_STORES (a JSON
array of {vendor, store_id, key, secret, webhook_secret}); see the README's
"Several services and stores".`,
		Example: `  # where each value comes from
  paymentctl config print --mode dev --config payments.yaml

  # a value set by a flag
  paymentctl config print --throttle-window 30m

  # a fresh set of secrets for a new deployment
  paymentctl config generate >> .env`,
		Args: noArgs,
	}
	cmd.AddCommand(newConfigPrintCmd(f), newConfigGenerateCmd(f))
	return cmd
}

// newConfigPrintCmd returns `paymentctl config print`.
func newConfigPrintCmd(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "print",
		Short: "Print the effective configuration with secrets masked",
		Long: `Print every setting: its key, environment variable, effective value and where
the value came from (default, file, .env, env or flag). Secrets show only their
length. The merchant accounts of the stores list (the file's stores, or
PAYMENT_STORES as JSON) follow, one row per field (stores[0].secret). The
configuration is validated first, as serve would.`,
		Example:     "  paymentctl config print\n  PAYMENT_MODE=dev paymentctl config print --config payments.yaml",
		Args:        noArgs,
		Annotations: loadsConfig(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.loadConfig(cmd)
			if err != nil {
				return err
			}
			return cfg.Print(f.IO.Out)
		},
	}
}

// newConfigGenerateCmd returns `paymentctl config generate`.
func newConfigGenerateCmd(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "generate",
		Short: "Print fresh random keys, IVs and secrets as .env lines",
		Long: `Print a fresh random value for every key, IV and secret a deployment needs, as
.env lines (the original's generate:password). Real mode refuses the published
defaults, so run this once per deployment and keep the output secret.`,
		Example: "  paymentctl config generate >> .env",
		Args:    noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			secrets, err := config.GenerateSecrets(nil)
			if err != nil {
				return err
			}
			for _, s := range secrets {
				if _, err := fmt.Fprintf(f.IO.Out, "%s=%s\n", s.Env, s.Value); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
