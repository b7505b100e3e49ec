// Command load is the helper of the load runs (scripts/load/run.sh,
// growth.sh, startup.sh): it creates a database schema for a run, makes
// payments at the fake PGs and writes the pre-encrypted request bodies
// wrk replays, waits for the server's webhook queue to drain, measures
// the webhook latency from a deposit at the fake PG to the event's
// arrival at a service's receiver and the drain rate of a backlog of
// deliveries, fills the database to a size with COPY, and serves the
// machine's baselines (a bare gin server; the pgbench insert script),
// and times a server's start to its first ready answer.
// Profiles come from the server itself (`paymentctl serve --pprof-addr`).
//
// Usage (run.sh calls these; every address is loopback):
//
//	go run ./scripts/load ports N
//	go run ./scripts/load schema create|drop -base DSN [-name NAME]
//	go run ./scripts/load prepare -api URL -iamport URL -toss URL -dir DIR -n N -dsn DSN
//	go run ./scripts/load drain -dsn DSN
//	go run ./scripts/load webhook -api URL -iamport URL -n N -dsn DSN
//	go run ./scripts/load backlog -api URL -iamport URL -dsn DSN -n N
//	go run ./scripts/load fill -api URL -iamport URL -dsn DSN -to N -dir DIR
//	go run ./scripts/load gin -addr ADDR
//	go run ./scripts/load ready -url URL -since UNIX_NS [-pid PID]
//	go run ./scripts/load insert-script -schema S -out DIR
//
// The connection key and IV come from the environment as for the server
// (PAYMENT_CONNECTION_ENCRYPTION_KEY / _IV, defaults otherwise).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/paymentctl/paymentctl/scripts/loadsetup"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// run dispatches a subcommand.
func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: load ports|schema|prepare|drain|webhook|backlog|fill|gin|ready|insert-script ...")
	}
	switch args[0] {
	case "ports":
		return loadsetup.Ports(os.Stdout, args[1:])
	case "schema":
		return loadsetup.Schema(ctx, os.Stdout, os.Stderr, "load_", args[1:])
	case "prepare":
		return prepare(ctx, args[1:])
	case "drain":
		return drainCmd(ctx, args[1:])
	case "webhook":
		return webhookLatency(ctx, args[1:])
	case "backlog":
		return backlog(ctx, args[1:])
	case "fill":
		return fill(ctx, args[1:])
	case "gin":
		return ginPlain(ctx, args[1:])
	case "ready":
		return readyCmd(ctx, args[1:])
	case "insert-script":
		return insertScript(args[1:])
	}
	return fmt.Errorf("unknown subcommand %q", args[0])
}
