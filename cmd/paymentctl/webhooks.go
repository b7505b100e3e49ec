package main

// `paymentctl webhooks` works on the database directly, as `reconcile`
// and `schema` do, rather than through the running server (an admin route
// or the updater's signed channel):
//
//   - It works when no server runs, which is when failed deliveries pile
//     up and an operator looks at them; a retried delivery is then sent as
//     soon as a server starts.
//   - It opens nothing new to the network: no admin route to guard, no
//     credential beyond the database access the operator already holds,
//     which is more than a route would grant.
//   - The state is the database's anyway: deliveries are River jobs in
//     river_job, and every instance's workers take a job made due there
//     (woken by a notification in the same transaction, or within their
//     fetch poll, a second).
//
// It lists metadata only (ids, the webhook_url's host, counts, statuses,
// times), never bodies, and no command or route lists payments.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/server/webhook"
)

// webhooksOptions are the inputs of `paymentctl webhooks` and `paymentctl
// webhooks retry`.
type webhooksOptions struct {
	IO     *iostreams
	Config *config.Config
	// Limit bounds the listing.
	Limit int
	JSON  bool
	// EventID is the event to retry.
	EventID string
}

// newWebhooksCmd returns `paymentctl webhooks` and its `retry`
// subcommand. runF and retryF replace runWebhooks and runWebhooksRetry in
// tests.
func newWebhooksCmd(f *factory, runF, retryF func(context.Context, *webhooksOptions) error) *cobra.Command {
	opts := &webhooksOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "webhooks <mode>",
		Short: "List webhook deliveries that are failing or given up",
		Long: `List the deliveries of events to the services' webhook_url that are failing
(their next attempt is scheduled) or were given up (after three days of
retries, or a permanent failure), newest first, from the database of <mode>
(the configuration's, with PAYMENT_MODE=<mode>). Given-up deliveries are kept
30 days.

Each line is metadata only: the event id (the webhook-id the service sees), the
payment (history id), the host of its webhook_url (never its path or query),
the attempts made, the last attempt's HTTP status (or "no answer", and why),
and when the next attempt is due. Bodies are never printed.

--json prints {"deliveries": [{event_id, history_id, host, state, attempts,
last_status, last_error, last_attempt_at, next_attempt_at}]}; state is
"failing" or "given_up".

Re-send one now with 'paymentctl webhooks retry <mode> <event-id>'.`,
		Example: `  # what the local services did not accept
  paymentctl webhooks local

  # for a script
  paymentctl webhooks real --json --limit 500`,
		Args: modeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadModeConfig(f, cmd, args[0])
			if err != nil {
				return err
			}
			opts.Config = cfg
			if opts.Limit < 1 || opts.Limit > webhook.MaxFailing {
				return &usageError{fmt.Errorf("--limit must be between 1 and %d, got %d", webhook.MaxFailing, opts.Limit)}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runWebhooks(cmd.Context(), opts)
		},
	}
	cmd.Flags().IntVar(&opts.Limit, "limit", 100, "list at most this many deliveries")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the list as JSON")
	cmd.AddCommand(newWebhooksRetryCmd(f, retryF))
	return cmd
}

// newWebhooksRetryCmd returns `paymentctl webhooks retry`.
func newWebhooksRetryCmd(f *factory, runF func(context.Context, *webhooksOptions) error) *cobra.Command {
	opts := &webhooksOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "retry <mode> <event-id>",
		Short: "Re-send a webhook delivery now",
		Long: `Make the delivery of the event <event-id> due now, in the database of <mode>,
whatever its state: failing (its scheduled attempt is brought forward), given
up (one more attempt; if it fails, it is given up again), or even delivered
(the service gets it once more, with the same webhook-id, so a receiver that
deduplicates ignores it). The workers of the running server (every instance)
send it within about a second; with no server running, it is sent when one
starts. A delivery being attempted at this moment is left alone (exit 75:
try again in a few seconds).`,
		Example: `  paymentctl webhooks retry real 3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return &usageError{fmt.Errorf("expected a mode and an event id, got %d arguments", len(args))}
			}
			return modeArg(cmd, args[:1])
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadModeConfig(f, cmd, args[0])
			if err != nil {
				return err
			}
			opts.Config, opts.EventID = cfg, args[1]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runWebhooksRetry(cmd.Context(), opts)
		},
	}
}

// loadModeConfig loads the configuration of cmd with PAYMENT_MODE=mode.
func loadModeConfig(f *factory, cmd *cobra.Command, mode string) (*config.Config, error) {
	lookup := f.LookupEnv
	mf := *f
	mf.LookupEnv = func(key string) (string, bool) {
		if key == "PAYMENT_MODE" {
			return mode, true
		}
		return lookup(key)
	}
	return mf.loadConfig(cmd)
}

// openApp assembles the server on the configuration's database without
// serving or starting its workers; in local mode it uses the fakes of a
// running server, never its own.
func openApp(ctx context.Context, opts *webhooksOptions) (*server.App, error) {
	gin.SetMode(gin.ReleaseMode)
	return server.NewApp(ctx, server.Options{
		Config: opts.Config, Logger: quietLogger(opts.IO, opts.Config), RunningFakes: true,
	})
}

// runWebhooks prints the failing and given-up deliveries.
func runWebhooks(ctx context.Context, opts *webhooksOptions) error {
	app, err := openApp(ctx, opts)
	if err != nil {
		return err
	}
	defer app.Close(context.WithoutCancel(ctx))
	list, err := app.FailingDeliveries(ctx, opts.Limit)
	if err != nil {
		return err
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Deliveries []server.Delivery `json:"deliveries"`
		}{list})
	}
	printDeliveries(opts.IO.Out, list)
	return nil
}

// printDeliveries writes the deliveries as a table.
func printDeliveries(w io.Writer, list []server.Delivery) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no failing or given-up deliveries")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT\tHISTORY\tHOST\tSTATE\tATTEMPTS\tLAST STATUS\tLAST ATTEMPT\tNEXT ATTEMPT")
	for _, d := range list {
		last := fmt.Sprint(d.LastStatus)
		if d.LastStatus == 0 {
			last = "no answer"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", d.EventID, orDash(d.HistoryID), orDash(d.Host), d.State, d.Attempts, last,
			timeOrDash(d.LastAttemptAt), timeOrDash(d.NextAttemptAt))
	}
	tw.Flush()
	for _, d := range list {
		if d.LastError != "" {
			fmt.Fprintf(w, "%s: %s\n", d.EventID, d.LastError)
		}
	}
}

// timeOrDash formats t in UTC, or "-" when it is nil.
func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// deliveryBusyError is a retry refused because the delivery runs now.
type deliveryBusyError struct{ err error }

func (e *deliveryBusyError) Error() string { return e.err.Error() }
func (e *deliveryBusyError) Unwrap() error { return e.err }

// ExitCode is exitBusy: try again later.
func (e *deliveryBusyError) ExitCode() exitCode { return exitBusy }

// runWebhooksRetry makes one event's delivery due now.
func runWebhooksRetry(ctx context.Context, opts *webhooksOptions) error {
	app, err := openApp(ctx, opts)
	if err != nil {
		return err
	}
	defer app.Close(context.WithoutCancel(ctx))
	out, err := app.RetryDelivery(ctx, opts.EventID)
	switch {
	case errors.Is(err, webhook.ErrDeliveryRunning):
		return &deliveryBusyError{fmt.Errorf("%w; try again in a few seconds", err)}
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("no webhook event %s in the %s database (see 'paymentctl webhooks %s')", opts.EventID, opts.Config.Mode, opts.Config.Mode)
	case err != nil:
		return err
	}
	was := map[string]string{
		"failing":   "was failing",
		"given_up":  "was given up",
		"delivered": "was delivered already; it is sent again",
		"waiting":   "was waiting for its first attempt",
		"none":      "had no job left; a new one was enqueued",
	}[out.Was]
	fmt.Fprintf(opts.IO.Out, "event %s: delivery due now (%s); a running server sends it within about a second\n", opts.EventID, was)
	return nil
}
