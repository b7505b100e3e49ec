package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paymentctl/paymentctl/fakepg/fault"
	"github.com/paymentctl/paymentctl/fakepg/hook"
	fakeiamport "github.com/paymentctl/paymentctl/fakepg/iamport"
	faketoss "github.com/paymentctl/paymentctl/fakepg/toss"
	"github.com/paymentctl/paymentctl/server/gateway/iamport"
	"github.com/paymentctl/paymentctl/server/gateway/toss"
)

// This file serves the fakes for `paymentctl fake`. It does what
// fakepg.Start does, plus the two things the command needs and Start has no
// knob for: a middleware that logs every API call, and a webhook HTTP
// client that logs every delivery attempt.

// Timeouts of the fakes' HTTP servers and of the webhook drain at shutdown.
const (
	fakeReadHeaderTimeout = 10 * time.Second
	// webhookDrain bounds how long Close waits for queued webhooks to make
	// their first attempt; retries still pending are dropped.
	webhookDrain = 2 * time.Second
)

// fakePG is what fakeSet needs of a fake: *fakeiamport.Server and
// *faketoss.Server.
type fakePG interface {
	http.Handler
	Webhooks() *hook.Sender
	Close()
}

// fakeSetOptions configure startFakes.
type fakeSetOptions struct {
	// IamportAddr and TossAddr are listen addresses; "" leaves that fake
	// out.
	IamportAddr, TossAddr string
	// IamportWebhookURL and TossWebhookURL are the webhook targets; ""
	// means the fake's own /internal/webhook sink.
	IamportWebhookURL, TossWebhookURL string
	// Faults are the initial fault knobs of each fake.
	Faults fault.Faults
	// Log receives a line per call and per webhook attempt, and the
	// fakes' own diagnostics at debug level.
	Log *slog.Logger
}

// fakeSet is the running fakes of `paymentctl fake`.
type fakeSet struct {
	Iamport, Toss *runningFake // nil when not started
}

// runningFake is one fake on its listener.
type runningFake struct {
	Name       string // pgIamport or pgToss
	URL        string // http://127.0.0.1:port
	WebhookURL string // where its webhooks go
	Fake       fakePG

	srv    *http.Server
	served chan struct{}
}

// startFakes listens on the configured addresses and serves the fakes in
// the background until Close. ctx bounds only the listen calls. If a
// listener fails, the ones already open are closed.
func startFakes(ctx context.Context, opts fakeSetOptions) (*fakeSet, error) {
	var lc net.ListenConfig
	var iamportLn, tossLn net.Listener
	if opts.IamportAddr != "" {
		ln, err := lc.Listen(ctx, "tcp", opts.IamportAddr)
		if err != nil {
			return nil, fmt.Errorf("start fake iamport: %w", err)
		}
		iamportLn = ln
	}
	if opts.TossAddr != "" {
		ln, err := lc.Listen(ctx, "tcp", opts.TossAddr)
		if err != nil {
			if iamportLn != nil {
				iamportLn.Close()
			}
			return nil, fmt.Errorf("start fake toss: %w", err)
		}
		tossLn = ln
	}

	set := &fakeSet{}
	if iamportLn != nil {
		log := opts.Log.With("pg", pgIamport)
		url := "http://" + iamportLn.Addr().String()
		target := orSink(opts.IamportWebhookURL, url)
		fake := fakeiamport.New(fakeiamport.Options{
			WebhookURL: target,
			Faults:     fault.NewInjector(opts.Faults, nil),
			Logf:       debugf(log),
			HTTPClient: webhookClient(log, describeIamportWebhook),
		})
		set.Iamport = serveFake(pgIamport, iamportLn, url, target, fake, log)
	}
	if tossLn != nil {
		log := opts.Log.With("pg", pgToss)
		url := "http://" + tossLn.Addr().String()
		target := orSink(opts.TossWebhookURL, url)
		fake := faketoss.New(faketoss.Options{
			WebhookURL: target,
			Faults:     fault.NewInjector(opts.Faults, nil),
			Logf:       debugf(log),
			HTTPClient: webhookClient(log, describeTossWebhook),
		})
		set.Toss = serveFake(pgToss, tossLn, url, target, fake, log)
	}
	return set, nil
}

// orSink returns target, or the fake's own webhook sink when it is empty.
func orSink(target, base string) string {
	if target == "" {
		return base + "/internal/webhook"
	}
	return target
}

// serveFake serves fake on ln in a goroutine, every call logged.
func serveFake(name string, ln net.Listener, url, webhookURL string, fake fakePG, log *slog.Logger) *runningFake {
	r := &runningFake{
		Name:       name,
		URL:        url,
		WebhookURL: webhookURL,
		Fake:       fake,
		srv: &http.Server{
			Handler:           logCalls(log, fake),
			ReadHeaderTimeout: fakeReadHeaderTimeout,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		served: make(chan struct{}),
	}
	log.Info("listening", "url", url, "webhook_url", webhookURL)
	go func() {
		defer close(r.served)
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serve", "error", err)
		}
	}()
	return r
}

// running lists the fakes that were started.
func (s *fakeSet) running() []*runningFake {
	var rs []*runningFake
	for _, r := range []*runningFake{s.Iamport, s.Toss} {
		if r != nil {
			rs = append(rs, r)
		}
	}
	return rs
}

// Close stops the servers gracefully (in-flight calls may finish until ctx
// ends), lets queued webhooks make their first attempt (at most
// webhookDrain), then stops the webhook senders, dropping pending retries.
func (s *fakeSet) Close(ctx context.Context) error {
	var errs []error
	for _, r := range s.running() {
		if err := r.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop fake %s: %w", r.Name, err))
			r.srv.Close()
		}
		<-r.served
	}
	dctx, cancel := context.WithTimeout(ctx, webhookDrain)
	defer cancel()
	for _, r := range s.running() {
		drainFirstAttempts(dctx, r.Fake.Webhooks())
		r.Fake.Close()
	}
	return errors.Join(errs...)
}

// drainFirstAttempts waits until every delivery of h has been attempted at
// least once or has finished, or until ctx ends. hook.Sender.Wait would
// also wait for retries, which take minutes on the real schedules.
func drainFirstAttempts(ctx context.Context, h *hook.Sender) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		queued := false
		for _, d := range h.Deliveries() {
			if !d.Finished() && len(d.Attempts) == 0 {
				queued = true
				break
			}
		}
		if !queued {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// debugf adapts log to the fakes' Logf knob. Their lines (deliveries
// finished or given up, self-sink receipts, internal errors) repeat what
// the call and webhook logs already say, so they are debug output.
func debugf(log *slog.Logger) func(format string, args ...any) {
	return func(format string, args ...any) {
		log.Debug(fmt.Sprintf(format, args...))
	}
}

// logCalls logs every API call: method, path, status and duration. Query
// strings and headers (the credentials) are never logged.
func logCalls(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
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

// statusRecorder remembers the status a handler wrote. Unwrap lets
// http.ResponseController reach the real writer (the fakes flush before
// sending webhooks).
type statusRecorder struct {
	http.ResponseWriter
	status int
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

// writeReadyFile writes the fakes' URLs as KEY=value lines, atomically
// (temporary file, then rename), so a script that waits for the file sees
// it complete. A shell can source it.
func writeReadyFile(path string, set *fakeSet) error {
	var b strings.Builder
	if r := set.Iamport; r != nil {
		fmt.Fprintf(&b, "FAKE_IAMPORT_URL=%s\n", r.URL)
	}
	if r := set.Toss; r != nil {
		fmt.Fprintf(&b, "FAKE_TOSS_URL=%s\n", r.URL)
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
