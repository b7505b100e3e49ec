package main

// `paymentctl audit` asks the running server for one history's audit
// trail through its updater agent, or reads it from the database directly
// when none runs (see operator.go); either way the sealed details are
// opened with the server's cancel-history keys.

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/ops/updater"
	"github.com/paymentctl/paymentctl/server/payment"
)

// auditOptions are the inputs of `paymentctl audit`.
type auditOptions struct {
	IO        *iostreams
	Config    *config.Config
	HistoryID string
	JSON      bool
}

// newAuditCmd returns `paymentctl audit`. runF replaces runAudit in tests.
func newAuditCmd(f *factory, runF func(context.Context, *auditOptions) error) *cobra.Command {
	opts := &auditOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "audit <mode> --history ID",
		Short: "Print the audit trail of one payment",
		Long: `Print the money events of one payment (history) of <mode>, oldest first: registered,
refused, cancelled, reconciled (the stored payment brought in line with its PG
by a webhook or the reconciler) and delivery_given_up. Each shows its time, the
service that owns the payment, the PG and store, the amounts (the price, the
refunded total before and after, what the request asked for) and the request
ID of the request that caused it, which the server's log lines carry too.

The running server of <mode> is asked through its updater agent, like
'paymentctl update' (local: 127.0.0.1 and the updater port; dev and real:
PAYMENT_DEV_MASTER / PAYMENT_REAL_MASTER; requests signed with a key derived
from PAYMENT_SYSTEM_PASSWORD). When no server runs there, the trail is read
from the mode's database (the configuration's, with PAYMENT_MODE=<mode>)
directly. stderr says which path answered.

The trail is append-only and its details are sealed at rest; they are opened
with the server's (or, read directly, the configuration's) cancel-history keys. It never holds a record password
or card data. A refused registration, or a Toss capture cancelled because its
registration failed, has no history and so no trail here (the events are in
payment_audit_events all the same).

--json prints {"history_id", "events": [{id, history_id, service, event,
vendor, store_id, request_id, at, details: {vendor_uid, price, refund_before,
refund_after, amount, reason, webhook_id, attempts}}]}.`,
		Example: `  paymentctl audit real --history 3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9
  paymentctl audit local --history 3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9 --json`,
		Args: modeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.HistoryID == "" {
				return &usageError{fmt.Errorf("--history is required: the id of the payment (history) whose trail to print")}
			}
			id, err := uuid.Parse(opts.HistoryID)
			if err != nil {
				return &usageError{fmt.Errorf("--history must be a history id (a UUID)")}
			}
			opts.HistoryID = id.String()
			cfg, err := loadModeConfig(f, cmd, args[0])
			if err != nil {
				return err
			}
			opts.Config = cfg
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runAudit(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.HistoryID, "history", "", "the payment (history) `ID` whose trail to print")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the trail as JSON")
	return cmd
}

// runAudit prints one history's audit trail.
func runAudit(ctx context.Context, opts *auditOptions) error {
	var trail []updater.AuditEntry
	err := operate(ctx, opts.IO, opts.Config, func(op updater.Operator) (err error) {
		trail, err = op.AuditTrail(ctx, opts.HistoryID)
		return err
	})
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, struct {
			HistoryID string               `json:"history_id"`
			Events    []updater.AuditEntry `json:"events"`
		}{opts.HistoryID, trail})
	}
	printAudit(opts.IO.Out, opts.HistoryID, trail)
	return nil
}

// printAudit writes a trail as a table.
func printAudit(w io.Writer, historyID string, trail []updater.AuditEntry) {
	if len(trail) == 0 {
		fmt.Fprintf(w, "no audit events for history %s\n", historyID)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tEVENT\tSERVICE\tVENDOR\tSTORE\tPRICE\tAMOUNT\tREFUNDED\tREQUEST")
	for _, e := range trail {
		d := e.Details
		refunded := fmt.Sprint(d.RefundAfter)
		if d.RefundBefore != d.RefundAfter {
			refunded = fmt.Sprintf("%d -> %d", d.RefundBefore, d.RefundAfter)
		}
		event := e.Event
		if d.Reason != "" {
			event += " (" + d.Reason + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", e.At.UTC().Format(time.RFC3339), event, serviceName(e.Service),
			e.Vendor, orDash(e.StoreID), d.Price, d.Amount, refunded, orDash(e.RequestID))
	}
	tw.Flush()
}

// serviceName shows the default service as "(default)".
func serviceName(name string) string {
	if name == payment.DefaultService {
		return "(default)"
	}
	return name
}
