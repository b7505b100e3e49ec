package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/paymentctl/paymentctl/internal/pgschema"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/server/store"
)

// schemaPrefix names the schemas this helper creates; drop refuses any
// other name.
const schemaPrefix = "rolling_"

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	return fs
}

// schema creates a fresh PostgreSQL schema for the instances to share,
// migrated as the server expects (the application's migrations, then the
// job queue's), and prints its name; or drops one it created. Creating a
// schema, rather than running `paymentctl schema`, leaves the server's
// roles alone: the run connects as the DSN's user.
func schema(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "drop") {
		return errors.New("usage: schema create|drop -base DSN [-name NAME]")
	}
	fs := newFlagSet("schema " + args[0])
	base := fs.String("base", "", "PostgreSQL DSN of the database (postgres://...)")
	name := fs.String("name", "", "schema to drop")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *base == "" {
		return errors.New("schema: -base is required")
	}
	if args[0] == "drop" {
		return pgschema.Drop(ctx, *base, schemaPrefix, *name)
	}
	n, dsn, err := pgschema.Create(ctx, *base, schemaPrefix)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := server.Migrate(ctx, st); err != nil {
		return err
	}
	fmt.Println(n)
	return nil
}
