package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paymentctl/paymentctl/fakepg"
	"github.com/paymentctl/paymentctl/fakepg/fault"
	"github.com/paymentctl/paymentctl/fakepg/hook"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/gateway/toss"
)

// This file serves the fakes for `paymentctl fake` with fakepg.Start,
// adding what the command shows: a log line per API call (Options.Wrap)
// and per webhook delivery attempt (Options.WebhookClient).

// webhookDrain bounds how long stopping waits for queued webhooks to make
// their first attempt; retries still pending are dropped.
const webhookDrain = 2 * time.Second

// fakeSetOptions configure startFakes.
type fakeSetOptions struct {
	// Only is "", pgIamport, pgToss or pgPortOne: the fakes to start.
	Only string
	// IamportAddr, TossAddr and PortOneAddr are the listen addresses.
	IamportAddr, TossAddr, PortOneAddr string
	// IamportWebhookURL, TossWebhookURL and PortOneWebhookURL are the
	// webhook targets; "" means the fake's own /internal/webhook sink.
	IamportWebhookURL, TossWebhookURL, PortOneWebhookURL string
	// Faults are the initial fault knobs of each fake.
	Faults fault.Faults
	// Capacity bounds each record store of every fake (fake.capacity);
	// 0 means each fake's default.
	Capacity int
	// Log receives a line per call and per webhook attempt, the fakes'
	// own diagnostics at debug level and their servers' errors as
	// warnings.
	Log *slog.Logger
}

// startFakes starts the fakes with fakepg.Start, every call and webhook
// attempt logged, and logs where each listens. Closing the result lets
// queued webhooks make their first attempt for up to webhookDrain.
func startFakes(ctx context.Context, opts fakeSetOptions) (*fakepg.Fakes, error) {
	set, err := fakepg.Start(ctx, fakepg.Options{
		IamportAddr:       opts.IamportAddr,
		TossAddr:          opts.TossAddr,
		PortOneAddr:       opts.PortOneAddr,
		Only:              opts.Only,
		IamportWebhookURL: opts.IamportWebhookURL,
		TossWebhookURL:    opts.TossWebhookURL,
		PortOneWebhookURL: opts.PortOneWebhookURL,
		WebhookSelfSink:   true,
		WebhookDrain:      webhookDrain,
		Faults:            opts.Faults,
		Capacity:          opts.Capacity,
		Wrap: func(pg string, h http.Handler) http.Handler {
			return logCalls(opts.Log.With("pg", pg), h)
		},
		WebhookClient: func(pg string) *http.Client {
			describe := describeIamportWebhook
			switch pg {
			case pgToss:
				describe = describeTossWebhook
			case pgPortOne:
				describe = describePortOneWebhook
			}
			return webhookClient(opts.Log.With("pg", pg), describe)
		},
		Logf:       fakeLogf(opts.Log, slog.LevelDebug),
		ServerLogf: fakeLogf(opts.Log, slog.LevelWarn),
	})
	if err != nil {
		return nil, err
	}
	if set.Iamport != nil {
		opts.Log.Info("listening", "pg", pgIamport, "url", set.IamportURL, "webhook_url", set.IamportWebhookURL)
	}
	if set.Toss != nil {
		opts.Log.Info("listening", "pg", pgToss, "url", set.TossURL, "webhook_url", set.TossWebhookURL)
	}
	if set.PortOne != nil {
		opts.Log.Info("listening", "pg", pgPortOne, "url", set.PortOneURL, "webhook_url", set.PortOneWebhookURL)
	}
	return set, nil
}

// fakeLogf adapts log to fakepg's Logf knobs, whose lines start with the
// fake's name: it becomes the pg attribute. The fakes' own lines
// (deliveries finished or given up, self-sink receipts, internal errors)
// repeat what the call and webhook logs already say, so they are logged at
// debug level; their servers' errors at warning level.
func fakeLogf(log *slog.Logger, level slog.Level) func(format string, args ...any) {
	return func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		if pg, msg, ok := strings.Cut(line, ": "); ok && (pg == pgIamport || pg == pgToss || pg == pgPortOne) {
			log.Log(context.Background(), level, msg, "pg", pg)
			return
		}
		log.Log(context.Background(), level, line)
	}
}

// logCalls logs every API call: method, path, status and duration. Query
// strings and headers (the credentials) are never logged.
func logCalls(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.hijacked {
			// The drop-response fault closed the connection unanswered.
			log.Warn("call", "method", r.Method, "path", r.URL.Path,
				"status", "none (connection closed)", "duration", time.Since(start).Round(time.Microsecond))
			return
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		level := slog.LevelInfo
		if status >= http.StatusInternalServerError {
			level = slog.LevelWarn
		}
		log.Log(r.Context(), level, "call", "method", r.Method, "path", r.URL.Path,
			"status", status, "duration", time.Since(start).Round(time.Microsecond))
	})
}

// statusRecorder remembers the status a handler wrote, or that it took the
// connection over. Unwrap lets http.ResponseController reach the real
// writer (the fakes flush before sending webhooks).
type statusRecorder struct {
	http.ResponseWriter
	status   int
	hijacked bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Hijack hands the connection over, as the fakes' drop-response fault
// asks, and remembers that no answer was written.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil {
		r.hijacked = true
	}
	return conn, rw, err
}

// webhookClient is the HTTP client a fake delivers webhooks with: every
// attempt is logged with what describe says of its body.
func webhookClient(log *slog.Logger, describe func(body []byte) []any) *http.Client {
	return &http.Client{
		Timeout:   hook.DefaultTimeout,
		Transport: &webhookLogger{log: log, describe: describe, next: http.DefaultTransport},
	}
}

// webhookLogger is an http.RoundTripper that logs each webhook attempt:
// target, what the body announces, the receiver's status and the time it
// took. Bodies are never logged whole (Toss's DEPOSIT_CALLBACK carries the
// account's secret).
type webhookLogger struct {
	log      *slog.Logger
	describe func(body []byte) []any
	next     http.RoundTripper
}

// RoundTrip sends req through next and logs the attempt.
func (t *webhookLogger) RoundTrip(req *http.Request) (*http.Response, error) {
	attrs := []any{"url", req.URL.String()}
	if req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			body, _ := io.ReadAll(io.LimitReader(rc, 1<<20))
			rc.Close()
			attrs = append(attrs, t.describe(body)...)
		}
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	took := time.Since(start).Round(time.Microsecond)
	switch {
	case err != nil:
		t.log.Warn("webhook", append(attrs, "error", err, "duration", took)...)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		t.log.Warn("webhook", append(attrs, "status", resp.StatusCode, "duration", took)...)
	default:
		t.log.Info("webhook", append(attrs, "status", resp.StatusCode, "duration", took)...)
	}
	return resp, err
}

// describeIamportWebhook names the payment an Iamport webhook is about.
func describeIamportWebhook(body []byte) []any {
	var w iamport.Webhook
	if json.Unmarshal(body, &w) != nil {
		return nil
	}
	return []any{"uid", w.ImpUID, "order_id", w.MerchantUID, "payment_status", string(w.Status)}
}

// describeTossWebhook names the event and payment of a Toss webhook,
// leaving out the deposit secret.
func describeTossWebhook(body []byte) []any {
	ev, err := toss.ParseWebhook(body)
	switch {
	case err != nil:
		return nil
	case ev.StatusChanged != nil:
		d := ev.StatusChanged.Data
		return []any{"event", ev.Type, "uid", d.PaymentKey, "order_id", d.OrderID, "payment_status", string(d.Status)}
	case ev.Deposit != nil:
		return []any{"event", ev.Type, "order_id", ev.Deposit.OrderID, "payment_status", string(ev.Deposit.Status)}
	}
	return nil
}

// describePortOneWebhook names the event and the payment or billing key
// of a PortOne V2 webhook.
func describePortOneWebhook(body []byte) []any {
	w, err := portone.ParseWebhook(body)
	switch {
	case err != nil:
		return nil
	case w.IsBillingKey():
		return []any{"event", w.Type, "billing_key", w.Data.BillingKey}
	}
	return []any{"event", w.Type, "uid", w.Data.PaymentID}
}

// writeReadyFile writes the fakes' URLs as KEY=value lines, atomically
// (temporary file, then rename), so a script that waits for the file sees
// it complete. A shell can source it.
func writeReadyFile(path string, set *fakepg.Fakes) error {
	var b strings.Builder
	if set.IamportURL != "" {
		fmt.Fprintf(&b, "FAKE_IAMPORT_URL=%s\n", set.IamportURL)
	}
	if set.TossURL != "" {
		fmt.Fprintf(&b, "FAKE_TOSS_URL=%s\n", set.TossURL)
	}
	if set.PortOneURL != "" {
		fmt.Fprintf(&b, "FAKE_PORTONE_URL=%s\n", set.PortOneURL)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ready-*")
	if err != nil {
		return fmt.Errorf("write ready file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.WriteString(b.String()); err != nil {
		tmp.Close()
		return fmt.Errorf("write ready file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write ready file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write ready file: %w", err)
	}
	return nil
}
