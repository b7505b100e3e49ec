package webhook

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/server/requestid"
	"github.com/paymentctl/paymentctl/server/store"
)

// testClaimWindow shortens the claim window, so that a claimed job River
// must take comes due within a test. River's scheduler looks for due jobs
// every 5 s.
const testClaimWindow = time.Second

// claimDelivery commits a claimed delivery of id in a store transaction.
func claimDelivery(t testing.TB, s *store.Store, q *Queue, id string) Claim {
	t.Helper()
	var c Claim
	err := s.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		c, err = q.ClaimDeliveryTx(context.Background(), tx.SQLTx(), id)
		return err
	})
	if err != nil {
		t.Fatalf("claim delivery: %v", err)
	}
	return c
}

// TestClaimedDeliveryOnce: a claimed delivery is sent by its first
// attempt, right after the commit, and its job is gone, so River's
// workers never send it again, not even once its window has passed.
func TestClaimedDeliveryOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		rcv := newReceiver(t, nil)
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		payloads := newFakePayloads()
		id := payloads.add(srv.URL, []byte("claimed"))
		q := newQueue(t, queueOptions(s, noProcessor(t), payloads))
		q.claimWindow = testClaimWindow
		if err := q.Start(context.Background()); err != nil {
			t.Fatal(err)
		}

		c := claimDelivery(t, s, q, id)
		if got := jobStates(t, s, deliveryArgs{}.Kind()); !slicesEqual(got, []string{"scheduled"}) {
			t.Fatalf("job states after the claim = %v, want [scheduled]", got)
		}
		q.DeliverClaimed(c)
		waitFor(t, "the first attempt", func() bool { return rcv.count(id) == 1 })
		waitFor(t, "the job to be closed", func() bool { return len(jobStates(t, s, deliveryArgs{}.Kind())) == 0 })
		// Past the window and a pass of River's scheduler: nothing left to
		// send it again.
		time.Sleep(testClaimWindow + 6*time.Second)
		if n := rcv.count(id); n != 1 {
			t.Errorf("delivered %d times, want 1", n)
		}
		if got := payloads.statuses(id); !cmp.Equal(got, []int{200}) {
			t.Errorf("recorded attempts = %v, want [200]", got)
		}
	})
}

// TestClaimedDeliveryFailureGoesToWorkers: a first attempt that fails
// hands the job to River's workers at once, which retry it.
func TestClaimedDeliveryFailureGoesToWorkers(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		rcv := newReceiver(t, func(_ string, n int) int {
			if n == 1 {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		})
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		payloads := newFakePayloads()
		id := payloads.add(srv.URL, []byte("refused once"))
		q := startQueue(t, queueOptions(s, noProcessor(t), payloads))

		q.DeliverClaimed(claimDelivery(t, s, q, id))
		// Well within the minute of the window: the workers took it.
		waitFor(t, "the retry", func() bool { return rcv.count(id) == 2 })
		waitFor(t, "the job to complete", func() bool {
			return slicesEqual(jobStates(t, s, deliveryArgs{}.Kind()), []string{"completed"})
		})
		if got := payloads.statuses(id); !cmp.Equal(got, []int{503, 200}) {
			t.Errorf("recorded attempts = %v, want [503 200]", got)
		}
	})
}

// TestClaimedDeliveryWithMessage: the first attempt of a claim carrying
// its message (Claim.WithMessage) sends that message without loading the
// event; a retry by River's workers loads it from the Payloads.
func TestClaimedDeliveryWithMessage(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		rcv := newReceiver(t, func(_ string, n int) int {
			if n == 1 {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		})
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		payloads := newFakePayloads()
		id := payloads.add(srv.URL, []byte("loaded"))
		q := startQueue(t, queueOptions(s, noProcessor(t), payloads))

		c := claimDelivery(t, s, q, id).WithMessage(Message{URL: srv.URL, Body: []byte("built")})
		q.DeliverClaimed(c)
		waitFor(t, "the retry's record", func() bool { return len(payloads.statuses(id)) == 2 })
		var bodies []string
		for _, r := range rcv.requests() {
			bodies = append(bodies, r.Body)
		}
		if want := []string{"built", "loaded"}; !cmp.Equal(bodies, want) {
			t.Errorf("bodies sent = %q, want %q", bodies, want)
		}
		if got := payloads.statuses(id); !cmp.Equal(got, []int{503, 200}) {
			t.Errorf("recorded attempts = %v, want [503 200]", got)
		}
		if empty := (Claim{}).WithMessage(Message{URL: srv.URL}); empty.jobID != 0 || empty.msg != nil {
			t.Errorf("Claim{}.WithMessage = %+v, want an empty claim", empty)
		}
	})
}

// TestClaimedDeliveryWithoutFirstAttempt: a claim whose first attempt is
// never made (the process died right after the commit) is delivered by
// the job once its window has passed.
func TestClaimedDeliveryWithoutFirstAttempt(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		rcv := newReceiver(t, nil)
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		payloads := newFakePayloads()
		id := payloads.add(srv.URL, []byte("orphaned claim"))
		q := newQueue(t, queueOptions(s, noProcessor(t), payloads))
		q.claimWindow = testClaimWindow
		if err := q.Start(context.Background()); err != nil {
			t.Fatal(err)
		}

		claimDelivery(t, s, q, id) // and no DeliverClaimed
		waitFor(t, "the job's delivery", func() bool { return rcv.count(id) == 1 })
		waitFor(t, "the job to complete", func() bool {
			return slicesEqual(jobStates(t, s, deliveryArgs{}.Kind()), []string{"completed"})
		})
		if n := rcv.count(id); n != 1 {
			t.Errorf("delivered %d times, want 1", n)
		}
	})
}

// TestClaimRolledBackSendsNothing: a claim in a transaction that rolls
// back leaves no job, and DeliverClaimed is never reached.
func TestClaimRolledBackSendsNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		payloads := newFakePayloads()
		id := payloads.add("http://127.0.0.1:1/unused", []byte("rolled back"))
		q := newQueue(t, queueOptions(s, noProcessor(t), payloads))
		errRollback := errors.New("roll back")
		err := s.InTx(context.Background(), func(tx *store.Tx) error {
			if _, err := q.ClaimDeliveryTx(context.Background(), tx.SQLTx(), id); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("InTx = %v, want the rollback's error", err)
		}
		if got := jobStates(t, s, deliveryArgs{}.Kind()); len(got) != 0 {
			t.Errorf("job states = %v, want none", got)
		}
	})
}

// TestClaimWhileDeliveryPending: claiming an event whose delivery is
// already pending adds nothing and claims nothing.
func TestClaimWhileDeliveryPending(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		payloads := newFakePayloads()
		id := payloads.add("http://127.0.0.1:1/unused", []byte("pending"))
		q := newQueue(t, queueOptions(s, noProcessor(t), payloads))
		enqueueDelivery(t, s, q, id)
		if c := claimDelivery(t, s, q, id); c != (Claim{}) {
			t.Errorf("claim of a pending delivery = %+v, want none", c)
		}
		if got := jobStates(t, s, deliveryArgs{}.Kind()); !slicesEqual(got, []string{"available"}) {
			t.Errorf("job states = %v, want [available]", got)
		}
	})
}

// TestClaimedDeliveryLogsRequestID: the first attempt logs its outcome
// under the ID of the request that caused the event, as a worker does.
func TestClaimedDeliveryLogsRequestID(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		rcv := newReceiver(t, nil)
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		payloads := newFakePayloads()
		id := payloads.add(srv.URL, []byte("traced"))
		var logs syncBuffer
		opts := queueOptions(s, noProcessor(t), payloads)
		opts.Logger = slog.New(requestid.NewHandler(slog.NewJSONHandler(&logs, nil)))
		q := startQueue(t, opts)

		ctx := requestid.NewContext(context.Background(), "req-claimed-1")
		var c Claim
		err := s.InTx(ctx, func(tx *store.Tx) error {
			var err error
			c, err = q.ClaimDeliveryTx(ctx, tx.SQLTx(), id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		q.DeliverClaimed(c)
		var delivered map[string]any
		waitFor(t, "the delivered line", func() bool {
			for _, rec := range logs.records(t) {
				if rec["msg"] == "webhook delivered" {
					delivered = rec
					return true
				}
			}
			return false
		})
		if delivered[requestid.Key] != "req-claimed-1" || delivered["webhook"] != id {
			t.Errorf("first attempt logged as %v, want request_id req-claimed-1, webhook %s", delivered, id)
		}
	})
}
