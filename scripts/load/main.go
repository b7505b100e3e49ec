// Command load is the helper of the load run (scripts/load/run.sh): it
// creates a database schema for the run, makes payments at the fake PGs
// and writes the pre-encrypted request bodies wrk replays, waits for the
// server's webhook queue to drain, and measures the webhook latency from a
// deposit at the fake PG to the event's arrival at a service's receiver.
// Profiles come from the server itself (`paymentctl serve --pprof-addr`).
//
// Usage (run.sh calls these; every address is loopback):
//
//	go run ./scripts/load ports N
//	go run ./scripts/load schema create|drop -base DSN [-name NAME]
//	go run ./scripts/load prepare -api URL -iamport URL -toss URL -dir DIR -n N -dsn DSN
//	go run ./scripts/load drain -dsn DSN
//	go run ./scripts/load webhook -api URL -iamport URL -n N -dsn DSN
//
// The connection key and IV come from the environment as for the server
// (PAYMENT_CONNECTION_ENCRYPTION_KEY / _IV, defaults otherwise).
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
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
		return errors.New("usage: load ports|schema|prepare|drain|webhook ...")
	}
	switch args[0] {
	case "ports":
		return ports(args[1:])
	case "schema":
		return schema(ctx, args[1:])
	case "prepare":
		return prepare(ctx, args[1:])
	case "drain":
		return drainCmd(ctx, args[1:])
	case "webhook":
		return webhookLatency(ctx, args[1:])
	}
	return fmt.Errorf("unknown subcommand %q", args[0])
}

// ports prints n free loopback TCP ports, one per line. They are held
// until all are chosen, so they differ from one another.
func ports(args []string) error {
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
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	}
	return nil
}
