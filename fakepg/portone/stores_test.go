package portone_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/fakepg/portone"
	api "github.com/paymentctl/paymentctl/gateway/portone"
)

// TestStores checks Options.Stores: only the stores' secrets are
// accepted, a store sees and cancels its own payments only, and a
// webhook is signed with its store's secret alone.
func TestStores(t *testing.T) {
	const (
		hookA = "whsec_c3RvcmUtYS13ZWJob29rLXNlY3JldC0wMTIzNDU2"
		hookB = "whsec_c3RvcmUtYi13ZWJob29rLXNlY3JldC0wMTIzNDU2"
	)
	a := portone.Store{ID: "store-a", Secret: "portone-secret-store-a", WebhookSecrets: []string{hookA}}
	b := portone.Store{ID: "store-b", Secret: "portone-secret-store-b", WebhookSecrets: []string{hookB}}
	onlyA := newReceiver(t, hookA)
	fake := portone.New(portone.Options{Stores: []portone.Store{a, b}, WebhookURL: onlyA.srv.URL, Backoff: []time.Duration{}})
	srv := httptest.NewServer(fake)
	t.Cleanup(fake.Close)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	client := func(secret string) *api.Client {
		return api.New(api.Options{BaseURL: srv.URL, Secret: secret})
	}
	ca, cb := client(a.Secret), client(b.Secret)

	if _, err := portone.NewBrowser(srv.URL, a.Secret, 0).Checkout(ctx, portone.CheckoutRequest{PaymentID: "pay-store-a-1", OrderName: "store a", TotalAmount: 1000}); err != nil {
		t.Fatal(err)
	}
	p, err := ca.GetPayment(ctx, "pay-store-a-1")
	if err != nil || p.Base().StoreID != a.ID {
		t.Fatalf("store a's payment = %+v, %v; want it in store a", p, err)
	}
	// Store a's webhooks verify with store a's secret alone (onlyA fails
	// the test on any other).
	if got := onlyA.wait(1); got[0].Event.Data.StoreID != a.ID {
		t.Errorf("webhook names store %q, want %q", got[0].Event.Data.StoreID, a.ID)
	}

	_, err = cb.GetPayment(ctx, "pay-store-a-1")
	wantType(t, err, api.TypePaymentNotFound)
	_, err = cb.CancelPayment(ctx, "pay-store-a-1", 1000, api.CancelRequest{Reason: "not mine"})
	wantType(t, err, api.TypePaymentNotFound)
	_, err = client(portone.DefaultSecret).GetPayment(ctx, "pay-store-a-1")
	wantType(t, err, api.TypeUnauthorized)
	_, err = api.New(api.Options{BaseURL: srv.URL, Secret: b.Secret, StoreID: a.ID}).GetPayment(ctx, "pay-store-a-1")
	wantType(t, err, api.TypeForbidden)

	if p, err := ca.GetPayment(ctx, "pay-store-a-1"); err != nil || p.Base().Status != api.StatusPaid {
		t.Errorf("store a's payment after store b's cancel = %+v, %v; want PAID", p, err)
	}
}
