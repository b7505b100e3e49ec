package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/fakepg/fault"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/payment"
	"github.com/paymentctl/paymentctl/server/servertest"
)

// TestReconcileLocal: a deposit at a fake whose webhooks are dropped is a
// drift that `reconcile local --dry-run --json` shows without applying,
// and that `reconcile local` applies, forwarding the deposit to the
// service through the running server.
func TestReconcileLocal(t *testing.T) {
	ctx := context.Background()
	db := "sqlite:" + filepath.Join(t.TempDir(), "payments.db")
	// The periodic sweep is off: only the command reconciles.
	srv := servertest.Start(t, map[string]string{"PAYMENT_DATABASE_URL": db, "PAYMENT_RECONCILE_INTERVAL": "0"})
	srv.Fakes.SetFaults(fault.Faults{WebhookDropRate: 1})

	src := sdk.Source{Schema: "shop", Table: "orders", ID: "3b241101-e2bb-4255-8caf-4136c566a962"}
	fake := iamport.New(iamport.Options{BaseURL: srv.Fakes.IamportURL, Key: "test_imp_key", Secret: "test_imp_secret"})
	vbank, err := fake.CreateVBank(ctx, iamport.VBankRequest{MerchantUID: src.ID, Amount: 15000, VBankCode: "SHINHAN",
		VBankDue: iamport.TimestampOf(time.Now().Add(24 * time.Hour)), VBankHolder: "Samchon"})
	if err != nil {
		t.Fatal(err)
	}
	api, err := sdk.New(sdk.Options{BaseURL: srv.URL, Key: srv.Config.Connection.Encryption.Key.Reveal(), IV: srv.Config.Connection.Encryption.IV.Reveal()})
	if err != nil {
		t.Fatal(err)
	}
	hist, err := api.CreateHistory(ctx, sdk.HistoryCreate{Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: "store", UID: vbank.ImpUID},
		Source: src, Price: 15000, Password: "pw", WebhookURL: srv.URL + "/payments/internal/webhook"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Deposit(ctx, vbank.ImpUID); err != nil {
		t.Fatal(err)
	}

	fakePort := func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return u.Port()
	}
	env := map[string]string{
		"PAYMENT_DATABASE_URL":      db,
		"PAYMENT_FAKE_IAMPORT_PORT": fakePort(srv.Fakes.IamportURL),
		"PAYMENT_FAKE_TOSS_PORT":    fakePort(srv.Fakes.TossURL),
		"PAYMENT_FAKE_PORTONE_PORT": fakePort(srv.Fakes.PortOneURL),
		"PAYMENT_METRICS_ADDR":      "127.0.0.1:0",
	}
	reconcile := func(args ...string) []byte {
		t.Helper()
		var out, errOut bytes.Buffer
		f := &factory{IO: &iostreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut},
			LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, Now: time.Now}
		if code := run(ctx, f, append([]string{"reconcile", "local"}, args...)); code != exitOK {
			t.Fatalf("reconcile %v: exit %d: %s", args, code, errOut.String())
		}
		return out.Bytes()
	}

	var dry payment.SweepReport
	if err := json.Unmarshal(reconcile("--dry-run", "--json"), &dry); err != nil {
		t.Fatal(err)
	}
	if len(dry.Drifts) != 1 || dry.Drifts[0].Kind != payment.DriftState || dry.Drifts[0].HistoryID != hist.ID ||
		dry.Drifts[0].Before.Paid || !dry.Drifts[0].After.Paid {
		t.Fatalf("dry run: %+v, want the deposit of %s", dry, hist.ID)
	}
	if got, err := api.History(ctx, hist.ID, "pw"); err != nil || got.PaidAt != nil {
		t.Fatalf("after a dry run the history is %+v, %v: want it unpaid", got, err)
	}

	out := reconcile()
	if !bytes.Contains(out, []byte("1 drift(s) applied")) {
		t.Errorf("reconcile printed %q", out)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	evs, err := srv.Inbox.Wait(wctx, 1)
	if err != nil {
		t.Fatalf("no event forwarded after reconcile: %v", err)
	}
	if evs[0].Current.ID != hist.ID || evs[0].Previous.PaidAt != nil || evs[0].Current.PaidAt == nil {
		t.Errorf("event %+v", evs[0])
	}
	if again := reconcile("--json"); !bytes.Contains(again, []byte(`"drifts": []`)) {
		t.Errorf("a second pass found drifts: %s", again)
	}
}
