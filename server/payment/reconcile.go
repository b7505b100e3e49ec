package payment

import (
	"context"
	"errors"
	"time"

	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/store"
)

// errDryRun rolls back a transaction that only looked.
var errDryRun = errors.New("dry run")

// Drift kinds, the values of Drift.Kind and of the reconciler's metric
// label.
const (
	// DriftState: the PG's payment differs from the stored one (a deposit,
	// a cancel, an expiry whose webhook never came).
	DriftState = "state"
	// DriftRefundHappened / DriftRefundNotHappened: a cancel of unknown
	// outcome was found to have happened, or not.
	DriftRefundHappened    = "refund_happened"
	DriftRefundNotHappened = "refund_not_happened"
	// DriftCaptureRecorded: a confirm of unknown outcome is recorded by a
	// registration after all.
	DriftCaptureRecorded = "capture_recorded"
	// DriftCaptureNotMade: a confirm of unknown outcome did not capture.
	DriftCaptureNotMade = "capture_not_made"
	// DriftCaptureCancelled: a capture no registration recorded was
	// cancelled at the PG (with DryRun: would be).
	DriftCaptureCancelled = "capture_cancelled"
)

// DriftKinds lists the drift kinds.
func DriftKinds() []string {
	return []string{DriftState, DriftRefundHappened, DriftRefundNotHappened, DriftCaptureRecorded, DriftCaptureNotMade, DriftCaptureCancelled}
}

// Change is a history's state before and after a PG state was applied.
type Change struct {
	HistoryID string
	Previous  *sdk.History
	Current   *sdk.History
}

// Drift is one difference the reconciler found between paymentctl and a
// PG, and what it did about it.
type Drift struct {
	Kind        string `json:"kind"`
	HistoryID   string `json:"history_id,omitempty"`
	OperationID string `json:"operation_id,omitempty"`
	Vendor      string `json:"vendor"`
	UID         string `json:"uid"`
	// Amount is the operation's amount, or the refund after the change.
	Amount int64 `json:"amount,omitempty"`
	// Before and After describe a state drift: paid, refund, cancelled.
	Before *StateSummary `json:"before,omitempty"`
	After  *StateSummary `json:"after,omitempty"`
}

// StateSummary is what a drift report shows of a history: no card or
// account data.
type StateSummary struct {
	Paid      bool  `json:"paid"`
	Price     int64 `json:"price"`
	Refund    int64 `json:"refund"`
	Cancelled bool  `json:"cancelled"`
}

func summary(h *sdk.History) *StateSummary {
	if h == nil {
		return nil
	}
	out := &StateSummary{Paid: h.PaidAt != nil, Price: h.Price, Cancelled: h.CancelledAt != nil}
	if h.Refund != nil {
		out.Refund = *h.Refund
	}
	return out
}

// SweepOptions tune one reconciler pass.
type SweepOptions struct {
	// DryRun reports what would change and writes nothing (no PG cancel
	// either).
	DryRun bool
	// Interval is the sweep period: a non-final payment is re-fetched at
	// most once per max(Interval, a tenth of its age), and at least every
	// six hours. Zero checks every non-final payment now.
	Interval time.Duration
	// CompensateAfter is how long a confirm of unknown outcome waits for
	// the registration's retry before a capture no history records is
	// cancelled at the PG. Zero means store.IdempotencyLease.
	CompensateAfter time.Duration
	// Limit bounds the payments and the operations looked at in one pass;
	// zero means 500 each.
	Limit int
}

// SweepReport is what one pass found.
type SweepReport struct {
	// Checked counts the payments and operations re-fetched.
	Checked int     `json:"checked"`
	Drifts  []Drift `json:"drifts"`
	// Errors counts records that could not be checked (the PG failing);
	// they are retried by the next pass.
	Errors int `json:"errors"`
}

// maxRecheck is the longest a non-final payment goes unchecked.
const maxRecheck = 6 * time.Hour

// SweepObserver is told what a pass did; the metrics implement it.
type SweepObserver interface {
	Checked(kind string)
	Drift(kind string)
}

// SetSweepObserver sets who hears of the reconciler's checks and drifts;
// call it once, before serving.
func (s *Service) SetSweepObserver(o SweepObserver) { s.observer = o }

// Reconciler adapts the service to the job queue's Sweeper with fixed
// options.
type Reconciler struct {
	Service *Service
	Options SweepOptions
}

// Sweep runs one pass (webhook.Sweeper).
func (r Reconciler) Sweep(ctx context.Context) error {
	rep, err := r.Service.Reconcile(ctx, r.Options)
	if rep != nil && len(rep.Drifts) > 0 {
		r.Service.log.Info("reconciler applied drifts", "count", len(rep.Drifts), "checked", rep.Checked)
	}
	return err
}

// Reconcile re-fetches from the PGs what webhooks may have missed and
// applies it exactly as a webhook would (same lock, same event forwarded,
// nothing forwarded when nothing changed): operations whose outcome is
// unknown or that a crash cut short, captures that no registration
// recorded (cancelled at the PG), and payments in a non-final state
// (virtual accounts waiting for their deposit), the latter backing off with
// their age.
func (s *Service) Reconcile(ctx context.Context, opts SweepOptions) (*SweepReport, error) {
	limit := opts.Limit
	if limit <= 0 {
		limit = 500
	}
	if opts.CompensateAfter <= 0 {
		opts.CompensateAfter = store.IdempotencyLease
	}
	rep := &SweepReport{Drifts: []Drift{}}
	ops, err := s.store.DueOperations(ctx, s.now().Add(-OperationLease), limit)
	if err != nil {
		return rep, err
	}
	for _, o := range ops {
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		s.observe("operation", "")
		rep.Checked++
		d, err := s.reconcileOperation(ctx, o, opts)
		if err != nil {
			rep.Errors++
			s.log.WarnContext(ctx, "reconcile an operation", "operation", o.ID, "err", err)
			continue
		}
		if d != nil {
			s.observe("", d.Kind)
			rep.Drifts = append(rep.Drifts, *d)
		}
	}
	open, err := s.store.OpenHistories(ctx, limit)
	if err != nil {
		return rep, err
	}
	now := s.now()
	for _, oh := range open {
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		if !due(oh, now, opts.Interval) {
			continue
		}
		s.observe("history", "")
		rep.Checked++
		h := oh.History
		full, err := s.store.History(ctx, h.ID) // with its cancels
		if err != nil {
			rep.Errors++
			continue
		}
		change, err := s.refresh(ctx, full, nil, opts.DryRun)
		if err != nil {
			rep.Errors++
			s.log.WarnContext(ctx, "reconcile a payment", "history", h.ID, "err", err)
			continue
		}
		if !opts.DryRun {
			if err := s.store.MarkReconciled(ctx, h.ID, now); err != nil {
				return rep, err
			}
		}
		if change != nil {
			s.observe("", DriftState)
			d := Drift{Kind: DriftState, HistoryID: h.ID, Vendor: h.Vendor.Code, UID: h.Vendor.UID,
				Before: summary(change.Previous), After: summary(change.Current)}
			rep.Drifts = append(rep.Drifts, d)
			if !opts.DryRun {
				s.log.InfoContext(ctx, "reconciler applied a state the PG's webhook did not bring", "history", h.ID, "vendor", h.Vendor.Code)
			}
		}
	}
	return rep, nil
}

// due reports whether a non-final payment is due for a re-fetch: never
// checked, or last checked longer ago than max(interval, age/10), capped at
// maxRecheck.
func due(h store.OpenHistory, now time.Time, interval time.Duration) bool {
	if h.ReconciledAt == nil || interval <= 0 {
		return true
	}
	wait := min(max(interval, now.Sub(h.CreatedAt)/10), maxRecheck)
	return now.Sub(*h.ReconciledAt) >= wait
}

// observe tells the observer, if any.
func (s *Service) observe(checked, drift string) {
	if s.observer == nil {
		return
	}
	if checked != "" {
		s.observer.Checked(checked)
	}
	if drift != "" {
		s.observer.Drift(drift)
	}
}

// reconcileOperation settles one due operation.
func (s *Service) reconcileOperation(ctx context.Context, o store.Operation, opts SweepOptions) (*Drift, error) {
	d := &Drift{OperationID: o.ID, HistoryID: o.HistoryID, Vendor: o.Vendor.Code, UID: o.Vendor.UID, Amount: o.Amount}
	if o.Kind == store.OpCancel {
		err := s.store.WithHistoryLocked(ctx, o.HistoryID, func(tx *store.Tx, h *store.History) error {
			_, waiting, err := s.resolveHistoryOps(ctx, tx, h, []store.Operation{o})
			if err != nil {
				return err
			}
			if waiting {
				// The PG lists the refund as requested, not made: no drift
				// yet; a later sweep or the PG's webhook settles it.
				d = nil
				return nil
			}
			after, err := tx.OperationOfID(ctx, o.ID)
			if err != nil {
				return err
			}
			d.Kind = DriftRefundNotHappened
			if after.State == store.OpSucceeded {
				d.Kind = DriftRefundHappened
			}
			if opts.DryRun {
				return errDryRun
			}
			return nil
		})
		if errors.Is(err, errDryRun) {
			err = nil
		}
		return d, err
	}
	// A confirm: recorded by a registration after all?
	if h, err := s.store.HistoryByVendor(ctx, o.Vendor.Code, o.Vendor.UID); err == nil {
		d.Kind, d.HistoryID = DriftCaptureRecorded, h.ID
		if opts.DryRun {
			return d, nil
		}
		return d, s.store.UpdateOperation(ctx, o.ID, store.OperationUpdate{State: store.OpSucceeded, HistoryID: h.ID})
	} else if !isNotFound(err) {
		return nil, err
	}
	if o.State != store.OpCompensate {
		if s.now().Sub(o.UpdatedAt) < opts.CompensateAfter {
			return nil, nil // the registration's retry may still come
		}
		pg, err := s.tossOf(o.Vendor)
		if err != nil {
			return nil, err
		}
		p, err := pg.GetPayment(ctx, o.Vendor.UID)
		if err != nil {
			return nil, err
		}
		switch p.Status {
		case toss.StatusReady, toss.StatusInProgress, toss.StatusAborted, toss.StatusExpired, toss.StatusCanceled:
			// Nothing captured, or nothing left to cancel.
			d.Kind = DriftCaptureNotMade
			if opts.DryRun {
				return d, nil
			}
			return d, s.store.UpdateOperation(ctx, o.ID, store.OperationUpdate{State: store.OpFailed})
		}
		if !opts.DryRun {
			if err := s.store.UpdateOperation(ctx, o.ID, store.OperationUpdate{State: store.OpCompensate, Error: "captured, no registration recorded it"}); err != nil {
				return nil, err
			}
		}
	}
	d.Kind = DriftCaptureCancelled
	if opts.DryRun {
		return d, nil
	}
	if _, err := s.cancelCapture(ctx, &o); err != nil {
		return nil, err
	}
	return d, nil
}
