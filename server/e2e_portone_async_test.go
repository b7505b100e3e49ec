package server_test

import (
	"context"
	"errors"
	"testing"
	"time"

	fakeportone "github.com/paymentctl/paymentctl/fakepg/portone"
	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/payment"
)

// TestPortOneAsyncCancel: a PortOne V2 cancel that an asynchronous PG
// takes as REQUESTED is not reported done. The answer is outcome_unknown
// and the record is unchanged; until the refund is made no other cancel of
// the payment reaches the PG (409 cancel_in_progress), so a client that
// cancels again cannot be refunded twice; the PG's webhook of the refund
// settles it and forwards the event. A REQUESTED cancel that then FAILS
// refunds nothing and frees the payment for a new cancel.
func TestPortOneAsyncCancel(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		ctx := context.Background()
		fake := h.srv.Fakes.PortOne
		src := newSource()
		uid := h.portoneCheckout(src, 20000, fakeportone.PayMethodCard)
		hist := h.register(sdk.VendorPortOne, uid, src, 20000)
		h.drainJobs()
		events := len(h.srv.Inbox.Events())

		cancel := func(amount int64) error {
			_, err := h.api.CancelHistory(ctx, sdk.CancelCreate{Source: src, Password: testPassword, Price: amount, Reason: "async refund"})
			return err
		}
		refund := func() int64 {
			got, err := h.api.History(ctx, hist.ID, testPassword)
			if err != nil {
				t.Fatal(err)
			}
			if got.Refund == nil {
				return 0
			}
			return *got.Refund
		}
		// succeeded is what the PG refunded, and in how many cancels.
		succeeded := func() (int64, int) {
			p, ok := fake.Payment(uid)
			if !ok {
				t.Fatalf("the fake lost payment %s", uid)
			}
			var cs []portone.Cancellation
			switch v := p.(type) {
			case *portone.PaidPayment:
				cs = v.Cancellations
			case *portone.PartialCancelledPayment:
				cs = v.Cancellations
			case *portone.CancelledPayment:
				cs = v.Cancellations
			}
			var sum int64
			n := 0
			for _, c := range cs {
				if c.Status == portone.CancellationSucceeded {
					sum += c.TotalAmount
					n++
				}
			}
			return sum, n
		}

		fake.SetAsyncCancels(true)
		if err := cancel(5000); !errors.Is(err, sdk.ErrOutcomeUnknown) {
			t.Fatalf("a cancel the PG took as REQUESTED = %v, want outcome_unknown", err)
		}
		if r := refund(); r != 0 {
			t.Errorf("refund %d after a REQUESTED cancel, want 0 until it is made", r)
		}
		for _, amount := range []int64{5000, 15000} {
			if err := cancel(amount); !errors.Is(err, sdk.ErrCancelInProgress) {
				t.Errorf("another cancel of %d while a refund is requested = %v, want 409 cancel_in_progress", amount, err)
			}
		}
		// The reconciler finds the refund requested, not made: no drift,
		// nothing sent to the PG, the operation left for later.
		rep, err := h.srv.Payments.Reconcile(ctx, payment.SweepOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range rep.Drifts {
			if d.UID == uid {
				t.Errorf("the reconciler reported %s for a refund still requested", d.Kind)
			}
		}
		if n, err := fake.SettleCancellations(ctx, uid, true); err != nil || n != 1 {
			t.Fatalf("the PG settled %d cancellations (%v), want the one requested: another cancel reached it", n, err)
		}
		deadline := time.Now().Add(eventWaitTimeout)
		for refund() != 5000 {
			if time.Now().After(deadline) {
				t.Fatalf("refund %d %s after the PG made the refund, want 5000", refund(), eventWaitTimeout)
			}
			time.Sleep(20 * time.Millisecond)
		}
		h.drainJobs()
		if got := len(h.srv.Inbox.Events()); got <= events {
			t.Errorf("no event forwarded for the refund made (%d events before, %d after)", events, got)
		}

		// Requested, then failed at the PG: nothing refunded; the next
		// cancel finds it failed and is made.
		if err := cancel(3000); !errors.Is(err, sdk.ErrOutcomeUnknown) {
			t.Fatalf("second REQUESTED cancel = %v, want outcome_unknown", err)
		}
		if _, err := fake.SettleCancellations(ctx, uid, false); err != nil {
			t.Fatal(err)
		}
		fake.SetAsyncCancels(false)
		if err := cancel(3000); err != nil {
			t.Fatalf("a cancel after the requested one failed at the PG: %v", err)
		}
		if r := refund(); r != 8000 {
			t.Errorf("refund %d, want 8000", r)
		}
		if sum, n := succeeded(); sum != 8000 || n != 2 {
			t.Errorf("the PG refunded %d in %d cancels, want 8000 in 2", sum, n)
		}
	})
}
