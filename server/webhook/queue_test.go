package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/internal/pgschema"
	"github.com/paymentctl/paymentctl/migrations"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/store"
)

// testSecret signs the deliveries of the tests.
var testSecret = []byte("test-webhook-secret-0123456789")

// waitLimit bounds every wait for an outcome; it is a deadlock guard, not a
// performance expectation.
const waitLimit = 15 * time.Second

// testPoll is the fetch poll of the tests' queues, so that retries come
// quickly.
const testPoll = 20 * time.Millisecond

// sqliteTemplate is a migrated SQLite database that tests copy instead of
// migrating their own (migrating takes most of a second under -race). It
// is set once by TestMain.
var sqliteTemplate string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "webhook-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	sqliteTemplate = filepath.Join(dir, "template.db")
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite:"+sqliteTemplate)
	if err == nil {
		err = s.Migrate(ctx)
		if err == nil {
			err = Migrate(ctx, s.SQLDB(), s.Dialect())
		}
		// Closing the last connection folds the WAL into the file.
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "migrate the SQLite template:", err)
		return 1
	}
	return m.Run()
}

// sqliteStore opens a fresh copy of the migrated SQLite template.
func sqliteStore(t testing.TB) *store.Store {
	t.Helper()
	b, err := os.ReadFile(sqliteTemplate)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "payments.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// forEachStore runs fn as one subtest per database on a fresh store with
// paymentctl's and River's tables: SQLite always, PostgreSQL when
// pgschema.EnvTestDSN is set.
func forEachStore(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	// The two databases run side by side; tests never share a database.
	t.Run(migrations.SQLite, func(t *testing.T) {
		t.Parallel()
		fn(t, sqliteStore(t))
	})
	base := pgschema.TestDSN()
	if base == "" {
		return
	}
	t.Run(migrations.Postgres, func(t *testing.T) {
		t.Parallel()
		fn(t, openStore(t, pgschema.ForTest(t, base, "t_webhook_")))
	})
}

func openStore(t testing.TB, dsn string) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate store: %v", err)
	}
	if err := Migrate(ctx, s.SQLDB(), s.Dialect()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// attempt is one RecordAttempt call.
type attempt struct {
	Status int
	Body   string
	Err    string
	At     time.Time
}

// fakePayloads serves deliveries from memory and records attempts.
type fakePayloads struct {
	mu       sync.Mutex
	urls     map[string]string
	bodies   map[string][]byte
	attempts map[string][]attempt
	gaveUp   []string // events whose delivery was given up, in order
}

func newFakePayloads() *fakePayloads {
	return &fakePayloads{urls: map[string]string{}, bodies: map[string][]byte{}, attempts: map[string][]attempt{}}
}

// add registers a webhook event and returns its id.
func (p *fakePayloads) add(url string, body []byte) string {
	id := uuid.NewString()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.urls[id], p.bodies[id] = url, body
	return id
}

func (p *fakePayloads) Delivery(_ context.Context, id string) (Message, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u, ok := p.urls[id]
	if !ok {
		return Message{}, fmt.Errorf("webhook %s: %w", id, ErrPermanent)
	}
	return Message{URL: u, Body: p.bodies[id]}, nil
}

func (p *fakePayloads) GaveUp(_ context.Context, id string, attempts int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gaveUp = append(p.gaveUp, id)
	return nil
}

func (p *fakePayloads) RecordAttempt(_ context.Context, id string, status int, body, errText string, at time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attempts[id] = append(p.attempts[id], attempt{Status: status, Body: body, Err: errText, At: at})
	return nil
}

func (p *fakePayloads) attemptsOf(id string) []attempt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]attempt(nil), p.attempts[id]...)
}

func (p *fakePayloads) statuses(id string) []int {
	var out []int
	for _, a := range p.attemptsOf(id) {
		out = append(out, a.Status)
	}
	return out
}

// processorFunc adapts a function to Processor.
type processorFunc func(ctx context.Context, ev Inbound) error

func (f processorFunc) Process(ctx context.Context, ev Inbound) error { return f(ctx, ev) }

// noProcessor fails the test if an inbound event is processed.
func noProcessor(t testing.TB) Processor {
	return processorFunc(func(context.Context, Inbound) error {
		t.Errorf("unexpected inbound event")
		return nil
	})
}

// received is one request as the receiver saw it.
type received struct {
	ID   string
	Body string
	At   time.Time
}

// receiver is a client service's webhook endpoint. It checks the Standard
// Webhooks headers as services do, with sdk.VerifyWebhook, and answers
// with status(id, n) for the n-th request of an event (1-based).
type receiver struct {
	t      testing.TB
	status func(id string, n int) int

	mu   sync.Mutex
	reqs []received
	seen map[string]int
}

func newReceiver(t testing.TB, status func(id string, n int) int) *receiver {
	if status == nil {
		status = func(string, int) int { return http.StatusOK }
	}
	return &receiver{t: t, status: status, seen: map[string]int{}}
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		r.t.Errorf("read delivery: %v", err)
		return
	}
	id := req.Header.Get("webhook-id")
	if err := sdk.VerifyWebhook(testSecret, req.Header, body, 0, time.Time{}); err != nil {
		r.t.Errorf("delivery of %q: %v", id, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "text/plain" {
		r.t.Errorf("delivery is %s with Content-Type %q, want POST text/plain", req.Method, req.Header.Get("Content-Type"))
	}
	r.mu.Lock()
	r.seen[id]++
	n := r.seen[id]
	r.reqs = append(r.reqs, received{ID: id, Body: string(body), At: time.Now()})
	r.mu.Unlock()
	status := r.status(id, n)
	w.WriteHeader(status)
	fmt.Fprintf(w, "answer %d to request %d", status, n)
}

func (r *receiver) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[id]
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.reqs...)
}

// queueOptions are the tests' defaults: scaled retry policies and a fast
// poll.
func queueOptions(s *store.Store, proc Processor, payloads Payloads) Options {
	return Options{
		DB:           s.SQLDB(),
		Dialect:      s.Dialect(),
		Processor:    proc,
		Payloads:     payloads,
		Secret:       testSecret,
		Retry:        DeliveryRetry().Scaled(time.Millisecond),
		InboundRetry: InboundRetry().Scaled(time.Millisecond),
		Workers:      4,
		PollInterval: testPoll,
	}
}

// newQueue builds a queue that is stopped when the test ends; it is not
// started.
func newQueue(t testing.TB, opts Options) *Queue {
	t.Helper()
	q, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return q
}

func startQueue(t testing.TB, opts Options) *Queue {
	t.Helper()
	q := newQueue(t, opts)
	if err := q.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return q
}

// enqueueDelivery commits a delivery of id in a store transaction.
func enqueueDelivery(t testing.TB, s *store.Store, q *Queue, id string) {
	t.Helper()
	err := s.InTx(context.Background(), func(tx *store.Tx) error {
		return q.EnqueueDeliveryTx(context.Background(), tx.SQLTx(), id)
	})
	if err != nil {
		t.Fatalf("enqueue delivery: %v", err)
	}
}

// waitFor polls cond until it holds, failing the test after waitLimit.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// jobStates returns the states of the stored jobs of a kind.
func jobStates(t testing.TB, s *store.Store, kind string) []string {
	t.Helper()
	rows, err := s.SQLDB().QueryContext(context.Background(), "SELECT state FROM river_job WHERE kind = "+placeholder(s)+" ORDER BY id", kind)
	if err != nil {
		t.Fatalf("list jobs: %v", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var state string
		if err := rows.Scan(&state); err != nil {
			t.Fatal(err)
		}
		out = append(out, state)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func placeholder(s *store.Store) string {
	if s.Dialect() == migrations.Postgres {
		return "$1"
	}
	return "?"
}

func TestEnqueueRollbackRunsNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rcv := newReceiver(t, nil)
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		payloads := newFakePayloads()
		id := payloads.add(srv.URL, []byte("sealed"))
		q := startQueue(t, queueOptions(s, noProcessor(t), payloads))

		rollback := errors.New("rollback")
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := q.EnqueueDeliveryTx(ctx, tx.SQLTx(), id); err != nil {
				return err
			}
			if err := q.EnqueueInboundTx(ctx, tx.SQLTx(), Inbound{Vendor: "toss.payments", SealedBody: "x"}); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("InTx = %v, want the rollback error", err)
		}
		if got := jobStates(t, s, deliveryArgs{}.Kind()); len(got) != 0 {
			t.Errorf("delivery jobs after rollback: %v, want none", got)
		}
		if got := jobStates(t, s, inboundArgs{}.Kind()); len(got) != 0 {
			t.Errorf("inbound jobs after rollback: %v, want none", got)
		}
		// Several poll periods: a job that leaked would have run.
		time.Sleep(10 * testPoll)
		if n := rcv.count(id); n != 0 {
			t.Errorf("receiver got %d deliveries of a rolled back event", n)
		}
		if got := payloads.attemptsOf(id); len(got) != 0 {
			t.Errorf("attempts of a rolled back event: %v", got)
		}
	})
}

func TestDeliverySigned(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		rcv := newReceiver(t, nil)
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		payloads := newFakePayloads()
		id := payloads.add(srv.URL+"/payments/webhook", []byte("v1.encrypted-body=="))
		q := startQueue(t, queueOptions(s, noProcessor(t), payloads))

		enqueueDelivery(t, s, q, id)
		waitFor(t, "the delivery to complete", func() bool {
			return slicesEqual(jobStates(t, s, deliveryArgs{}.Kind()), []string{"completed"})
		})
		want := []received{{ID: id, Body: "v1.encrypted-body=="}}
		if diff := cmp.Diff(want, rcv.requests(), cmpReceived); diff != "" {
			t.Errorf("received (-want +got):\n%s", diff)
		}
		got := payloads.attemptsOf(id)
		if len(got) != 1 || got[0].Status != http.StatusOK || got[0].Err != "" || got[0].Body != "answer 200 to request 1" {
			t.Errorf("attempts = %+v, want one 200 with the reply body", got)
		}
	})
}

var cmpReceived = cmp.Comparer(func(a, b received) bool { return a.ID == b.ID && a.Body == b.Body })

func slicesEqual(a, b []string) bool { return cmp.Equal(a, b) }

func TestDeliveryRetriesUntil2xx(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		rcv := newReceiver(t, func(_ string, n int) int {
			if n <= 2 {
				return http.StatusServiceUnavailable
			}
			return http.StatusNoContent
		})
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		payloads := newFakePayloads()
		id := payloads.add(srv.URL, []byte("body"))
		q := startQueue(t, queueOptions(s, noProcessor(t), payloads))

		enqueueDelivery(t, s, q, id)
		waitFor(t, "the delivery to complete", func() bool {
			return slicesEqual(jobStates(t, s, deliveryArgs{}.Kind()), []string{"completed"})
		})
		if diff := cmp.Diff([]int{503, 503, 204}, payloads.statuses(id)); diff != "" {
			t.Errorf("recorded statuses (-want +got):\n%s", diff)
		}
		reqs := rcv.requests()
		if len(reqs) != 3 {
			t.Fatalf("receiver got %d requests, want 3", len(reqs))
		}
		for _, r := range reqs {
			if r.ID != id {
				t.Errorf("webhook-id %q, want %q on every retry", r.ID, id)
			}
		}
	})
}

func TestDeliveryReceiverDownThenUp(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		// Reserve a loopback port and close it: the service is down.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		payloads := newFakePayloads()
		id := payloads.add("http://"+addr+"/hook", []byte("body"))
		q := startQueue(t, queueOptions(s, noProcessor(t), payloads))

		enqueueDelivery(t, s, q, id)
		waitFor(t, "two failed attempts", func() bool { return len(payloads.attemptsOf(id)) >= 2 })

		rcv := newReceiver(t, nil)
		ln, err = net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listen again on %s: %v", addr, err)
		}
		srv := &http.Server{Handler: rcv}
		go srv.Serve(ln)
		defer srv.Close()

		waitFor(t, "the delivery to complete", func() bool {
			return slicesEqual(jobStates(t, s, deliveryArgs{}.Kind()), []string{"completed"})
		})
		got := payloads.attemptsOf(id)
		last := got[len(got)-1]
		if last.Status != http.StatusOK {
			t.Errorf("last attempt %+v, want 200", last)
		}
		for _, a := range got[:len(got)-1] {
			if a.Status != 0 || a.Err == "" || a.Body != "" {
				t.Errorf("attempt while down = %+v, want status 0 with an error", a)
			}
		}
		if n := rcv.count(id); n != 1 {
			t.Errorf("receiver got %d deliveries, want 1", n)
		}
	})
}

func TestRestartDeliversPendingJobs(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		release := make(chan struct{})
		var once sync.Once
		rcv := newReceiver(t, func(string, int) int { return http.StatusOK })
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Read the body first: only then does the server notice
			// that the client gave up.
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
			rcv.ServeHTTP(w, r)
		}))
		defer srv.Close()
		defer once.Do(func() { close(release) })
		payloads := newFakePayloads()
		inFlight := payloads.add(srv.URL, []byte("in flight at shutdown"))
		pending := payloads.add(srv.URL, []byte("enqueued while stopped"))

		// The first instance starts the delivery, which hangs, and is
		// stopped with a deadline.
		q1 := startQueue(t, queueOptions(s, noProcessor(t), payloads))
		enqueueDelivery(t, s, q1, inFlight)
		waitFor(t, "the delivery to start", func() bool {
			return slicesEqual(jobStates(t, s, deliveryArgs{}.Kind()), []string{"running"})
		})
		stopCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err := q1.Stop(stopCtx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Stop with a hung delivery = %v, want deadline exceeded", err)
		}
		if err := q1.Start(ctx); err == nil {
			t.Errorf("Start after Stop succeeded, want an error")
		}
		// Committed while no instance runs.
		enqueueDelivery(t, s, q1, pending)
		time.Sleep(5 * testPoll)
		if got := jobStates(t, s, deliveryArgs{}.Kind()); !slicesEqual(got, []string{"available", "available"}) {
			t.Errorf("jobs after stop = %v, want both available", got)
		}

		once.Do(func() { close(release) })
		startQueue(t, queueOptions(s, noProcessor(t), payloads))
		waitFor(t, "both deliveries", func() bool {
			return slicesEqual(jobStates(t, s, deliveryArgs{}.Kind()), []string{"completed", "completed"})
		})
		for _, id := range []string{inFlight, pending} {
			if n := rcv.count(id); n != 1 {
				t.Errorf("webhook %s delivered %d times, want 1", id, n)
			}
		}
		if got := payloads.statuses(inFlight); len(got) != 2 || got[0] != 0 || got[1] != 200 {
			t.Errorf("attempts of the interrupted delivery: %v, want [0 200]", got)
		}
	})
}

func TestTwoQueuesWorkEachJobOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		rcv := newReceiver(t, nil)
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		payloads := newFakePayloads()
		q1 := startQueue(t, queueOptions(s, noProcessor(t), payloads))
		q2 := startQueue(t, queueOptions(s, noProcessor(t), payloads))

		const n = 20
		var ids []string
		for i := range n {
			id := payloads.add(srv.URL, []byte(strconv.Itoa(i)))
			ids = append(ids, id)
			enqueueDelivery(t, s, []*Queue{q1, q2}[i%2], id)
		}
		waitFor(t, "all deliveries", func() bool { return len(rcv.requests()) >= n })
		time.Sleep(5 * testPoll) // room for a duplicate to show up
		for _, id := range ids {
			if c := rcv.count(id); c != 1 {
				t.Errorf("webhook %s delivered %d times, want 1", id, c)
			}
			if a := payloads.attemptsOf(id); len(a) != 1 {
				t.Errorf("webhook %s has %d attempts, want 1", id, len(a))
			}
		}
		workers := map[string]int{}
		query := "SELECT json(attempted_by) FROM river_job" // SQLite keeps it as jsonb
		if s.Dialect() == migrations.Postgres {
			query = "SELECT array_to_string(attempted_by, ',') FROM river_job"
		}
		rows, err := s.SQLDB().Query(query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var by string
			if err := rows.Scan(&by); err != nil {
				t.Fatal(err)
			}
			workers[by]++
		}
		t.Logf("jobs per worker client: %v", workers)
	})
}

func TestDeliveryDeduplicatesLiveJobs(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		payloads := newFakePayloads()
		q := newQueue(t, queueOptions(s, noProcessor(t), payloads)) // not started
		id := payloads.add("http://127.0.0.1:1/", nil)
		enqueueDelivery(t, s, q, id)
		enqueueDelivery(t, s, q, id)
		if got := jobStates(t, s, deliveryArgs{}.Kind()); !slicesEqual(got, []string{"available"}) {
			t.Errorf("jobs after enqueueing one event twice = %v, want one available", got)
		}
	})
}

func TestInboundProcessedAndRetried(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		rcv := newReceiver(t, nil)
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		payloads := newFakePayloads()
		id := payloads.add(srv.URL, []byte("deposit event"))

		var (
			mu    sync.Mutex
			calls []Inbound
			q     *Queue
		)
		received := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
		proc := processorFunc(func(ctx context.Context, ev Inbound) error {
			mu.Lock()
			calls = append(calls, ev)
			n := len(calls)
			mu.Unlock()
			if n <= 2 {
				return errors.New("PG re-fetch: 502 bad gateway")
			}
			// As the payment service does: the delivery joins the
			// transaction that applies the event.
			return s.InTx(ctx, func(tx *store.Tx) error {
				return q.EnqueueDeliveryTx(ctx, tx.SQLTx(), id)
			})
		})
		q = startQueue(t, queueOptions(s, proc, payloads))

		ev := Inbound{Vendor: "toss.payments", SealedBody: "v1.k1.sealed", ReceivedAt: received}
		err := s.InTx(context.Background(), func(tx *store.Tx) error {
			return q.EnqueueInboundTx(context.Background(), tx.SQLTx(), ev)
		})
		if err != nil {
			t.Fatalf("EnqueueInboundTx: %v", err)
		}
		waitFor(t, "the delivery", func() bool { return rcv.count(id) == 1 })
		waitFor(t, "the inbound job to complete", func() bool {
			return slicesEqual(jobStates(t, s, inboundArgs{}.Kind()), []string{"completed"})
		})
		mu.Lock()
		defer mu.Unlock()
		if diff := cmp.Diff([]Inbound{ev, ev, ev}, calls); diff != "" {
			t.Errorf("Process calls (-want +got):\n%s", diff)
		}
	})
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		var (
			mu    sync.Mutex
			calls int
		)
		proc := processorFunc(func(context.Context, Inbound) error {
			mu.Lock()
			calls++
			mu.Unlock()
			return fmt.Errorf("unknown payment: %w", ErrPermanent)
		})
		payloads := newFakePayloads()
		q := startQueue(t, queueOptions(s, proc, payloads))
		err := s.InTx(context.Background(), func(tx *store.Tx) error {
			return q.EnqueueInboundTx(context.Background(), tx.SQLTx(), Inbound{Vendor: "iamport", SealedBody: "x"})
		})
		if err != nil {
			t.Fatal(err)
		}
		// An event unknown to Payloads is permanent too.
		enqueueDelivery(t, s, q, uuid.NewString())
		waitFor(t, "both jobs to be cancelled", func() bool {
			return slicesEqual(jobStates(t, s, inboundArgs{}.Kind()), []string{"cancelled"}) &&
				slicesEqual(jobStates(t, s, deliveryArgs{}.Kind()), []string{"cancelled"})
		})
		time.Sleep(5 * testPoll)
		mu.Lock()
		defer mu.Unlock()
		if calls != 1 {
			t.Errorf("Process called %d times, want 1", calls)
		}
	})
}

// skewedClock is the wall clock moved forward by a skew the test sets: a
// queue's Now that can jump to the end of a retry budget at a chosen
// attempt, whatever the load of the machine. River still schedules on the
// wall clock, which the skew does not affect before the jump.
type skewedClock struct {
	mu   sync.Mutex
	skew time.Duration
}

func (c *skewedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.skew)
}

func (c *skewedClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.skew += d
}

// TestDeliveryGivesUpAfterBudget fails every attempt and, during the third,
// moves the queue's clock past the retry budget: the queue must give the
// job up when that attempt fails, and attempt nothing more. The budget is
// minutes of wall time, so the first two attempts are retried however slow
// the machine is; how the budget spaces attempts is RetryPolicy's, tested
// without a queue in TestRetryPolicyBudget.
func TestDeliveryGivesUpAfterBudget(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		const giveUpAt = 3
		clock := &skewedClock{}
		payloads := newFakePayloads()
		opts := queueOptions(s, noProcessor(t), payloads)
		opts.Now = clock.now
		var logs syncBuffer
		opts.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
		if opts.Retry.MaxAttempts() <= giveUpAt {
			t.Fatalf("the policy allows only %d attempts; the test needs more than %d", opts.Retry.MaxAttempts(), giveUpAt)
		}
		rcv := newReceiver(t, func(_ string, n int) int {
			if n == giveUpAt {
				// Before answering, so that the queue reads the moved
				// clock when it handles this failure.
				clock.advance(opts.Retry.Budget)
			}
			return http.StatusInternalServerError
		})
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		id := payloads.add(srv.URL, []byte("body"))
		q := startQueue(t, opts)

		enqueueDelivery(t, s, q, id)
		waitFor(t, "the delivery to be given up", func() bool {
			return slicesEqual(jobStates(t, s, deliveryArgs{}.Kind()), []string{"cancelled"})
		})
		time.Sleep(5 * testPoll)
		if n := len(payloads.attemptsOf(id)); n != giveUpAt {
			t.Errorf("%d attempts recorded, want %d: given up when the budget was spent, not before, and nothing after", n, giveUpAt)
		}
		if n := rcv.count(id); n != giveUpAt {
			t.Errorf("the service got %d requests, want %d", n, giveUpAt)
		}
		// The operator's line for it.
		waitFor(t, "the give-up's log line", func() bool { return logs.find(t, "webhook delivery given up") != nil })
		if rec := logs.find(t, "webhook delivery given up"); rec["level"] != "ERROR" || rec["webhook"] != id || rec["attempt"] != float64(giveUpAt) {
			t.Errorf("give-up logged as %v, want an error line for webhook %s, attempt %d", rec, id, giveUpAt)
		}
		// Told once, before the job ended (the audit trail records it).
		payloads.mu.Lock()
		gaveUp := slices.Clone(payloads.gaveUp)
		payloads.mu.Unlock()
		if !slicesEqual(gaveUp, []string{id}) {
			t.Errorf("GaveUp called for %v, want [%s]", gaveUp, id)
		}
	})
}

func TestNewValidates(t *testing.T) {
	s := sqliteStore(t)
	good := queueOptions(s, noProcessor(t), newFakePayloads())
	tests := []struct {
		name   string
		mutate func(o *Options)
	}{
		{"no db", func(o *Options) { o.DB = nil }},
		{"bad dialect", func(o *Options) { o.Dialect = "mysql" }},
		{"no processor", func(o *Options) { o.Processor = nil }},
		{"no payloads", func(o *Options) { o.Payloads = nil }},
		{"no secret", func(o *Options) { o.Secret = nil }},
		{"bad retry", func(o *Options) { o.Retry = RetryPolicy{Base: time.Hour, Cap: time.Second, Budget: time.Hour} }},
		{"negative coalesce window", func(o *Options) { o.CoalesceWindow = -time.Second }},
	}
	for _, tt := range tests {
		o := good
		tt.mutate(&o)
		if _, err := New(o); err == nil {
			t.Errorf("%s: New succeeded, want an error", tt.name)
		}
	}
	if err := Migrate(context.Background(), s.SQLDB(), s.Dialect()); err != nil {
		t.Errorf("second Migrate: %v", err)
	}
}

func TestCommitWakesWorkers(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		arrived := make(chan string, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- r.Header.Get(sdk.WebhookIDHeader)
		}))
		defer srv.Close()
		payloads := newFakePayloads()
		var q *Queue
		proc := processorFunc(func(ctx context.Context, ev Inbound) error {
			return s.InTx(ctx, func(tx *store.Tx) error {
				return q.EnqueueDeliveryTx(ctx, tx.SQLTx(), ev.SealedBody)
			})
		})
		opts := queueOptions(s, proc, payloads)
		// No fetch poll within the test: only the notification sent at
		// each commit can start the jobs. Each job is enqueued as soon as
		// the previous one arrived, within River's own limit of one
		// notification per queue per fetch cooldown.
		opts.PollInterval = time.Hour
		q = startQueue(t, opts)
		for i := range 12 {
			id := payloads.add(srv.URL, nil)
			if i%4 == 3 {
				err := s.InTx(context.Background(), func(tx *store.Tx) error {
					return q.EnqueueInboundTx(context.Background(), tx.SQLTx(), Inbound{Vendor: "toss.payments", SealedBody: id})
				})
				if err != nil {
					t.Fatal(err)
				}
			} else {
				enqueueDelivery(t, s, q, id)
			}
			select {
			case got := <-arrived:
				if got != id {
					t.Fatalf("delivery %d: got webhook %s, want %s", i, got, id)
				}
			case <-time.After(waitLimit):
				t.Fatalf("delivery %d never started", i)
			}
		}
	})
}

// TestRescueAfterCrash: a job left running by a process that died (its row
// says running, attempted long enough ago) is retried by the next instance
// within about a minute of it being up, not River's default hour or the
// 10 minutes paymentctl had before, and completes once.
func TestRescueAfterCrash(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rcv := newReceiver(t, func(string, int) int { return http.StatusOK })
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		payloads := newFakePayloads()
		id := payloads.add(srv.URL, []byte("running when its process died"))

		q := newQueue(t, queueOptions(s, noProcessor(t), payloads))
		enqueueDelivery(t, s, q, id)
		// What a kill -9 mid-delivery leaves: the job running, attempted by
		// a process that is gone, rescueAfter and a bit ago.
		attempted := time.Now().Add(-rescueAfter - 5*time.Second).UTC()
		var at any = attempted
		if s.Dialect() == migrations.SQLite {
			at = attempted.Format("2006-01-02 15:04:05.000") // River's SQLite time text
		}
		_, err := s.SQLDB().ExecContext(ctx, "UPDATE river_job SET state = 'running', attempt = 1, attempted_at = "+placeholder(s)+" WHERE kind = 'webhook_delivery'", at)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		deadline := start.Add(90 * time.Second)
		for rcv.count(id) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("the job of the dead process was not retried within 90 s; states %v", jobStates(t, s, deliveryArgs{}.Kind()))
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("rescued and delivered %s after the instance started", time.Since(start).Round(time.Second))
		waitFor(t, "the job to complete", func() bool {
			return slicesEqual(jobStates(t, s, deliveryArgs{}.Kind()), []string{"completed"})
		})
		if n := rcv.count(id); n != 1 {
			t.Errorf("delivered %d times, want 1", n)
		}
	})
}
