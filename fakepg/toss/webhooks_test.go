package toss_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/fakepg/fault"
	fake "github.com/paymentctl/paymentctl/fakepg/toss"
	tossapi "github.com/paymentctl/paymentctl/gateway/toss"
)

func TestWebhooksDelivered(t *testing.T) {
	rc := newReceiver(t, 0)
	e := newEnv(t, fake.Options{WebhookURL: rc.url})
	p := e.keyIn(t, "hook-order", 3000, true)
	e.waitHooks(t)
	got := rc.received(t)
	if len(got) != 1 || got[0].StatusChanged == nil {
		t.Fatalf("received %d events %v, want one PAYMENT_STATUS_CHANGED", len(got), summaries(got))
	}
	ev := got[0].StatusChanged
	if ev.EventType != tossapi.EventPaymentStatusChanged || ev.Data.PaymentKey != p.PaymentKey ||
		ev.Data.Status != tossapi.StatusDone || ev.Data.TotalAmount != 3000 || ev.Data.Card == nil {
		t.Errorf("event = %+v, want the full DONE payment", ev)
	}
	if _, err := tossapi.ParseTime(ev.CreatedAt); err != nil {
		t.Errorf("createdAt %q: %v", ev.CreatedAt, err)
	}
	d := e.srv.Webhooks().Deliveries()[0]
	if d.Header.Get("Content-Type") != "application/json" || !d.Delivered || len(d.Attempts) != 1 {
		t.Errorf("delivery = %+v, want one JSON attempt, delivered", d)
	}
}

func TestWebhookSetURLAndNoURL(t *testing.T) {
	e := newEnv(t, fake.Options{})
	e.keyIn(t, "no-url", 1000, true)
	rc := newReceiver(t, 0)
	e.srv.SetWebhookURL(rc.url)
	if e.srv.WebhookURL() != rc.url {
		t.Errorf("WebhookURL() = %q, want %q", e.srv.WebhookURL(), rc.url)
	}
	p := e.keyIn(t, "with-url", 1000, true)
	e.waitHooks(t)
	ds := e.srv.Webhooks().Deliveries()
	if len(ds) != 2 || !ds[0].Dropped || !ds[1].Delivered {
		t.Fatalf("deliveries %+v, want the first dropped (no URL), the second delivered", ds)
	}
	if got := summaries(rc.received(t)); !cmp.Equal(got, []string{"PSC:" + p.PaymentKey + ":DONE"}) {
		t.Errorf("received %v", got)
	}
}

func TestWebhookRetried(t *testing.T) {
	rc := newReceiver(t, 2) // 500, 500, then 200
	e := newEnv(t, fake.Options{WebhookURL: rc.url})
	e.keyIn(t, "retry-order", 1000, true)
	e.waitHooks(t)
	d := e.srv.Webhooks().Deliveries()[0]
	if !d.Delivered || len(d.Attempts) != 3 || d.Attempts[0].Status != 500 || d.Attempts[2].Status != 200 {
		t.Errorf("delivery = %+v, want 500, 500, 200 and delivered", d)
	}
	if n := len(rc.received(t)); n != 1 {
		t.Errorf("receiver accepted %d bodies, want 1", n)
	}
}

func TestWebhookGivesUp(t *testing.T) {
	rc := newReceiver(t, 1000)
	e := newEnv(t, fake.Options{WebhookURL: rc.url, Backoff: []time.Duration{time.Millisecond, time.Millisecond}})
	e.keyIn(t, "give-up", 1000, true)
	e.waitHooks(t)
	d := e.srv.Webhooks().Deliveries()[0]
	if d.Delivered || !d.GaveUp || len(d.Attempts) != 3 {
		t.Errorf("delivery = %+v, want 3 failed attempts and gave up", d)
	}
}

func TestWebhookSeesStoredState(t *testing.T) {
	rc := newReceiver(t, 0)
	var mu sync.Mutex
	var mismatches []string
	var e *env
	rc.onEvent = func(ev tossapi.Event) {
		if ev.StatusChanged == nil {
			return
		}
		// Re-fetch as a real receiver does. The test waits for each step's
		// webhooks before the next step, so the stored payment must be
		// exactly the one announced.
		data := ev.StatusChanged.Data
		p, err := e.client.GetPayment(context.Background(), data.PaymentKey)
		mu.Lock()
		defer mu.Unlock()
		if err != nil || p.Status != data.Status || p.TransactionKey != data.TransactionKey || p.BalanceAmount != data.BalanceAmount {
			mismatches = append(mismatches, summary(ev))
		}
	}
	e = newEnv(t, fake.Options{WebhookURL: rc.url})
	ctx := context.Background()
	p, err := e.client.CreateVirtualAccount(ctx, tossapi.VirtualAccountRequest{
		OrderID: "state-order", OrderName: "n", Bank: "신한", CustomerName: "c", Amount: 5000, Approved: ptr(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.waitHooks(t)
	steps := []func() error{
		func() error {
			_, err := e.client.Approve(ctx, p.PaymentKey, tossapi.Approval{OrderID: "state-order", Amount: 5000})
			return err
		},
		func() error { _, err := e.client.SimulateDeposit(ctx, p.PaymentKey); return err },
	}
	for range 3 {
		steps = append(steps, func() error {
			_, err := e.client.Cancel(ctx, p.PaymentKey, tossapi.CancelRequest{
				CancelReason: "r", CancelAmount: 1000, RefundReceiveAccount: refundAccount()})
			return err
		})
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		e.waitHooks(t)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(mismatches) > 0 {
		t.Errorf("webhooks announced states that were not stored: %v", mismatches)
	}
	if n := len(rc.received(t)); n != 8 { // IN_PROGRESS, WAITING+DEP, DONE+DEP, 3 cancels
		t.Errorf("received %d webhooks, want 8", n)
	}
}

func TestDepositCallbackCarriesSecret(t *testing.T) {
	rc := newReceiver(t, 0)
	e := newEnv(t, fake.Options{WebhookURL: rc.url})
	p := e.paidVirtualAccount(t, "secret-order", 5000)
	e.waitHooks(t)
	var deposits []tossapi.DepositCallback
	for _, ev := range rc.received(t) {
		if ev.Deposit != nil {
			deposits = append(deposits, *ev.Deposit)
		}
	}
	if len(deposits) != 2 {
		t.Fatalf("got %d DEPOSIT_CALLBACKs, want 2 (issued, paid)", len(deposits))
	}
	for i, want := range []tossapi.Status{tossapi.StatusWaitingForDeposit, tossapi.StatusDone} {
		d := deposits[i]
		if d.Secret != p.Secret || d.Status != want || d.OrderID != "secret-order" || d.TransactionKey == "" {
			t.Errorf("deposit callback %d = %+v, want status %s and the payment's secret", i, d, want)
		}
	}
	if deposits[1].TransactionKey != p.TransactionKey {
		t.Errorf("deposit transactionKey %s, want the payment's %s", deposits[1].TransactionKey, p.TransactionKey)
	}
}

func TestFaultErrorRate(t *testing.T) {
	e := newEnv(t, fake.Options{Faults: fault.NewInjector(fault.Faults{ErrorRate: 1}, nil)})
	_, err := e.client.GetPayment(context.Background(), "x")
	wantAPIError(t, err, http.StatusInternalServerError, tossapi.CodeFailedInternalSystemProcessing)
	e.srv.Faults().Set(fault.Faults{})
	_, err = e.client.GetPayment(context.Background(), "x")
	wantAPIError(t, err, http.StatusNotFound, tossapi.CodeNotFoundPayment)
}

func TestFaultLatency(t *testing.T) {
	e := newEnv(t, fake.Options{})
	e.srv.Faults().Set(fault.Faults{Latency: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := e.client.GetPayment(ctx, "x")
	if err == nil || ctx.Err() == nil {
		t.Errorf("GetPayment with 1 s latency and a 20 ms deadline: %v, want a deadline error", err)
	}
}

func TestFaultDecline(t *testing.T) {
	e := newEnv(t, fake.Options{})
	ctx := context.Background()
	pending := e.keyIn(t, "decline-pending", 1000, false) // no charge yet: not declined
	e.srv.Faults().Set(fault.Faults{DeclineRate: 1})

	t.Run("key-in", func(t *testing.T) {
		_, err := e.client.KeyIn(ctx, tossapi.KeyInRequest{CardNumber: "1111222233334444", CardExpirationYear: "28",
			CardExpirationMonth: "03", OrderID: "decline-keyin", Amount: 1000})
		wantAPIError(t, err, http.StatusForbidden, tossapi.CodeRejectCardPayment)
		_, err = e.client.GetPaymentByOrderID(ctx, "decline-keyin")
		wantAPIError(t, err, http.StatusNotFound, tossapi.CodeNotFoundPayment)
	})
	t.Run("approval", func(t *testing.T) {
		_, err := e.client.Approve(ctx, pending.PaymentKey, tossapi.Approval{OrderID: "decline-pending", Amount: 1000})
		wantAPIError(t, err, http.StatusForbidden, tossapi.CodeRejectCardPayment)
		p, err := e.client.GetPayment(ctx, pending.PaymentKey)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != tossapi.StatusAborted || p.Failure == nil || p.Failure.Code != tossapi.CodeRejectCardPayment || p.ApprovedAt != nil {
			t.Errorf("declined approval left %s failure %+v approvedAt %v, want ABORTED with REJECT_CARD_PAYMENT", p.Status, p.Failure, p.ApprovedAt)
		}
		evs := summaries(e.events(t))
		if last := evs[len(evs)-1]; last != "PSC:"+pending.PaymentKey+":ABORTED" {
			t.Errorf("last webhook %s, want ABORTED", last)
		}
	})
	t.Run("billing", func(t *testing.T) {
		b, err := e.client.IssueBillingKey(ctx, tossapi.BillingCardRequest{CustomerKey: "c", CardNumber: "1111222233334444",
			CardExpirationYear: "28", CardExpirationMonth: "03", CardPassword: "99", CustomerBirthday: "880311"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.client.PayWithBillingKey(ctx, b.BillingKey, tossapi.BillingPaymentRequest{CustomerKey: "c", OrderID: "decline-billing", Amount: 1000})
		wantAPIError(t, err, http.StatusForbidden, tossapi.CodeRejectCardPayment)
	})
	t.Run("virtual accounts are not declined", func(t *testing.T) {
		e.paidVirtualAccount(t, "decline-va", 1000)
	})
}

func TestFaultWebhookDuplicateAndDelay(t *testing.T) {
	rc := newReceiver(t, 0)
	e := newEnv(t, fake.Options{WebhookURL: rc.url})
	e.srv.Faults().Set(fault.Faults{WebhookDuplicate: true, WebhookDelay: 30 * time.Millisecond})
	p := e.keyIn(t, "dup-hook", 1000, true)
	e.waitHooks(t)
	want := []string{"PSC:" + p.PaymentKey + ":DONE", "PSC:" + p.PaymentKey + ":DONE"}
	if got := summaries(rc.received(t)); !cmp.Equal(got, want) {
		t.Errorf("received %v, want %v", got, want)
	}
	for _, d := range e.srv.Webhooks().Deliveries() {
		if late := d.Attempts[0].At.Sub(d.EnqueuedAt); late < 30*time.Millisecond {
			t.Errorf("delivery %s started %v after Send, want at least the 30ms delay", d.ID, late)
		}
	}
}

func TestFaultWebhookReorder(t *testing.T) {
	rc := newReceiver(t, 0)
	e := newEnv(t, fake.Options{WebhookURL: rc.url})
	// The window is long enough for both calls to land in one batch.
	e.srv.Faults().Set(fault.Faults{WebhookReorder: true, WebhookDelay: 300 * time.Millisecond})
	first := e.keyIn(t, "reorder-1", 1000, true)
	second := e.keyIn(t, "reorder-2", 1000, true)
	e.waitHooks(t)
	want := []string{"PSC:" + second.PaymentKey + ":DONE", "PSC:" + first.PaymentKey + ":DONE"}
	if got := summaries(rc.received(t)); !cmp.Equal(got, want) {
		t.Errorf("received %v, want %v (reversed)", got, want)
	}
}
