package server_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/config"
	fakeportone "github.com/paymentctl/paymentctl/fakepg/portone"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/internal/pgschema"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/server/webhook"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}

// The original test suite's constants (payments-backend.md §11).
const (
	testPassword     = "some-password"
	iamportStoreID   = "test-iamport-create-id"
	tossStoreID      = "test-toss-payments-create-id"
	connectionKey    = "MCKOxv9B23r7EatArCFcBP03nfaS03T8"
	connectionIV     = "9haeYD1tIf4v8xs7"
	testWebhookPath  = "/payments/internal/webhook"
	eventWaitTimeout = 20 * time.Second
)

// backend is a database the end-to-end tests run on.
type backend struct {
	name string
	dsn  func(t *testing.T) string
}

// backends returns SQLite always and PostgreSQL when
// PAYMENTCTL_TEST_POSTGRES_DSN is set, each test in a fresh database or
// schema.
func backends() []backend {
	bs := []backend{{name: "sqlite", dsn: func(t *testing.T) string {
		return "sqlite:" + filepath.Join(t.TempDir(), "payments.db")
	}}}
	if base := pgschema.TestDSN(); base != "" {
		bs = append(bs, backend{name: "postgres", dsn: func(t *testing.T) string { return postgresSchema(t, base) }})
	}
	return bs
}

// forEachBackend runs fn as a subtest per database.
func forEachBackend(t *testing.T, fn func(t *testing.T, dsn func(t *testing.T) string)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { fn(t, b.dsn) })
	}
}

// postgresSchema creates a schema of its own, migrated as `paymentctl
// schema` would, and returns a DSN that uses it.
func postgresSchema(tb testing.TB, base string) string {
	tb.Helper()
	ctx := context.Background()
	dsn := pgschema.ForTest(tb, base, "e2e_")
	st, err := store.Open(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	if err := server.Migrate(ctx, st); err != nil {
		tb.Fatal(err)
	}
	return dsn
}

// harness is a running paymentctl with its fakes and clients.
type harness struct {
	t       *testing.T
	dsn     string
	env     map[string]string // extra configuration for the next boot
	tune    func(*server.Options)
	logger  *slog.Logger // the server's logs; nil discards them
	srv     *server.Running
	api     *sdk.Client
	iamport *iamport.Client
	toss    *toss.Client
	portone *portone.Client
	// browser does at the fake PortOne V2 what a customer's browser does.
	browser *fakeportone.Browser
}

// start runs paymentctl in local mode on dsn, with fakes on free ports
// and fast webhook retries.
func start(t *testing.T, dsn string) *harness {
	t.Helper()
	return startWith(t, dsn, nil, nil)
}

// startWith is start with extra configuration (env) and server options
// (tune).
func startWith(t *testing.T, dsn string, env map[string]string, tune func(*server.Options)) *harness {
	t.Helper()
	h := &harness{t: t, dsn: dsn, env: env, tune: tune}
	h.boot()
	t.Cleanup(func() { h.stop() })
	return h
}

// boot starts (or restarts) the server on the harness's database.
func (h *harness) boot() {
	h.t.Helper()
	ctx := context.Background()
	cfg, err := config.Load(config.LoadOptions{LookupEnv: func(k string) (string, bool) {
		if v, ok := h.env[k]; ok {
			return v, true
		}
		switch k {
		case "PAYMENT_DATABASE_URL":
			return h.dsn, true
		case "PAYMENT_METRICS_ADDR":
			return "127.0.0.1:0", true
		}
		return "", false
	}})
	if err != nil {
		h.t.Fatal(err)
	}
	opts := server.Options{
		Config:          cfg,
		Logger:          h.logger,
		FakeIamportAddr: "127.0.0.1:0",
		FakeTossAddr:    "127.0.0.1:0",
		FakePortOneAddr: "127.0.0.1:0",
		DeliveryRetry:   webhook.DeliveryRetry().Scaled(5 * time.Millisecond),
		InboundRetry:    webhook.InboundRetry().Scaled(5 * time.Millisecond),
		PollInterval:    50 * time.Millisecond,
	}
	if h.tune != nil {
		h.tune(&opts)
	}
	srv, err := server.Start(ctx, opts, "")
	if err != nil {
		h.t.Fatalf("start server: %v", err)
	}
	h.srv = srv
	h.api, err = sdk.New(sdk.Options{BaseURL: srv.URL, Key: connectionKey, IV: connectionIV, HTTPClient: checkedClient(h.t)})
	if err != nil {
		h.t.Fatal(err)
	}
	h.iamport = iamport.New(iamport.Options{BaseURL: srv.Fakes.IamportURL, Key: "test_imp_key", Secret: "test_imp_secret"})
	h.toss = toss.New(toss.Options{BaseURL: srv.Fakes.TossURL, SecretKey: "test_ak_ZORzdMaqN3wQd5k6ygr5AkYXQGwy"})
	h.portone = portone.New(portone.Options{BaseURL: srv.Fakes.PortOneURL, Secret: fakeportone.DefaultSecret})
	h.browser = fakeportone.NewBrowser(srv.Fakes.PortOneURL, fakeportone.DefaultSecret, 0)
}

// stop shuts the server down.
func (h *harness) stop() {
	if h.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.srv.Close(ctx); err != nil {
		h.t.Errorf("close server: %v", err)
	}
	h.srv = nil
}

// webhookURL is the server's own test receiver.
func (h *harness) webhookURL() string { return h.srv.URL + testWebhookPath }

// newSource returns a fresh source record.
func newSource() sdk.Source {
	return sdk.Source{Schema: "some-schema", Table: "some-table", ID: uuid.NewString()}
}

// waitEvents waits until the inbox holds n events.
func (h *harness) waitEvents(n int) []sdk.WebhookHistory {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventWaitTimeout)
	defer cancel()
	evs, err := h.srv.Inbox.Wait(ctx, n)
	if err != nil {
		h.t.Fatalf("waited for %d forwarded webhooks, got %d: %v", n, len(evs), err)
	}
	return evs
}

// iamportCard pays by card at the fake Iamport and returns the payment.
func (h *harness) iamportCard(src sdk.Source, amount int64) *iamport.Payment {
	h.t.Helper()
	p, err := h.iamport.PayOnetime(context.Background(), iamport.OnetimeRequest{
		CardFields:  iamport.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
		OrderFields: iamport.OrderFields{MerchantUID: src.ID, Amount: iamport.Amount(amount), Name: "Fake 주문"},
	})
	if err != nil {
		h.t.Fatalf("iamport card payment: %v", err)
	}
	return p
}

// iamportVBank issues a virtual account at the fake Iamport.
func (h *harness) iamportVBank(src sdk.Source, amount int64) *iamport.Payment {
	h.t.Helper()
	p, err := h.iamport.CreateVBank(context.Background(), iamport.VBankRequest{
		MerchantUID: src.ID, Amount: iamport.Amount(amount), VBankCode: "SHINHAN",
		VBankDue: iamport.TimestampOf(time.Now().Add(7 * 24 * time.Hour)), VBankHolder: "Samchon",
	})
	if err != nil {
		h.t.Fatalf("iamport vbank: %v", err)
	}
	return p
}

// tossCard makes a key-in card payment at the fake Toss, left for
// paymentctl to confirm.
func (h *harness) tossCard(src sdk.Source, amount int64) *toss.Payment {
	h.t.Helper()
	approved := false
	p, err := h.toss.KeyIn(context.Background(), toss.KeyInRequest{
		Method: "card", CardNumber: "1111222233334444", CardExpirationYear: "28", CardExpirationMonth: "03",
		OrderID: src.ID, OrderName: "something", Amount: amount, Approved: &approved,
	})
	if err != nil {
		h.t.Fatalf("toss key-in: %v", err)
	}
	return p
}

// tossVBank issues a virtual account at the fake Toss, left for paymentctl
// to confirm.
func (h *harness) tossVBank(src sdk.Source, amount int64) *toss.Payment {
	h.t.Helper()
	approved := false
	p, err := h.toss.CreateVirtualAccount(context.Background(), toss.VirtualAccountRequest{
		Method: "virtual-account", OrderID: src.ID, OrderName: "something", Bank: "신한",
		CustomerName: "Samchon", Amount: amount, Approved: &approved,
	})
	if err != nil {
		h.t.Fatalf("toss virtual account: %v", err)
	}
	return p
}

// portoneCheckout makes a PortOne V2 payment at the fake as the
// customer's browser would, with the order's id as its paymentId: a card
// is PAID at once, a virtual account is issued.
func (h *harness) portoneCheckout(src sdk.Source, amount int64, payMethod string) string {
	h.t.Helper()
	out, err := h.browser.Checkout(context.Background(), fakeportone.CheckoutRequest{
		PaymentID: src.ID, OrderName: "Fake 주문", TotalAmount: amount, PayMethod: payMethod,
	})
	if err != nil || out.Code != "" {
		h.t.Fatalf("portone checkout: %+v, %v", out, err)
	}
	return out.PaymentID
}

// storeOf is the vendor.store_id the tests register a vendor's payments
// with.
func storeOf(code sdk.VendorCode) string {
	switch code {
	case sdk.VendorToss:
		return tossStoreID
	case sdk.VendorPortOne:
		return fakeportone.DefaultStoreID
	}
	return iamportStoreID
}

// register registers a payment with paymentctl.
func (h *harness) register(code sdk.VendorCode, uid string, src sdk.Source, price int64) *sdk.History {
	h.t.Helper()
	store := storeOf(code)
	out, err := h.api.CreateHistory(context.Background(), sdk.HistoryCreate{
		Vendor: sdk.Vendor{Code: code, StoreID: store, UID: uid}, Source: src,
		Price: price, Password: testPassword, WebhookURL: h.webhookURL(),
	})
	if err != nil {
		h.t.Fatalf("register %s payment %s: %v", code, uid, err)
	}
	return out
}

// drainJobs waits until no webhook job is waiting or running, so a test can
// assert that an event changed nothing.
func (h *harness) drainJobs() {
	h.t.Helper()
	h.drainJobsWithin(eventWaitTimeout)
}

// drainJobsWithin is drainJobs with its own bound, for tests that queue
// thousands of jobs.
func (h *harness) drainJobsWithin(limit time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var n int
		err := h.srv.Store.SQLDB().QueryRow(
			"SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'discarded', 'cancelled')").Scan(&n)
		if err != nil {
			h.t.Fatalf("count jobs: %v", err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%d webhook jobs still pending", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitIdempotencyRunning waits until a request holding the Idempotency-Key
// key is running, read from the database the server uses.
func (h *harness) waitIdempotencyRunning(key string) {
	h.t.Helper()
	deadline := time.Now().Add(eventWaitTimeout)
	for h.count("SELECT count(*) FROM payment_idempotency_keys WHERE idempotency_key = $1 AND status = 'running'", key) == 0 {
		if time.Now().After(deadline) {
			h.t.Errorf("no request held the key %s within %s", key, eventWaitTimeout)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// count runs a SELECT count(*) on the database the server uses.
func (h *harness) count(query string, args ...any) int {
	h.t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, h.dsn)
	if err != nil {
		h.t.Fatal(err)
	}
	defer st.Close()
	var n int
	if err := st.SQLDB().QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", query, err)
	}
	return n
}
