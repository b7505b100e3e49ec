package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
)

// schemaOptions are the inputs of `paymentctl schema`.
type schemaOptions struct {
	IO     *iostreams
	Config *config.Config
	DSN    string // superuser DSN
	DryRun bool
}

// newSchemaCmd returns `paymentctl schema`. runF replaces runSchema in tests.
func newSchemaCmd(f *factory, runF func(context.Context, *schemaOptions) error) *cobra.Command {
	opts := &schemaOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Create the database, roles and schema, and apply migrations",
		Long: `Set up the database. On PostgreSQL, with a superuser DSN, create the writer and
read-only roles, the database and the schema (idempotently), then apply the
versioned migrations. On SQLite, only apply the migrations.`,
		Example: `  # print the SQL it would run
  paymentctl schema --dsn postgres://postgres@127.0.0.1:5432/postgres --dry-run

  paymentctl schema --dsn postgres://postgres@127.0.0.1:5432/postgres`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.loadConfig(cmd)
			if err != nil {
				return err
			}
			opts.Config = cfg
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runSchema(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.DSN, "dsn", "", "superuser DSN of the PostgreSQL server (prompted for when absent)")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the SQL instead of running it")
	return cmd
}

// runSchema sets the database up.
func runSchema(_ context.Context, _ *schemaOptions) error {
	return notImplemented("schema", "issue 5, operations")
}
