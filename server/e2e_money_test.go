package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/fakepg/fault"
	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/migrations"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/server/payment"
	"github.com/paymentctl/paymentctl/server/store"
)

// pgTimeout is the PG clients' timeout in the money-safety tests; the
// fakes' injected latency is longer, so the PG acts and answers late.
const pgTimeout = time.Second

// cancelRoutes are the fakes' cancel routes.
var cancelRoutes = map[sdk.VendorCode]fault.Route{
	sdk.VendorIamport: {Method: "POST", Path: "/payments/cancel"},
	sdk.VendorToss:    {Method: "POST", Path: "/v1/payments/*/cancel"},
	sdk.VendorPortOne: {Method: "POST", Path: "/payments/*/cancel"},
}

// pgRefund returns what the fake PG has refunded of a payment, and in how
// many cancels.
func (h *harness) pgRefund(vendor sdk.VendorCode, uid string) (int64, int) {
	h.t.Helper()
	ctx := context.Background()
	switch vendor {
	case sdk.VendorIamport:
		p, err := h.iamport.Payment(ctx, uid)
		if err != nil {
			h.t.Fatal(err)
		}
		return int64(p.CancelAmount), len(p.CancelHistory)
	case sdk.VendorPortOne:
		p, err := h.portone.GetPayment(ctx, uid)
		if err != nil {
			h.t.Fatal(err)
		}
		var n int
		switch v := p.(type) {
		case *portone.PartialCancelledPayment:
			n = len(v.Cancellations)
		case *portone.CancelledPayment:
			n = len(v.Cancellations)
		}
		return p.Base().Amount.Cancelled, n
	default:
		p, err := h.toss.GetPayment(ctx, uid)
		if err != nil {
			h.t.Fatal(err)
		}
		var sum int64
		for _, c := range p.Cancels {
			sum += c.CancelAmount
		}
		return sum, len(p.Cancels)
	}
}

// TestCancelWithUnknownOutcome: a cancel whose PG answer is late (the PG
// refunded, the client timed out) or lost (the connection dropped after the
// PG acted) answers 504/502 and keeps its Idempotency-Key; the retry finds
// the refund at the PG and answers 200 without refunding again.
func TestCancelWithUnknownOutcome(t *testing.T) {
	faults := []struct {
		name   string
		status int
		set    func(r fault.Route) fault.Faults
	}{
		{"answer late", 504, func(r fault.Route) fault.Faults {
			return fault.Faults{RouteLatency: []fault.RouteLatency{{Route: r, Latency: 3 * pgTimeout}}}
		}},
		{"answer lost", 502, func(r fault.Route) fault.Faults {
			return fault.Faults{DropResponse: []fault.Route{r}}
		}},
	}
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := startWith(t, dsn(t), nil, func(o *server.Options) { o.PGTimeout = pgTimeout })
		ctx := context.Background()
		for _, m := range methods() {
			if m.deposit != nil {
				continue // the cards are enough: the cancel path is the same
			}
			for _, f := range faults {
				t.Run(m.name+"/"+f.name, func(t *testing.T) {
					hist := paid(t, h, m, 10000)
					key := uuid.NewString()
					cancel := sdk.CancelCreate{Source: hist.Source, Password: testPassword, Price: 3000, Reason: "unknown outcome"}

					h.srv.Fakes.SetFaults(f.set(cancelRoutes[m.vendor]))
					_, err := h.api.CancelHistory(ctx, cancel, sdk.WithIdempotencyKey(key))
					h.srv.Fakes.SetFaults(fault.Faults{})
					var se *sdk.Error
					if !errors.As(err, &se) || se.Status != f.status || !strings.Contains(se.Message, "same Idempotency-Key") {
						t.Fatalf("cancel with the PG's answer %s = %v, want %d saying to retry with the same key", f.name, err, f.status)
					}
					if refund, _ := h.pgRefund(m.vendor, hist.Vendor.UID); refund != 3000 {
						t.Fatalf("the fake refunded %d, want 3000 (the fault must let the PG act)", refund)
					}

					got, err := h.api.CancelHistory(ctx, cancel, sdk.WithIdempotencyKey(key))
					if err != nil {
						t.Fatalf("retry with the same key: %v", err)
					}
					if got.Refund == nil || *got.Refund != 3000 || len(got.Cancels) != 1 {
						t.Errorf("retry answered refund %v with %d cancels, want 3000 in 1", got.Refund, len(got.Cancels))
					}
					// Again: now a plain replay of the stored answer.
					if _, err := h.api.CancelHistory(ctx, cancel, sdk.WithIdempotencyKey(key)); err != nil {
						t.Errorf("second retry: %v", err)
					}
					if refund, n := h.pgRefund(m.vendor, hist.Vendor.UID); refund != 3000 || n != 1 {
						t.Errorf("the PG refunded %d in %d cancels for one request of 3000, want 3000 in 1", refund, n)
					}
					stored, err := h.api.History(ctx, hist.ID, testPassword)
					if err != nil {
						t.Fatal(err)
					}
					if stored.Refund == nil || *stored.Refund != 3000 {
						t.Errorf("stored refund %v, want 3000", stored.Refund)
					}
					if n := h.count("SELECT count(*) FROM payment_operations WHERE history_id = $1 AND state <> 'succeeded'", hist.ID); n != 0 {
						t.Errorf("%d operations of the payment are not settled", n)
					}
				})
			}
		}

		t.Run("a new cancel without the key settles the unknown one first", func(t *testing.T) {
			m := methods()[0] // iamport card
			hist := paid(t, h, m, 10000)
			h.srv.Fakes.SetFaults(fault.Faults{DropResponse: []fault.Route{cancelRoutes[m.vendor]}})
			_, err := h.api.CancelHistory(ctx, sdk.CancelCreate{Source: hist.Source, Password: testPassword, Price: 6000, Reason: "lost"})
			h.srv.Fakes.SetFaults(fault.Faults{})
			if err == nil {
				t.Fatal("cancel with a dropped answer succeeded")
			}
			// 6,000 of 10,000 were refunded at the PG: a new cancel of 6,000
			// must be refused, not pass a balance check on stale state.
			_, err = h.api.CancelHistory(ctx, sdk.CancelCreate{Source: hist.Source, Password: testPassword, Price: 6000, Reason: "again"})
			var se *sdk.Error
			if !errors.As(err, &se) || se.Status != 422 {
				t.Fatalf("second cancel of 6000 = %v, want 422 (only 4000 remain)", err)
			}
			got, err := h.api.CancelHistory(ctx, sdk.CancelCreate{Source: hist.Source, Password: testPassword, Price: 4000, Reason: "rest"})
			if err != nil {
				t.Fatal(err)
			}
			if got.Refund == nil || *got.Refund != 10000 {
				t.Errorf("refund %v, want 10000", got.Refund)
			}
			if refund, n := h.pgRefund(m.vendor, hist.Vendor.UID); refund != 10000 || n != 2 {
				t.Errorf("PG refunded %d in %d cancels, want 10000 in 2", refund, n)
			}
		})
	})
}

// failInserts makes every insert into payment_histories fail, as a
// database failure after a Toss confirm would.
func failInserts(t *testing.T, h *harness) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, h.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stmts := []string{`CREATE TRIGGER fail_history_insert BEFORE INSERT ON payment_histories
		BEGIN SELECT RAISE(ABORT, 'injected failure'); END`}
	if st.Dialect() == migrations.Postgres {
		stmts = []string{
			`CREATE FUNCTION fail_history_insert() RETURNS trigger AS $$
			 BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER fail_history_insert BEFORE INSERT ON payment_histories
			 FOR EACH ROW EXECUTE FUNCTION fail_history_insert()`,
		}
	}
	for _, s := range stmts {
		if _, err := st.SQLDB().ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestNoOrphanedCapture: a Toss registration that will be refused is
// refused before the payment is confirmed, and one that fails after the
// confirm cancels the capture at Toss.
func TestNoOrphanedCapture(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		ctx := context.Background()

		t.Run("duplicate source refused before the confirm", func(t *testing.T) {
			src := newSource()
			h.register(sdk.VendorIamport, h.iamportCard(src, 5000).ImpUID, src, 5000)
			p := h.tossCard(src, 5000) // the same order, at Toss this time
			_, err := h.api.CreateHistory(ctx, sdk.HistoryCreate{
				Vendor: sdk.Vendor{Code: sdk.VendorToss, StoreID: tossStoreID, UID: p.PaymentKey}, Source: src,
				Price: 5000, Password: testPassword, WebhookURL: h.webhookURL(),
			})
			var se *sdk.Error
			if !errors.As(err, &se) || se.Status != 409 {
				t.Fatalf("registration of a taken source = %v, want 409", err)
			}
			got, err := h.toss.GetPayment(ctx, p.PaymentKey)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status == toss.StatusDone {
				t.Errorf("the refused payment is %s at Toss: captured with no record", got.Status)
			}
		})

		t.Run("database failure after the confirm", func(t *testing.T) {
			failInserts(t, h)
			src := newSource()
			p := h.tossCard(src, 7000)
			_, err := h.api.CreateHistory(ctx, sdk.HistoryCreate{
				Vendor: sdk.Vendor{Code: sdk.VendorToss, StoreID: tossStoreID, UID: p.PaymentKey}, Source: src,
				Price: 7000, Password: testPassword, WebhookURL: h.webhookURL(),
			})
			if err == nil {
				t.Fatal("registration succeeded although every insert fails")
			}
			got, err := h.toss.GetPayment(ctx, p.PaymentKey)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != toss.StatusCanceled {
				t.Errorf("after a failed registration the payment is %s at Toss, want %s", got.Status, toss.StatusCanceled)
			}
			if n := h.count("SELECT count(*) FROM payment_operations WHERE vendor_uid = $1 AND kind = 'confirm' AND state = 'compensated'", p.PaymentKey); n != 1 {
				t.Errorf("%d compensated confirm operations, want 1", n)
			}
			// The cancelled capture is in the audit trail, with no history.
			if n := h.count("SELECT count(*) FROM payment_audit_events WHERE event = 'cancelled' AND history_id IS NULL AND vendor_code = 'toss.payments'"); n != 1 {
				t.Errorf("%d audited capture cancels, want 1", n)
			}
		})
	})
}

// TestReconcilerCancelsCaptureOfCrashedRegistration: a process killed
// between a Toss confirm and its commit leaves a pending confirm operation
// and a captured payment; the reconciler cancels the capture once the
// registration's retry window is over, and a late retry is refused.
func TestReconcilerCancelsCaptureOfCrashedRegistration(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		ctx := context.Background()
		src := newSource()
		p := h.tossCard(src, 8000)

		// What a kill -9 after the confirm leaves behind: the operation
		// recorded (an hour ago) and the money captured at Toss.
		st, err := store.Open(ctx, h.dsn, store.WithClock(func() time.Time { return time.Now().Add(-time.Hour) }))
		if err != nil {
			t.Fatal(err)
		}
		o := &store.Operation{Kind: store.OpConfirm, Vendor: store.Vendor{Code: string(sdk.VendorToss), UID: p.PaymentKey},
			PGKey: "confirm:" + p.PaymentKey, Amount: 8000, Data: "x"}
		if err := st.CreateOperation(ctx, o); err != nil {
			t.Fatal(err)
		}
		st.Close()
		if _, err := h.toss.Confirm(ctx, toss.ConfirmRequest{PaymentKey: p.PaymentKey, OrderID: src.ID, Amount: 8000}); err != nil {
			t.Fatal(err)
		}

		dry, err := h.srv.Payments.Reconcile(ctx, payment.SweepOptions{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(dry.Drifts) != 1 || dry.Drifts[0].Kind != payment.DriftCaptureCancelled {
			t.Fatalf("dry run drifts %+v, want one %s", dry.Drifts, payment.DriftCaptureCancelled)
		}
		if got, _ := h.toss.GetPayment(ctx, p.PaymentKey); got.Status != toss.StatusDone {
			t.Fatalf("a dry run changed the payment to %s", got.Status)
		}
		rep, err := h.srv.Payments.Reconcile(ctx, payment.SweepOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Drifts) != 1 || rep.Drifts[0].Kind != payment.DriftCaptureCancelled {
			t.Errorf("drifts %+v, want one %s", rep.Drifts, payment.DriftCaptureCancelled)
		}
		if got, _ := h.toss.GetPayment(ctx, p.PaymentKey); got.Status != toss.StatusCanceled {
			t.Errorf("the orphaned capture is %s at Toss, want %s", got.Status, toss.StatusCanceled)
		}
		_, err = h.api.CreateHistory(ctx, sdk.HistoryCreate{
			Vendor: sdk.Vendor{Code: sdk.VendorToss, StoreID: tossStoreID, UID: p.PaymentKey}, Source: src,
			Price: 8000, Password: testPassword, WebhookURL: h.webhookURL(),
		})
		var se *sdk.Error
		if !errors.As(err, &se) || se.Status != 422 {
			t.Errorf("a late registration of the cancelled capture = %v, want 422", err)
		}
	})
}

// TestReconcilerDeliversMissedDeposit: with every PG webhook dropped, a
// virtual-account deposit still reaches the service as a {previous,
// current} event within a reconcile interval.
func TestReconcilerDeliversMissedDeposit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := startWith(t, dsn(t), map[string]string{"PAYMENT_RECONCILE_INTERVAL": "1s"}, nil)
		h.srv.Fakes.SetFaults(fault.Faults{WebhookDropRate: 1})
		for _, m := range methods() {
			if m.deposit == nil {
				continue
			}
			t.Run(m.name, func(t *testing.T) {
				src := newSource()
				uid := m.pay(h, src, 12000)
				hist := h.register(m.vendor, uid, src, 12000)
				before := len(h.srv.Inbox.Events())
				m.deposit(h, uid)
				ev := h.waitEvents(before + 1)[before]
				if ev.Current.ID != hist.ID || ev.Previous.PaidAt != nil || ev.Current.PaidAt == nil {
					t.Errorf("event: previous.paid_at %v, current.paid_at %v", ev.Previous.PaidAt, ev.Current.PaidAt)
				}
				// Nothing more: a second sweep finds nothing new.
				time.Sleep(2500 * time.Millisecond)
				if n := len(h.srv.Inbox.Events()); n != before+1 {
					t.Errorf("%d events after the deposit, want 1", n-before)
				}
			})
		}
	})
}

// TestPGUnavailable: a PG that does not answer in time is 504, one that
// drops the connection or fails is 502 — never 500 — and a registration
// that only read from the PG leaves its Idempotency-Key free for the retry.
func TestPGUnavailable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := startWith(t, dsn(t), nil, func(o *server.Options) { o.PGTimeout = pgTimeout })
		ctx := context.Background()
		lookup := fault.Route{Method: "GET", Path: "/payments/*"}
		for _, tt := range []struct {
			name   string
			faults fault.Faults
			status int
		}{
			{"timeout", fault.Faults{RouteLatency: []fault.RouteLatency{{Route: lookup, Latency: 3 * pgTimeout, Before: true}}}, 504},
			{"dropped", fault.Faults{DropResponse: []fault.Route{lookup}}, 502},
			{"failing", fault.Faults{ErrorRate: 1}, 502},
		} {
			t.Run(tt.name, func(t *testing.T) {
				src := newSource()
				p := h.iamportCard(src, 4000)
				in := sdk.HistoryCreate{Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: p.ImpUID},
					Source: src, Price: 4000, Password: testPassword, WebhookURL: h.webhookURL()}
				key := uuid.NewString()
				h.srv.Fakes.SetFaults(tt.faults)
				_, err := h.api.CreateHistory(ctx, in, sdk.WithIdempotencyKey(key))
				h.srv.Fakes.SetFaults(fault.Faults{})
				var se *sdk.Error
				if !errors.As(err, &se) || se.Status != tt.status {
					t.Fatalf("registration with the PG %s = %v, want %d", tt.name, err, tt.status)
				}
				if _, err := h.api.CreateHistory(ctx, in, sdk.WithIdempotencyKey(key)); err != nil {
					t.Errorf("retry with the same key once the PG is back: %v", err)
				}
			})
		}
	})
}
