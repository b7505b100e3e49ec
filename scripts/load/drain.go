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
// running.
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

// drain polls River's job table until no job is available, scheduled,
// retryable or running.
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
	for {
		var n int
		err := db.QueryRowContext(ctx,
			"SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'discarded', 'cancelled')").Scan(&n)
		if err != nil {
			return fmt.Errorf("count webhook jobs: %w", err)
		}
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d webhook jobs still pending after %s", n, timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
