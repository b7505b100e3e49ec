// Command abuse is the black-box abuse run of paymentctl (docs/abuse.md):
// it starts a `paymentctl serve` of its own on loopback (local mode, the
// fake PGs in process, SQLite or a PostgreSQL DSN) and attacks it as any
// caller or anyone who can reach the PG webhook routes could, then prints
// a report: requests fuzzed and their status distribution (no 5xx
// allowed), forged webhooks and the PG calls they caused, wrong passwords
// answered 403 before the throttle's 429, connections still held after
// the server's timeouts, and memory before and after.
//
// Usage:
//
//	go run ./scripts/abuse -bin PATH [-database-url DSN] [-requests N] [-hooks N]
//
// -bin is a built paymentctl (scripts/abuse/run.sh builds one). Every
// address it sends to is on loopback; every loop is bounded in count and
// time. It exits 1 when a target is missed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "abuse:", err)
		os.Exit(1)
	}
}

// options are the run's flags.
type options struct {
	bin      string
	dsn      string
	requests int
	hooks    int
	burst    int
}

func run(ctx context.Context, args []string) error {
	var o options
	fs := flag.NewFlagSet("abuse", flag.ContinueOnError)
	fs.StringVar(&o.bin, "bin", "", "the paymentctl binary to run (required)")
	fs.StringVar(&o.dsn, "database-url", "", "database of the server (default: a temporary SQLite file)")
	fs.IntVar(&o.requests, "requests", 3000, "fuzzed requests to send")
	fs.IntVar(&o.hooks, "hooks", 10000, "forged PG webhooks with unknown ids to send")
	fs.IntVar(&o.burst, "burst", 1000, "webhooks for one registered payment to send in a burst")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.bin == "" {
		return fmt.Errorf("-bin is required")
	}
	srv, err := startServer(ctx, o)
	if err != nil {
		return err
	}
	defer srv.stop()
	rep := &report{}
	rep.rssBefore = srv.rss()
	steps := []struct {
		name string
		fn   func(context.Context, *server, *report, options) error
	}{
		{"fuzz", fuzz},
		{"forged webhooks", forgedHooks},
		{"password guessing", guessPasswords},
		{"connections", holdConnections},
		{"unusable bodies", badBodies},
	}
	for _, s := range steps {
		fmt.Fprintf(os.Stderr, "abuse: %s…\n", s.name)
		if err := s.fn(ctx, srv, rep, o); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	rep.rssAfter = srv.rss()
	rep.errorLines = srv.errorLines()
	rep.print(os.Stdout)
	if misses := rep.misses(); len(misses) > 0 {
		for _, m := range misses {
			fmt.Fprintln(os.Stderr, "abuse: missed:", m)
		}
		return fmt.Errorf("%d target(s) missed", len(misses))
	}
	return nil
}
