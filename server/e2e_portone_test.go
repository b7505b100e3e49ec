package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/fakepg/fault"
	fakeportone "github.com/paymentctl/paymentctl/fakepg/portone"
	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/internal/stdwebhook"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/server/payment"
)

// portoneSubscription registers a PortOne V2 billing key as a saved card,
// charges it as the service would (pay with billing key, the order's id as
// the paymentId) and registers that payment; a key issued for another
// customer or deleted is refused.
func portoneSubscription(t *testing.T, h *harness) {
	ctx := context.Background()
	src := newSource()
	issued, err := h.browser.IssueBillingKey(ctx, fakeportone.BillingKeyCheckoutRequest{Customer: &portone.Customer{ID: src.ID}})
	if err != nil {
		t.Fatal(err)
	}
	vendor := sdk.Vendor{Code: sdk.VendorPortOne, StoreID: fakeportone.DefaultStoreID, UID: issued.BillingKey}
	checkReservation(t, h, sdk.ReservationCreate{Vendor: vendor, Source: src, Title: "some-title", Password: testPassword})
	r, err := h.api.ReservationBySource(ctx, sdk.Accessor{Source: src, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	if info, err := r.PortOneBillingKey(); err != nil || info.BillingKey != issued.BillingKey || info.Status != "ISSUED" {
		t.Errorf("reservation data: %+v, %v", info, err)
	}

	order := newSource()
	if _, err := h.portone.PayWithBillingKey(ctx, order.ID, portone.BillingKeyPaymentRequest{
		BillingKey: issued.BillingKey, OrderName: "정기 결제", Amount: portone.AmountInput{Total: 9900}, Currency: "KRW",
	}); err != nil {
		t.Fatal(err)
	}
	hist := h.register(sdk.VendorPortOne, order.ID, order, 9900)
	if hist.PaidAt == nil || hist.Price != 9900 {
		t.Errorf("billing-key payment registered as %+v", hist)
	}

	other, err := h.browser.IssueBillingKey(ctx, fakeportone.BillingKeyCheckoutRequest{Customer: &portone.Customer{ID: uuid.NewString()}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.api.CreateReservation(ctx, sdk.ReservationCreate{Vendor: sdk.Vendor{Code: sdk.VendorPortOne, StoreID: fakeportone.DefaultStoreID, UID: other.BillingKey},
		Source: newSource(), Title: "t", Password: testPassword})
	if !errors.Is(err, sdk.ErrOrderMismatch) {
		t.Errorf("register another customer's billing key = %v, want order_mismatch", err)
	}
	deleted, err := h.browser.IssueBillingKey(ctx, fakeportone.BillingKeyCheckoutRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.portone.DeleteBillingKey(ctx, deleted.BillingKey, ""); err != nil {
		t.Fatal(err)
	}
	_, err = h.api.CreateReservation(ctx, sdk.ReservationCreate{Vendor: sdk.Vendor{Code: sdk.VendorPortOne, StoreID: fakeportone.DefaultStoreID, UID: deleted.BillingKey},
		Source: newSource(), Title: "t", Password: testPassword})
	if statusOf(err) != 422 || !errors.Is(err, sdk.ErrRefused) {
		t.Errorf("register a deleted billing key = %v, want 422 refused", err)
	}
}

// TestPortOneRefusals: what a PortOne V2 registration or look-up refuses,
// and what the refusal leaves at the PG.
func TestPortOneRefusals(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		ctx := context.Background()
		card := methods()[4]
		if card.name != "portone_card" {
			t.Fatalf("methods()[4] is %s", card.name)
		}
		hist := paid(t, h, card, 10000)
		create := func(uid string, src sdk.Source, store string, price int64) error {
			_, err := h.api.CreateHistory(ctx, sdk.HistoryCreate{
				Vendor: sdk.Vendor{Code: sdk.VendorPortOne, StoreID: store, UID: uid}, Source: src,
				Price: price, Password: testPassword, WebhookURL: h.webhookURL(),
			})
			return err
		}
		declined := newSource()
		if out, err := h.browser.Checkout(ctx, fakeportone.CheckoutRequest{PaymentID: declined.ID, OrderName: "x", TotalAmount: 1000, Outcome: fakeportone.OutcomeDecline}); err != nil || out.Code == "" {
			t.Fatalf("declined checkout: %+v, %v", out, err)
		}
		opened := newSource()
		if _, err := h.browser.Checkout(ctx, fakeportone.CheckoutRequest{PaymentID: opened.ID, OrderName: "x", TotalAmount: 1000, Outcome: fakeportone.OutcomeReady}); err != nil {
			t.Fatal(err)
		}
		unknown := newSource()
		tests := []struct {
			name string
			call func() error
			want error
			msg  string
		}{
			{"wrong password by id", func() error { _, err := h.api.History(ctx, hist.ID, "nope"); return err }, sdk.ErrWrongPassword, "Wrong password."},
			{"wrong password by source", func() error {
				_, err := h.api.HistoryBySource(ctx, sdk.Accessor{Source: hist.Source, Password: "nope"})
				return err
			}, sdk.ErrWrongPassword, "Wrong password."},
			{"wrong password on cancel", func() error {
				_, err := h.api.CancelHistory(ctx, sdk.CancelCreate{Source: hist.Source, Password: "nope", Price: 1, Reason: "r"})
				return err
			}, sdk.ErrWrongPassword, "Wrong password."},
			{"duplicate registration", func() error { return create(hist.Vendor.UID, hist.Source, hist.Vendor.StoreID, hist.Price) }, sdk.ErrDuplicate, ""},
			{"another store", func() error { return create(hist.Vendor.UID, hist.Source, "store-someone-else", hist.Price) }, sdk.ErrOrderMismatch, "store_id"},
			{"failed payment", func() error { return create(declined.ID, declined, fakeportone.DefaultStoreID, 1000) }, sdk.ErrPaymentNotPaid, "failed"},
			{"checkout left open", func() error { return create(opened.ID, opened, fakeportone.DefaultStoreID, 1000) }, sdk.ErrPaymentNotPaid, "READY"},
			{"unknown payment", func() error { return create(unknown.ID, unknown, fakeportone.DefaultStoreID, 1000) }, sdk.ErrPGRefused, "PAYMENT_NOT_FOUND"},
			{"over-refund", func() error {
				_, err := h.api.CancelHistory(ctx, sdk.CancelCreate{Source: hist.Source, Password: testPassword, Price: hist.Price + 1, Reason: "r"})
				return err
			}, sdk.ErrRefundExceedsBalance, "only 10000 of 10000 remains"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := tt.call()
				if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("error = %v, want %v saying %q", err, tt.want, tt.msg)
				}
			})
		}
		if refund, n := h.pgRefund(sdk.VendorPortOne, hist.Vendor.UID); refund != 0 || n != 0 {
			t.Errorf("the refusals refunded %d in %d cancels at the PG", refund, n)
		}

		t.Run("amount mismatch cancels at the PG", func(t *testing.T) {
			src := newSource()
			uid := h.portoneCheckout(src, 20000, fakeportone.PayMethodCard)
			err := create(uid, src, fakeportone.DefaultStoreID, 10000)
			if !errors.Is(err, sdk.ErrAmountMismatch) || !strings.Contains(err.Error(), "cancelled at the PG") {
				t.Fatalf("register with the wrong price: %v, want amount_mismatch", err)
			}
			if p, err := h.portone.GetPayment(ctx, uid); err != nil || p.Base().Status != portone.StatusCancelled {
				t.Errorf("PG payment after the refusal: %v, %v; want CANCELLED", p, err)
			}
			const op = "SELECT count(*) FROM payment_operations WHERE vendor_code = 'portone' AND vendor_uid = $1 AND state = 'compensated' AND amount = 20000"
			if n := h.count(op, uid); n != 1 {
				t.Errorf("%d settled operations record the cancel, want 1", n)
			}
			if _, err := h.api.HistoryBySource(ctx, sdk.Accessor{Source: src, Password: testPassword}); !errors.Is(err, sdk.ErrNotFound) {
				t.Errorf("a refused payment was stored: %v", err)
			}
			if err := create(uid, src, fakeportone.DefaultStoreID, 20000); !errors.Is(err, sdk.ErrPaymentNotPaid) {
				t.Errorf("register the cancelled payment at its price = %v, want payment_not_paid", err)
			}
			if refund, n := h.pgRefund(sdk.VendorPortOne, uid); refund != 20000 || n != 1 {
				t.Errorf("the PG refunded %d in %d cancels, want 20000 in 1", refund, n)
			}
		})
		t.Run("unpaid virtual account of the wrong amount is refused, not cancelled", func(t *testing.T) {
			src := newSource()
			uid := h.portoneCheckout(src, 20000, fakeportone.PayMethodVirtualAccount)
			if err := create(uid, src, fakeportone.DefaultStoreID, 10000); !errors.Is(err, sdk.ErrAmountMismatch) {
				t.Fatalf("register with the wrong price: %v, want amount_mismatch", err)
			}
			if p, err := h.portone.GetPayment(ctx, uid); err != nil || p.Base().Status != portone.StatusVirtualAccountIssued {
				t.Errorf("PG payment after the refusal: %v, %v; want it still issued", p, err)
			}
		})
		t.Run("another order's payment is refused and left alone", func(t *testing.T) {
			victim := newSource()
			uid := h.portoneCheckout(victim, 20000, fakeportone.PayMethodCard)
			thief := newSource()
			for _, price := range []int64{20000, 1} { // the right amount, and a wrong one
				if err := create(uid, thief, fakeportone.DefaultStoreID, price); !errors.Is(err, sdk.ErrOrderMismatch) || !strings.Contains(err.Error(), "source.id") {
					t.Errorf("register order %s's payment for order %s at %d: %v, want order_mismatch", victim.ID, thief.ID, price, err)
				}
			}
			if p, err := h.portone.GetPayment(ctx, uid); err != nil || p.Base().Status != portone.StatusPaid {
				t.Errorf("the other order's payment after the refusals: %v, %v; want it PAID", p, err)
			}
			h.register(sdk.VendorPortOne, uid, victim, 20000) // its own order still can
		})
	})
}

// portoneWebhook is a PortOne V2 webhook body about paymentID.
func portoneWebhook(t *testing.T, typ, paymentID string) []byte {
	t.Helper()
	return portoneStoreWebhook(t, typ, paymentID, fakeportone.DefaultStoreID)
}

// portoneStoreWebhook is portoneWebhook about a payment of storeID.
func portoneStoreWebhook(t *testing.T, typ, paymentID, storeID string) []byte {
	t.Helper()
	b, err := json.Marshal(portone.Webhook{Type: typ, Timestamp: time.Now().UTC(),
		Data: portone.WebhookData{PaymentID: paymentID, StoreID: storeID, TransactionID: uuid.NewString()}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// postPortOneWebhook posts body with header to the server's PortOne V2
// webhook route and returns the status.
func (h *harness) postPortOneWebhook(body []byte, header http.Header) int {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/payments/webhooks/portone", bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestPortOneWebhookSignatures: a PortOne V2 webhook that is unsigned,
// signed under another secret, stale, or whose body was changed after
// signing is 401 and changes nothing: no job, no kept webhook, no event,
// the history as it was. A correctly signed one is taken, and still only
// re-fetches: it forwards nothing when the PG's payment did not change.
func TestPortOneWebhookSignatures(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		ctx := context.Background()
		src := newSource()
		uid := h.portoneCheckout(src, 15000, fakeportone.PayMethodVirtualAccount)
		hist := h.register(sdk.VendorPortOne, uid, src, 15000)
		h.drainJobs()
		key, err := stdwebhook.DecodeSecret(fakeportone.DefaultWebhookSecret)
		if err != nil {
			t.Fatal(err)
		}
		otherKey := []byte("not the secret PortOne signs with")
		paidBody := portoneWebhook(t, portone.EventTransactionPaid, uid)
		now := time.Now()
		tests := []struct {
			name   string
			body   []byte
			header http.Header
		}{
			{"unsigned", paidBody, http.Header{}},
			{"another secret", paidBody, stdwebhook.Header([][]byte{otherKey}, "msg_1", now, paidBody)},
			{"stale", paidBody, stdwebhook.Header([][]byte{key}, "msg_2", now.Add(-6*time.Minute), paidBody)},
			{"from the future", paidBody, stdwebhook.Header([][]byte{key}, "msg_3", now.Add(6*time.Minute), paidBody)},
			{"body changed after signing", paidBody, stdwebhook.Header([][]byte{key}, "msg_4", now, portoneWebhook(t, portone.EventTransactionPaid, uid))},
			{"unregistered payment, unsigned", portoneWebhook(t, portone.EventTransactionPaid, uuid.NewString()), http.Header{}},
		}
		// Webhook jobs only: the reconciler's periodic sweep is enqueued
		// once a leader is elected, which on a loaded machine can be now.
		const jobs = "SELECT count(*) FROM river_job WHERE queue <> 'maintenance'"
		const kept = "SELECT count(*) FROM payment_pending_webhooks"
		jobsBefore, keptBefore := h.count(jobs), h.count(kept)
		events := len(h.srv.Inbox.Events())
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := h.postPortOneWebhook(tt.body, tt.header); got != http.StatusUnauthorized {
					t.Errorf("status = %d, want 401", got)
				}
			})
		}
		if n := h.count(jobs); n != jobsBefore {
			t.Errorf("refused webhooks queued %d jobs", n-jobsBefore)
		}
		if n := h.count(kept); n != keptBefore {
			t.Errorf("refused webhooks kept %d rows", n-keptBefore)
		}

		// Signed correctly, but the PG's payment is still unpaid: taken,
		// re-fetched, nothing forwarded, nothing changed.
		if got := h.postPortOneWebhook(paidBody, stdwebhook.Header([][]byte{key}, "msg_5", time.Now(), paidBody)); got != http.StatusOK {
			t.Fatalf("signed webhook: status %d, want 200", got)
		}
		h.drainJobs()
		if n := len(h.srv.Inbox.Events()); n != events {
			t.Errorf("%d events forwarded for webhooks that changed nothing at the PG", n-events)
		}
		got, err := h.api.History(ctx, hist.ID, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		if got.PaidAt != nil {
			t.Errorf("a webhook's claim was trusted: paid_at %v", got.PaidAt)
		}
	})
}

// TestPortOneWebhookBeforeRegistration: PortOne V2's deposit webhook that
// arrives before the payment is registered is kept, and the registration
// covers it.
func TestPortOneWebhookBeforeRegistration(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		m := methods()[5]
		if m.name != "portone_vbank" {
			t.Fatalf("methods()[5] is %s", m.name)
		}
		src := newSource()
		uid := m.pay(h, src, 30000)
		m.deposit(h, uid)
		const kept = "SELECT count(*) FROM payment_pending_webhooks WHERE vendor_code = $1 AND vendor_uid = $2 AND applied_at IS NULL"
		deadline := time.Now().Add(eventWaitTimeout)
		for h.count(kept, string(m.vendor), uid) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the deposit's webhook was not kept for the registration")
			}
			time.Sleep(20 * time.Millisecond)
		}
		hist := h.register(m.vendor, uid, src, 30000)
		if hist.PaidAt == nil {
			t.Errorf("registered after the deposit without paid_at: %+v", hist)
		}
		h.drainJobs()
		if n := h.count(kept, string(m.vendor), uid); n != 0 {
			t.Errorf("%d kept webhooks not applied after the registration", n)
		}
	})
}

// TestPortOneRefusedPaymentCancelledOnce: a payment refused for its amount
// whose cancel's answer is lost (PortOne refunded, paymentctl did not
// hear) is refused all the same, its operation left to the reconciler,
// which finds the refund and settles it: one refund in all.
func TestPortOneRefusedPaymentCancelledOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		// No periodic pass: the test's own pass is the reconciler's.
		h := startWith(t, dsn(t), map[string]string{"PAYMENT_RECONCILE_INTERVAL": "0"}, func(o *server.Options) { o.PGTimeout = pgTimeout })
		ctx := context.Background()
		src := newSource()
		uid := h.portoneCheckout(src, 20000, fakeportone.PayMethodCard)

		h.srv.Fakes.SetFaults(fault.Faults{DropResponse: []fault.Route{cancelRoutes[sdk.VendorPortOne]}})
		_, err := h.api.CreateHistory(ctx, sdk.HistoryCreate{
			Vendor: sdk.Vendor{Code: sdk.VendorPortOne, StoreID: fakeportone.DefaultStoreID, UID: uid}, Source: src,
			Price: 10000, Password: testPassword, WebhookURL: h.webhookURL(),
		})
		h.srv.Fakes.SetFaults(fault.Faults{})
		if !errors.Is(err, sdk.ErrAmountMismatch) || !strings.Contains(err.Error(), "being cancelled") {
			t.Fatalf("register with the wrong price while the cancel's answer is lost: %v, want amount_mismatch", err)
		}
		const open = "SELECT count(*) FROM payment_operations WHERE vendor_uid = $1 AND state = 'compensate'"
		if n := h.count(open, uid); n != 1 {
			t.Fatalf("%d operations left to cancel the payment, want 1", n)
		}
		if refund, _ := h.pgRefund(sdk.VendorPortOne, uid); refund != 20000 {
			t.Fatalf("the fake refunded %d, want 20000 (the fault must let the PG act)", refund)
		}

		rep, err := h.srv.Payments.Reconcile(ctx, payment.SweepOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Drifts) != 1 || rep.Drifts[0].Kind != payment.DriftCaptureCancelled || rep.Errors != 0 {
			t.Errorf("reconciler report %+v, want one %s", rep, payment.DriftCaptureCancelled)
		}
		if n := h.count("SELECT count(*) FROM payment_operations WHERE vendor_uid = $1 AND state = 'compensated'", uid); n != 1 {
			t.Errorf("%d settled operations after the reconciler, want 1", n)
		}
		if refund, n := h.pgRefund(sdk.VendorPortOne, uid); refund != 20000 || n != 1 {
			t.Errorf("the PG refunded %d in %d cancels, want 20000 in 1", refund, n)
		}
	})
}

// TestPortOneOff: where PortOne V2 is not configured (here local mode
// with portone.url set and no portone.secret, as outside local mode with
// no secret), a request naming vendor portone is refused with 400 naming
// the vendor, and PortOne's webhooks with 401, without a PG call.
func TestPortOneOff(t *testing.T) {
	h := startWith(t, backends()[0].dsn(t), map[string]string{"PAYMENT_PORTONE_URL": "http://127.0.0.1:1"}, nil)
	ctx := context.Background()
	src := newSource()
	vendor := sdk.Vendor{Code: sdk.VendorPortOne, StoreID: fakeportone.DefaultStoreID, UID: src.ID}
	_, err := h.api.CreateHistory(ctx, sdk.HistoryCreate{Vendor: vendor, Source: src, Price: 1000, Password: testPassword, WebhookURL: h.webhookURL()})
	if !errors.Is(err, sdk.ErrInvalidRequest) || !strings.Contains(err.Error(), "PortOne V2 (portone) is not enabled") {
		t.Errorf("register a PortOne V2 payment = %v, want 400 saying PortOne V2 is off", err)
	}
	_, err = h.api.CreateReservation(ctx, sdk.ReservationCreate{Vendor: vendor, Source: src, Title: "t", Password: testPassword})
	if !errors.Is(err, sdk.ErrInvalidRequest) {
		t.Errorf("register a PortOne V2 billing key = %v, want 400", err)
	}
	key, err := stdwebhook.DecodeSecret(fakeportone.DefaultWebhookSecret)
	if err != nil {
		t.Fatal(err)
	}
	body := portoneWebhook(t, portone.EventTransactionPaid, src.ID)
	if got := h.postPortOneWebhook(body, stdwebhook.Header([][]byte{key}, "msg_off", time.Now(), body)); got != http.StatusUnauthorized {
		t.Errorf("PortOne V2 webhook with PortOne V2 off: status %d, want 401", got)
	}
	// The other PGs are not affected.
	paid(t, h, methods()[0], 1000)
}

// TestPortOneConfigured runs PortOne V2 as outside local mode: the
// server's own URL, API secret, store id and two webhook secrets (a
// rotation), against a fake PortOne V2 that signs with the new one. The
// deposit's webhook is verified and forwarded; a webhook signed with only
// the old secret is taken too, one under any other secret is 401.
func TestPortOneConfigured(t *testing.T) {
	oldSecret := stdwebhook.EncodeSecret([]byte("the webhook secret being retired"))
	newSecret := stdwebhook.EncodeSecret([]byte("the webhook secret taking over!!"))
	const apiSecret, storeID = "portone-api-secret-of-this-test", "store-0c1d2e3f-0000-4000-8000-000000000000"
	fake := fakeportone.New(fakeportone.Options{Secret: apiSecret, StoreID: storeID, WebhookSecrets: []string{newSecret}})
	t.Cleanup(fake.Close)
	pg := httptest.NewServer(fake)
	t.Cleanup(pg.Close)

	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := startWith(t, dsn(t), map[string]string{
			"PAYMENT_PORTONE_URL": pg.URL, "PAYMENT_PORTONE_SECRET": apiSecret, "PAYMENT_PORTONE_STORE_ID": storeID,
			"PAYMENT_PORTONE_WEBHOOK_SECRET": oldSecret + "," + newSecret,
		}, nil)
		fake.SetWebhookURL(h.srv.URL + "/payments/webhooks/portone")
		browser := fakeportone.NewBrowser(pg.URL, apiSecret, 0)
		ctx := context.Background()

		src := newSource()
		if _, err := browser.Checkout(ctx, fakeportone.CheckoutRequest{PaymentID: src.ID, OrderName: "x", TotalAmount: 7000, PayMethod: fakeportone.PayMethodVirtualAccount}); err != nil {
			t.Fatal(err)
		}
		in := sdk.HistoryCreate{Vendor: sdk.Vendor{Code: sdk.VendorPortOne, StoreID: fakeportone.DefaultStoreID, UID: src.ID}, Source: src,
			Price: 7000, Password: testPassword, WebhookURL: h.webhookURL()}
		if _, err := h.api.CreateHistory(ctx, in); !errors.Is(err, sdk.ErrOrderMismatch) {
			t.Errorf("register under another store id than portone.store_id = %v, want order_mismatch", err)
		}
		in.Vendor.StoreID = storeID
		hist, err := h.api.CreateHistory(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		before := len(h.srv.Inbox.Events())
		if _, err := browser.Deposit(ctx, src.ID); err != nil {
			t.Fatal(err)
		}
		ev := h.waitEvents(before + 1)[before]
		if ev.Current.ID != hist.ID || ev.Previous.PaidAt != nil || ev.Current.PaidAt == nil {
			t.Errorf("deposit event: previous.paid_at %v, current.paid_at %v", ev.Previous.PaidAt, ev.Current.PaidAt)
		}
		for name, snap := range map[string]*sdk.History{"previous": &ev.Previous, "current": &ev.Current} {
			want := map[string]portone.Status{"previous": portone.StatusVirtualAccountIssued, "current": portone.StatusPaid}[name]
			if p, err := snap.PortOnePayment(); err != nil || p.Base().Status != want || p.Base().ID != src.ID {
				t.Errorf("event's %s data: %v, %v; want the PortOne payment %s", name, p, err, want)
			}
		}

		body := portoneWebhook(t, portone.EventTransactionCancelled, src.ID)
		for _, tt := range []struct {
			name   string
			secret string
			want   int
		}{
			{"old secret", oldSecret, http.StatusOK},
			{"new secret", newSecret, http.StatusOK},
			{"another secret", stdwebhook.EncodeSecret([]byte("a secret nobody configured")), http.StatusUnauthorized},
			{"the fake's published secret", fakeportone.DefaultWebhookSecret, http.StatusUnauthorized},
		} {
			key, err := stdwebhook.DecodeSecret(tt.secret)
			if err != nil {
				t.Fatal(err)
			}
			if got := h.postPortOneWebhook(body, stdwebhook.Header([][]byte{key}, "msg_"+tt.name, time.Now(), body)); got != tt.want {
				t.Errorf("webhook signed with the %s: status %d, want %d", tt.name, got, tt.want)
			}
		}
	})
}
