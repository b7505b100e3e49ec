package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// drainCmd waits until the server's webhook queue has nothing waiting or
// running and no job was added for a while (quiet).
func drainCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("drain", flag.ContinueOnError)
	dsn := fs.String("dsn", "", "the server's PostgreSQL DSN")
	timeout := fs.Duration("timeout", time.Minute, "give up after")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	if err := drain(ctx, *dsn, *timeout); err != nil {
		return err
	}
	fmt.Printf("drained in %.1fs\n", time.Since(start).Seconds())
	return nil
}

// quiet is how long no job may be added for the queue to count as
// drained: the fakes deliver their webhooks from a queue of their own,
// which on a busy machine lags behind the payments, and a webhook that
// arrives after the drain becomes a job in the next measured phase.
const quiet = 2 * time.Second

// drain polls River's job table until no job is available, scheduled,
// retryable or running, and none was added for quiet.
func drain(ctx context.Context, dsn string, timeout time.Duration) error {
	if dsn == "" {
		return errors.New("drain: -dsn is required")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last int64 = -1
	var since time.Time
	for {
		var n, newest int64
		err := db.QueryRowContext(ctx,
			"SELECT count(*) FILTER (WHERE state NOT IN ('completed', 'discarded', 'cancelled')), coalesce(max(id), 0) FROM river_job").Scan(&n, &newest)
		if err != nil {
			return fmt.Errorf("count webhook jobs: %w", err)
		}
		if n > 0 || newest != last {
			last, since = newest, time.Now()
		} else if time.Since(since) >= quiet {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d webhook jobs still pending after %s", n, timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
