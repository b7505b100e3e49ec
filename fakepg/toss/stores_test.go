package toss_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	fake "github.com/paymentctl/paymentctl/fakepg/toss"
	tossapi "github.com/paymentctl/paymentctl/gateway/toss"
)

// TestStores checks Options.Stores: only the listed secret keys are
// accepted, and a store sees, confirms and cancels its own payments only,
// as two merchant accounts at the real Toss.
func TestStores(t *testing.T) {
	a := fake.Store{ID: "store-a", SecretKey: "test_sk_store_a"}
	b := fake.Store{ID: "store-b", SecretKey: "test_sk_store_b"}
	e := newEnv(t, fake.Options{Stores: []fake.Store{a, b}})
	ctx := context.Background()
	client := func(secret string) *tossapi.Client {
		return tossapi.New(tossapi.Options{BaseURL: e.url, SecretKey: secret, Timeout: 5 * time.Second})
	}
	ca, cb := client(a.SecretKey), client(b.SecretKey)

	approved := false
	p, err := ca.KeyIn(ctx, tossapi.KeyInRequest{
		CardNumber: "1111222233334444", CardExpirationYear: "28", CardExpirationMonth: "03",
		OrderID: "order-stores-1", OrderName: "store a", Amount: 1000, Approved: &approved,
	})
	if err != nil {
		t.Fatal(err)
	}

	_, err = cb.GetPayment(ctx, p.PaymentKey)
	wantAPIError(t, err, http.StatusNotFound, tossapi.CodeNotFoundPayment)
	_, err = cb.GetPaymentByOrderID(ctx, p.OrderID)
	wantAPIError(t, err, http.StatusNotFound, tossapi.CodeNotFoundPayment)
	_, err = cb.Confirm(ctx, tossapi.ConfirmRequest{PaymentKey: p.PaymentKey, OrderID: p.OrderID, Amount: 1000})
	wantAPIError(t, err, http.StatusNotFound, tossapi.CodeNotFoundPayment)

	if _, err := ca.Confirm(ctx, tossapi.ConfirmRequest{PaymentKey: p.PaymentKey, OrderID: p.OrderID, Amount: 1000}); err != nil {
		t.Fatalf("store a confirms its payment: %v", err)
	}
	_, err = cb.Cancel(ctx, p.PaymentKey, tossapi.CancelRequest{CancelReason: "not mine"})
	wantAPIError(t, err, http.StatusNotFound, tossapi.CodeNotFoundPayment)
	if got, err := ca.GetPayment(ctx, p.PaymentKey); err != nil || got.Status != tossapi.StatusDone {
		t.Errorf("store a's payment after store b's cancel = %+v, %v; want DONE", got, err)
	}

	for _, key := range []string{"test_sk_store_c", fake.DefaultSecretKey} {
		_, err := client(key).GetPayment(ctx, p.PaymentKey)
		wantAPIError(t, err, http.StatusUnauthorized, tossapi.CodeUnauthorizedKey)
	}

	// Billing keys belong to the store that issued them.
	bk, err := ca.IssueBillingKey(ctx, tossapi.BillingCardRequest{
		CustomerKey: "customer-1", CardNumber: "1111222233334444", CardExpirationYear: "28", CardExpirationMonth: "03",
		CardPassword: "99", CustomerBirthday: "880311", ConsumerName: "store a",
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cb.GetBilling(ctx, bk.BillingKey, "customer-1")
	wantAPIError(t, err, http.StatusNotFound, tossapi.CodeNotFound)
	if _, err := ca.GetBilling(ctx, bk.BillingKey, "customer-1"); err != nil {
		t.Errorf("store a reads its billing key: %v", err)
	}

	// Order ids are per account: store b may use store a's.
	if _, err := cb.KeyIn(ctx, tossapi.KeyInRequest{
		CardNumber: "1111222233334444", CardExpirationYear: "28", CardExpirationMonth: "03",
		OrderID: p.OrderID, OrderName: "store b", Amount: 2000,
	}); err != nil {
		t.Errorf("store b pays an order id store a used: %v", err)
	}
	if got, err := ca.GetPaymentByOrderID(ctx, p.OrderID); err != nil || got.PaymentKey != p.PaymentKey {
		t.Errorf("store a's payment by its order = %+v, %v; want %s", got, err, p.PaymentKey)
	}
}
