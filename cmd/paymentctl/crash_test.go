package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/fakepg"
	"github.com/paymentctl/paymentctl/fakepg/fault"
	fakeiamport "github.com/paymentctl/paymentctl/fakepg/iamport"
	faketoss "github.com/paymentctl/paymentctl/fakepg/toss"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/server/payment"
	"github.com/paymentctl/paymentctl/server/store"
)

// freePort returns a loopback port nobody listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// TestKillBetweenConfirmAndCommit kills `paymentctl serve` with SIGKILL
// while Toss holds the answer to a registration's confirm (the fake has
// captured the money), so the process dies between the confirm and the
// commit. The reconciler, run later on the same database, finds the
// capture no history records and cancels it at Toss. On SQLite and, when
// PAYMENTCTL_TEST_POSTGRES_DSN is set, PostgreSQL.
func TestKillBetweenConfirmAndCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	for name, newDB := range operatorDatabases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			killBetweenConfirmAndCommit(t, newDB(t))
		})
	}
}

// killBetweenConfirmAndCommit is TestKillBetweenConfirmAndCommit on the
// database db (migrated).
func killBetweenConfirmAndCommit(t *testing.T, db string) {
	ctx := context.Background()
	confirm := fault.Route{Method: "POST", Path: "/v1/payments/confirm"}
	fakes, err := fakepg.Start(ctx, fakepg.Options{IamportAddr: "127.0.0.1:0", TossAddr: "127.0.0.1:0", PortOneAddr: "127.0.0.1:0",
		Faults: fault.Faults{RouteLatency: []fault.RouteLatency{{Route: confirm, Latency: time.Hour}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fakes.Close(context.Background()) })

	dir := t.TempDir()
	apiPort := freePort(t)
	env := map[string]string{
		"PAYMENT_MODE": "local", "PAYMENT_DATABASE_URL": db,
		"PAYMENT_API_PORT": apiPort, "PAYMENT_UPDATOR_PORT": freePort(t), "PAYMENT_METRICS_ADDR": "127.0.0.1:0",
		"PAYMENT_IAMPORT_URL": fakes.IamportURL, "PAYMENT_IAMPORT_KEY": fakeiamport.DefaultKey, "PAYMENT_IAMPORT_SECRET": fakeiamport.DefaultSecret,
		"PAYMENT_TOSS_PAYMENTS_URL": fakes.TossURL, "PAYMENT_TOSS_PAYMENTS_SECRET": faketoss.DefaultSecretKey,
		"PAYMENT_RECONCILE_INTERVAL": "0", "PAYMENT_LOG_LEVEL": "warn",
	}
	bin, err := exec.LookPath("paymentctl") // this test binary, as testscript.Main set it up
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	api, err := sdk.New(sdk.Options{BaseURL: "http://127.0.0.1:" + apiPort,
		Key: "MCKOxv9B23r7EatArCFcBP03nfaS03T8", IV: "9haeYD1tIf4v8xs7"})
	if err != nil {
		t.Fatal(err)
	}
	until(t, "the server to answer", 60*time.Second, func() bool { return api.Health(ctx) == nil })

	tc := toss.New(toss.Options{BaseURL: fakes.TossURL, SecretKey: faketoss.DefaultSecretKey})
	orderID := uuid.NewString()
	approved := false
	p, err := tc.KeyIn(ctx, toss.KeyInRequest{Method: "card", CardNumber: "1111222233334444", CardExpirationYear: "28",
		CardExpirationMonth: "03", OrderID: orderID, OrderName: "crash", Amount: 9000, Approved: &approved})
	if err != nil {
		t.Fatal(err)
	}
	go api.CreateHistory(ctx, sdk.HistoryCreate{ // it never returns: the process dies
		Vendor: sdk.Vendor{Code: sdk.VendorToss, StoreID: "store", UID: p.PaymentKey},
		Source: sdk.Source{Schema: "shop", Table: "orders", ID: orderID}, Price: 9000, Password: "pw",
		WebhookURL: "http://127.0.0.1:" + apiPort + "/payments/internal/webhook",
	})
	until(t, "Toss to capture the payment", 30*time.Second, func() bool {
		got, err := tc.GetPayment(ctx, p.PaymentKey)
		return err == nil && got.Status == toss.StatusDone
	})
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no clean-up of any kind
		t.Fatal(err)
	}
	cmd.Wait()

	// Later (past the registration's retry window), on the same database.
	cfg, err := config.Load(config.LoadOptions{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	later := func() time.Time { return time.Now().Add(time.Hour) }
	app, err := server.NewApp(ctx, server.Options{Config: cfg, Now: later})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(ctx)
	if _, err := app.Store.HistoryByVendor(ctx, string(sdk.VendorToss), p.PaymentKey); err == nil {
		t.Fatal("the registration committed before the kill; the test did not hit the window")
	}
	ops, err := app.Store.OperationsOfVendorPayment(ctx, string(sdk.VendorToss), p.PaymentKey)
	if err != nil || len(ops) != 1 || ops[0].State != store.OpPending {
		t.Fatalf("operations left by the killed process: %+v, %v; want one pending confirm", ops, err)
	}
	rep, err := app.Payments.Reconcile(ctx, payment.SweepOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Drifts) != 1 || rep.Drifts[0].Kind != payment.DriftCaptureCancelled {
		t.Errorf("reconcile drifts %+v, want one %s", rep.Drifts, payment.DriftCaptureCancelled)
	}
	got, err := tc.GetPayment(ctx, p.PaymentKey)
	if err != nil || got.Status != toss.StatusCanceled {
		t.Errorf("the orphaned capture is %v at Toss (%v), want %s", got.Status, err, toss.StatusCanceled)
	}
}

// until polls cond every 50 ms for up to limit.
func until(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
