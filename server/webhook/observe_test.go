package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/server/requestid"
	"github.com/paymentctl/paymentctl/server/store"
)

// syncBuffer collects logs written from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the JSON log records written so far.
func (b *syncBuffer) records(t testing.TB) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		out = append(out, rec)
	}
	return out
}

// find returns the first record with the message, or nil.
func (b *syncBuffer) find(t testing.TB, msg string) map[string]any {
	for _, rec := range b.records(t) {
		if rec["msg"] == msg {
			return rec
		}
	}
	return nil
}

func TestJobsCarryTheRequestID(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		srv := httptest.NewServer(newReceiver(t, nil))
		defer srv.Close()
		payloads := newFakePayloads()
		id := payloads.add(srv.URL+"/hook?token=secret-token", []byte("body"))
		seen := make(chan string, 1)
		opts := queueOptions(s, processorFunc(func(ctx context.Context, _ Inbound) error {
			seen <- requestid.FromContext(ctx)
			return nil
		}), payloads)
		var logs syncBuffer
		opts.Logger = slog.New(requestid.NewHandler(slog.NewJSONHandler(&logs, nil)))
		q := startQueue(t, opts)

		ctx := requestid.NewContext(context.Background(), "req-cancel")
		if err := s.InTx(ctx, func(tx *store.Tx) error { return q.EnqueueDeliveryTx(ctx, tx.SQLTx(), id) }); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the delivery's log line", func() bool { return logs.find(t, "webhook delivered") != nil })
		rec := logs.find(t, "webhook delivered")
		if rec[requestid.Key] != "req-cancel" || rec["webhook"] != id || rec["status"] != 200.0 || rec["attempt"] != 1.0 {
			t.Errorf("delivery logged as %v, want request_id req-cancel, webhook %s, status 200, attempt 1", rec, id)
		}
		if host := strings.TrimPrefix(srv.URL, "http://"); rec["host"] != host {
			t.Errorf("delivery logged host %v, want %s", rec["host"], host)
		}
		if strings.Contains(logsString(&logs), "secret-token") {
			t.Error("the webhook URL's query reached the logs")
		}

		ctx = requestid.NewContext(context.Background(), "req-webhook")
		err := s.InTx(ctx, func(tx *store.Tx) error {
			return q.EnqueueInboundTx(ctx, tx.SQLTx(), Inbound{Vendor: "iamport", SealedBody: "x"})
		})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-seen:
			if got != "req-webhook" {
				t.Errorf("inbound job ran with request ID %q, want req-webhook", got)
			}
		case <-time.After(waitLimit):
			t.Fatal("inbound job not processed")
		}
	})
}

func logsString(b *syncBuffer) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestGivenUpDeliveryIsLogged(t *testing.T) {
	s := sqliteStore(t)
	var logs syncBuffer
	opts := queueOptions(s, noProcessor(t), newFakePayloads())
	opts.Logger = slog.New(requestid.NewHandler(slog.NewJSONHandler(&logs, nil)))
	q := startQueue(t, opts)
	ctx := requestid.NewContext(context.Background(), "req-1")
	// An event the payloads do not know fails permanently at once.
	if err := s.InTx(ctx, func(tx *store.Tx) error { return q.EnqueueDeliveryTx(ctx, tx.SQLTx(), "no-such-event") }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the failure's log line", func() bool { return logs.find(t, "webhook delivery failed permanently") != nil })
	rec := logs.find(t, "webhook delivery failed permanently")
	if rec["level"] != "ERROR" || rec["webhook"] != "no-such-event" || rec[requestid.Key] != "req-1" {
		t.Errorf("failure logged as %v", rec)
	}
}

func TestStatsCountsJobs(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		q := newQueue(t, queueOptions(s, noProcessor(t), newFakePayloads())) // not started: jobs stay available
		ctx := context.Background()
		if got, err := Stats(ctx, s.SQLDB(), s.Dialect()); err != nil || len(got) != 0 {
			t.Fatalf("Stats of an empty queue = %v, %v; want none", got, err)
		}
		for _, id := range []string{"a", "b"} {
			enqueueDelivery(t, s, q, id)
		}
		// The oldest job was made available an hour ago.
		older := "UPDATE river_job SET scheduled_at = " + map[string]string{
			"postgres": "now() - interval '1 hour'",
			"sqlite":   "datetime(scheduled_at, '-1 hour', 'subsec')", // River's format
		}[s.Dialect()] + " WHERE id = (SELECT min(id) FROM river_job)"
		if _, err := s.SQLDB().ExecContext(ctx, older); err != nil {
			t.Fatal(err)
		}
		got, err := Stats(ctx, s.SQLDB(), s.Dialect())
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Kind != "webhook_delivery" || got[0].State != "available" || got[0].Count != 2 {
			t.Fatalf("Stats = %+v, want 2 available webhook_delivery jobs", got)
		}
		if o := got[0].Oldest; o < 59*time.Minute || o > 61*time.Minute {
			t.Errorf("oldest available job waited %v, want about 1h", o)
		}
	})
}

func TestRunning(t *testing.T) {
	s := sqliteStore(t)
	q, err := New(queueOptions(s, noProcessor(t), newFakePayloads()))
	if err != nil {
		t.Fatal(err)
	}
	if q.Running() {
		t.Error("Running before Start")
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !q.Running() {
		t.Error("not Running after Start")
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	if q.Running() {
		t.Error("Running after Stop")
	}
}

// TestWarm: Warm, called any number of times before Start, leaves the
// queue starting and running as without it; on PostgreSQL River's
// listener takes the warmed LISTEN connection, so none is left idle
// beside it.
func TestWarm(t *testing.T) {
	for _, calls := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d calls", calls), func(t *testing.T) {
			forEachStore(t, func(t *testing.T, s *store.Store) {
				q := newQueue(t, queueOptions(s, noProcessor(t), newFakePayloads()))
				for range calls {
					q.Warm()
				}
				if err := q.Start(context.Background()); err != nil {
					t.Fatal(err)
				}
				if !q.Running() {
					t.Error("not Running after Warm and Start")
				}
				if q.listenPool == nil {
					return // SQLite: nothing to warm
				}
				if idle := q.listenPool.Stat().IdleConns(); idle != 0 {
					t.Errorf("idle LISTEN connections after Start = %d, want 0 (River's listener took the warmed one)", idle)
				}
			})
		})
	}
}
