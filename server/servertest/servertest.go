// Package servertest starts paymentctl in process for Go tests, a client
// service's or paymentctl's own: local mode (both fake PGs in process,
// their webhooks wired back), an SQLite file in the test's temporary
// directory, the API, the fakes and the metrics listener on free loopback
// ports, and everything stopped when the test ends.
//
//	srv := servertest.Start(t, nil)
//	client, _ := sdk.New(sdk.Options{BaseURL: srv.URL, Key: …, IV: …})
//	// pay at srv.Fakes.IamportURL or srv.Fakes.TossURL, register, …
//
// It prints nothing unless the test runs verbose (go test -v): then the
// server's logs go to the test's log (t.Log), at PAYMENT_LOG_LEVEL (info
// by default). gin's debug banner and route table, which gin writes to the
// process's standard output in its default debug mode, are kept out: see
// Start.
package servertest

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/server"
)

// Start runs paymentctl for tb and stops it in tb's cleanup. env is
// configuration by its environment names (PAYMENT_*), over the defaults
// above; nothing is read from the process's environment. Errors fail tb.
//
// gin's mode is process-wide. When it is still gin's default debug mode
// and the process's GIN_MODE is unset, Start switches it to gin's test
// mode, the one gin picks itself for test binaries whose flags it can see,
// so that gin prints no banner; a mode chosen by the caller (GIN_MODE, or
// gin.SetMode with release or test) is left alone. Run with GIN_MODE=debug
// to see gin's output.
func Start(tb testing.TB, env map[string]string) *server.Running {
	tb.Helper()
	quietGin()
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
	var logs *testLog
	var logger *slog.Logger // nil discards
	if testing.Verbose() {
		logs = &testLog{tb: tb}
		logger = logs.logger(cfg.Log.Level)
	}
	srv, err := server.Start(context.Background(), server.Options{
		Config: cfg, Logger: logger, FakeIamportAddr: "127.0.0.1:0", FakeTossAddr: "127.0.0.1:0", FakePortOneAddr: "127.0.0.1:0",
	}, "")
	if err != nil {
		logs.stop()
		tb.Fatalf("servertest: start: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := srv.Close(ctx)
		logs.stop()
		if err != nil {
			tb.Errorf("servertest: stop: %v", err)
		}
	})
	return srv
}

// quietGin moves gin out of its default debug mode unless the process
// chose a mode.
func quietGin() {
	if gin.Mode() == gin.DebugMode && os.Getenv(gin.EnvGinMode) == "" {
		gin.SetMode(gin.TestMode)
	}
}

// testLog writes the server's log lines to a test's log until stopped: a
// line logged after the test ended would panic.
type testLog struct {
	tb      testing.TB
	mu      sync.Mutex
	stopped bool
}

// logger returns a text logger at level (info when invalid) writing to l.
func (l *testLog) logger(level string) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		lvl = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: lvl}))
}

// Write logs one record (the handler writes each in one call).
func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.tb.Log("paymentctl: " + strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

// stop drops every later line; it does nothing on a nil testLog.
func (l *testLog) stop() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
}
