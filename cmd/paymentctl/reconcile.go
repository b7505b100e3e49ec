package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/gin-gonic/gin"
	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/server/payment"
)

// reconcileOptions are the inputs of `paymentctl reconcile`.
type reconcileOptions struct {
	IO     *iostreams
	Config *config.Config
	DryRun bool
	JSON   bool
}

// newReconcileCmd returns `paymentctl reconcile`. runF replaces runReconcile
// in tests.
func newReconcileCmd(f *factory, runF func(context.Context, *reconcileOptions) error) *cobra.Command {
	opts := &reconcileOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "reconcile <mode>",
		Short: "Re-fetch from the PGs what webhooks missed, now",
		Long: `Run one pass of the reconciler now, against the database of <mode> (the
configuration's, with PAYMENT_MODE=<mode>): payments in a non-final state (a
virtual account waiting for its deposit) and PG operations whose outcome is
unknown (a cancel or a Toss confirm that timed out, or that a crash cut short)
are re-fetched from their PG and applied exactly as a PG webhook would be: the
same lock, the same {previous, current} event forwarded to the service's
webhook_url (by the running server's workers), nothing forwarded when nothing
changed. A Toss payment captured by a registration that failed is cancelled at
the PG once the registration's retry window (10 minutes) has passed.

The server does the same every reconcile.interval (PAYMENT_RECONCILE_INTERVAL,
default 5m) on one instance; this command is for an operator who does not
want to wait. In local mode it uses the fake PGs of the running server (or of
'paymentctl fake') on the configured fake ports.

--dry-run prints what would change and writes nothing (no PG cancel either).
--json prints {checked, errors, drifts: [{kind, history_id, operation_id,
vendor, uid, amount, before, after}]}; kinds: ` + driftKindList() + `.
Card and account data are never printed.`,
		Example: `  # what the fake PGs know that the local server does not
  paymentctl reconcile local --dry-run --json

  # apply it
  paymentctl reconcile local`,
		Args: modeArg,
		Annotations: map[string]string{
			modeArgAnnotation:     modeArgAny,
			configFlagsAnnotation: "true",
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			mode := args[0]
			lookup := f.LookupEnv
			mf := *f
			mf.LookupEnv = func(key string) (string, bool) {
				if key == "PAYMENT_MODE" {
					return mode, true
				}
				return lookup(key)
			}
			cfg, err := mf.loadConfig(cmd)
			if err != nil {
				return err
			}
			opts.Config = cfg
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runReconcile(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what would change; write nothing")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	return cmd
}

// driftKindList lists the drift kinds for the help text.
func driftKindList() string {
	out := ""
	for i, k := range payment.DriftKinds() {
		if i > 0 {
			out += ", "
		}
		out += k
	}
	return out
}

// runReconcile runs one reconciler pass and prints its report.
func runReconcile(ctx context.Context, opts *reconcileOptions) error {
	gin.SetMode(gin.ReleaseMode)
	app, err := server.NewApp(ctx, server.Options{
		Config: opts.Config, Logger: quietLogger(opts.IO, opts.Config), RunningFakes: true,
	})
	if err != nil {
		return err
	}
	defer app.Close(context.WithoutCancel(ctx))
	rep, err := app.Payments.Reconcile(ctx, payment.SweepOptions{DryRun: opts.DryRun})
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, rep)
	}
	printReconcile(opts.IO.Out, rep, opts.DryRun)
	return nil
}

// printReconcile writes a report as a table.
func printReconcile(w io.Writer, rep *payment.SweepReport, dryRun bool) {
	verb := "applied"
	if dryRun {
		verb = "would apply (dry run)"
	}
	fmt.Fprintf(w, "checked %d, %d drift(s) %s, %d error(s)\n", rep.Checked, len(rep.Drifts), verb, rep.Errors)
	if len(rep.Drifts) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tVENDOR\tUID\tHISTORY\tAMOUNT\tBEFORE\tAFTER")
	for _, d := range rep.Drifts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.Kind, d.Vendor, d.UID, d.HistoryID, d.Amount, state(d.Before), state(d.After))
	}
	tw.Flush()
}

// state renders a state summary in a few words.
func state(s *payment.StateSummary) string {
	switch {
	case s == nil:
		return "-"
	case s.Cancelled && s.Refund >= s.Price:
		return "cancelled"
	case s.Refund > 0:
		return fmt.Sprintf("paid, %d refunded", s.Refund)
	case s.Paid:
		return "paid"
	case s.Cancelled:
		return "cancelled"
	}
	return "unpaid"
}
