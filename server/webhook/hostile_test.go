package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/paymentctl/paymentctl/server/store"
)

// hostileText is what a PG's error may echo of a forged webhook: NUL,
// invalid UTF-8, a terminal escape and far too much of it.
var hostileText = "imp_uid \x00 not found \xff\xfe \x1b[31m" + strings.Repeat("x", 10<<10)

// TestHostileErrorTextDoesNotStallQueue is issue 9's regression: River
// writes the completions of several jobs in one batch, and PostgreSQL
// refused the batch when one job's error record (jsonb) held a NUL, so
// every job in it ran again. Errors are cleaned before River gets them:
// the jobs after a hostile one complete, each processed once.
func TestHostileErrorTextDoesNotStallQueue(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		var (
			mu    sync.Mutex
			calls = map[string]int{}
		)
		proc := processorFunc(func(_ context.Context, ev Inbound) error {
			mu.Lock()
			calls[ev.SealedBody]++
			n := calls[ev.SealedBody]
			mu.Unlock()
			switch {
			case ev.SealedBody == "permanent":
				return fmt.Errorf("%w: %s", ErrPermanent, hostileText)
			case ev.SealedBody == "retried" && n <= 2:
				return errors.New(hostileText)
			}
			return nil
		})
		q := startQueue(t, queueOptions(s, proc, newFakePayloads()))
		ctx := context.Background()
		enqueue := func(body string) {
			t.Helper()
			err := s.InTx(ctx, func(tx *store.Tx) error {
				return q.EnqueueInboundTx(ctx, tx.SQLTx(), Inbound{Vendor: "iamport", SealedBody: body})
			})
			if err != nil {
				t.Fatalf("enqueue %s: %v", body, err)
			}
		}
		enqueue("permanent")
		enqueue("retried")
		const later = 20
		for i := range later {
			enqueue(fmt.Sprintf("later-%d", i))
		}

		waitFor(t, "every job to finish", func() bool {
			done := 0
			for _, st := range jobStates(t, s, inboundArgs{}.Kind()) {
				if st == "completed" || st == "cancelled" {
					done++
				}
			}
			return done == later+2
		})
		res, err := q.client.JobList(ctx, river.NewJobListParams().Kinds(inboundArgs{}.Kind()).First(100))
		if err != nil {
			t.Fatal(err)
		}
		for _, job := range res.Jobs {
			var args inboundArgs
			if err := json.Unmarshal(job.EncodedArgs, &args); err != nil {
				t.Fatal(err)
			}
			want := "completed"
			if args.SealedBody == "permanent" {
				want = "cancelled"
			}
			if string(job.State) != want {
				t.Errorf("job %s is %s, want %s", args.SealedBody, job.State, want)
			}
			for _, e := range job.Errors {
				if len(e.Error) > 2*maxJobError || !utf8.ValidString(e.Error) || strings.ContainsRune(e.Error, 0) {
					t.Errorf("job %s error record %.80q… (%d bytes) is not clean", args.SealedBody, e.Error, len(e.Error))
				}
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for body, n := range calls {
			want := 1
			if body == "retried" {
				want = 3
			}
			if n != want {
				t.Errorf("%s processed %d times, want %d", body, n, want)
			}
		}
		if len(calls) != later+2 {
			t.Errorf("%d jobs processed, want %d", len(calls), later+2)
		}
	})
}

func TestJobErrorKeepsTheChain(t *testing.T) {
	cause := fmt.Errorf("%w: %s", ErrPermanent, hostileText)
	e := newJobError(cause)
	if !errors.Is(e, ErrPermanent) {
		t.Errorf("newJobError(%.40q…) does not wrap ErrPermanent", cause)
	}
	if got := e.Error(); len(got) > maxJobError || strings.ContainsRune(got, 0) || !utf8.ValidString(got) {
		t.Errorf("newJobError(…).Error() = %.80q… (%d bytes), want at most %d clean bytes", got, len(got), maxJobError)
	}
}
