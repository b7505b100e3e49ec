package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	fakeportone "github.com/paymentctl/paymentctl/fakepg/portone"
	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/internal/stdwebhook"
	"github.com/paymentctl/paymentctl/sdk"
)

// TestStoresPortOne: two PortOne V2 stores, each with its API secret and
// webhook secret, at a fake PortOne that accepts only those and signs
// each store's webhooks with its own secret; no top-level PortOne V2.
// Each store registers and cancels through its own credentials, a
// webhook signed by a store's secret is taken and re-fetched with that
// store's, and a payment of one store registered under the other is
// refused.
func TestStoresPortOne(t *testing.T) {
	stores := map[string]fakeportone.Store{
		"store-p1": {ID: "store-p1", Secret: "portone-secret-of-store-p1", WebhookSecrets: []string{stdwebhook.EncodeSecret([]byte("webhook secret of store p1 !!!!!"))}},
		"store-p2": {ID: "store-p2", Secret: "portone-secret-of-store-p2", WebhookSecrets: []string{stdwebhook.EncodeSecret([]byte("webhook secret of store p2 !!!!!"))}},
	}
	fake := fakeportone.New(fakeportone.Options{Stores: []fakeportone.Store{stores["store-p1"], stores["store-p2"]}, Backoff: []time.Duration{}})
	t.Cleanup(fake.Close)
	pg := httptest.NewServer(fake)
	t.Cleanup(pg.Close)
	list := `[{"vendor":"portone","store_id":"store-p1","secret":"` + stores["store-p1"].Secret + `","webhook_secret":"` + stores["store-p1"].WebhookSecrets[0] + `"},` +
		`{"vendor":"portone","store_id":"store-p2","secret":"` + stores["store-p2"].Secret + `","webhook_secret":"` + stores["store-p2"].WebhookSecrets[0] + `"}]`

	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		// No periodic reconciler: only the webhook can bring the deposit.
		h := startWith(t, dsn(t), map[string]string{"PAYMENT_PORTONE_URL": pg.URL, "PAYMENT_STORES": list, "PAYMENT_RECONCILE_INTERVAL": "0"}, nil)
		fake.SetWebhookURL(h.srv.URL + "/payments/webhooks/portone")
		ctx := context.Background()

		for _, id := range []string{"store-p1", "store-p2"} {
			t.Run(id, func(t *testing.T) {
				browser := fakeportone.NewBrowser(pg.URL, stores[id].Secret, 0)
				client := portone.New(portone.Options{BaseURL: pg.URL, Secret: stores[id].Secret})
				src := newSource()
				if _, err := browser.Checkout(ctx, fakeportone.CheckoutRequest{PaymentID: src.ID, OrderName: "x", TotalAmount: 3000}); err != nil {
					t.Fatal(err)
				}
				in := sdk.HistoryCreate{Vendor: sdk.Vendor{Code: sdk.VendorPortOne, StoreID: id, UID: src.ID}, Source: src,
					Price: 3000, Password: testPassword, WebhookURL: h.webhookURL()}
				if _, err := h.api.CreateHistory(ctx, in); err != nil {
					t.Fatalf("register: %v", err)
				}
				got, err := h.api.CancelHistory(ctx, sdk.CancelCreate{Source: src, Password: testPassword, Price: 1000, Reason: "store"})
				if err != nil || refundOf(got) != 1000 {
					t.Fatalf("cancel = %v, %v; want refund 1000", got, err)
				}
				if p, err := client.GetPayment(ctx, src.ID); err != nil || p.Base().Amount.Cancelled != 1000 {
					t.Errorf("the PG's payment = %+v, %v; want 1000 cancelled in the store", p, err)
				}

				// A virtual account paid in: the fake's webhook, signed with
				// this store's secret only, is taken and re-fetched with
				// this store's credentials.
				va := newSource()
				if _, err := browser.Checkout(ctx, fakeportone.CheckoutRequest{PaymentID: va.ID, OrderName: "x", TotalAmount: 5000, PayMethod: fakeportone.PayMethodVirtualAccount}); err != nil {
					t.Fatal(err)
				}
				hist, err := h.api.CreateHistory(ctx, sdk.HistoryCreate{Vendor: sdk.Vendor{Code: sdk.VendorPortOne, StoreID: id, UID: va.ID}, Source: va,
					Price: 5000, Password: testPassword, WebhookURL: h.webhookURL()})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := browser.Deposit(ctx, va.ID); err != nil {
					t.Fatal(err)
				}
				waitCtx, cancel := context.WithTimeout(ctx, eventWaitTimeout)
				defer cancel()
				for n := 1; ; n++ {
					evs, err := h.srv.Inbox.Wait(waitCtx, n)
					if err != nil {
						t.Fatalf("no paid event of %s's virtual account: %v", id, err)
					}
					if ev := evs[n-1]; ev.Current.ID == hist.ID && ev.Current.PaidAt != nil {
						break
					}
				}
			})
		}

		t.Run("another store's payment", func(t *testing.T) {
			src := newSource()
			if _, err := fakeportone.NewBrowser(pg.URL, stores["store-p1"].Secret, 0).Checkout(ctx, fakeportone.CheckoutRequest{PaymentID: src.ID, OrderName: "x", TotalAmount: 2000}); err != nil {
				t.Fatal(err)
			}
			_, err := h.api.CreateHistory(ctx, sdk.HistoryCreate{Vendor: sdk.Vendor{Code: sdk.VendorPortOne, StoreID: "store-p2", UID: src.ID}, Source: src,
				Price: 2000, Password: testPassword, WebhookURL: h.webhookURL()})
			if !errors.Is(err, sdk.ErrPGRefused) {
				t.Errorf("store p1's payment registered under store p2 = %v, want the PG's 404 to store p2", err)
			}
		})

		t.Run("webhook secrets", func(t *testing.T) {
			// A webhook verifies only under the secret of the store its
			// body names: a secret leaked from one store cannot speak for
			// another.
			for _, tt := range []struct {
				name   string
				store  string
				secret string
				want   int
			}{
				{"store p1's", "store-p1", stores["store-p1"].WebhookSecrets[0], http.StatusOK},
				{"store p2's", "store-p2", stores["store-p2"].WebhookSecrets[0], http.StatusOK},
				{"store p1's, for store p2,", "store-p2", stores["store-p1"].WebhookSecrets[0], http.StatusUnauthorized},
				{"store p2's, for store p1,", "store-p1", stores["store-p2"].WebhookSecrets[0], http.StatusUnauthorized},
				{"the fake's published", "store-p1", fakeportone.DefaultWebhookSecret, http.StatusUnauthorized},
			} {
				body := portoneStoreWebhook(t, portone.EventTransactionCancelled, newSource().ID, tt.store)
				key, err := stdwebhook.DecodeSecret(tt.secret)
				if err != nil {
					t.Fatal(err)
				}
				if got := h.postPortOneWebhook(body, stdwebhook.Header([][]byte{key}, "msg_"+tt.name, time.Now(), body)); got != tt.want {
					t.Errorf("webhook signed with %s secret: status %d, want %d", tt.name, got, tt.want)
				}
			}
		})
	})
}
