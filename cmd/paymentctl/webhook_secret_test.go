package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/servertest"
)

// TestGeneratedWebhookSecretVerifies configures a server with the webhook
// secret `paymentctl config generate` prints and checks that a service
// verifies the delivery of a deposit with the Go SDK, reading the same
// configured value with sdk.ParseWebhookSecret. (scripts/ts-compat checks
// the same with the npm standardwebhooks package, an independent
// implementation.)
func TestGeneratedWebhookSecretVerifies(t *testing.T) {
	ctx := context.Background()
	var out, errOut bytes.Buffer
	f := &factory{IO: &iostreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut},
		LookupEnv: func(string) (string, bool) { return "", false }, Now: time.Now}
	if code := run(ctx, f, []string{"config", "generate"}); code != exitOK {
		t.Fatalf("config generate: exit %d: %s", code, errOut.String())
	}
	var secret string
	for _, line := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "PAYMENT_WEBHOOK_SECRET="); ok {
			secret = v
		}
	}
	if !strings.HasPrefix(secret, sdk.WebhookSecretPrefix) {
		t.Fatalf("config generate printed PAYMENT_WEBHOOK_SECRET=%q, want a whsec_ secret", secret)
	}
	key, err := sdk.ParseWebhookSecret(secret)
	if err != nil {
		t.Fatal(err)
	}

	srv := servertest.Start(t, map[string]string{"PAYMENT_WEBHOOK_SECRET": secret})
	api, err := sdk.New(sdk.Options{BaseURL: srv.URL, Key: srv.Config.Connection.Encryption.Key.Reveal(), IV: srv.Config.Connection.Encryption.IV.Reveal()})
	if err != nil {
		t.Fatal(err)
	}
	type delivery struct {
		verifyErr error
		event     *sdk.WebhookHistory
		decodeErr error
	}
	got := make(chan delivery, 10)
	service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d := delivery{verifyErr: sdk.VerifyWebhook(key, r.Header, body, 0, time.Time{})}
		if d.verifyErr == nil {
			d.event, d.decodeErr = api.DecodeWebhook(body)
		}
		got <- d
	}))
	defer service.Close()

	orderID := uuid.NewString()
	fake := iamport.New(iamport.Options{BaseURL: srv.Fakes.IamportURL, Key: "test_imp_key", Secret: "test_imp_secret"})
	vbank, err := fake.CreateVBank(ctx, iamport.VBankRequest{MerchantUID: orderID, Amount: 19900, VBankCode: "SHINHAN",
		VBankDue: iamport.TimestampOf(time.Now().Add(24 * time.Hour)), VBankHolder: "Samchon"})
	if err != nil {
		t.Fatal(err)
	}
	hist, err := api.CreateHistory(ctx, sdk.HistoryCreate{
		Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: "store", UID: vbank.ImpUID},
		Source: sdk.Source{Schema: "shop", Table: "orders", ID: orderID}, Price: 19900, Password: "pw",
		WebhookURL: service.URL + "/payments/events",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Deposit(ctx, vbank.ImpUID); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-got:
		if d.verifyErr != nil {
			t.Fatalf("the delivery does not verify with the key of the generated secret: %v", d.verifyErr)
		}
		if d.decodeErr != nil || d.event.Current.ID != hist.ID || d.event.Current.PaidAt == nil {
			t.Errorf("event %+v, %v; want the deposit of %s", d.event, d.decodeErr, hist.ID)
		}
	case <-time.After(time.Minute):
		t.Fatal("no webhook delivered within a minute")
	}
}
