package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/migrations"
	"github.com/paymentctl/paymentctl/ops/schema"
)

// schemaOptions are the inputs of `paymentctl schema`.
type schemaOptions struct {
	IO     *iostreams
	Config *config.Config
	DSN    string // superuser DSN
	DryRun bool
	// Prompt asks for the superuser DSN when --dsn is absent, without
	// echoing it; nil when standard input is not a terminal.
	Prompt func(ctx context.Context, label string) (string, error)
}

// newSchemaCmd returns `paymentctl schema`. runF replaces runSchema in tests.
func newSchemaCmd(f *factory, runF func(context.Context, *schemaOptions) error) *cobra.Command {
	opts := &schemaOptions{IO: f.IO, Prompt: terminalPrompt(f.IO)}
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Create the database, roles and schema, and apply migrations",
		Long: `Set up the database. On PostgreSQL, with a superuser DSN, create the writer and
read-only roles, the database and the schema (idempotently), then apply the
versioned migrations. On SQLite, only apply the migrations.

The names come from the server's own DSN (PAYMENT_DATABASE_URL, or the
PAYMENT_POSTGRES_* settings): its user is the writer, its database and first
search_path schema are created; PAYMENT_POSTGRES_USERNAME_READONLY is the
read-only role, which may SELECT every table of the schema, present and future.
Running it again creates nothing and says what exists.

Without --dsn, the superuser DSN is asked for when standard input is a
terminal. --dry-run prints the SQL, passwords masked, and changes nothing:
it does not use the superuser DSN, and reads with the server's DSN only the
version the database is at, to say which migrations it has already (all are
listed when it cannot read it, as before the database exists).`,
		Example: `  # print the SQL it would run
  paymentctl schema --dsn postgres://postgres@127.0.0.1:5432/postgres --dry-run

  paymentctl schema --dsn postgres://postgres@127.0.0.1:5432/postgres`,
		Args:        noArgs,
		Annotations: loadsConfig(),
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
	cmd.Flags().String(config.FlagName("database.url"), "", "database DSN, postgres://… or sqlite:path (PAYMENT_DATABASE_URL)")
	return cmd
}

// runSchema sets the database up.
func runSchema(ctx context.Context, opts *schemaOptions) error {
	dsn := opts.Config.DatabaseURL()
	if schema.IsSQLite(dsn) {
		if opts.DSN != "" {
			fmt.Fprintln(opts.IO.ErrOut, "note: --dsn is not used: the database is SQLite, which has no roles")
		}
		if opts.DryRun {
			return schema.WriteMigrations(opts.IO.Out, migrations.SQLite, appliedVersion(ctx, dsn))
		}
		return schema.Migrate(ctx, dsn, opts.IO.Out)
	}
	p, err := schema.FromConfig(opts.Config)
	if err != nil {
		return err
	}
	if opts.DryRun {
		return schema.WritePlan(opts.IO.Out, p, opts.DSN, appliedVersion(ctx, dsn))
	}
	superuser := opts.DSN
	if superuser == "" {
		if opts.Prompt == nil {
			return &usageError{errors.New("no superuser DSN: pass --dsn postgres://postgres:PASSWORD@HOST:5432/postgres (standard input is not a terminal to ask on)")}
		}
		superuser, err = opts.Prompt(ctx, "Superuser DSN (e.g. postgres://postgres:PASSWORD@127.0.0.1:5432/postgres): ")
		if err != nil {
			return err
		}
		if superuser == "" {
			return &usageError{errors.New("no superuser DSN given")}
		}
	}
	return schema.Apply(ctx, superuser, p, opts.IO.Out)
}

// appliedVersionTimeout bounds a dry run's look at the database.
const appliedVersionTimeout = 10 * time.Second

// appliedVersion reads, for a dry run, the version the database of dsn is
// at, or why it cannot.
func appliedVersion(ctx context.Context, dsn string) schema.Applied {
	ctx, cancel := context.WithTimeout(ctx, appliedVersionTimeout)
	defer cancel()
	v, err := schema.AppliedVersion(ctx, dsn)
	return schema.Applied{Version: v, Unknown: err}
}

// terminalPrompt returns a Prompt reading a line from the terminal on
// standard input without echo (a DSN may hold a password), or nil when
// standard input is not a terminal.
func terminalPrompt(streams *iostreams) func(context.Context, string) (string, error) {
	in, ok := streams.In.(interface{ Fd() uintptr })
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return nil
	}
	fd := int(in.Fd())
	return func(ctx context.Context, label string) (string, error) {
		state, err := term.GetState(fd)
		if err != nil {
			return "", fmt.Errorf("read the superuser dsn: %w", err)
		}
		fmt.Fprint(streams.ErrOut, label)
		type result struct {
			line []byte
			err  error
		}
		done := make(chan result, 1)
		go func() {
			line, err := term.ReadPassword(fd)
			done <- result{line, err}
		}()
		select {
		case r := <-done:
			fmt.Fprintln(streams.ErrOut)
			if r.err != nil {
				return "", fmt.Errorf("read the superuser dsn: %w", r.err)
			}
			return strings.TrimSpace(string(r.line)), nil
		case <-ctx.Done():
			// Interrupted: the reader stays blocked until the process
			// exits, so give the terminal its echo back now.
			_ = term.Restore(fd, state)
			fmt.Fprintln(streams.ErrOut)
			return "", ctx.Err()
		}
	}
}
