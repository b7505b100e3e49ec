package iamport

import (
	"errors"
	"net/http"
	"testing"
	"time"

	gw "github.com/paymentctl/paymentctl/gateway/iamport"
)

// TestStores checks Options.Stores: only the listed credentials get a
// token, and a store sees, cancels and deposits into its own payments
// only, as two merchant accounts at the real Iamport.
func TestStores(t *testing.T) {
	a := Store{ID: "store-a", Key: "key-a", Secret: "secret-a"}
	b := Store{ID: "store-b", Key: "key-b", Secret: "secret-b"}
	e := newEnv(t, Options{Stores: []Store{a, b}})
	ctx := t.Context()
	client := func(key, secret string) *gw.Client {
		return gw.New(gw.Options{BaseURL: e.srv.URL, Key: key, Secret: secret, Now: e.clock.Now, Timeout: 5 * time.Second})
	}
	ca, cb := client(a.Key, a.Secret), client(b.Key, b.Secret)

	order := nextOrder()
	p, err := ca.PayOnetime(ctx, gw.OnetimeRequest{
		CardFields:  gw.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
		OrderFields: gw.OrderFields{MerchantUID: order, Amount: 1000, Name: "store a"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Payment(ctx, p.ImpUID); err != nil {
		t.Errorf("store a reads its payment: %v", err)
	}

	status := func(err error) int {
		var ae *gw.Error
		if !errors.As(err, &ae) {
			return 0
		}
		return ae.Status
	}
	for name, call := range map[string]func() error{
		"read":     func() error { _, err := cb.Payment(ctx, p.ImpUID); return err },
		"by order": func() error { _, err := cb.PaymentsByMerchantUID(ctx, order); return err },
		"cancel": func() error {
			_, err := cb.Cancel(ctx, gw.CancelRequest{ImpUID: p.ImpUID, Reason: "not mine"})
			return err
		},
		"cancel by order": func() error {
			_, err := cb.Cancel(ctx, gw.CancelRequest{MerchantUID: order, Reason: "not mine"})
			return err
		},
	} {
		if got := status(call()); got != http.StatusNotFound {
			t.Errorf("store b's %s of store a's payment: status %d, want 404", name, got)
		}
	}
	if got, err := ca.Payment(ctx, p.ImpUID); err != nil || got.Status != gw.StatusPaid || got.CancelAmount != 0 {
		t.Errorf("store a's payment after store b's attempts = %+v, %v; want paid, nothing cancelled", got, err)
	}

	for name, c := range map[string]*gw.Client{
		"unknown key pair":          client("key-c", "secret-c"),
		"store a's key, b's secret": client(a.Key, b.Secret),
		"default credentials":       client(DefaultKey, DefaultSecret),
	} {
		if _, err := c.Payment(ctx, p.ImpUID); status(err) != http.StatusUnauthorized {
			t.Errorf("%s: %v, want 401", name, err)
		}
	}

	// Billing keys are per account too.
	if _, err := ca.CreateBillingKey(ctx, "customer-1", gw.BillingKeyRequest{CustomerUID: "customer-1",
		CardFields: gw.CardFields{CardNumber: "1234-5678-1234-5678", Expiry: "2028-12", Birth: "880311"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cb.BillingKey(ctx, "customer-1"); status(err) != http.StatusNotFound {
		t.Errorf("store b reads store a's billing key: %v, want 404", err)
	}
	if _, err := ca.BillingKey(ctx, "customer-1"); err != nil {
		t.Errorf("store a reads its billing key: %v", err)
	}

	// Each store pays the same order id once: merchant_uid is per account.
	if _, err := cb.PayOnetime(ctx, gw.OnetimeRequest{
		CardFields:  gw.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
		OrderFields: gw.OrderFields{MerchantUID: order, Amount: 2000, Name: "store b"},
	}); err != nil {
		t.Errorf("store b pays an order id store a used: %v", err)
	}
}
