package portone_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/fakepg/fault"
	"github.com/paymentctl/paymentctl/fakepg/portone"
	api "github.com/paymentctl/paymentctl/gateway/portone"
)

func ptr[T any](v T) *T { return &v }

func TestCardPartialCancelsToZero(t *testing.T) {
	e := newEnv(t, portone.Options{})
	ctx := context.Background()
	p := e.pay(portone.CheckoutRequest{PaymentID: "order-1", TotalAmount: 10000, TaxFreeAmount: 1000})
	paid, ok := p.(*api.PaidPayment)
	if !ok {
		t.Fatalf("after checkout: %T, want *PaidPayment", p)
	}
	if paid.PaidAt.IsZero() || paid.Channel == nil || paid.Method == nil || paid.Method.Type != api.MethodCard || paid.Amount.Paid != 10000 {
		t.Errorf("paid payment = %+v", paid)
	}

	// Four partial cancels, each with the balance before it, then the rest.
	balance := int64(10000)
	for i, amount := range []int64{1000, 2000, 3000, 3000} {
		c, err := e.client.CancelPayment(ctx, "order-1", balance, api.CancelRequest{Amount: ptr(amount), Reason: "partial"})
		if err != nil {
			t.Fatalf("cancel %d: %v", i+1, err)
		}
		balance -= amount
		if c.Status != api.CancellationSucceeded || c.TotalAmount != amount || c.ID == "" {
			t.Errorf("cancel %d = %+v", i+1, c)
		}
		got := e.get("order-1")
		pc, ok := got.(*api.PartialCancelledPayment)
		if !ok || pc.Cancellable() != balance || len(pc.Cancellations) != i+1 || pc.CancelledAt.IsZero() {
			t.Fatalf("after cancel %d: %T %+v", i+1, got, got.Base().Amount)
		}
	}
	// A stale balance and an over-cancel are refused and change nothing.
	_, err := e.client.CancelPayment(ctx, "order-1", balance+1000, api.CancelRequest{Amount: ptr(int64(100)), Reason: "stale"})
	wantType(t, err, api.TypeCancellableAmountConsistencyBroken)
	_, err = e.client.CancelPayment(ctx, "order-1", balance, api.CancelRequest{Amount: ptr(balance + 1), Reason: "over"})
	wantType(t, err, api.TypeCancelAmountExceedsCancellableAmount)
	if got := e.get("order-1").Base().Cancellable(); got != balance {
		t.Fatalf("refused cancels changed the balance to %d, want %d", got, balance)
	}
	// The rest, with no amount.
	c, err := e.client.CancelPayment(ctx, "order-1", balance, api.CancelRequest{Reason: "the rest"})
	if err != nil {
		t.Fatal(err)
	}
	if c.TotalAmount != balance || c.TaxFreeAmount != 1000 {
		t.Errorf("final cancel = %+v, want %d with the tax-free 1000", c, balance)
	}
	final, ok := e.get("order-1").(*api.CancelledPayment)
	if !ok || final.Amount.Cancelled != 10000 || final.Amount.CancelledTaxFree != 1000 || len(final.Cancellations) != 5 {
		t.Fatalf("after the last cancel: %+v", final)
	}
	_, err = e.client.CancelPayment(ctx, "order-1", 0, api.CancelRequest{Reason: "again"})
	wantType(t, err, api.TypePaymentAlreadyCancelled)

	want := []string{api.EventTransactionReady, api.EventTransactionPaid,
		api.EventTransactionPartialCancelled, api.EventTransactionPartialCancelled, api.EventTransactionPartialCancelled,
		api.EventTransactionPartialCancelled, api.EventTransactionCancelled}
	ws := e.hooks.wait(len(want))
	if got := types(ws, "order-1"); !reflect.DeepEqual(got, want) {
		t.Errorf("webhooks = %v, want %v", got, want)
	}
	for i, w := range ws[2:] {
		if w.Event.Data.CancellationID != final.Cancellations[i].ID || w.Event.Data.StoreID != portone.DefaultStoreID {
			t.Errorf("cancel webhook %d data = %+v", i+1, w.Event.Data)
		}
	}
}

func TestVirtualAccount(t *testing.T) {
	e := newEnv(t, portone.Options{})
	ctx := context.Background()
	refund := &api.RefundAccount{Bank: "KOOKMIN", Number: "12345678901234", HolderName: "홍길동"}

	p := e.pay(portone.CheckoutRequest{PaymentID: "va-1", TotalAmount: 5000, PayMethod: portone.PayMethodVirtualAccount, Bank: "woori"})
	va, ok := p.(*api.VirtualAccountIssuedPayment)
	if !ok || va.Method.AccountNumber == "" || va.Method.Bank != "WOORI" || va.Method.ExpiredAt.IsZero() {
		t.Fatalf("after checkout: %T %+v", p, p.Base().Method)
	}
	_, err := e.client.CancelPayment(ctx, "va-1", 5000, api.CancelRequest{Reason: "unpaid", RefundAccount: refund})
	wantType(t, err, api.TypePaymentNotPaid)
	if _, err := e.browser.Checkout(ctx, portone.CheckoutRequest{PaymentID: "va-1", OrderName: "o", TotalAmount: 5000}); err == nil {
		t.Error("a second checkout of an issued account was accepted")
	}

	deposited, err := e.browser.Deposit(ctx, "va-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := deposited.(*api.PaidPayment); !ok {
		t.Fatalf("after the deposit: %T", deposited)
	}
	_, err = e.browser.Deposit(ctx, "va-1")
	wantType(t, err, api.TypePaymentNotWaitingForDeposit)

	_, err = e.client.CancelPayment(ctx, "va-1", 5000, api.CancelRequest{Reason: "no account"})
	wantType(t, err, api.TypeInvalidRequest)
	if _, err := e.client.CancelPayment(ctx, "va-1", 5000, api.CancelRequest{Reason: "refund", RefundAccount: refund}); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.get("va-1").(*api.CancelledPayment); !ok {
		t.Errorf("after the refund: %T", e.get("va-1"))
	}

	// Another account is closed unpaid.
	e.pay(portone.CheckoutRequest{PaymentID: "va-2", TotalAmount: 7000, PayMethod: portone.PayMethodVirtualAccount})
	status, body := e.rawCall("POST", "/payments/va-2/virtual-account/close", "PortOne "+portone.DefaultSecret, "", "")
	if status != 200 || body["closedAt"] == nil {
		t.Fatalf("close = %d %v", status, body)
	}
	if f, ok := e.get("va-2").(*api.FailedPayment); !ok || f.FailedAt.IsZero() {
		t.Errorf("after close: %T", e.get("va-2"))
	}
	status, body = e.rawCall("POST", "/payments/va-2/virtual-account/close", "PortOne "+portone.DefaultSecret, "", "")
	if status != 409 || body["type"] != string(api.TypePaymentNotWaitingForDeposit) {
		t.Errorf("second close = %d %v", status, body)
	}

	want1 := []string{api.EventTransactionReady, api.EventTransactionVirtualAccountIssued, api.EventTransactionPaid, api.EventTransactionCancelled}
	want2 := []string{api.EventTransactionReady, api.EventTransactionVirtualAccountIssued, api.EventTransactionFailed}
	ws := e.hooks.wait(len(want1) + len(want2))
	if got := types(ws, "va-1"); !reflect.DeepEqual(got, want1) {
		t.Errorf("va-1 webhooks = %v, want %v", got, want1)
	}
	if got := types(ws, "va-2"); !reflect.DeepEqual(got, want2) {
		t.Errorf("va-2 webhooks = %v, want %v", got, want2)
	}
}

func TestEasyPayAndOutcomes(t *testing.T) {
	e := newEnv(t, portone.Options{})
	ctx := context.Background()
	p := e.pay(portone.CheckoutRequest{PaymentID: "ep", TotalAmount: 1000, PayMethod: portone.PayMethodEasyPay, EasyPayProvider: "NAVERPAY"})
	if m := p.Base().Method; p.Base().Status != api.StatusPaid || m.Type != api.MethodEasyPay || m.Provider != "NAVERPAY" || m.EasyPayMethod.Type != api.MethodCard {
		t.Errorf("easy pay = %s %+v", p.Base().Status, m)
	}
	tests := []struct {
		outcome string
		want    any
	}{
		{portone.OutcomeReady, &api.ReadyPayment{}},
		{portone.OutcomePayPending, &api.PayPendingPayment{}},
		{portone.OutcomeDecline, &api.FailedPayment{}},
	}
	for _, tt := range tests {
		id := "outcome-" + tt.outcome
		out, err := e.browser.Checkout(ctx, portone.CheckoutRequest{PaymentID: id, OrderName: "o", TotalAmount: 100, Outcome: tt.outcome})
		if err != nil {
			t.Fatal(err)
		}
		if got := e.get(id); reflect.TypeOf(got) != reflect.TypeOf(tt.want) {
			t.Errorf("outcome %q: %T, want %T", tt.outcome, got, tt.want)
		}
		if (tt.outcome == portone.OutcomeDecline) != (out.Code != "") {
			t.Errorf("outcome %q: checkout answer %+v", tt.outcome, out)
		}
	}
	// A declined or abandoned payment may be tried again, and then paid.
	first := e.get("outcome-DECLINE").Base().TransactionID
	again := e.pay(portone.CheckoutRequest{PaymentID: "outcome-DECLINE", TotalAmount: 100})
	if again.Base().Status != api.StatusPaid || again.Base().TransactionID == first {
		t.Errorf("retry = %s, transaction %s (first %s)", again.Base().Status, again.Base().TransactionID, first)
	}
	_, err := e.client.CancelPayment(ctx, "outcome-READY", 100, api.CancelRequest{Reason: "r"})
	wantType(t, err, api.TypePaymentNotPaid)
	_, err = e.client.GetPayment(ctx, "nobody")
	wantType(t, err, api.TypePaymentNotFound)
}

func TestBillingKeys(t *testing.T) {
	e := newEnv(t, portone.Options{})
	ctx := context.Background()
	issued, err := e.browser.IssueBillingKey(ctx, portone.BillingKeyCheckoutRequest{Customer: &api.Customer{ID: "customer-1"}})
	if err != nil {
		t.Fatal(err)
	}
	key := issued.BillingKey
	info, err := e.client.GetBillingKey(ctx, key)
	if err != nil || info.Status != api.BillingKeyIssued || info.Customer.ID != "customer-1" || len(info.Channels) != 1 {
		t.Fatalf("GetBillingKey = %+v, %v", info, err)
	}
	req := api.BillingKeyPaymentRequest{BillingKey: key, OrderName: "monthly", Amount: api.AmountInput{Total: 9900}, Currency: "KRW"}
	sum, err := e.client.PayWithBillingKey(ctx, "sub-1", req)
	if err != nil || sum.PgTxID == "" || sum.PaidAt.IsZero() {
		t.Fatalf("PayWithBillingKey = %+v, %v", sum, err)
	}
	if p, ok := e.get("sub-1").(*api.PaidPayment); !ok || p.BillingKey != key || p.Amount.Total != 9900 {
		t.Errorf("billing-key payment = %+v", e.get("sub-1"))
	}
	_, err = e.client.PayWithBillingKey(ctx, "sub-1", req)
	wantType(t, err, api.TypeAlreadyPaid)

	at, err := e.client.DeleteBillingKey(ctx, key, "cancelled subscription")
	if err != nil || at.IsZero() {
		t.Fatalf("DeleteBillingKey = %v, %v", at, err)
	}
	info, err = e.client.GetBillingKey(ctx, key)
	if err != nil || info.Status != api.BillingKeyDeleted || info.DeletedAt.IsZero() {
		t.Errorf("deleted key = %+v, %v", info, err)
	}
	_, err = e.client.DeleteBillingKey(ctx, key, "")
	wantType(t, err, api.TypeBillingKeyAlreadyDeleted)
	_, err = e.client.PayWithBillingKey(ctx, "sub-2", req)
	wantType(t, err, api.TypeBillingKeyAlreadyDeleted)
	_, err = e.client.GetBillingKey(ctx, "billing-key-unknown")
	wantType(t, err, api.TypeBillingKeyNotFound)
	req.BillingKey = "billing-key-unknown"
	_, err = e.client.PayWithBillingKey(ctx, "sub-3", req)
	wantType(t, err, api.TypeBillingKeyNotFound)

	// The API's own issuance from a typed-in card.
	status, body := e.rawCall("POST", "/billing-keys", "PortOne "+portone.DefaultSecret, "",
		`{"method":{"card":{"credential":{"number":"5365101234567890","expiryYear":"29","expiryMonth":"12"}}}}`)
	apiKey, _ := body["billingKeyInfo"].(map[string]any)["billingKey"].(string)
	if status != 200 || apiKey == "" {
		t.Fatalf("POST /billing-keys = %d %v", status, body)
	}
	if info, err := e.client.GetBillingKey(ctx, apiKey); err != nil || info.Methods[0].Card.Number != "536510******7890" {
		t.Errorf("API-issued key = %+v, %v", info, err)
	}

	ws := e.hooks.wait(5)
	if got, want := types(ws, key), []string{api.EventBillingKeyReady, api.EventBillingKeyIssued, api.EventBillingKeyDeleted}; !reflect.DeepEqual(got, want) {
		t.Errorf("billing key webhooks = %v, want %v", got, want)
	}
	if got := types(ws, "sub-1"); !reflect.DeepEqual(got, []string{api.EventTransactionPaid}) {
		t.Errorf("billing-key payment webhooks = %v", got)
	}
}

func TestDeclineFault(t *testing.T) {
	e := newEnv(t, portone.Options{Faults: fault.NewInjector(fault.Faults{DeclineRate: 1}, nil)})
	ctx := context.Background()
	out, err := e.browser.Checkout(ctx, portone.CheckoutRequest{PaymentID: "d1", OrderName: "o", TotalAmount: 100})
	if err != nil || out.Code == "" || out.PgCode == "" {
		t.Fatalf("declined checkout = %+v, %v", out, err)
	}
	if _, ok := e.get("d1").(*api.FailedPayment); !ok {
		t.Errorf("declined checkout left %T", e.get("d1"))
	}
	key, err := e.browser.IssueBillingKey(ctx, portone.BillingKeyCheckoutRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client.PayWithBillingKey(ctx, "d2", api.BillingKeyPaymentRequest{BillingKey: key.BillingKey, OrderName: "o", Amount: api.AmountInput{Total: 100}, Currency: "KRW"})
	wantType(t, err, api.TypePgProvider)
	if !api.IsType(err, api.TypePgProvider) || err.(interface{ Unwrap() error }).Unwrap().(*api.Error).PgCode == "" {
		t.Errorf("decline %v has no pgCode", err)
	}
	if _, ok := e.get("d2").(*api.FailedPayment); !ok {
		t.Errorf("declined billing-key payment left %T", e.get("d2"))
	}
	// A virtual account is never declined.
	if p := e.pay(portone.CheckoutRequest{PaymentID: "d3", TotalAmount: 100, PayMethod: portone.PayMethodVirtualAccount}); p.Base().Status != api.StatusVirtualAccountIssued {
		t.Errorf("virtual account under DeclineRate 1: %s", p.Base().Status)
	}
}

func TestPreRegistration(t *testing.T) {
	e := newEnv(t, portone.Options{})
	ctx := context.Background()
	status, _ := e.rawCall("POST", "/payments/pre-1/pre-register", "PortOne "+portone.DefaultSecret, "", `{"totalAmount":3000,"currency":"KRW"}`)
	if status != 200 {
		t.Fatalf("pre-register = %d", status)
	}
	_, err := e.client.GetPayment(ctx, "pre-1")
	wantType(t, err, api.TypePaymentNotFound)
	_, err = e.browser.Checkout(ctx, portone.CheckoutRequest{PaymentID: "pre-1", OrderName: "o", TotalAmount: 300})
	wantType(t, err, api.TypeInformationMismatch)
	e.pay(portone.CheckoutRequest{PaymentID: "pre-1", TotalAmount: 3000})
	status, body := e.rawCall("POST", "/payments/pre-1/pre-register", "PortOne "+portone.DefaultSecret, "", `{"totalAmount":3000}`)
	if status != 409 || body["type"] != string(api.TypeAlreadyPaid) {
		t.Errorf("pre-register of a paid payment = %d %v", status, body)
	}
}

func TestWebhooksSignedAtEveryAttempt(t *testing.T) {
	const next = "whsec_bmV4dC1zZWNyZXQtb2YtdGhlLXJvdGF0aW9u"
	e := newEnv(t, portone.Options{WebhookSecrets: []string{portone.DefaultWebhookSecret, next}})
	e.hooks.failFirst = 2 // both retries are needed
	e.pay(portone.CheckoutRequest{PaymentID: "w1", TotalAmount: 100, Outcome: portone.OutcomeReady})
	ws := e.hooks.wait(1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.fake.Webhooks().Wait(ctx); err != nil {
		t.Fatal(err)
	}
	ds := e.fake.Webhooks().Deliveries()
	if len(ds) != 1 || len(ds[0].Attempts) != 3 || !ds[0].Delivered {
		t.Fatalf("deliveries = %+v", ds)
	}
	for i, a := range ds[0].Attempts {
		if a.Header.Get(api.WebhookIDHeader) != ws[0].ID {
			t.Errorf("attempt %d has webhook-id %q, want %q", i+1, a.Header.Get(api.WebhookIDHeader), ws[0].ID)
		}
		if sigs := a.Header.Get(api.WebhookSignatureHeader); len(strings.Fields(sigs)) != 2 {
			t.Errorf("attempt %d signatures %q, want two", i+1, sigs)
		}
	}
	// The second secret alone verifies too.
	v, err := api.NewWebhookVerifier(next)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.VerifyAt(ds[0].Attempts[2].Header, ds[0].Body, time.Now()); err != nil {
		t.Errorf("the rotation's next secret: %v", err)
	}
}

// TestAsyncCancels: with AsyncCancels a cancel is REQUESTED and moves
// nothing (a Transaction.CancelPending webhook) until SettleCancellations
// makes it SUCCEEDED (refunded, a cancel webhook) or FAILED (nothing).
func TestAsyncCancels(t *testing.T) {
	e := newEnv(t, portone.Options{AsyncCancels: true})
	ctx := context.Background()
	e.pay(portone.CheckoutRequest{PaymentID: "order-async", TotalAmount: 10000})

	c, err := e.client.CancelPayment(ctx, "order-async", 10000, api.CancelRequest{Amount: ptr(int64(4000)), Reason: "async"})
	if err != nil || c.Status != api.CancellationRequested || c.TotalAmount != 4000 || !c.CancelledAt.IsZero() {
		t.Fatalf("cancel = %+v, %v; want REQUESTED 4000, not cancelled yet", c, err)
	}
	p, ok := e.get("order-async").(*api.PaidPayment)
	if !ok || p.Amount.Cancelled != 0 || len(p.Cancellations) != 1 || p.Cancellations[0].Status != api.CancellationRequested {
		t.Fatalf("after a requested cancel: %+v, want PAID, nothing refunded, one REQUESTED cancellation", e.get("order-async"))
	}
	if n, err := e.fake.SettleCancellations(ctx, "order-async", true); err != nil || n != 1 {
		t.Fatalf("SettleCancellations = %d, %v; want 1", n, err)
	}
	pc, ok := e.get("order-async").(*api.PartialCancelledPayment)
	if !ok || pc.Amount.Cancelled != 4000 || pc.Cancellations[0].Status != api.CancellationSucceeded || pc.Cancellations[0].CancelledAt.IsZero() {
		t.Fatalf("after it succeeded: %+v", e.get("order-async"))
	}

	if _, err := e.client.CancelPayment(ctx, "order-async", 6000, api.CancelRequest{Amount: ptr(int64(1000)), Reason: "async, fails"}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.fake.SettleCancellations(ctx, "order-async", false); err != nil || n != 1 {
		t.Fatalf("SettleCancellations(fail) = %d, %v; want 1", n, err)
	}
	pc, ok = e.get("order-async").(*api.PartialCancelledPayment)
	if !ok || pc.Amount.Cancelled != 4000 || len(pc.Cancellations) != 2 || pc.Cancellations[1].Status != api.CancellationFailed {
		t.Fatalf("after it failed: %+v, want 4000 refunded and the second FAILED", e.get("order-async"))
	}
	if n, _ := e.fake.SettleCancellations(ctx, "order-async", true); n != 0 {
		t.Errorf("settled %d again, want 0: nothing is requested", n)
	}

	want := []string{api.EventTransactionReady, api.EventTransactionPaid,
		api.EventTransactionCancelPending, api.EventTransactionPartialCancelled, api.EventTransactionCancelPending}
	if got := types(e.hooks.wait(len(want)), "order-async"); !reflect.DeepEqual(got, want) {
		t.Errorf("webhooks = %v, want %v", got, want)
	}
}
