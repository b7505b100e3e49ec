package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/fakepg"
	fakeiamport "github.com/paymentctl/paymentctl/fakepg/iamport"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/server/payment"
	"github.com/paymentctl/paymentctl/server/seal"
	"github.com/paymentctl/paymentctl/server/store"
)

// startDev runs paymentctl in dev mode on dsn, its PGs being fakes on
// loopback (nothing leaves the machine), with webhook.allowed_networks
// set to allowed. stop stops it, at the latest when the test ends.
func startDev(t *testing.T, dsn string, fakes *fakepg.Fakes, allowed string) (srv *server.Running, stop func()) {
	t.Helper()
	env := map[string]string{
		"PAYMENT_MODE":                     "dev",
		"PAYMENT_DATABASE_URL":             dsn,
		"PAYMENT_METRICS_ADDR":             "127.0.0.1:0",
		"PAYMENT_IAMPORT_URL":              fakes.IamportURL,
		"PAYMENT_IAMPORT_KEY":              fakeiamport.DefaultKey,
		"PAYMENT_IAMPORT_SECRET":           fakeiamport.DefaultSecret,
		"PAYMENT_TOSS_PAYMENTS_URL":        fakes.TossURL,
		"PAYMENT_WEBHOOK_ALLOWED_NETWORKS": allowed,
	}
	cfg, err := config.Load(config.LoadOptions{LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err = server.Start(context.Background(), server.Options{Config: cfg, PollInterval: 50 * time.Millisecond}, "")
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Close(ctx); err != nil {
				t.Errorf("close server: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	fakes.Iamport.SetWebhookURL(srv.URL + "/payments/webhooks/iamport")
	return srv, stop
}

// TestWebhookDestinationsDevMode: in dev mode a loopback webhook_url is
// refused at registration; listed in webhook.allowed_networks it is
// accepted and delivered to, and the reply is stored sealed, at most 1 KiB.
func TestWebhookDestinationsDevMode(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		ctx := context.Background()
		fakes, err := fakepg.Start(ctx, fakepg.Options{IamportAddr: "127.0.0.1:0", TossAddr: "127.0.0.1:0", PortOneAddr: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fakes.Close(context.Background()) })
		pg := iamport.New(iamport.Options{BaseURL: fakes.IamportURL, Key: fakeiamport.DefaultKey, Secret: fakeiamport.DefaultSecret})
		const secretReply = "SECRET-REPLY-"
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte(strings.Repeat(secretReply, 400))) // 5.2 KB
		}))
		defer rcv.Close()
		src := newSource()
		p, err := pg.CreateVBank(ctx, iamport.VBankRequest{
			MerchantUID: src.ID, Amount: 19900, VBankCode: "SHINHAN",
			VBankDue: iamport.TimestampOf(time.Now().Add(24 * time.Hour)), VBankHolder: "Samchon",
		})
		if err != nil {
			t.Fatal(err)
		}
		in := sdk.HistoryCreate{
			Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: p.ImpUID}, Source: src,
			Price: 19900, Password: testPassword, WebhookURL: rcv.URL + "/hook",
		}
		db := dsn(t)

		srv, stop := startDev(t, db, fakes, "")
		api, err := sdk.New(sdk.Options{BaseURL: srv.URL, Key: connectionKey, IV: connectionIV})
		if err != nil {
			t.Fatal(err)
		}
		_, err = api.CreateHistory(ctx, in)
		var apiErr *sdk.Error
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest ||
			!strings.Contains(apiErr.Message, "$input.webhook_url: refused (loopback address)") || strings.Contains(apiErr.Message, rcv.URL) {
			t.Fatalf("register a loopback webhook_url in dev mode: %v, want 400 naming webhook_url without the URL", err)
		}
		stop()

		srv, _ = startDev(t, db, fakes, "127.0.0.0/8")
		api, err = sdk.New(sdk.Options{BaseURL: srv.URL, Key: connectionKey, IV: connectionIV})
		if err != nil {
			t.Fatal(err)
		}
		hist, err := api.CreateHistory(ctx, in)
		if err != nil {
			t.Fatalf("register with 127.0.0.0/8 allowed: %v", err)
		}
		if _, err := pg.Deposit(ctx, p.ImpUID); err != nil {
			t.Fatal(err)
		}
		reply := waitReply(t, srv, hist.ID)
		if !strings.HasPrefix(reply.Body, "v1.") || strings.Contains(reply.Body, secretReply) {
			t.Errorf("stored reply %.60q… is not sealed", reply.Body)
		}
		key, err := seal.DeriveKey([]byte(srv.Config.CancelHistory.Encryption.Key.Reveal()), seal.PurposeWebhook)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := seal.NewKeyring(seal.PurposeWebhook, key)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := keys.Open(reply.Body, payment.ReplyAAD(reply.WebhookID))
		if err != nil {
			t.Fatalf("open the stored reply: %v", err)
		}
		if len(plain) > 1024 || !strings.HasPrefix(string(plain), secretReply) {
			t.Errorf("stored reply: %d bytes %.40q…, want the reply's first KiB at most", len(plain), plain)
		}
	})
}

// waitReply waits for the first recorded 200 reply to an event of a
// history.
func waitReply(t *testing.T, srv *server.Running, historyID string) store.WebhookResponse {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(eventWaitTimeout)
	for {
		hooks, err := srv.Store.HistoryWebhooks(ctx, historyID)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hooks {
			attempts, err := srv.Store.WebhookResponses(ctx, h.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range attempts {
				if a.Status == http.StatusOK {
					return a
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reply recorded for history %s", historyID)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
