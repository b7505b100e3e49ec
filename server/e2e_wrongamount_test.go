package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paymentctl/paymentctl/fakepg/fault"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/server/payment"
)

// tossPaid makes a key-in card payment at the fake Toss that Toss
// captured itself (DONE), so that its registration confirms nothing.
func (h *harness) tossPaid(src sdk.Source, amount int64) *toss.Payment {
	h.t.Helper()
	approved := true
	p, err := h.toss.KeyIn(context.Background(), toss.KeyInRequest{
		Method: "card", CardNumber: "1111222233334444", CardExpirationYear: "28", CardExpirationMonth: "03",
		OrderID: src.ID, OrderName: "something", Amount: amount, Approved: &approved,
	})
	if err != nil {
		h.t.Fatalf("toss key-in: %v", err)
	}
	if p.Status != toss.StatusDone {
		h.t.Fatalf("toss key-in approved: status %s, want DONE", p.Status)
	}
	return p
}

// TestWrongAmountCancelledOnce: a paid Iamport or Toss payment registered
// at another price is refused (422 amount_mismatch) and cancelled in full
// at the PG through an operation recorded before the call. When the
// cancel fails (the PG's 5xx) or its answer comes too late (the PG did
// cancel), the refusal says it will be retried, the operation is left to
// the reconciler, which settles it: in every case one cancel of the whole
// amount at the PG, one operation compensated, one "cancelled" audit
// event, and a later registration of the payment is refused without
// cancelling again.
func TestWrongAmountCancelledOnce(t *testing.T) {
	const paid, claimed = 20000, 10000
	vendors := []struct {
		code sdk.VendorCode
		pay  func(h *harness, src sdk.Source) string
	}{
		{sdk.VendorIamport, func(h *harness, src sdk.Source) string { return h.iamportCard(src, paid).ImpUID }},
		{sdk.VendorToss, func(h *harness, src sdk.Source) string { return h.tossPaid(src, paid).PaymentKey }},
	}
	faults := []struct {
		name string
		set  func(r fault.Route) fault.Faults
		// cancelled is whether the PG cancelled during the registration.
		cancelled bool
		ok        bool
	}{
		{"cancel succeeds", func(fault.Route) fault.Faults { return fault.Faults{} }, true, true},
		{"cancel fails", func(r fault.Route) fault.Faults { return fault.Faults{FailRoutes: []fault.Route{r}} }, false, false},
		{"cancel answered late", func(r fault.Route) fault.Faults {
			return fault.Faults{RouteLatency: []fault.RouteLatency{{Route: r, Latency: 3 * pgTimeout}}}
		}, true, false},
	}
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		// No periodic pass: the test's own passes are the reconciler's.
		h := startWith(t, dsn(t), map[string]string{"PAYMENT_RECONCILE_INTERVAL": "0"}, func(o *server.Options) { o.PGTimeout = pgTimeout })
		ctx := context.Background()
		for _, v := range vendors {
			for _, f := range faults {
				t.Run(string(v.code)+"/"+f.name, func(t *testing.T) {
					src := newSource()
					uid := v.pay(h, src)
					create := func(price int64) error {
						_, err := h.api.CreateHistory(ctx, sdk.HistoryCreate{
							Vendor: sdk.Vendor{Code: v.code, StoreID: storeOf(v.code), UID: uid}, Source: src,
							Price: price, Password: testPassword, WebhookURL: h.webhookURL(),
						})
						return err
					}
					const audited = "SELECT count(*) FROM payment_audit_events WHERE event = 'cancelled' AND history_id IS NULL AND vendor_code = $1"
					auditedBefore := h.count(audited, string(v.code))

					h.srv.Fakes.SetFaults(f.set(cancelRoutes[v.code]))
					err := create(claimed)
					h.srv.Fakes.SetFaults(fault.Faults{})
					if !errors.Is(err, sdk.ErrAmountMismatch) {
						t.Fatalf("register at the wrong price = %v, want amount_mismatch", err)
					}
					if said := strings.Contains(err.Error(), "the payment was cancelled at the PG"); said != f.ok {
						t.Errorf("register at the wrong price = %q: says it was cancelled %v, want %v", err, said, f.ok)
					}
					if !f.ok && !strings.Contains(err.Error(), "will be retried") {
						t.Errorf("register at the wrong price = %q, want it to say the cancel will be retried", err)
					}
					wantRefund := int64(0)
					if f.cancelled {
						wantRefund = paid
					}
					if refund, _ := h.pgRefund(v.code, uid); refund != wantRefund {
						t.Fatalf("the PG refunded %d during the registration, want %d", refund, wantRefund)
					}
					const ops = "SELECT count(*) FROM payment_operations WHERE vendor_code = $1 AND vendor_uid = $2"
					const settled = ops + " AND kind = 'confirm' AND state = 'compensated' AND amount = 20000"
					if !f.ok {
						if n := h.count(ops+" AND kind = 'confirm' AND state = 'compensate' AND amount = 20000", string(v.code), uid); n != 1 {
							t.Fatalf("%d operations left to cancel the payment, want 1", n)
						}
						// An operator sees it (the gauges are queried at
						// most every 5 s: a later subtest may see the
						// figure of an earlier one, also 1).
						rec := httptest.NewRecorder()
						h.srv.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
						if out := rec.Body.String(); !strings.Contains(out, `paymentctl_unsettled_operations{state="compensate"} 1`) ||
							!strings.Contains(out, "paymentctl_unsettled_operations_oldest_seconds ") {
							t.Errorf("metrics do not show the refund still to make:\n%s", grepLines(out, "paymentctl_unsettled"))
						}
						rep, err := h.srv.Payments.Reconcile(ctx, payment.SweepOptions{})
						if err != nil {
							t.Fatal(err)
						}
						if !hasDrift(rep, payment.DriftCaptureCancelled, uid) || rep.Errors != 0 {
							t.Errorf("reconciler report %+v, want a %s of %s", rep, payment.DriftCaptureCancelled, uid)
						}
					}
					// Refused again, at the wrong price and at the paid one:
					// nothing more is cancelled.
					if err := create(claimed); !errors.Is(err, sdk.ErrAmountMismatch) || !strings.Contains(err.Error(), "the payment was cancelled at the PG") {
						t.Errorf("register again at the wrong price = %v, want amount_mismatch saying it was cancelled", err)
					}
					if err := create(paid); !errors.Is(err, sdk.ErrPaymentNotPaid) {
						t.Errorf("register the cancelled payment at its price = %v, want payment_not_paid", err)
					}
					if _, err := h.api.HistoryBySource(ctx, sdk.Accessor{Source: src, Password: testPassword}); !errors.Is(err, sdk.ErrNotFound) {
						t.Errorf("a refused payment was stored: %v", err)
					}
					if refund, n := h.pgRefund(v.code, uid); refund != paid || n != 1 {
						t.Errorf("the PG refunded %d in %d cancels, want %d in 1", refund, n, paid)
					}
					if n, all := h.count(settled, string(v.code), uid), h.count(ops, string(v.code), uid); n != 1 || all != 1 {
						t.Errorf("%d operations compensated of %d, want 1 of 1", n, all)
					}
					if n := h.count(audited, string(v.code)) - auditedBefore; n != 1 {
						t.Errorf("%d cancelled events in the audit trail, want 1", n)
					}
					rep, err := h.srv.Payments.Reconcile(ctx, payment.SweepOptions{})
					if err != nil || hasDrift(rep, payment.DriftCaptureCancelled, uid) {
						t.Errorf("a later reconciler pass = %+v, %v; want nothing more of %s", rep, err, uid)
					}
				})
			}
		}
	})
}

// TestWrongAmountOfRegisteredPayment: a registered payment registered
// again at another price is refused (422 amount_mismatch) and left alone
// at the PG: the cancel's operation finds the history under the payment's
// lock and cancels nothing.
func TestWrongAmountOfRegisteredPayment(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		ctx := context.Background()
		pay := map[sdk.VendorCode]func(src sdk.Source) string{
			sdk.VendorIamport: func(src sdk.Source) string { return h.iamportCard(src, 20000).ImpUID },
			sdk.VendorToss:    func(src sdk.Source) string { return h.tossPaid(src, 20000).PaymentKey },
		}
		for _, code := range []sdk.VendorCode{sdk.VendorIamport, sdk.VendorToss} {
			t.Run(string(code), func(t *testing.T) {
				src := newSource()
				uid := pay[code](src)
				h.register(code, uid, src, 20000)
				_, err := h.api.CreateHistory(ctx, sdk.HistoryCreate{
					Vendor: sdk.Vendor{Code: code, StoreID: storeOf(code), UID: uid}, Source: src,
					Price: 10000, Password: testPassword, WebhookURL: h.webhookURL(),
				})
				if !errors.Is(err, sdk.ErrAmountMismatch) || !strings.Contains(err.Error(), "registered already and was not cancelled") {
					t.Errorf("register the registered payment at another price = %v, want amount_mismatch saying it was not cancelled", err)
				}
				if refund, n := h.pgRefund(code, uid); refund != 0 || n != 0 {
					t.Errorf("the PG refunded %d in %d cancels, want nothing", refund, n)
				}
			})
		}
	})
}

// hasDrift reports whether rep holds a drift of kind about the payment uid.
func hasDrift(rep *payment.SweepReport, kind, uid string) bool {
	for _, d := range rep.Drifts {
		if d.Kind == kind && d.UID == uid {
			return true
		}
	}
	return false
}

// grepLines returns the lines of s that hold sub.
func grepLines(s, sub string) string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}
