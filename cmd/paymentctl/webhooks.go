package main

// `paymentctl webhooks` and `webhooks retry` ask the running server
// through its updater agent, or read the database directly when none runs:
// see operator.go for the two paths and why.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/ops/updater"
	"github.com/paymentctl/paymentctl/server"
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
	// Wait bounds the wait for the retried attempt (through a running
	// server only).
	Wait time.Duration
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
retries, or a permanent failure), newest first. Given-up deliveries are kept
30 days.

The running server of <mode> is asked through its updater agent, like
'paymentctl update' (local: 127.0.0.1 and the updater port; dev and real:
PAYMENT_DEV_MASTER / PAYMENT_REAL_MASTER; requests signed with a key derived
from PAYMENT_SYSTEM_PASSWORD). When no server runs there, the list is read from
the mode's database (the configuration's, with PAYMENT_MODE=<mode>) directly.
stderr says which path answered.

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
	cmd := &cobra.Command{
		Use:   "retry <mode> <event-id>",
		Short: "Re-send a webhook delivery now",
		Long: `Make the delivery of the event <event-id> of <mode> due now, whatever its
state: failing (its scheduled attempt is brought forward), given up (one more
attempt; if it fails, it is given up again), or even delivered (the service
gets it once more, with the same webhook-id, so a receiver that deduplicates
ignores it). A delivery being attempted at this moment is left alone (exit 75:
try again in a few seconds).

The running server of <mode> is asked through its updater agent, like
'paymentctl update' (local: 127.0.0.1 and the updater port; dev and real:
PAYMENT_DEV_MASTER / PAYMENT_REAL_MASTER; requests signed with a key derived
from PAYMENT_SYSTEM_PASSWORD): it sends the event at once and this command
waits up to --wait for the attempt and prints how it went (delivered, failed
again, given up again); the exit status is 0 whatever the service answered.
When no server runs there, the delivery is made due in the mode's database
directly, and the first server to start sends it. stderr says which path
answered.`,
		Example: `  paymentctl webhooks retry real 3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9
  paymentctl webhooks retry local 3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9 --wait 0`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return &usageError{fmt.Errorf("expected a mode and an event id, got %d arguments", len(args))}
			}
			if _, err := uuid.Parse(args[1]); err != nil {
				return &usageError{errors.New("<event-id> must be a webhook event id (a UUID, the webhook-id the service saw)")}
			}
			return modeArg(cmd, args[:1])
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Wait < 0 || opts.Wait > updater.MaxRetryWait {
				return &usageError{fmt.Errorf("--wait must be between 0s and %s", updater.MaxRetryWait)}
			}
			cfg, err := loadModeConfig(f, cmd, args[0])
			if err != nil {
				return err
			}
			opts.Config, opts.EventID = cfg, uuid.MustParse(args[1]).String()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runWebhooksRetry(cmd.Context(), opts)
		},
	}
	cmd.Flags().DurationVar(&opts.Wait, "wait", 10*time.Second, "through a running server, wait this long for the attempt (0: don't)")
	return cmd
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

// openApp assembles the server on cfg's database without serving or
// starting its workers; in local mode it uses the fakes of a running
// server, never its own.
func openApp(ctx context.Context, io *iostreams, cfg *config.Config) (*server.App, error) {
	gin.SetMode(gin.ReleaseMode)
	return server.NewApp(ctx, server.Options{
		Config: cfg, Logger: quietLogger(io, cfg), RunningFakes: true,
	})
}

// runWebhooks prints the failing and given-up deliveries.
func runWebhooks(ctx context.Context, opts *webhooksOptions) error {
	var list []updater.Delivery
	err := operate(ctx, opts.IO, opts.Config, func(op updater.Operator) (err error) {
		list, err = op.FailingDeliveries(ctx, opts.Limit)
		return err
	})
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, struct {
			Deliveries []updater.Delivery `json:"deliveries"`
		}{list})
	}
	printDeliveries(opts.IO.Out, list)
	return nil
}

// printDeliveries writes the deliveries as a table.
func printDeliveries(w io.Writer, list []updater.Delivery) {
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

// runWebhooksRetry makes one event's delivery due now and, through a
// running server, waits up to --wait for the attempt.
func runWebhooksRetry(ctx context.Context, opts *webhooksOptions) error {
	var res updater.RetryResult
	err := operate(ctx, opts.IO, opts.Config, func(op updater.Operator) (err error) {
		res, err = op.RetryDelivery(ctx, opts.EventID, opts.Wait)
		return err
	})
	switch {
	case errors.Is(err, updater.ErrDeliveryRunning):
		return &deliveryBusyError{fmt.Errorf("the delivery of event %s is running now; try again in a few seconds", opts.EventID)}
	case errors.Is(err, updater.ErrNotFound):
		return fmt.Errorf("no webhook event %s in the %s database (see 'paymentctl webhooks %s')", opts.EventID, opts.Config.Mode, opts.Config.Mode)
	case err != nil:
		return err
	}
	fmt.Fprintf(opts.IO.Out, "event %s: %s\n", opts.EventID, describeRetry(res, opts.Wait))
	return nil
}

// describeRetry says what a retry found and how its attempt went.
func describeRetry(res updater.RetryResult, wait time.Duration) string {
	was := map[string]string{
		"failing":   "was failing",
		"given_up":  "was given up",
		"delivered": "was delivered already; it is sent again",
		"waiting":   "was waiting for its first attempt",
		"none":      "had no job left; a new one was enqueued",
	}[res.Was]
	answer := fmt.Sprintf("HTTP %d", res.LastStatus)
	if res.LastStatus == 0 {
		answer = "no answer: " + res.LastError
	}
	switch res.Outcome {
	case webhook.AttemptDelivered:
		return fmt.Sprintf("re-sent now (%s): delivered (%s)", was, answer)
	case webhook.AttemptFailing:
		return fmt.Sprintf("re-sent now (%s): failed again (%s); the next attempt is scheduled", was, answer)
	case webhook.AttemptGivenUp:
		return fmt.Sprintf("re-sent now (%s): failed again (%s); given up", was, answer)
	}
	if res.Outcome == webhook.AttemptPending {
		return fmt.Sprintf("delivery due now (%s); no attempt finished within %s, see 'paymentctl webhooks'", was, wait)
	}
	return fmt.Sprintf("delivery due now (%s); a running server sends it within about a second", was)
}
