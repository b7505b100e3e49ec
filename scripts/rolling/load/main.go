// Command load is the Go half of the rolling-update run
// (scripts/rolling/run.sh, docs/rolling.md). It prepares the shared
// PostgreSQL schema, waits until the updater master knows every instance,
// and runs the load that must see no failed request while
// `paymentctl update local` rolls the instances:
//
//   - encrypted reads, PATCH /payments/histories/:id, of payments it
//     registered beforehand through the SDK, checked field by field;
//   - registrations, POST /payments/histories, of card payments it makes at
//     the fake PGs while loading, checked against what it sent;
//   - a probe of every instance's GET /monitors/system, which records the
//     commit and process each instance serves and so the handoffs.
//
// The workers are spread evenly over the instances, each worker pinned to
// one, half of them on keep-alive connections and half on a new connection
// per request. Nothing
// is retried: the requests carry no Idempotency-Key and no GetBody, PATCH
// and POST are not replayable for Go's transport anyway, and a trace counts
// the connections each request took, so a retry would show up as a failure
// of its own class. Failures are counted by class: refused, reset, eof,
// closed-idle, timeout, other transport errors, non-2xx status, wrong body,
// retried.
//
// Usage (run.sh calls these; every address is loopback):
//
//	go run ./scripts/rolling/load ports N
//	go run ./scripts/rolling/load schema create|drop -base DSN [-name NAME]
//	go run ./scripts/rolling/load members -master ADDR -want N
//	go run ./scripts/rolling/load run -api URL,URL,URL -iamport URL -toss URL \
//	    -phases FILE -out DIR [-rate 1500] [-workers 12] [-register-rate 12]
//
// run loads until SIGINT or SIGTERM (or -max), then reads the phases file,
// in which the driver marks each update ("<unix-ns> begin <label>" and
// "<unix-ns> end <label> <outcome>"), and writes report.md and summary.json
// into -out: totals and failures per class, latency percentiles during and
// outside the updates and around the handoffs, and one line per update. It
// exits with status 1 when any request failed.
//
// The connection key and IV and the system password come from the
// environment as for the server (PAYMENT_CONNECTION_ENCRYPTION_KEY / _IV,
// PAYMENT_SYSTEM_PASSWORD; defaults otherwise).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/ops/updater"
	"github.com/paymentctl/paymentctl/scripts/loadsetup"
)

// errFailures is returned by run when requests failed; the report says
// which.
var errFailures = errors.New("requests failed")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := dispatch(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// dispatch runs a subcommand.
func dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: load ports|schema|members|run ...")
	}
	switch args[0] {
	case "ports":
		return loadsetup.Ports(os.Stdout, args[1:])
	case "schema":
		return loadsetup.Schema(ctx, os.Stdout, os.Stderr, "rolling_", args[1:])
	case "members":
		return members(ctx, args[1:])
	case "run":
		return run(ctx, args[1:])
	}
	return fmt.Errorf("unknown subcommand %q", args[0])
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	return fs
}

// loadConfig reads the configuration the servers read, from the
// environment.
func loadConfig() (*config.Config, error) {
	return config.Load(config.LoadOptions{LookupEnv: os.LookupEnv})
}

// members waits until the updater master at -master lists -want
// instances, then prints them.
func members(ctx context.Context, args []string) error {
	fs := newFlagSet("members")
	master := fs.String("master", "", "host:port of the master's updater agent")
	want := fs.Int("want", 1, "number of instances to wait for, the master included")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	key, err := updater.DeriveKey(cfg.System.Password.Reveal())
	if err != nil {
		return err
	}
	client, err := updater.NewClient(*master, key, updater.ClientOptions{})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	for {
		ms, err := client.Members(ctx)
		if err == nil && len(ms) >= *want {
			for _, m := range ms {
				role := "slave"
				if m.Master {
					role = "master"
				}
				fmt.Printf("%-6s %-22s agent %-16s pid %-7d commit %s\n", role, m.Name, m.Agent, m.PID, orUnknown(m.Commit))
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("members: %d of %d instances registered within %s (last error: %v)", len(ms), *want, *timeout, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
