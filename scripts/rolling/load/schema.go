package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/server/webhook"
)

// schemaPrefix names the schemas this helper creates; drop refuses any
// other name.
const schemaPrefix = "rolling_"

// ownSchema matches the names schema create makes.
var ownSchema = regexp.MustCompile(`^` + schemaPrefix + `[0-9]+$`)

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
	admin, err := sql.Open("pgx", *base)
	if err != nil {
		return err
	}
	defer admin.Close()
	if args[0] == "drop" {
		if !ownSchema.MatchString(*name) {
			return fmt.Errorf("schema drop: %q is not a schema this helper created", *name)
		}
		_, err := admin.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+*name+" CASCADE")
		return err
	}
	n := fmt.Sprintf("%s%d", schemaPrefix, time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+n); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	st, err := store.Open(ctx, withSearchPath(*base, n))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := webhook.Migrate(ctx, st.SQLDB(), st.Dialect()); err != nil {
		return fmt.Errorf("migrate the job queue: %w", err)
	}
	fmt.Println(n)
	return nil
}

// withSearchPath returns base selecting schema name.
func withSearchPath(base, name string) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + name
}
