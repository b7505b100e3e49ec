package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/server/webhook"
)

// TestNewWebhooksCmd parses command lines into options through the runF
// seams.
func TestNewWebhooksCmd(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		want      *webhooksOptions // nil: a usage error
		wantRetry bool
	}{
		{"list", []string{"local"}, &webhooksOptions{Limit: 100}, false},
		{"list as JSON", []string{"local", "--json", "--limit", "5"}, &webhooksOptions{Limit: 5, JSON: true}, false},
		{"retry", []string{"retry", "local", "3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9"}, &webhooksOptions{Limit: 0, EventID: "3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9"}, true},
		{"no mode", nil, nil, false},
		{"unknown mode", []string{"staging"}, nil, false},
		{"limit zero", []string{"local", "--limit", "0"}, nil, false},
		{"limit too large", []string{"local", "--limit", "10001"}, nil, false},
		{"retry without event", []string{"retry", "local"}, nil, true},
		{"retry with a bad mode", []string{"retry", "staging", "x"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *webhooksOptions
			var retried bool
			f := &factory{IO: &iostreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}},
				LookupEnv: func(string) (string, bool) { return "", false }, Now: time.Now}
			cmd := newWebhooksCmd(f,
				func(_ context.Context, o *webhooksOptions) error { got = o; return nil },
				func(_ context.Context, o *webhooksOptions) error { got, retried = o, true; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
			err := cmd.Execute()
			if tt.want == nil {
				var uerr *usageError
				if !errors.As(err, &uerr) {
					t.Fatalf("webhooks %q: %v, want a usage error", tt.args, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("webhooks %q: %v", tt.args, err)
			}
			if retried != tt.wantRetry || got.Config == nil || got.Config.Mode != config.ModeLocal {
				t.Fatalf("webhooks %q ran retry %v with %+v", tt.args, retried, got)
			}
			opts := *got
			opts.IO, opts.Config = nil, nil
			if diff := cmp.Diff(*tt.want, opts, cmp.AllowUnexported(webhooksOptions{})); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWebhooksListAndRetry runs the commands against the database of a
// running server: a delivery the service refused is listed (its host
// only), and `webhooks retry` makes the server send it again at once,
// long before its scheduled retry.
func TestWebhooksListAndRetry(t *testing.T) {
	ctx := context.Background()
	db := "sqlite:" + filepath.Join(t.TempDir(), "payments.db")
	// An empty value counts as unset (the default 127.0.0.1:9464): a free
	// port instead, as for the fakes below.
	env := map[string]string{"PAYMENT_DATABASE_URL": db, "PAYMENT_METRICS_ADDR": "127.0.0.1:0", "PAYMENT_RECONCILE_INTERVAL": "0"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := config.Load(config.LoadOptions{LookupEnv: lookup})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(ctx, server.Options{
		Config: cfg, FakeIamportAddr: "127.0.0.1:0", FakeTossAddr: "127.0.0.1:0", FakePortOneAddr: "127.0.0.1:0",
		// The retry after a failure is due in 30 to 60 minutes: only the
		// command can make it happen within the test.
		DeliveryRetry: webhook.RetryPolicy{Base: time.Hour, Cap: time.Hour, Budget: 2 * time.Hour},
		PollInterval:  50 * time.Millisecond,
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Close(ctx)
	})

	var up atomic.Bool
	var hits atomic.Int32
	service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if !up.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
		}
	}))
	defer service.Close()
	hook := service.URL + "/payments/events?token=s3cret-token"

	// A card payment whose cancel forwards an event to the service.
	src := sdk.Source{Schema: "shop", Table: "orders", ID: "7f0c4b8e-2d1a-4c3b-9e5f-6a7b8c9d0e1f"}
	pg := iamport.New(iamport.Options{BaseURL: srv.Fakes.IamportURL, Key: "test_imp_key", Secret: "test_imp_secret"})
	paid, err := pg.PayOnetime(ctx, iamport.OnetimeRequest{
		CardFields:  iamport.CardFields{CardNumber: "1234-1234-1234-1234", Expiry: "2028-12", Birth: "880311"},
		OrderFields: iamport.OrderFields{MerchantUID: src.ID, Amount: 5000, Name: "tea"},
	})
	if err != nil {
		t.Fatal(err)
	}
	api, err := sdk.New(sdk.Options{BaseURL: srv.URL, Key: cfg.Connection.Encryption.Key.Reveal(), IV: cfg.Connection.Encryption.IV.Reveal()})
	if err != nil {
		t.Fatal(err)
	}
	hist, err := api.CreateHistory(ctx, sdk.HistoryCreate{Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: "store", UID: paid.ImpUID},
		Source: src, Price: 5000, Password: "pw", WebhookURL: hook})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.CancelHistory(ctx, sdk.CancelCreate{Source: src, Password: "pw", Price: 1000, Reason: "one less"}); err != nil {
		t.Fatal(err)
	}

	paymentctl := func(wantCode exitCode, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		f := &factory{IO: &iostreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}, LookupEnv: lookup, Now: time.Now}
		if code := run(ctx, f, args); code != wantCode {
			t.Fatalf("paymentctl %s: exit %d, want %d: %s%s", strings.Join(args, " "), code, wantCode, out.String(), errOut.String())
		}
		return out.String() + errOut.String()
	}
	list := func() []server.Delivery {
		t.Helper()
		var got struct{ Deliveries []server.Delivery }
		out := paymentctl(exitOK, "webhooks", "local", "--json")
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("webhooks --json printed %q: %v", out, err)
		}
		if strings.Contains(out, "s3cret") || strings.Contains(out, "/payments/events") {
			t.Fatalf("webhooks --json shows more of the URL than its host:\n%s", out)
		}
		return got.Deliveries
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}

	var failing []server.Delivery
	waitFor("the refused delivery to be listed", func() bool { failing = list(); return len(failing) == 1 })
	d := failing[0]
	u, _ := url.Parse(service.URL)
	if d.HistoryID != hist.ID || d.Host != u.Host || d.State != server.DeliveryFailing || d.Attempts != 1 ||
		d.LastStatus != http.StatusInternalServerError || d.LastError != "" || d.LastAttemptAt == nil ||
		d.NextAttemptAt == nil || time.Until(*d.NextAttemptAt) < 20*time.Minute {
		t.Errorf("listed %+v, want failing to %s with a 500 and its retry in 30 to 60 minutes", d, u.Host)
	}
	table := paymentctl(exitOK, "webhooks", "local")
	if !strings.Contains(table, d.EventID) || !strings.Contains(table, "failing") || strings.Contains(table, "s3cret") {
		t.Errorf("webhooks printed:\n%s", table)
	}

	up.Store(true)
	before := hits.Load()
	if out := paymentctl(exitOK, "webhooks", "retry", "local", d.EventID); !strings.Contains(out, "was failing") {
		t.Errorf("webhooks retry printed %q", out)
	}
	waitFor("the delivery to be sent again", func() bool { return hits.Load() > before })
	waitFor("the list to empty", func() bool { return len(list()) == 0 })
	if out := paymentctl(exitOK, "webhooks", "local"); !strings.Contains(out, "no failing or given-up deliveries") {
		t.Errorf("webhooks printed %q", out)
	}

	if out := paymentctl(exitError, "webhooks", "retry", "local", "00000000-0000-4000-8000-000000000000"); !strings.Contains(out, "no webhook event") {
		t.Errorf("retry of an unknown event printed %q", out)
	}
}
