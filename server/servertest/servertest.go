// Package servertest starts paymentctl in process for Go tests, a client
// service's or paymentctl's own: local mode (both fake PGs in process,
// their webhooks wired back), an SQLite file in the test's temporary
// directory, the API, the fakes and the metrics listener on free loopback
// ports, and everything stopped when the test ends.
//
//	srv := servertest.Start(t, nil)
//	client, _ := sdk.New(sdk.Options{BaseURL: srv.URL, Key: …, IV: …})
//	// pay at srv.Fakes.IamportURL or srv.Fakes.TossURL, register, …
package servertest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/server"
)

// Start runs paymentctl for tb and stops it in tb's cleanup. env is
// configuration by its environment names (PAYMENT_*), over the defaults
// above; nothing is read from the process's environment. Errors fail tb.
func Start(tb testing.TB, env map[string]string) *server.Running {
	tb.Helper()
	vars := map[string]string{
		"PAYMENT_DATABASE_URL": "sqlite:" + filepath.Join(tb.TempDir(), "payments.db"),
		"PAYMENT_METRICS_ADDR": "127.0.0.1:0",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(config.LoadOptions{LookupEnv: func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}})
	if err != nil {
		tb.Fatalf("servertest: configuration: %v", err)
	}
	srv, err := server.Start(context.Background(), server.Options{
		Config: cfg, FakeIamportAddr: "127.0.0.1:0", FakeTossAddr: "127.0.0.1:0", FakePortOneAddr: "127.0.0.1:0",
	}, "")
	if err != nil {
		tb.Fatalf("servertest: start: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			tb.Errorf("servertest: stop: %v", err)
		}
	})
	return srv
}
