package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/config"
	fakeiamport "github.com/paymentctl/paymentctl/fakepg/iamport"
	faketoss "github.com/paymentctl/paymentctl/fakepg/toss"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/server/payment"
	"github.com/paymentctl/paymentctl/server/webhook"
)

// The merchant accounts of the stores tests: two configured stores per PG
// and the top-level credentials, which the fakes hold as a third account.
// Each fake accepts only these, and shows each account its own payments.
var (
	storeIamport = map[string]fakeiamport.Store{
		"store-a": {ID: "store-a", Key: "imp-key-store-a", Secret: "imp-secret-store-a"},
		"store-b": {ID: "store-b", Key: "imp-key-store-b", Secret: "imp-secret-store-b"},
		"":        {ID: "top", Key: "imp-key-top-level", Secret: "imp-secret-top-level"},
	}
	storeToss = map[string]faketoss.Store{
		"store-a": {ID: "store-a", SecretKey: "test_sk_store_a_0000"},
		"store-b": {ID: "store-b", SecretKey: "test_sk_store_b_0000"},
		"":        {ID: "top", SecretKey: "test_sk_top_level_0000"},
	}
)

// storesJSON is PAYMENT_STORES for the two configured stores of each PG.
func storesJSON(t *testing.T) string {
	t.Helper()
	type entry struct {
		Vendor  string `json:"vendor"`
		StoreID string `json:"store_id"`
		Key     string `json:"key,omitempty"`
		Secret  string `json:"secret"`
	}
	var list []entry
	for _, id := range []string{"store-a", "store-b"} {
		list = append(list,
			entry{config.StoreVendorIamport, id, storeIamport[id].Key, storeIamport[id].Secret},
			entry{config.StoreVendorToss, id, "", storeToss[id].SecretKey})
	}
	b, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// storesEnv is a running paymentctl in dev or real mode whose PGs are
// fakes with several merchant accounts.
type storesEnv struct {
	srv        *server.Running
	api        *sdk.Client
	iamport    *fakeiamport.Server
	toss       *faketoss.Server
	iamportURL string
	tossURL    string
	// iamportCalls and tossCalls count the requests each fake received.
	iamportCalls, tossCalls atomic.Int64
}

// counted counts the requests h serves.
func counted(n *atomic.Int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	})
}

// startStores starts the fakes and paymentctl in mode on dsn, with the
// stores of storesJSON and the top-level credentials of the third
// account.
func startStores(t *testing.T, dsn string, mode config.Mode) *storesEnv {
	return startStoresWith(t, dsn, mode, mode == config.ModeReal)
}

// startStoresWith is startStores with the secrets real mode needs in any
// mode (fresh ones; local ones otherwise), so a database outlives a
// restart in another mode.
func startStoresWith(t *testing.T, dsn string, mode config.Mode, realSecrets bool) *storesEnv {
	t.Helper()
	e := &storesEnv{}
	var iamportStores []fakeiamport.Store
	for _, s := range storeIamport {
		iamportStores = append(iamportStores, s)
	}
	var tossStores []faketoss.Store
	for _, s := range storeToss {
		tossStores = append(tossStores, s)
	}
	e.iamport = fakeiamport.New(fakeiamport.Options{Stores: iamportStores, Backoff: []time.Duration{}})
	e.toss = faketoss.New(faketoss.Options{Stores: tossStores, Backoff: []time.Duration{}})
	is := httptest.NewServer(counted(&e.iamportCalls, e.iamport))
	ts := httptest.NewServer(counted(&e.tossCalls, e.toss))
	t.Cleanup(func() {
		is.Close()
		ts.Close()
		e.iamport.Close()
		e.toss.Close()
	})
	e.iamportURL, e.tossURL = is.URL, ts.URL

	env := map[string]string{
		"PAYMENT_MODE":                     string(mode),
		"PAYMENT_DATABASE_URL":             dsn,
		"PAYMENT_METRICS_ADDR":             "127.0.0.1:0",
		"PAYMENT_IAMPORT_URL":              is.URL,
		"PAYMENT_IAMPORT_KEY":              storeIamport[""].Key,
		"PAYMENT_IAMPORT_SECRET":           storeIamport[""].Secret,
		"PAYMENT_TOSS_PAYMENTS_URL":        ts.URL,
		"PAYMENT_TOSS_PAYMENTS_SECRET":     storeToss[""].SecretKey,
		"PAYMENT_STORES":                   storesJSON(t),
		"PAYMENT_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
		// No periodic reconciler: what a webhook fetched must not be found
		// by a sweep meanwhile; the tests run passes themselves.
		"PAYMENT_RECONCILE_INTERVAL": "0",
	}
	key, iv := connectionKey, connectionIV
	if realSecrets {
		key, iv = "realmodeconnectionkey0123456789a", "realmodeconnecti"
		for k, v := range map[string]string{
			"PAYMENT_SYSTEM_PASSWORD":               "real-mode-system-password",
			"PAYMENT_CONNECTION_ENCRYPTION_KEY":     key,
			"PAYMENT_CONNECTION_ENCRYPTION_IV":      iv,
			"PAYMENT_HISTORY_ENCRYPTION_KEY":        "real-mode-history-key-material",
			"PAYMENT_RESERVATION_ENCRYPTION_KEY":    "real-mode-reservation-key-material",
			"PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY": "real-mode-cancel-key-material",
			"PAYMENT_PASSWORD_SECRET":               "real-mode-password-secret",
			"PAYMENT_WEBHOOK_SECRET":                "real-mode-webhook-secret",
			"PAYMENT_REAL_ALLOW_INSECURE_PG_URLS":   "true",
		} {
			env[k] = v
		}
	}
	cfg, err := config.Load(config.LoadOptions{LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.srv, err = server.Start(context.Background(), server.Options{
		Config:        cfg,
		Inbox:         true,
		DeliveryRetry: webhook.DeliveryRetry().Scaled(5 * time.Millisecond),
		InboundRetry:  webhook.InboundRetry().Scaled(5 * time.Millisecond),
		PollInterval:  50 * time.Millisecond,
	}, "")
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { e.close(t) })
	e.iamport.SetWebhookURL(e.srv.URL + "/payments/webhooks/iamport")
	e.toss.SetWebhookURL(e.srv.URL + "/payments/webhooks/toss")
	// The OpenAPI check decrypts with the default connection key: a
	// server with a key of its own is not checked.
	client := checkedClient(t)
	if realSecrets {
		client = &http.Client{}
	}
	if e.api, err = sdk.New(sdk.Options{BaseURL: e.srv.URL, Key: key, IV: iv, HTTPClient: client}); err != nil {
		t.Fatal(err)
	}
	return e
}

// close stops the server, once.
func (e *storesEnv) close(t *testing.T) {
	if e.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Close(ctx); err != nil {
		t.Errorf("close server: %v", err)
	}
	e.srv = nil
}

// iamportAs is an Iamport client with a store's credentials ("" the
// top-level ones).
func (e *storesEnv) iamportAs(store string) *iamport.Client {
	s := storeIamport[store]
	return iamport.New(iamport.Options{BaseURL: e.iamportURL, Key: s.Key, Secret: s.Secret})
}

// tossAs is a Toss client with a store's secret key.
func (e *storesEnv) tossAs(store string) *toss.Client {
	return toss.New(toss.Options{BaseURL: e.tossURL, SecretKey: storeToss[store].SecretKey})
}

// iamportCard pays an order by card in a store's account.
func (e *storesEnv) iamportCard(t *testing.T, store string, src sdk.Source, amount int64) *iamport.Payment {
	t.Helper()
	p, err := e.iamportAs(store).PayOnetime(context.Background(), iamport.OnetimeRequest{
		CardFields:  iamport.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
		OrderFields: iamport.OrderFields{MerchantUID: src.ID, Amount: iamport.Amount(amount), Name: "store order"},
	})
	if err != nil {
		t.Fatalf("iamport card payment in %q: %v", store, err)
	}
	return p
}

// tossCard makes a card payment in a store's account, left for
// paymentctl to confirm.
func (e *storesEnv) tossCard(t *testing.T, store string, src sdk.Source, amount int64) *toss.Payment {
	t.Helper()
	approved := false
	p, err := e.tossAs(store).KeyIn(context.Background(), toss.KeyInRequest{
		Method: "card", CardNumber: "1111222233334444", CardExpirationYear: "28", CardExpirationMonth: "03",
		OrderID: src.ID, OrderName: "store order", Amount: amount, Approved: &approved,
	})
	if err != nil {
		t.Fatalf("toss key-in in %q: %v", store, err)
	}
	return p
}

// register registers a payment under a store id.
func (e *storesEnv) register(code sdk.VendorCode, store, uid string, src sdk.Source, price int64) (*sdk.History, error) {
	return e.api.CreateHistory(context.Background(), sdk.HistoryCreate{
		Vendor: sdk.Vendor{Code: code, StoreID: store, UID: uid}, Source: src,
		Price: price, Password: testPassword, WebhookURL: e.srv.URL + testWebhookPath,
	})
}

// cancel refunds part of a registered payment.
func (e *storesEnv) cancel(src sdk.Source, price int64) (*sdk.History, error) {
	return e.api.CancelHistory(context.Background(), sdk.CancelCreate{Source: src, Password: testPassword, Price: price, Reason: "store test"})
}

// waitEvent waits for a forwarded event of history id whose refund is
// refund.
func (e *storesEnv) waitEvent(t *testing.T, id string, refund int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventWaitTimeout)
	defer cancel()
	for n := 1; ; n++ {
		evs, err := e.srv.Inbox.Wait(ctx, n)
		if err != nil {
			t.Fatalf("no event of history %s with refund %d within %s (%d events)", id, refund, eventWaitTimeout, len(evs))
		}
		if ev := evs[n-1]; ev.Current.ID == id && ev.Current.Refund != nil && *ev.Current.Refund == refund {
			return
		}
	}
}

// waitPaid waits for a forwarded event of history id that shows it paid.
func (e *storesEnv) waitPaid(t *testing.T, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventWaitTimeout)
	defer cancel()
	for n := 1; ; n++ {
		evs, err := e.srv.Inbox.Wait(ctx, n)
		if err != nil {
			t.Fatalf("no event of history %s paid within %s (%d events)", id, eventWaitTimeout, len(evs))
		}
		if ev := evs[n-1]; ev.Current.ID == id && ev.Current.PaidAt != nil {
			return
		}
	}
}

// refundOf returns a history's refund, 0 when none.
func refundOf(h *sdk.History) int64 {
	if h == nil || h.Refund == nil {
		return 0
	}
	return *h.Refund
}

// TestStoresUseTheirCredentials: two stores at each PG, with credentials
// the fakes accept only for their own account, each register and cancel
// through their own credentials; webhook re-fetches and the reconciler use
// the record's store too; a store id that is not configured falls back to
// the top-level credentials in dev mode.
func TestStoresUseTheirCredentials(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		e := startStores(t, dsn(t), config.ModeDev)
		ctx := context.Background()

		for _, store := range []string{"store-a", "store-b", "store-not-configured"} {
			account := store
			if store == "store-not-configured" {
				account = "" // dev mode: the top-level credentials
			}
			t.Run("iamport "+store, func(t *testing.T) {
				src := newSource()
				p := e.iamportCard(t, account, src, 1000)
				if _, err := e.register(sdk.VendorIamport, store, p.ImpUID, src, 1000); err != nil {
					t.Fatalf("register: %v", err)
				}
				h, err := e.cancel(src, 300)
				if err != nil || refundOf(h) != 300 {
					t.Fatalf("cancel = %v, %v; want refund 300", h, err)
				}
				got, err := e.iamportAs(account).Payment(ctx, p.ImpUID)
				if err != nil || got.CancelAmount != 300 {
					t.Errorf("the PG's payment = %+v, %v; want 300 cancelled in the store's account", got, err)
				}
				// Cancelled at the PG by the store itself: its webhook is
				// re-fetched with the record's store's credentials.
				if _, err := e.iamportAs(account).Cancel(ctx, iamport.CancelRequest{ImpUID: p.ImpUID, Amount: ptrAmount(200), Reason: "at the PG"}); err != nil {
					t.Fatal(err)
				}
				e.waitEvent(t, h.ID, 500)
			})
			t.Run("toss "+store, func(t *testing.T) {
				src := newSource()
				p := e.tossCard(t, account, src, 1000)
				if _, err := e.register(sdk.VendorToss, store, p.PaymentKey, src, 1000); err != nil {
					t.Fatalf("register (confirm with the store's key): %v", err)
				}
				h, err := e.cancel(src, 400)
				if err != nil || refundOf(h) != 400 {
					t.Fatalf("cancel = %v, %v; want refund 400", h, err)
				}
				got, err := e.tossAs(account).GetPayment(ctx, p.PaymentKey)
				if err != nil || got.Status != toss.StatusPartialCanceled || got.BalanceAmount != 600 {
					t.Errorf("the PG's payment = %+v, %v; want 600 left in the store's account", got, err)
				}
			})
		}

		t.Run("another store's payment", func(t *testing.T) {
			src := newSource()
			p := e.iamportCard(t, "store-a", src, 1000)
			_, err := e.register(sdk.VendorIamport, "store-b", p.ImpUID, src, 1000)
			if !errors.Is(err, sdk.ErrPGRefused) {
				t.Errorf("store a's payment registered under store b: %v, want the PG's 404 to store b", err)
			}
			tp := e.tossCard(t, "store-b", src, 1000)
			_, err = e.register(sdk.VendorToss, "store-a", tp.PaymentKey, src, 1000)
			if !errors.Is(err, sdk.ErrPGRefused) {
				t.Errorf("store b's payment registered under store a: %v, want the PG's 404 to store a", err)
			}
			if got, err := e.tossAs("store-b").GetPayment(ctx, tp.PaymentKey); err != nil || got.Status != toss.StatusInProgress {
				t.Errorf("store b's payment = %+v, %v; want IN_PROGRESS, not confirmed", got, err)
			}
		})

		t.Run("saved cards", func(t *testing.T) {
			// A saved card is fetched with the credentials of the store
			// the reservation names; the other store's are told it does
			// not exist.
			src := newSource()
			if _, err := e.iamportAs("store-b").CreateBillingKey(ctx, src.ID, iamport.BillingKeyRequest{
				CustomerUID: src.ID, CardFields: iamport.CardFields{CardNumber: "1234-5678-1234-5678", Expiry: "2028-12", Birth: "880311"},
			}); err != nil {
				t.Fatal(err)
			}
			in := sdk.ReservationCreate{Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: "store-a", UID: src.ID}, Source: src, Title: "card", Password: testPassword}
			if _, err := e.api.CreateReservation(ctx, in); !errors.Is(err, sdk.ErrPGRefused) {
				t.Errorf("store b's iamport card saved under store a = %v, want the PG's 404 to store a", err)
			}
			in.Vendor.StoreID = "store-b"
			if _, err := e.api.CreateReservation(ctx, in); err != nil {
				t.Errorf("store b's iamport card saved under store b: %v", err)
			}

			tsrc := newSource()
			b, err := e.tossAs("store-a").IssueBillingKey(ctx, toss.BillingCardRequest{
				CustomerKey: tsrc.ID, CardNumber: "1111222233334444", CardExpirationYear: "28", CardExpirationMonth: "03",
				CardPassword: "99", CustomerBirthday: "880311", ConsumerName: "남정호",
			})
			if err != nil {
				t.Fatal(err)
			}
			tin := sdk.ReservationCreate{Vendor: sdk.Vendor{Code: sdk.VendorToss, StoreID: "store-b", UID: b.BillingKey}, Source: tsrc, Title: "card", Password: testPassword}
			if _, err := e.api.CreateReservation(ctx, tin); !errors.Is(err, sdk.ErrPGRefused) {
				t.Errorf("store a's toss card saved under store b = %v, want the PG's 404 to store b", err)
			}
			tin.Vendor.StoreID = "store-a"
			if _, err := e.api.CreateReservation(ctx, tin); err != nil {
				t.Errorf("store a's toss card saved under store a: %v", err)
			}
		})

		t.Run("deposit callback", func(t *testing.T) {
			// A Toss deposit callback names only its order: the payment is
			// fetched by order with the credentials of the store the
			// order's payment was registered under.
			e.toss.SetWebhookURL("")
			src := newSource()
			approved := false
			va, err := e.tossAs("store-a").CreateVirtualAccount(ctx, toss.VirtualAccountRequest{
				Method: "virtual-account", OrderID: src.ID, OrderName: "store order", Bank: "신한",
				CustomerName: "Samchon", Amount: 7000, Approved: &approved,
			})
			if err != nil {
				t.Fatal(err)
			}
			h, err := e.register(sdk.VendorToss, "store-a", va.PaymentKey, src, 7000)
			if err != nil {
				t.Fatal(err)
			}
			paid, err := e.tossAs("store-a").SimulateDeposit(ctx, va.PaymentKey)
			if err != nil || paid.Secret == "" {
				t.Fatalf("deposit = %+v, %v; want a payment with its secret", paid, err)
			}
			body, err := json.Marshal(toss.DepositCallback{CreatedAt: "2026-01-01T00:00:00.000000", Secret: paid.Secret,
				Status: toss.StatusDone, TransactionKey: paid.TransactionKey, OrderID: src.ID})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.Post(e.srv.URL+"/payments/webhooks/toss", "application/json", strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("deposit callback answered %d, want 200", resp.StatusCode)
			}
			e.waitPaid(t, h.ID)
		})

		t.Run("reconciler", func(t *testing.T) {
			src := newSource()
			approved := false
			va, err := e.tossAs("store-b").CreateVirtualAccount(ctx, toss.VirtualAccountRequest{
				Method: "virtual-account", OrderID: src.ID, OrderName: "store order", Bank: "신한",
				CustomerName: "Samchon", Amount: 5000, Approved: &approved,
			})
			if err != nil {
				t.Fatal(err)
			}
			h, err := e.register(sdk.VendorToss, "store-b", va.PaymentKey, src, 5000)
			if err != nil || h.PaidAt != nil {
				t.Fatalf("register virtual account = %+v, %v; want unpaid", h, err)
			}
			// The deposit's webhook is lost: only the reconciler can see it.
			e.toss.SetWebhookURL("")
			if _, err := e.tossAs("store-b").SimulateDeposit(ctx, va.PaymentKey); err != nil {
				t.Fatal(err)
			}
			rep, err := e.srv.Payments.Reconcile(ctx, payment.SweepOptions{})
			if err != nil || rep.Errors != 0 {
				t.Fatalf("Reconcile() = %+v, %v; want no errors", rep, err)
			}
			found := false
			for _, d := range rep.Drifts {
				found = found || d.HistoryID == h.ID && d.Kind == payment.DriftState && d.After != nil && d.After.Paid
			}
			if !found {
				t.Errorf("Reconcile() drifts = %+v, want history %s paid", rep.Drifts, h.ID)
			}
		})
	})
}

// ptrAmount returns a pointer to an Iamport amount.
func ptrAmount(v int64) *iamport.Amount {
	a := iamport.Amount(v)
	return &a
}

// TestStoresRealModeRefusesUnknownStore: in real mode, a store id that is
// not configured for a PG with stores is refused with 422 unknown_store
// before any PG call or row; configured stores work.
func TestStoresRealModeRefusesUnknownStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		e := startStores(t, dsn(t), config.ModeReal)
		const unknown = "store-unknown-0123"

		src := newSource()
		ip := e.iamportCard(t, "", src, 1000)
		tp := e.tossCard(t, "store-a", newSource(), 1000)
		for _, c := range []struct {
			vendor sdk.VendorCode
			uid    string
			src    sdk.Source
			calls  *atomic.Int64
		}{
			{sdk.VendorIamport, ip.ImpUID, src, &e.iamportCalls},
			{sdk.VendorToss, tp.PaymentKey, sdk.Source{Schema: src.Schema, Table: src.Table, ID: tp.OrderID}, &e.tossCalls},
		} {
			before := c.calls.Load()
			_, err := e.register(c.vendor, unknown, c.uid, c.src, 1000)
			var se *sdk.Error
			if !errors.As(err, &se) || se.Status != http.StatusUnprocessableEntity || se.Code != sdk.CodeUnknownStore {
				t.Fatalf("%s register with an unknown store = %v, want 422 unknown_store", c.vendor, err)
			}
			if !strings.Contains(se.Message, "vendor.store_id") || strings.Contains(se.Message, unknown) {
				t.Errorf("%s message %q: want it to name vendor.store_id, not echo the value", c.vendor, se.Message)
			}
			if after := c.calls.Load(); after != before {
				t.Errorf("%s: the fake PG got %d requests for a refused store, want none", c.vendor, after-before)
			}
		}
		// No history, operation or idempotency row either.
		st := e.srv.Store.SQLDB()
		for _, table := range []string{"payment_histories", "payment_operations"} {
			var n int
			if err := st.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil || n != 0 {
				t.Errorf("%s holds %d rows (%v), want none", table, n, err)
			}
		}

		// A configured store is served in real mode.
		src2 := newSource()
		p := e.iamportCard(t, "store-a", src2, 2000)
		if _, err := e.register(sdk.VendorIamport, "store-a", p.ImpUID, src2, 2000); err != nil {
			t.Fatalf("register under a configured store in real mode: %v", err)
		}
		if h, err := e.cancel(src2, 2000); err != nil || refundOf(h) != 2000 {
			t.Errorf("cancel = %v, %v; want refund 2000", h, err)
		}
	})
}

// TestStoresRealModeRefusesCancelOfUnknownStore: a record registered under
// a store the dev configuration served with the top-level credentials
// cannot be cancelled once real mode refuses that store: 422
// unknown_store, before an operation is recorded or the PG is called.
func TestStoresRealModeRefusesCancelOfUnknownStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		db := dsn(t)
		dev := startStoresWith(t, db, config.ModeDev, true)
		src := newSource()
		p := dev.iamportCard(t, "", src, 1000)
		if _, err := dev.register(sdk.VendorIamport, "store-retired", p.ImpUID, src, 1000); err != nil {
			t.Fatalf("register in dev mode: %v", err)
		}
		dev.close(t)

		real := startStores(t, db, config.ModeReal)
		before := real.iamportCalls.Load()
		_, err := real.cancel(src, 100)
		if !errors.Is(err, sdk.ErrUnknownStore) {
			t.Fatalf("cancel of a record of an unknown store in real mode = %v, want 422 unknown_store", err)
		}
		if n := real.iamportCalls.Load() - before; n != 0 {
			t.Errorf("the fake PG got %d requests, want none", n)
		}
		var ops int
		if err := real.srv.Store.SQLDB().QueryRow("SELECT count(*) FROM payment_operations").Scan(&ops); err != nil || ops != 0 {
			t.Errorf("payment_operations holds %d rows (%v), want none", ops, err)
		}
	})
}

// TestStoresLocalModeUsesTheFakes: local mode's in-process fakes accept
// only their own credentials, so a configured store reaches them with
// those, and registers and cancels as any record.
func TestStoresLocalModeUsesTheFakes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := startWith(t, dsn(t), map[string]string{"PAYMENT_STORES": storesJSON(t)}, nil)
		ctx := context.Background()
		src := newSource()
		p := h.iamportCard(src, 1000)
		if _, err := h.api.CreateHistory(ctx, sdk.HistoryCreate{
			Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: "store-a", UID: p.ImpUID}, Source: src,
			Price: 1000, Password: testPassword, WebhookURL: h.webhookURL(),
		}); err != nil {
			t.Fatalf("register under a configured store in local mode: %v", err)
		}
		got, err := h.api.CancelHistory(ctx, sdk.CancelCreate{Source: src, Password: testPassword, Price: 1000, Reason: "local"})
		if err != nil || refundOf(got) != 1000 {
			t.Errorf("cancel = %v, %v; want refund 1000", got, err)
		}
	})
}
