package toss_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	fake "github.com/paymentctl/paymentctl/fakepg/toss"
	tossapi "github.com/paymentctl/paymentctl/gateway/toss"
)

// cancelRaw posts a cancel body with an Idempotency-Key as secretKey and
// returns the status and the raw answer.
func (e *env) cancelRaw(t *testing.T, secretKey, paymentKey, idemKey, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+"/v1/payments/"+paymentKey+"/cancel", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", basic(secretKey))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(tossapi.IdempotencyHeader, idemKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// balance re-fetches a payment and returns its balance and cancel count.
func (e *env) balance(t *testing.T, paymentKey string) (int64, int) {
	t.Helper()
	p, err := e.client.GetPayment(context.Background(), paymentKey)
	if err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	return p.BalanceAmount, len(p.Cancels)
}

// cancelWebhooks counts the PAYMENT_STATUS_CHANGED webhooks about
// paymentKey sent after its creation.
func (e *env) cancelWebhooks(t *testing.T, paymentKey string) int {
	t.Helper()
	n := 0
	for _, ev := range e.events(t) {
		if ev.StatusChanged != nil && ev.StatusChanged.Data.PaymentKey == paymentKey && len(ev.StatusChanged.Data.Cancels) > 0 {
			n++
		}
	}
	return n
}

func TestIdempotentCancelRunsOnce(t *testing.T) {
	e := newEnv(t, fake.Options{})
	ctx := context.Background()
	p := e.keyIn(t, "idem-once", 10000, true)

	in := tossapi.CancelRequest{CancelReason: "retry after a timeout", CancelAmount: 3000, IdempotencyKey: "key-1"}
	first, err := e.client.Cancel(ctx, p.PaymentKey, in)
	if err != nil {
		t.Fatalf("first cancel: %v", err)
	}
	second, err := e.client.Cancel(ctx, p.PaymentKey, in)
	if err != nil {
		t.Fatalf("repeated cancel: %v", err)
	}
	if first.TransactionKey != second.TransactionKey || second.BalanceAmount != 7000 || len(second.Cancels) != 1 {
		t.Errorf("repeat = transaction %s balance %d cancels %d; want the first answer (transaction %s, balance 7000, 1 cancel)",
			second.TransactionKey, second.BalanceAmount, len(second.Cancels), first.TransactionKey)
	}
	if bal, n := e.balance(t, p.PaymentKey); bal != 7000 || n != 1 {
		t.Errorf("stored balance %d with %d cancels, want 7000 with 1", bal, n)
	}
	if n := e.cancelWebhooks(t, p.PaymentKey); n != 1 {
		t.Errorf("%d cancel webhooks, want 1", n)
	}

	// Byte for byte, status included.
	body := `{"cancelReason":"r","cancelAmount":1000}`
	s1, b1 := e.cancelRaw(t, fake.DefaultSecretKey, p.PaymentKey, "key-2", body)
	s2, b2 := e.cancelRaw(t, fake.DefaultSecretKey, p.PaymentKey, "key-2", body)
	if s1 != http.StatusOK || s2 != s1 || !bytes.Equal(b1, b2) {
		t.Errorf("answers %d %s and %d %s, want the same 200 twice", s1, b1, s2, b2)
	}
	if bal, _ := e.balance(t, p.PaymentKey); bal != 6000 {
		t.Errorf("balance %d after key-2 twice, want 6000", bal)
	}
}

func TestIdempotencyScope(t *testing.T) {
	e := newEnv(t, fake.Options{Authorize: func(key string) bool { return key == "sk_a" || key == "sk_b" }})
	ctx := context.Background()
	a := tossapi.New(tossapi.Options{BaseURL: e.url, SecretKey: "sk_a", Timeout: 5 * time.Second})
	b := tossapi.New(tossapi.Options{BaseURL: e.url, SecretKey: "sk_b", Timeout: 5 * time.Second})
	e.client = a
	p1 := e.keyIn(t, "idem-scope-1", 10000, true)
	p2 := e.keyIn(t, "idem-scope-2", 10000, true)

	in := tossapi.CancelRequest{CancelReason: "r", CancelAmount: 1000, IdempotencyKey: "shared"}
	for _, step := range []struct {
		name   string
		client *tossapi.Client
		key    string
	}{
		{"first", a, p1.PaymentKey},
		{"another payment (URL)", a, p2.PaymentKey},
		{"another secret key", b, p1.PaymentKey},
		{"repeat of the first", a, p1.PaymentKey},
	} {
		if _, err := step.client.Cancel(ctx, step.key, in); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
	}
	if bal, n := e.balance(t, p1.PaymentKey); bal != 8000 || n != 2 {
		t.Errorf("payment 1: balance %d with %d cancels, want 8000 with 2 (once per secret key)", bal, n)
	}
	if bal, n := e.balance(t, p2.PaymentKey); bal != 9000 || n != 1 {
		t.Errorf("payment 2: balance %d with %d cancels, want 9000 with 1", bal, n)
	}
}

func TestIdempotencyReplaysErrors(t *testing.T) {
	e := newEnv(t, fake.Options{})
	ctx := context.Background()
	p := e.keyIn(t, "idem-errors", 10000, true)

	// The first call is refused (stale refundableAmount); its repeat is
	// refused the same way even though its body would now pass: the
	// body of a repeat is not looked at.
	_, err := e.client.Cancel(ctx, p.PaymentKey, tossapi.CancelRequest{CancelReason: "r", CancelAmount: 1000, RefundableAmount: 9999, IdempotencyKey: "k"})
	wantAPIError(t, err, http.StatusBadRequest, tossapi.CodeNotMatchesRefundableAmount)
	_, err = e.client.Cancel(ctx, p.PaymentKey, tossapi.CancelRequest{CancelReason: "r", CancelAmount: 1000, RefundableAmount: 10000, IdempotencyKey: "k"})
	wantAPIError(t, err, http.StatusBadRequest, tossapi.CodeNotMatchesRefundableAmount)
	if bal, n := e.balance(t, p.PaymentKey); bal != 10000 || n != 0 {
		t.Errorf("balance %d with %d cancels, want 10000 with none", bal, n)
	}

	// A new key runs the call.
	if _, err := e.client.Cancel(ctx, p.PaymentKey, tossapi.CancelRequest{CancelReason: "r", CancelAmount: 1000, RefundableAmount: 10000, IdempotencyKey: "k2"}); err != nil {
		t.Fatalf("cancel with a new key: %v", err)
	}
}

func TestIdempotencyKeyTooLong(t *testing.T) {
	e := newEnv(t, fake.Options{})
	p := e.keyIn(t, "idem-long", 10000, true)
	status, b := e.cancelRaw(t, fake.DefaultSecretKey, p.PaymentKey, strings.Repeat("k", 301), `{"cancelReason":"r"}`)
	if got := errorBody(t, b); status != http.StatusBadRequest || got.Code != tossapi.CodeInvalidIdempotencyKey {
		t.Errorf("301-character key: %d %s, want 400 %s", status, got.Code, tossapi.CodeInvalidIdempotencyKey)
	}
	if bal, _ := e.balance(t, p.PaymentKey); bal != 10000 {
		t.Errorf("balance %d, want 10000 (nothing canceled)", bal)
	}
	if status, b := e.cancelRaw(t, fake.DefaultSecretKey, p.PaymentKey, strings.Repeat("k", 300), `{"cancelReason":"r"}`); status != http.StatusOK {
		t.Errorf("300-character key: %d %s, want 200", status, b)
	}
}

func TestIdempotentConfirmAndBilling(t *testing.T) {
	e := newEnv(t, fake.Options{})
	ctx := context.Background()

	p := e.keyIn(t, "idem-confirm", 5000, false)
	in := tossapi.ConfirmRequest{PaymentKey: p.PaymentKey, OrderID: "idem-confirm", Amount: 5000, IdempotencyKey: "confirm-1"}
	first, err := e.client.Confirm(ctx, in)
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	// Without the key a second confirm is refused; with it, the first
	// answer comes back.
	again, err := e.client.Confirm(ctx, in)
	if err != nil {
		t.Fatalf("repeated confirm: %v", err)
	}
	if again.TransactionKey != first.TransactionKey || again.Status != tossapi.StatusDone {
		t.Errorf("repeated confirm = %s %s, want the first answer %s DONE", again.TransactionKey, again.Status, first.TransactionKey)
	}
	in.IdempotencyKey = ""
	_, err = e.client.Confirm(ctx, in)
	wantAPIError(t, err, http.StatusBadRequest, tossapi.CodeAlreadyProcessedPayment)

	b, err := e.client.IssueBillingKey(ctx, tossapi.BillingCardRequest{
		CustomerKey: "idem-customer", CardNumber: "1111222233334444", CardExpirationYear: "28",
		CardExpirationMonth: "03", CardPassword: "99", CustomerBirthday: "880311", ConsumerName: "남정호",
	})
	if err != nil {
		t.Fatalf("IssueBillingKey: %v", err)
	}
	charge := tossapi.BillingPaymentRequest{CustomerKey: "idem-customer", OrderID: "idem-charge", OrderName: "구독", Amount: 900, IdempotencyKey: "charge-1"}
	c1, err := e.client.PayWithBillingKey(ctx, b.BillingKey, charge)
	if err != nil {
		t.Fatalf("charge: %v", err)
	}
	c2, err := e.client.PayWithBillingKey(ctx, b.BillingKey, charge)
	if err != nil {
		t.Fatalf("repeated charge: %v (a duplicate orderId means it ran twice)", err)
	}
	if c1.PaymentKey != c2.PaymentKey {
		t.Errorf("repeated charge made payment %s, want the first answer's %s", c2.PaymentKey, c1.PaymentKey)
	}
}

func TestRefundableAmount(t *testing.T) {
	e := newEnv(t, fake.Options{})
	ctx := context.Background()
	p := e.keyIn(t, "refundable", 10000, true)

	tests := []struct {
		name        string
		in          tossapi.CancelRequest
		wantErr     string // code; "" for success
		wantBalance int64
	}{
		{"more than the balance", tossapi.CancelRequest{CancelAmount: 1000, RefundableAmount: 10001}, tossapi.CodeNotMatchesRefundableAmount, 10000},
		{"the balance before any cancel", tossapi.CancelRequest{CancelAmount: 1000, RefundableAmount: 10000}, "", 9000},
		{"stale", tossapi.CancelRequest{CancelAmount: 1000, RefundableAmount: 10000}, tossapi.CodeNotMatchesRefundableAmount, 9000},
		{"the current balance", tossapi.CancelRequest{CancelAmount: 1000, RefundableAmount: 9000}, "", 8000},
		{"absent", tossapi.CancelRequest{CancelAmount: 1000}, "", 7000},
		{"the rest, with the balance", tossapi.CancelRequest{RefundableAmount: 7000}, "", 0},
	}
	for _, tt := range tests {
		tt.in.CancelReason = tt.name
		_, err := e.client.Cancel(ctx, p.PaymentKey, tt.in)
		if tt.wantErr != "" {
			wantAPIError(t, err, http.StatusBadRequest, tt.wantErr)
		} else if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if bal, _ := e.balance(t, p.PaymentKey); bal != tt.wantBalance {
			t.Fatalf("%s: balance %d, want %d", tt.name, bal, tt.wantBalance)
		}
	}
}
