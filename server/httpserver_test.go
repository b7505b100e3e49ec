package server_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/server"
)

// waitClosed reads conn until the server closes it and returns how long
// after start that was. A read that times out (the server kept the
// connection for 20 s) fails the test.
func waitClosed(t *testing.T, conn net.Conn, r io.Reader, start time.Time) time.Duration {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err := io.Copy(io.Discard, r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open: %v", err)
	}
	// nil is EOF; a reset is a close too.
	return time.Since(start)
}

// TestConnectionLimits runs the API with short limits: a client trickling
// a body and an idle keep-alive client are disconnected, while another
// client is served meanwhile.
func TestConnectionLimits(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.Load(config.LoadOptions{LookupEnv: func(k string) (string, bool) {
		v, ok := map[string]string{
			"PAYMENT_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "payments.db"),
			"PAYMENT_METRICS_ADDR": "127.0.0.1:0",
		}[k]
		return v, ok
	}})
	if err != nil {
		t.Fatal(err)
	}
	const readTimeout, idleTimeout = 300 * time.Millisecond, 300 * time.Millisecond
	cfg.API.ReadTimeout, cfg.API.IdleTimeout = readTimeout, idleTimeout
	srv, err := server.Start(ctx, server.Options{Config: cfg, FakeIamportAddr: "127.0.0.1:0", FakeTossAddr: "127.0.0.1:0", FakePortOneAddr: "127.0.0.1:0"}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	addr := strings.TrimPrefix(srv.URL, "http://")

	// A slow body: headers at once, then a byte every 20 ms of a
	// kilobyte announced, until the server hangs up.
	slowStart := time.Now()
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := io.WriteString(slow, "POST /payments/histories HTTP/1.1\r\nHost: paymentctl\r\nContent-Type: text/plain\r\nContent-Length: 1024\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	stopTrickle := make(chan struct{})
	defer close(stopTrickle)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopTrickle:
				return
			case <-tick.C:
				if _, err := slow.Write([]byte("a")); err != nil {
					return
				}
			}
		}
	}()

	// An idle keep-alive connection: one request, then nothing.
	idleStart := time.Now()
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if _, err := io.WriteString(idle, "GET /monitors/health HTTP/1.1\r\nHost: paymentctl\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	idleReader := bufio.NewReader(idle)
	resp, err := http.ReadResponse(idleReader, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("idle client's request: status %d, close %v; want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
	}

	// Meanwhile another client is served.
	other, err := http.Get(srv.URL + "/monitors/health")
	if err != nil {
		t.Fatal(err)
	}
	other.Body.Close()
	if other.StatusCode != http.StatusOK {
		t.Errorf("another client: status %d, want 200", other.StatusCode)
	}

	// The server cannot hang up before its timeouts: lower bounds only,
	// measured from before the client began.
	if took := waitClosed(t, idle, idleReader, idleStart); took < idleTimeout {
		t.Errorf("idle connection closed after %v, before the idle timeout %v", took, idleTimeout)
	}
	if took := waitClosed(t, slow, slow, slowStart); took < readTimeout {
		t.Errorf("slow body's connection closed after %v, before the read timeout %v", took, readTimeout)
	}
}

// TestHTTPServerLimits checks the API server takes its limits from the
// configuration.
func TestHTTPServerLimits(t *testing.T) {
	tests := []struct {
		name           string
		read           string
		wantReadHeader time.Duration
	}{
		{"defaults", "", 10 * time.Second},
		{"a read timeout below the header bound bounds the headers too", "2s", 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{
				"PAYMENT_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "payments.db"),
				// PGs configured: no fakes are started.
				"PAYMENT_IAMPORT_URL":       "http://127.0.0.1:1",
				"PAYMENT_TOSS_PAYMENTS_URL": "http://127.0.0.1:1",
				"PAYMENT_API_READ_TIMEOUT":  tt.read,
				"PAYMENT_API_IDLE_TIMEOUT":  "7s",
			}
			cfg, err := config.Load(config.LoadOptions{LookupEnv: func(k string) (string, bool) {
				v, ok := env[k]
				return v, ok
			}})
			if err != nil {
				t.Fatal(err)
			}
			app, err := server.NewApp(context.Background(), server.Options{Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			defer app.Close(context.Background())
			s := app.HTTPServer()
			if s.Handler != app.Handler {
				t.Error("HTTPServer does not serve the App's handler")
			}
			if s.ReadTimeout != cfg.API.ReadTimeout || s.WriteTimeout != cfg.API.WriteTimeout || s.IdleTimeout != 7*time.Second {
				t.Errorf("timeouts read %v write %v idle %v, want %v %v 7s", s.ReadTimeout, s.WriteTimeout, s.IdleTimeout, cfg.API.ReadTimeout, cfg.API.WriteTimeout)
			}
			if s.ReadHeaderTimeout != tt.wantReadHeader {
				t.Errorf("ReadHeaderTimeout = %v, want %v", s.ReadHeaderTimeout, tt.wantReadHeader)
			}
			if s.WriteTimeout <= config.PaymentFlowTimeout {
				t.Errorf("WriteTimeout %v does not exceed a payment flow's bound %v", s.WriteTimeout, config.PaymentFlowTimeout)
			}
		})
	}
}
