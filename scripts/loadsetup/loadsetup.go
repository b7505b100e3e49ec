// Package loadsetup holds the set-up subcommands the load helpers share
// (scripts/load and scripts/rolling/load): free loopback ports for the
// servers of a run, and a throw-away PostgreSQL schema migrated as the
// server expects.
package loadsetup

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/paymentctl/paymentctl/internal/pgschema"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/server/store"
)

// Ports prints n free loopback TCP ports to out, one per line (args: [n],
// default 1). They are held until all are chosen, so they differ from one
// another.
func Ports(out io.Writer, args []string) error {
	n := 1
	if len(args) > 0 {
		v, err := strconv.Atoi(args[0])
		if err != nil || v < 1 {
			return fmt.Errorf("ports: %q is not a positive count", args[0])
		}
		n = v
	}
	lns := make([]net.Listener, 0, n)
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		lns = append(lns, ln)
		fmt.Fprintln(out, ln.Addr().(*net.TCPAddr).Port)
	}
	return nil
}

// Schema runs `schema create|drop -base DSN [-name NAME]`: create makes a
// fresh schema named prefix plus a unique suffix, migrated as the server
// expects (the application's migrations, then the job queue's), and prints
// its name to out; drop removes one it made (a name without prefix is
// refused). Creating a schema, rather than running `paymentctl schema`,
// leaves the server's roles alone: the run connects as the DSN's user.
func Schema(ctx context.Context, out, errOut io.Writer, prefix string, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "drop") {
		return errors.New("usage: schema create|drop -base DSN [-name NAME]")
	}
	fs := flag.NewFlagSet("schema "+args[0], flag.ContinueOnError)
	fs.SetOutput(errOut)
	base := fs.String("base", "", "PostgreSQL DSN of the database (postgres://...)")
	name := fs.String("name", "", "schema to drop")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *base == "" {
		return errors.New("schema: -base is required")
	}
	if args[0] == "drop" {
		return pgschema.Drop(ctx, *base, prefix, *name)
	}
	n, dsn, err := pgschema.Create(ctx, *base, prefix)
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
	_, err = fmt.Fprintln(out, n)
	return err
}
