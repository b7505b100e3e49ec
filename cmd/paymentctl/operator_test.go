package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/internal/pgschema"
	"github.com/paymentctl/paymentctl/ops/updater"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/server/webhook"
)

// operatorDatabases returns a fresh database per test: SQLite always,
// PostgreSQL (a schema of its own, migrated) when
// PAYMENTCTL_TEST_POSTGRES_DSN is set.
func operatorDatabases() map[string]func(t *testing.T) string {
	dbs := map[string]func(t *testing.T) string{"sqlite": func(t *testing.T) string {
		return "sqlite:" + filepath.Join(t.TempDir(), "payments.db")
	}}
	if base := pgschema.TestDSN(); base != "" {
		dbs["postgres"] = func(t *testing.T) string {
			dsn := pgschema.ForTest(t, base, "cmd_operator_")
			st, err := store.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := server.Migrate(context.Background(), st); err != nil {
				t.Fatal(err)
			}
			return dsn
		}
	}
	return dbs
}

// noReleases is the Releaser of an agent that only answers operator
// verbs in these tests.
type noReleases struct{}

func (noReleases) Resolve(context.Context, string) (updater.Target, error) {
	return updater.Target{}, errors.New("no releases")
}
func (noReleases) Stage(context.Context, updater.Target) (*updater.Staged, error) {
	return nil, errors.New("no releases")
}
func (noReleases) Switch(context.Context, string) error   { return errors.New("no releases") }
func (noReleases) Rollback(context.Context, string) error { return errors.New("no releases") }
func (noReleases) State() updater.ReleaseState            { return updater.ReleaseState{} }

// startAgent serves srv's operator verbs on a free loopback port, as
// serve does, and returns the port.
func startAgent(t *testing.T, srv *server.Running, cfg *config.Config) string {
	t.Helper()
	key, err := updater.DeriveKey(cfg.System.Password.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	agent, err := updater.New(updater.Options{
		Key: key, Releases: noReleases{}, APIURL: srv.URL,
		Probe:    func(context.Context, string) (sdk.Commit, error) { return sdk.Commit{}, nil },
		Operator: appOperator{app: srv.App, mode: cfg.Mode, await: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := agent.Start(ln); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		agent.Close(ctx)
	})
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// TestOperatorCommands runs `webhooks`, `webhooks retry` and `audit`
// against a running server, on each database, through both paths: the
// server's updater agent (an agent on a free port) and, with nothing
// listening at the updater port, the database directly. A delivery the
// service refused is listed (its host only); a retry re-sends it long
// before its scheduled retry (through the agent, the command prints how
// the attempt went); the payment's trail shows its registration and
// cancel.
func TestOperatorCommands(t *testing.T) {
	for db, dsn := range operatorDatabases() {
		for _, channel := range []bool{true, false} {
			name := db + "/database"
			if channel {
				name = db + "/channel"
			}
			t.Run(name, func(t *testing.T) { testOperatorCommands(t, dsn(t), channel) })
		}
	}
}

func testOperatorCommands(t *testing.T, dsn string, channel bool) {
	ctx := context.Background()
	env := map[string]string{"PAYMENT_DATABASE_URL": dsn, "PAYMENT_METRICS_ADDR": "off", "PAYMENT_RECONCILE_INTERVAL": "0",
		"PAYMENT_UPDATOR_PORT": freePort(t)}
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
	wantPath := "no running server (nothing listens at 127.0.0.1:" + env["PAYMENT_UPDATOR_PORT"] + "); read the local database directly"
	if channel {
		env["PAYMENT_UPDATOR_PORT"] = startAgent(t, srv, cfg)
		wantPath = "answered by the running local server through its updater agent at 127.0.0.1:" + env["PAYMENT_UPDATOR_PORT"]
	}

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

	// paymentctl runs a command and returns its stdout, checking that
	// stderr names the path that answered.
	paymentctl := func(wantCode exitCode, args ...string) (string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		f := &factory{IO: &iostreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}, LookupEnv: lookup, Now: time.Now}
		if code := run(ctx, f, args); code != wantCode {
			t.Fatalf("paymentctl %s: exit %d, want %d: %s%s", strings.Join(args, " "), code, wantCode, out.String(), errOut.String())
		}
		if wantCode == exitOK && !strings.Contains(errOut.String(), wantPath) {
			t.Fatalf("paymentctl %s: stderr %q, want %q", strings.Join(args, " "), errOut.String(), wantPath)
		}
		for _, secret := range []string{"s3cret", "/payments/events", "1234-1234", `"pw"`} {
			if strings.Contains(out.String()+errOut.String(), secret) {
				t.Fatalf("paymentctl %s shows %q:\n%s%s", strings.Join(args, " "), secret, out.String(), errOut.String())
			}
		}
		return out.String(), errOut.String()
	}
	list := func() []updater.Delivery {
		t.Helper()
		var got struct{ Deliveries []updater.Delivery }
		out, _ := paymentctl(exitOK, "webhooks", "local", "--json")
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("webhooks --json printed %q: %v", out, err)
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

	var failing []updater.Delivery
	waitFor("the refused delivery to be listed", func() bool { failing = list(); return len(failing) == 1 })
	d := failing[0]
	u, _ := url.Parse(service.URL)
	if d.HistoryID != hist.ID || d.Host != u.Host || d.State != server.DeliveryFailing || d.Attempts != 1 ||
		d.LastStatus != http.StatusInternalServerError || d.LastError != "" || d.LastAttemptAt == nil ||
		d.NextAttemptAt == nil || time.Until(*d.NextAttemptAt) < 20*time.Minute {
		t.Errorf("listed %+v, want failing to %s with a 500 and its retry in 30 to 60 minutes", d, u.Host)
	}
	if table, _ := paymentctl(exitOK, "webhooks", "local"); !strings.Contains(table, d.EventID) || !strings.Contains(table, "failing") {
		t.Errorf("webhooks printed:\n%s", table)
	}

	if channel {
		// Still down: the command reports the attempt it caused.
		out, _ := paymentctl(exitOK, "webhooks", "retry", "local", d.EventID, "--wait", "30s")
		if want := "event " + d.EventID + ": re-sent now (was failing): failed again (HTTP 500); the next attempt is scheduled\n"; out != want {
			t.Errorf("webhooks retry printed %q, want %q", out, want)
		}
		if l := list(); len(l) != 1 || l[0].Attempts != 2 {
			t.Errorf("after a failed retry, listed %+v, want one delivery with 2 attempts", l)
		}
	}

	up.Store(true)
	before := hits.Load()
	out, _ := paymentctl(exitOK, "webhooks", "retry", "local", d.EventID, "--wait", "30s")
	if channel {
		// The command waited for the attempt, so it was made already.
		if want := "event " + d.EventID + ": re-sent now (was failing): delivered (HTTP 200)\n"; out != want || hits.Load() <= before {
			t.Errorf("webhooks retry printed %q after %d hits, want %q after more than %d", out, hits.Load(), want, before)
		}
	} else {
		if !strings.Contains(out, "was failing") || !strings.Contains(out, "within about a second") {
			t.Errorf("webhooks retry printed %q", out)
		}
		waitFor("the delivery to be sent again", func() bool { return hits.Load() > before })
	}
	waitFor("the list to empty", func() bool { return len(list()) == 0 })
	if out, _ := paymentctl(exitOK, "webhooks", "local"); !strings.Contains(out, "no failing or given-up deliveries") {
		t.Errorf("webhooks printed %q", out)
	}
	if out, errOut := paymentctl(exitError, "webhooks", "retry", "local", "00000000-0000-4000-8000-000000000000"); !strings.Contains(errOut, "no webhook event 00000000-0000-4000-8000-000000000000") {
		t.Errorf("retry of an unknown event printed %q %q", out, errOut)
	}

	var trail struct {
		HistoryID string               `json:"history_id"`
		Events    []updater.AuditEntry `json:"events"`
	}
	out, _ = paymentctl(exitOK, "audit", "local", "--history", hist.ID, "--json")
	if err := json.Unmarshal([]byte(out), &trail); err != nil {
		t.Fatalf("audit --json printed %q: %v", out, err)
	}
	// The PG's webhook about the cancel (or a reconciler pass) may apply
	// the refund before the cancel itself settles: a "reconciled" event
	// may then stand between the two.
	var events []string
	for _, e := range trail.Events {
		if e.Event != "reconciled" {
			events = append(events, e.Event)
		}
	}
	last := len(trail.Events) - 1
	if trail.HistoryID != hist.ID || strings.Join(events, ",") != "registered,cancelled" ||
		trail.Events[last].Details.RefundAfter != 1000 || trail.Events[last].Details.Price != 5000 {
		t.Errorf("audit trail = %+v, want registered then a cancel of 1000 of 5000", trail)
	}
	if table, _ := paymentctl(exitOK, "audit", "local", "--history", hist.ID); !strings.Contains(table, "cancelled") {
		t.Errorf("audit printed:\n%s", table)
	}
}

// TestOperatorChannelRefusesUnsigned checks that the operator verbs are
// authenticated like the other updater verbs: an unsigned request or one
// signed with another key is refused before any verb runs, and the
// command with a wrong PAYMENT_SYSTEM_PASSWORD fails rather than falling
// back to the database.
func TestOperatorChannelRefusesUnsigned(t *testing.T) {
	ctx := context.Background()
	env := map[string]string{"PAYMENT_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "payments.db"),
		"PAYMENT_METRICS_ADDR": "off", "PAYMENT_RECONCILE_INTERVAL": "0"}
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
	port := startAgent(t, srv, cfg)
	addr := "127.0.0.1:" + port

	for _, path := range []string{"/v1/operator/deliveries?mode=local&limit=5", "/v1/operator/audit?mode=local&history=3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("unsigned GET %s: %d, want 401", path, resp.StatusCode)
		}
	}
	resp, err := http.Post("http://"+addr+"/v1/operator/deliveries/retry", "application/json",
		strings.NewReader(`{"mode":"local","event_id":"3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned retry: %d, want 401", resp.StatusCode)
	}

	otherKey, _ := updater.DeriveKey("another password")
	other, err := updater.NewClient(addr, otherKey, updater.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.FailingDeliveries(ctx, "local", 5)
	var ae *updater.AnswerError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Errorf("list signed with another key: %v, want 401", err)
	}
	_, err = other.RetryDelivery(ctx, updater.RetryRequest{Mode: "local", EventID: "3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9"})
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Errorf("retry signed with another key: %v, want 401", err)
	}

	// Signed, but for another mode or with bad input: 421 and 400, naming
	// the field without echoing it.
	key, _ := updater.DeriveKey(cfg.System.Password.Reveal())
	good, _ := updater.NewClient(addr, key, updater.ClientOptions{})
	tests := []struct {
		name   string
		call   func() error
		status int
		want   string
	}{
		{"another mode", func() error { _, err := good.FailingDeliveries(ctx, "real", 5); return err }, http.StatusMisdirectedRequest, "serves mode local"},
		{"limit too large", func() error { _, err := good.FailingDeliveries(ctx, "local", 10_001); return err }, http.StatusBadRequest, "limit must be"},
		{"bad event id", func() error {
			_, err := good.RetryDelivery(ctx, updater.RetryRequest{Mode: "local", EventID: "../<script>"})
			return err
		}, http.StatusBadRequest, "event_id must be"},
		{"wait too long", func() error {
			_, err := good.RetryDelivery(ctx, updater.RetryRequest{Mode: "local", EventID: "3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9", Wait: time.Hour})
			return err
		}, http.StatusBadRequest, "wait must be"},
		{"bad history", func() error { _, err := good.AuditTrail(ctx, "local", "../<script>"); return err }, http.StatusBadRequest, "history must be"},
		{"unknown event", func() error {
			_, err := good.RetryDelivery(ctx, updater.RetryRequest{Mode: "local", EventID: "3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9"})
			return err
		}, http.StatusNotFound, "no webhook event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.As(err, &ae) || ae.Status != tt.status || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "<script>") {
				t.Errorf("err = %v, want %d with %q", err, tt.status, tt.want)
			}
		})
	}

	env["PAYMENT_UPDATOR_PORT"] = port
	env["PAYMENT_SYSTEM_PASSWORD"] = "not the servers' password"
	var out, errOut bytes.Buffer
	f := &factory{IO: &iostreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}, LookupEnv: lookup, Now: time.Now}
	if code := run(ctx, f, []string{"webhooks", "local"}); code != exitError ||
		!strings.Contains(errOut.String(), "PAYMENT_SYSTEM_PASSWORD must be the servers'") || strings.Contains(errOut.String(), "database directly") {
		t.Errorf("webhooks with another password: exit %d, %q%q; want a refusal naming PAYMENT_SYSTEM_PASSWORD and no fallback", code, out.String(), errOut.String())
	}
}
