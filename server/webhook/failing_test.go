package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/server/store"
)

// TestFailingAndRetry: Failing lists a failing delivery (next attempt an
// hour away) and a given-up one; Retry sends each at once, a delivered
// one again, and one whose job is gone through a new job.
func TestFailingAndRetry(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		// No payload yet: its delivery fails permanently, before any
		// request, and is given up.
		givenUp := uuid.NewString()
		payloads := newFakePayloads()
		failing := uuid.NewString()
		// The first request of the failing event fails; every other
		// request succeeds.
		rcv := newReceiver(t, func(id string, n int) int {
			if n == 1 && id == failing {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		})
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		payloads.put(failing, srv.URL, []byte("failing"))
		opts := queueOptions(s, noProcessor(t), payloads)
		// The retry after the first failure is due in 30 to 60 minutes:
		// only Retry can make it happen within the test.
		opts.Retry = RetryPolicy{Base: time.Hour, Cap: time.Hour, Budget: 2 * time.Hour}
		q := startQueue(t, opts)

		enqueueDelivery(t, s, q, failing)
		enqueueDelivery(t, s, q, givenUp)
		waitFor(t, "one delivery failing and one given up", func() bool {
			return slicesEqual(jobStates(t, s, deliveryArgs{}.Kind()), []string{"retryable", "cancelled"})
		})

		got, err := q.Failing(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("Failing = %+v, want 2 deliveries", got)
		}
		// Newest job first.
		g, f := got[0], got[1]
		if g.WebhookID != givenUp || !g.GivenUp || !g.NextAttempt.IsZero() || g.Attempts != 1 || g.AttemptedAt.IsZero() {
			t.Errorf("given-up delivery listed as %+v", g)
		}
		if !strings.Contains(g.LastError, "webhook "+givenUp) || !strings.Contains(f.LastError, "answered 500") {
			t.Errorf("last errors %q, %q; want the missing payload and the 500", g.LastError, f.LastError)
		}
		if f.WebhookID != failing || f.GivenUp || f.Attempts != 1 || time.Until(f.NextAttempt) < 20*time.Minute {
			t.Errorf("failing delivery listed as %+v, want its next attempt in 30 to 60 minutes", f)
		}
		if one, err := q.Failing(ctx, 1); err != nil || len(one) != 1 || one[0].WebhookID != givenUp {
			t.Errorf("Failing(1) = %+v, %v; want the newest only", one, err)
		}

		retry := func(id, wantWas string) {
			t.Helper()
			out, err := q.Retry(ctx, id)
			if err != nil {
				t.Fatalf("Retry(%s): %v", id, err)
			}
			if out.Was != wantWas || out.JobID == 0 {
				t.Errorf("Retry(%s) = %+v, want it found %s", id, out, wantWas)
			}
		}
		retry(failing, "failing")
		waitFor(t, "the failing delivery sent again", func() bool { return rcv.count(failing) == 2 })

		payloads.put(givenUp, srv.URL, []byte("given up"))
		retry(givenUp, "given_up")
		waitFor(t, "the given-up delivery sent", func() bool { return rcv.count(givenUp) == 1 })

		waitFor(t, "both delivered", func() bool {
			return slicesEqual(jobStates(t, s, deliveryArgs{}.Kind()), []string{"completed", "completed"})
		})
		if got, err := q.Failing(ctx, 10); err != nil || len(got) != 0 {
			t.Errorf("Failing after the retries = %+v, %v; want none", got, err)
		}

		// A delivered event is sent again on request.
		retry(failing, "delivered")
		waitFor(t, "the delivered event sent again", func() bool { return rcv.count(failing) == 3 })

		// An event without a job (River deleted it) gets a new one.
		orphan := payloads.add(srv.URL, []byte("orphan"))
		retry(orphan, "none")
		waitFor(t, "the orphan event sent", func() bool { return rcv.count(orphan) == 1 })
	})
}

// TestRetryLeavesRunningDeliveryAlone: a delivery in progress is not
// touched.
func TestRetryLeavesRunningDeliveryAlone(t *testing.T) {
	s := sqliteStore(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	payloads := newFakePayloads()
	id := payloads.add(srv.URL, []byte("slow"))
	q := startQueue(t, queueOptions(s, noProcessor(t), payloads))
	enqueueDelivery(t, s, q, id)
	waitFor(t, "the delivery running", func() bool {
		return slicesEqual(jobStates(t, s, deliveryArgs{}.Kind()), []string{"running"})
	})
	if _, err := q.Retry(context.Background(), id); !errors.Is(err, ErrDeliveryRunning) {
		t.Errorf("Retry of a running delivery = %v, want ErrDeliveryRunning", err)
	}
}

// put registers (or replaces) the webhook event id.
func (p *fakePayloads) put(id, url string, body []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.urls[id], p.bodies[id] = url, body
}
