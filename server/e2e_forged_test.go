package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server"
)

// logRecorder is a slog.Handler that keeps every record.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Clone())
	return nil
}

func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

// count returns how many records have the message msg.
func (r *logRecorder) count(msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.records {
		if rec.Message == msg {
			n++
		}
	}
	return n
}

// lines returns the records at least level, as text.
func (r *logRecorder) lines(level slog.Level) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rec := range r.records {
		if rec.Level < level {
			continue
		}
		line := rec.Level.String() + " " + rec.Message
		rec.Attrs(func(a slog.Attr) bool {
			line += " " + a.String()
			return true
		})
		out = append(out, line)
	}
	return out
}

// startLogged is start with the server's logs going to log.
func startLogged(t *testing.T, dsn string, log *slog.Logger) *harness {
	t.Helper()
	h := &harness{t: t, dsn: dsn, logger: log}
	h.boot()
	t.Cleanup(func() { h.stop() })
	return h
}

// pgCalls is how many calls the server has made to the PGs so far, as its
// metrics count them, in all and by PG and outcome.
func (h *harness) pgCalls() (int, map[string]int) {
	h.t.Helper()
	rec := httptest.NewRecorder()
	h.srv.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	const metric = "paymentctl_pg_request_duration_seconds_count"
	n, by := 0, map[string]int{}
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		labels, ok := strings.CutPrefix(line, metric)
		if !ok {
			continue
		}
		labels, count, _ := strings.Cut(labels, " ")
		v, err := strconv.Atoi(count)
		if err != nil {
			h.t.Fatalf("metric line %q: %v", line, err)
		}
		n += v
		by[labels] = v
	}
	return n, by
}

// drainLimit bounds the wait for thousands of webhook jobs: a deadlock
// guard, generous for -race on a loaded machine.
const drainLimit = 5 * time.Minute

// postWebhooks sends n PG webhooks from 8 senders at once, body(i) to
// /payments/webhooks/<pg>, and fails the test unless each is answered 2xx.
func (h *harness) postWebhooks(n int, body func(i int) (pg, json string)) {
	h.t.Helper()
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	client := &http.Client{Timeout: eventWaitTimeout}
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				pg, b := body(i)
				resp, err := client.Post(h.srv.URL+"/payments/webhooks/"+pg, "application/json", strings.NewReader(b))
				if err != nil {
					h.t.Errorf("webhook %d: %v", i, err)
					failed.Add(1)
					continue
				}
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					h.t.Errorf("webhook %d answered %d", i, resp.StatusCode)
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		h.t.FailNow()
	}
}

// forgedWebhooks is how many webhooks for made-up payments
// TestForgedWebhooksCostNothing sends: the report's flood was 10,000,
// scaled down for test time; the bounds asserted do not depend on it.
const forgedWebhooks = 1000

// TestForgedWebhooksCostNothing: webhooks naming payments that were never
// registered (random Iamport imp_uids, Toss paymentKeys and deposit
// callbacks' orderIds) cost no PG call, keep one pending row per id
// however often it is named, and log no error: at most a summary a minute.
func TestForgedWebhooksCostNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		logs := &logRecorder{}
		h := startLogged(t, dsn(t), slog.New(logs))
		before, _ := h.pgCalls()
		ids := make([]string, forgedWebhooks)
		for i := range ids {
			ids[i] = uuid.NewString()
		}
		forged := func(i int) (string, string) {
			id := ids[i%len(ids)]
			switch i % 3 {
			case 0:
				return "iamport", `{"imp_uid": "imp_` + strings.ReplaceAll(id, "-", "") + `", "merchant_uid": "` + id + `", "status": "paid"}`
			case 1:
				return "toss", `{"eventType": "PAYMENT_STATUS_CHANGED", "data": {"paymentKey": "pk_` + id + `", "orderId": "` + id + `", "status": "DONE"}}`
			default:
				return "toss", `{"createdAt": "2026-12-01T09:00:00.000000", "secret": "s_` + id + `", "status": "DONE", "transactionKey": "tk", "orderId": "` + id + `"}`
			}
		}
		start := time.Now()
		h.postWebhooks(forgedWebhooks, forged)
		h.postWebhooks(forgedWebhooks/4, forged) // the same ids again
		h.drainJobsWithin(drainLimit)
		t.Logf("%d forged webhooks, then %d again, received and processed in %v", forgedWebhooks, forgedWebhooks/4, time.Since(start).Round(time.Millisecond))

		if after, by := h.pgCalls(); after != before {
			t.Errorf("forged webhooks made %d PG calls (%v), want 0", after-before, by)
		}
		if n := h.count("SELECT count(*) FROM payment_pending_webhooks WHERE applied_at IS NULL"); n != forgedWebhooks {
			t.Errorf("%d pending webhooks kept, want %d (one per forged id)", n, forgedWebhooks)
		}
		// No job fails on a forged webhook. The database may still have a
		// bad moment under -race on a loaded machine (River reports those
		// at ERROR), but never one per webhook.
		errs := logs.lines(slog.LevelError)
		if n := logs.count("pg webhook failed permanently") + logs.count("pg webhook given up"); n != 0 || len(errs) > 3 {
			t.Errorf("%d ERROR lines for %d forged webhooks (%d failed jobs), want none: %q", len(errs), forgedWebhooks, n, errs)
		} else if len(errs) > 0 {
			t.Logf("ERROR lines not about a webhook: %q", errs)
		}
		// One summary at the first kept webhook, and one a minute after.
		limit := 1 + int(time.Since(start)/time.Minute)
		if summaries := logs.count("kept webhooks for unregistered payments"); summaries < 1 || summaries > limit {
			t.Errorf("%d summaries of kept webhooks logged, want 1 to %d", summaries, limit)
		}
	})
}

// burstWebhooks is how many webhooks for one registered payment
// TestWebhookBurstForOnePayment sends; maxBurstPGCalls bounds the PG calls
// they may cost (one re-fetch a coalescing window), and coalesceWindow is
// the webhook queue's default window.
const (
	burstWebhooks   = 1000
	maxBurstPGCalls = 10
	coalesceWindow  = 2 * time.Second
)

// TestWebhookBurstForOnePayment: a burst of webhooks about one registered
// payment coalesces into a few re-fetches, and a real change at the PG in
// the middle of it is still applied and forwarded once.
func TestWebhookBurstForOnePayment(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		hist := paid(t, h, methods()[0], 10000)
		h.drainJobs()
		events := len(h.srv.Inbox.Events())
		body := `{"imp_uid": "` + hist.Vendor.UID + `", "merchant_uid": "` + hist.Source.ID + `", "status": "paid"}`
		same := func(int) (string, string) { return "iamport", body }

		const jobs = "SELECT count(*) FROM river_job WHERE kind = 'webhook_inbound'"
		before, _ := h.pgCalls()
		jobsBefore := h.count(jobs)
		start := time.Now()
		h.postWebhooks(burstWebhooks, same)
		burst := time.Since(start)
		h.drainJobsWithin(drainLimit)
		after, by := h.pgCalls()
		calls, queued := after-before, h.count(jobs)-jobsBefore
		t.Logf("%d webhooks for one payment in %v cost %d jobs and %d PG calls (all calls so far: %v)",
			burstWebhooks, burst.Round(time.Millisecond), queued, calls, by)
		// One job a window (the windows the burst spans, and a follow-up
		// after the last); a job re-fetches twice when another one wrote
		// the history meanwhile (apply reseals it), so calls are at most
		// twice the jobs. A burst of up to 8 s therefore costs at most 10.
		// When the machine is too slow to send 1,000 webhooks that fast
		// (-race on a loaded machine), the bound is per window.
		// Windows are aligned to the wall clock (River's unique periods),
		// not to the burst's start: a burst of d overlaps up to d/window+2
		// of them (1.9 s can straddle a boundary), and the job of the
		// window after the last is the follow-up.
		windows := int(burst/coalesceWindow) + 3
		if queued > windows {
			t.Errorf("the burst made %d jobs in %d windows, want at most one a window", queued, windows)
		}
		limit := maxBurstPGCalls
		if burst > 8*time.Second {
			limit = max(limit, 2*windows)
			t.Logf("the burst took %v, not a burst: bounding the PG calls by two per %v window, %d", burst.Round(time.Millisecond), coalesceWindow, limit)
		}
		if calls > limit {
			t.Errorf("a burst of %d webhooks for one payment made %d PG calls, want at most %d", burstWebhooks, calls, limit)
		}
		if n := len(h.srv.Inbox.Events()); n != events {
			t.Errorf("%d events forwarded for webhooks that changed nothing", n-events)
		}

		// The payment is cancelled at the PG halfway through a burst: its
		// webhook lands among the others and must not be coalesced away.
		var once sync.Once
		h.postWebhooks(burstWebhooks, func(i int) (string, string) {
			if i == burstWebhooks/2 {
				once.Do(func() {
					_, err := h.iamport.Cancel(context.Background(), iamport.CancelRequest{
						ImpUID: hist.Vendor.UID, MerchantUID: hist.Source.ID, Reason: "burst test",
					})
					if err != nil {
						t.Errorf("cancel at the PG: %v", err)
					}
				})
			}
			return same(i)
		})
		evs := h.waitEvents(events + 1)
		h.drainJobsWithin(drainLimit)
		if n := len(h.srv.Inbox.Events()); n != events+1 {
			t.Errorf("%d events forwarded for one cancel, want 1", n-events)
		}
		if cur := evs[events].Current; cur.CancelledAt == nil || cur.Refund == nil || *cur.Refund != 10000 {
			t.Errorf("forwarded event: %+v, want the full cancel", cur)
		}
	})
}

// TestDepositCallbackBeforeRegistration: a Toss deposit callback for an
// order no payment is registered for is kept by its order without asking
// the PG, and the registration of that order's payment replays it: the
// replayed callback's secret checks out, nothing is forwarded, and nothing
// is logged as an error.
func TestDepositCallbackBeforeRegistration(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		logs := &logRecorder{}
		h := startLogged(t, dsn(t), slog.New(logs))
		src := newSource()
		p := h.tossVBank(src, 30000)
		events := len(h.srv.Inbox.Events())
		before, _ := h.pgCalls()
		callback := `{"createdAt": "2026-12-01T09:00:00.000000", "secret": "` + p.Secret + `", "status": "DONE", "transactionKey": "tk_1", "orderId": "` + src.ID + `"}`
		h.postWebhooks(1, func(int) (string, string) { return "toss", callback })
		const kept = "SELECT count(*) FROM payment_pending_webhooks WHERE vendor_code = $1 AND vendor_uid = $2 AND applied_at IS NULL"
		h.drainJobs()
		if n := h.count(kept, "toss.payments", "order:"+src.ID); n != 1 {
			t.Fatalf("%d deposit callbacks kept by their order, want 1", n)
		}
		if after, by := h.pgCalls(); after != before {
			t.Errorf("a deposit callback for an unregistered order made %d PG calls (%v), want 0", after-before, by)
		}

		hist := h.register(sdk.VendorToss, p.PaymentKey, src, 30000)
		h.drainJobs()
		if n := h.count(kept, "toss.payments", "order:"+src.ID); n != 0 {
			t.Errorf("the kept deposit callback was not applied by the registration")
		}
		if errs := logs.lines(slog.LevelError); len(errs) != 0 {
			t.Errorf("%d ERROR lines, want 0: %q", len(errs), errs)
		}
		if n := len(h.srv.Inbox.Events()); n != events {
			t.Errorf("%d events forwarded for a payment registered as it is (%+v)", n-events, hist)
		}
	})
}

// TestStartRunsTheSweep: the periodic clean-ups that App.Start launches
// (their first pass cleanupDelay later) do run: the pending-webhooks
// sweep sets its gauge for a webhook kept for an unregistered payment.
func TestStartRunsTheSweep(t *testing.T) {
	h := start(t, backends()[0].dsn(t))
	h.postWebhooks(1, func(int) (string, string) {
		return "iamport", `{"imp_uid": "imp_sweep1", "merchant_uid": "sweep-1", "status": "paid"}`
	})
	deadline := time.Now().Add(server.CleanupDelay + eventWaitTimeout)
	for {
		rec := httptest.NewRecorder()
		h.srv.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if strings.Contains(rec.Body.String(), "\npaymentctl_pending_webhooks 1\n") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sweep never counted the kept webhook:\n%s", grepLines(rec.Body.String(), "pending_webhooks"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
