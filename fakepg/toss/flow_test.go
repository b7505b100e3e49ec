package toss_test

// Flows that mirror payment-backend's Toss tests (payments-backend.md §11),
// driven through the Go client of gateway/toss: the test plays the
// customer (key-in, virtual account, deposit) and the payment server
// (approve, re-fetch on webhook, cancel).

import (
	"context"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	fake "github.com/paymentctl/paymentctl/fakepg/toss"
	tossapi "github.com/paymentctl/paymentctl/gateway/toss"
)

// merchant stands in for the payment server's Toss webhook route: it ignores
// WAITING_FOR_DEPOSIT as payment-backend does, re-fetches every other
// announced payment and keeps what it fetched.
type merchant struct {
	mu       sync.Mutex
	fetched  []tossapi.Payment
	deposits []tossapi.DepositCallback
	rc       *receiver
}

func newMerchant(t *testing.T, client func() *tossapi.Client) *merchant {
	m := &merchant{rc: newReceiver(t, 0)}
	m.rc.onEvent = func(ev tossapi.Event) {
		if ev.Deposit != nil {
			m.mu.Lock()
			m.deposits = append(m.deposits, *ev.Deposit)
			m.mu.Unlock()
			return
		}
		if ev.StatusChanged.Data.Status == tossapi.StatusWaitingForDeposit {
			return
		}
		p, err := client().GetPayment(context.Background(), ev.StatusChanged.Data.PaymentKey)
		if err != nil {
			t.Errorf("merchant re-fetch: %v", err)
			return
		}
		m.mu.Lock()
		m.fetched = append(m.fetched, *p)
		m.mu.Unlock()
	}
	return m
}

// count returns how many payments the merchant re-fetched.
func (m *merchant) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.fetched)
}

// last returns the most recently re-fetched payment.
func (m *merchant) last(t *testing.T) tossapi.Payment {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.fetched) == 0 {
		t.Fatal("the merchant received no webhook")
	}
	return m.fetched[len(m.fetched)-1]
}

// flowEnv starts a fake whose webhooks go to a merchant.
func flowEnv(t *testing.T) (*env, *merchant) {
	var e *env
	m := newMerchant(t, func() *tossapi.Client { return e.client })
	e = newEnv(t, fake.Options{WebhookURL: m.rc.url})
	return e, m
}

// approve is the payment server's registration step.
func (e *env) approve(t *testing.T, p *tossapi.Payment) *tossapi.Payment {
	t.Helper()
	got, err := e.client.Approve(context.Background(), p.PaymentKey, tossapi.Approval{OrderID: p.OrderID, Amount: p.TotalAmount})
	if err != nil {
		t.Fatalf("Approve: %v", err)
	}
	return got
}

func TestFlowCardPayment(t *testing.T) {
	e, m := flowEnv(t)
	p, err := e.client.KeyIn(context.Background(), tossapi.KeyInRequest{
		CardNumber: "1111222233334444", CardExpirationYear: "24", CardExpirationMonth: "03",
		OrderID: "0d5e8f30-0000-4000-8000-000000000001", Amount: 20000, Approved: ptr(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != tossapi.StatusInProgress {
		t.Fatalf("key-in with __approved false: %s, want IN_PROGRESS", p.Status)
	}
	p = e.approve(t, p)
	if _, ok := p.Approved(); p.Status != tossapi.StatusDone || !ok {
		t.Fatalf("approved: %s approvedAt %v", p.Status, p.ApprovedAt)
	}
	got, err := e.client.GetPayment(context.Background(), p.PaymentKey)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("re-fetched payment differs from the approval's answer (-approve +get):\n%s", diff)
	}
	e.waitHooks(t)
	if last := m.last(t); last.Status != tossapi.StatusDone || last.PaymentKey != p.PaymentKey {
		t.Errorf("merchant's last fetch: %s %s, want DONE", last.PaymentKey, last.Status)
	}
}

func TestFlowVirtualAccountPayment(t *testing.T) {
	e, m := flowEnv(t)
	ctx := context.Background()
	p, err := e.client.CreateVirtualAccount(ctx, tossapi.VirtualAccountRequest{
		OrderID: "va-flow", OrderName: "something", Bank: "신한", CustomerName: "Samchon", Amount: 19900, Approved: ptr(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	p = e.approve(t, p)
	if p.Status != tossapi.StatusWaitingForDeposit {
		t.Fatalf("approved virtual account: %s, want WAITING_FOR_DEPOSIT", p.Status)
	}
	e.waitHooks(t)
	before := m.count()
	if _, err := e.client.SimulateDeposit(ctx, p.PaymentKey); err != nil {
		t.Fatal(err)
	}
	e.waitHooks(t)

	current := m.last(t)
	if n := m.count() - before; n != 1 || current.Status != tossapi.StatusDone {
		t.Fatalf("after the deposit the merchant fetched %d more, last %s; want one more, DONE", n, current.Status)
	}
	if _, ok := current.Approved(); !ok {
		t.Error("paid virtual account has no approvedAt")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := len(m.deposits); n != 2 || m.deposits[1].Status != tossapi.StatusDone || m.deposits[1].Secret != p.Secret {
		t.Errorf("deposit callbacks %+v, want issued and paid, with the payment's secret", m.deposits)
	}
}

func TestFlowFullCancel(t *testing.T) {
	e, m := flowEnv(t)
	ctx := context.Background()
	p := e.approve(t, e.keyIn(t, "cancel-flow", 20000, false))
	got, err := e.client.Cancel(ctx, p.PaymentKey, tossapi.CancelRequest{CancelReason: "some-reason", CancelAmount: p.TotalAmount})
	if err != nil {
		t.Fatal(err)
	}
	check := func(where string, q tossapi.Payment) {
		if q.Status != tossapi.StatusCanceled || len(q.Cancels) != 1 || q.Cancels[0].CancelAmount != 20000 ||
			q.Cancels[0].CancelReason != "some-reason" || q.CanceledAmount() != 20000 {
			t.Errorf("%s: %s cancels %+v, want CANCELED with one 20000 cancel", where, q.Status, q.Cancels)
		}
	}
	check("cancel answer", *got)
	e.waitHooks(t)
	check("merchant's re-fetch", m.last(t))
	again, err := e.client.GetPayment(ctx, p.PaymentKey)
	if err != nil {
		t.Fatal(err)
	}
	check("get", *again)
}

func TestFlowFivePartialCancels(t *testing.T) {
	for _, method := range []string{"card", "virtual account"} {
		t.Run(method, func(t *testing.T) {
			e, m := flowEnv(t)
			ctx := context.Background()
			var p *tossapi.Payment
			var account *tossapi.RefundAccount
			if method == "card" {
				p = e.approve(t, e.keyIn(t, "partial-flow", 20000, false))
			} else {
				p = e.paidVirtualAccount(t, "partial-flow", 20000)
				account = refundAccount()
			}
			e.waitHooks(t)
			part := p.TotalAmount / 5
			for i := 1; i <= 5; i++ {
				got, err := e.client.Cancel(ctx, p.PaymentKey, tossapi.CancelRequest{
					CancelReason: "some-reason", CancelAmount: part, RefundReceiveAccount: account,
				})
				if err != nil {
					t.Fatalf("cancel %d: %v", i, err)
				}
				e.waitHooks(t)
				wantStatus := tossapi.StatusPartialCanceled
				if i == 5 {
					wantStatus = tossapi.StatusCanceled
				}
				for where, q := range map[string]tossapi.Payment{"answer": *got, "webhook re-fetch": m.last(t)} {
					if q.Status != wantStatus || len(q.Cancels) != i || q.CanceledAmount() != part*int64(i) ||
						q.BalanceAmount != p.TotalAmount-part*int64(i) {
						t.Errorf("cancel %d, %s: %s, %d cancels summing %d, balance %d", i, where, q.Status,
							len(q.Cancels), q.CanceledAmount(), q.BalanceAmount)
					}
				}
			}
		})
	}
}

func TestFlowBillingPayment(t *testing.T) {
	e, m := flowEnv(t)
	ctx := context.Background()
	customer := "6f1c2a6e-0000-4000-8000-000000000002"
	b, err := e.client.IssueBillingKey(ctx, tossapi.BillingCardRequest{
		CustomerKey: customer, CardNumber: "1111222233334444", CardExpirationYear: "28", CardExpirationMonth: "03",
		CardPassword: "99", CustomerBirthday: "880311", ConsumerName: "남정호",
	})
	if err != nil {
		t.Fatal(err)
	}
	// The payment server's reservation step reads the billing key back.
	saved, err := e.client.GetBilling(ctx, b.BillingKey, customer)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b, saved); diff != "" {
		t.Errorf("saved card (-issued +read):\n%s", diff)
	}
	p, err := e.client.PayWithBillingKey(ctx, b.BillingKey, tossapi.BillingPaymentRequest{
		CustomerKey: customer, OrderID: "billing-flow", OrderName: "월 구독", Amount: 9900,
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != tossapi.StatusDone || p.Type != tossapi.TypeBilling || p.OrderName != "월 구독" ||
		p.Card == nil || p.Card.Number != b.CardNumber || p.ApprovedAt == nil {
		t.Errorf("billing payment: %s %s %q card %+v approvedAt %v", p.Status, p.Type, p.OrderName, p.Card, p.ApprovedAt)
	}
	e.waitHooks(t)
	if last := m.last(t); last.PaymentKey != p.PaymentKey || last.Status != tossapi.StatusDone {
		t.Errorf("merchant's last fetch %s %s, want the billing payment DONE", last.PaymentKey, last.Status)
	}
}
