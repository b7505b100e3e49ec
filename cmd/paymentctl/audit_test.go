package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/server/payment"
)

// TestAudit runs `paymentctl audit` against the database of a running
// server with a service configured: a payment the service registered and
// partly cancelled shows both events, with the service, the amounts and
// the request IDs, and no password.
func TestAudit(t *testing.T) {
	ctx := context.Background()
	const apiKey = "pk_auditTest000000000000000000000000000000"
	services := `[{"name":"shop","api_keys":["` + config.HashAPIKey(apiKey) + `"],` +
		`"encryption":{"key":"shopKey0shopKey0shopKey0shopKey0","iv":"shopIV0shopIV0sh"}}]`
	env := map[string]string{
		"PAYMENT_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "payments.db"),
		"PAYMENT_METRICS_ADDR": "off", "PAYMENT_RECONCILE_INTERVAL": "0", "PAYMENT_SERVICES": services,
		// Nothing listens there: the command reads the database (a real
		// `paymentctl serve` on the default port would answer instead).
		"PAYMENT_UPDATOR_PORT": freePort(t),
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := config.Load(config.LoadOptions{LookupEnv: lookup})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(ctx, server.Options{Config: cfg, FakeIamportAddr: "127.0.0.1:0", FakeTossAddr: "127.0.0.1:0", FakePortOneAddr: "127.0.0.1:0"}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Close(ctx)
	})

	src := sdk.Source{Schema: "shop", Table: "orders", ID: uuid.NewString()}
	pg := iamport.New(iamport.Options{BaseURL: srv.Fakes.IamportURL, Key: "test_imp_key", Secret: "test_imp_secret"})
	paid, err := pg.PayOnetime(ctx, iamport.OnetimeRequest{
		CardFields:  iamport.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
		OrderFields: iamport.OrderFields{MerchantUID: src.ID, Amount: 5000, Name: "tea"},
	})
	if err != nil {
		t.Fatal(err)
	}
	api, err := sdk.New(sdk.Options{BaseURL: srv.URL, APIKey: apiKey, Key: "shopKey0shopKey0shopKey0shopKey0", IV: "shopIV0shopIV0sh"})
	if err != nil {
		t.Fatal(err)
	}
	const password = "audit-record-password"
	hist, err := api.CreateHistory(ctx, sdk.HistoryCreate{Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: "store-a", UID: paid.ImpUID},
		Source: src, Price: 5000, Password: password, WebhookURL: srv.URL + "/payments/internal/webhook"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.CancelHistory(ctx, sdk.CancelCreate{Source: src, Password: password, Price: 1000, Reason: "one less"}); err != nil {
		t.Fatal(err)
	}

	paymentctl := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		f := &factory{IO: &iostreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}, LookupEnv: lookup, Now: time.Now}
		if code := run(ctx, f, args); code != exitOK {
			t.Fatalf("paymentctl %s: exit %d: %s%s", strings.Join(args, " "), code, out.String(), errOut.String())
		}
		return out.String()
	}
	out := paymentctl("audit", "local", "--history", hist.ID, "--json")
	var got struct {
		HistoryID string               `json:"history_id"`
		Events    []payment.AuditEntry `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("audit --json printed %q: %v", out, err)
	}
	var events []payment.AuditEntry
	for _, e := range got.Events {
		// The fake PG's webhook about the cancel may be applied before
		// the cancel's answer: a reconciled event then comes between.
		if e.Event != payment.AuditReconciled {
			events = append(events, e)
		}
	}
	if len(events) != 2 || got.HistoryID != hist.ID {
		t.Fatalf("audit --json: %s", out)
	}
	reg, cancel := events[0], events[1]
	if reg.Event != payment.AuditRegistered || reg.Service != "shop" || reg.StoreID != "store-a" || reg.Details.Price != 5000 || reg.RequestID == "" {
		t.Errorf("registration event %+v", reg)
	}
	if cancel.Event != payment.AuditCancelled || cancel.Details.Amount != 1000 || cancel.Details.RefundAfter != 1000 || cancel.RequestID == reg.RequestID {
		t.Errorf("cancel event %+v", cancel)
	}
	table := paymentctl("audit", "local", "--history", hist.ID)
	for _, want := range []string{"registered", "cancelled", "shop", "0 -> 1000"} {
		if !strings.Contains(table, want) {
			t.Errorf("audit printed no %q:\n%s", want, table)
		}
	}
	if strings.Contains(out+table, password) {
		t.Errorf("the audit output holds the record password")
	}
}
