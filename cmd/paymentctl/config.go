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
	var service string
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Print fresh random keys, IVs and secrets as .env lines, or a service's credentials",
		Long: `Print a fresh random value for every key, IV and secret a deployment needs, as
.env lines (the original's generate:password). Real mode refuses the published
defaults, so run this once per deployment and keep the output secret.

With --service NAME, print instead the credentials of a new client service:
its API key, which the service sends as "Authorization: Bearer <key>" and
paymentctl does not keep, and the entry to add to services.list in the
configuration file: the key's sha256: hash, a fresh body key and IV (which
the service uses too) and a webhook secret for the events forwarded to it.
To rotate a service's key, generate one and add its hash to the service's
api_keys beside the old one; drop the old hash once the service uses the
new key.`,
		Example: `  paymentctl config generate >> .env

  # credentials of a new service "shop"
  paymentctl config generate --service shop`,
		Args: noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if service != "" {
				g, err := config.GenerateService(service, nil)
				if err != nil {
					return &usageError{fmt.Errorf("--service: %w", err)}
				}
				_, err = fmt.Fprintf(f.IO.Out, serviceTemplate, g.Name, g.APIKey, g.Name, g.APIKeyHash, g.Key, g.IV, g.WebhookSecret)
				return err
			}
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
	cmd.Flags().StringVar(&service, "service", "", "print the API key and services.list entry of a new service `NAME` instead")
	return cmd
}

// serviceTemplate is the output of `config generate --service`: the API
// key for the service, then the services.list entry (YAML) for
// paymentctl's configuration file.
const serviceTemplate = `# API key of the service %s: give it to the service only (it sends it as
# "Authorization: Bearer <key>"); paymentctl keeps only its hash.
api_key: %s
# Add to services.list in paymentctl's configuration file. The service
# encrypts its bodies with this key and IV, and verifies the events it is
# forwarded with this webhook secret.
services_list_entry:
  - name: %s
    api_keys: ["%s"]
    encryption: {key: "%s", iv: "%s"}
    webhook_secret: "%s"
`
