package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"
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
// retryable or running, and none was added for quiet; it fails after
// timeout.
func drain(ctx context.Context, dsn string, timeout time.Duration) error {
	r, err := settle(ctx, dsn, "", timeout)
	if err != nil {
		return err
	}
	if !r.settled {
		return fmt.Errorf("%d webhook jobs still pending after %s", r.pending, timeout)
	}
	return nil
}

// settleReport is what settle saw.
type settleReport struct {
	settled bool          // quiet was reached within the timeout
	waited  time.Duration // how long it polled
	pending int64         // jobs not finished at the last poll
	jobs    int64         // jobs added while it polled
	hooks   int64         // PG webhook requests served while it polled (-1: not watched)
}

// settle polls until the server has no webhook work left: no job of
// River's table available, scheduled, retryable or running, none added,
// and, with metricsURL (the server's /metrics), no PG webhook request
// served, for quiet. It gives up after timeout and reports it (settled
// false); an error means the job table or the metrics could not be read.
// The fakes send their webhooks from a queue of their own, which lags
// behind the payments on a busy machine; a webhook the server ignores
// (a status no service sees) adds no job, so the requests are watched
// too.
func settle(ctx context.Context, dsn, metricsURL string, timeout time.Duration) (settleReport, error) {
	if dsn == "" {
		return settleReport{}, errors.New("drain: -dsn is required")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return settleReport{}, err
	}
	defer db.Close()
	start := time.Now()
	deadline := start.Add(timeout)
	r := settleReport{hooks: -1}
	var firstJob, lastJob, firstHooks, lastHooks int64 = -1, -1, -1, -1
	var since time.Time
	for {
		var n, newest int64
		err := db.QueryRowContext(ctx,
			"SELECT count(*) FILTER (WHERE state NOT IN ('completed', 'discarded', 'cancelled')), coalesce(max(id), 0) FROM river_job").Scan(&n, &newest)
		if err != nil {
			return r, fmt.Errorf("count webhook jobs: %w", err)
		}
		hooks := int64(-1)
		if metricsURL != "" {
			if hooks, err = pgWebhookRequests(ctx, metricsURL); err != nil {
				return r, err
			}
		}
		if firstJob < 0 {
			firstJob, firstHooks = newest, hooks
		}
		r.pending, r.jobs, r.waited = n, newest-firstJob, time.Since(start)
		if metricsURL != "" {
			r.hooks = hooks - firstHooks
		}
		if n > 0 || newest != lastJob || hooks != lastHooks {
			lastJob, lastHooks, since = newest, hooks, time.Now()
		} else if time.Since(since) >= quiet {
			r.settled = true
			return r, nil
		}
		if time.Now().After(deadline) {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// pgWebhookRequests returns how many PG webhook requests (routes
// /payments/webhooks/...) the server has served, from its /metrics.
func pgWebhookRequests(ctx context.Context, metricsURL string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("read the server's metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("read the server's metrics: %s", resp.Status)
	}
	var total int64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "paymentctl_http_request_duration_seconds_count{") || !strings.Contains(line, `route="/payments/webhooks/`) {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("read the server's metrics: %q: %w", line, err)
		}
		total += int64(v)
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read the server's metrics: %w", err)
	}
	return total, nil
}
