package webhook

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/migrations"
	"github.com/paymentctl/paymentctl/server/store"
)

// keyedJob is an inbound job as stored, for the coalescing tests.
type keyedJob struct {
	ID          int64
	Key         string
	State       string
	ScheduledAt time.Time
}

// inboundJobs returns the stored inbound jobs, oldest first.
func inboundJobs(t *testing.T, s *store.Store) []keyedJob {
	t.Helper()
	key := "json_extract(args, '$.key')"
	if s.Dialect() == migrations.Postgres {
		key = "args->>'key'"
	}
	rows, err := s.SQLDB().Query("SELECT id, coalesce("+key+", ''), state, scheduled_at FROM river_job WHERE kind = "+placeholder(s)+" ORDER BY id",
		inboundArgs{}.Kind())
	if err != nil {
		t.Fatalf("list inbound jobs: %v", err)
	}
	defer rows.Close()
	var out []keyedJob
	for rows.Next() {
		var j keyedJob
		var at any
		if err := rows.Scan(&j.ID, &j.Key, &j.State, &at); err != nil {
			t.Fatal(err)
		}
		switch v := at.(type) {
		case time.Time:
			j.ScheduledAt = v
		case string:
			if j.ScheduledAt, err = time.Parse("2006-01-02 15:04:05.999999999", v); err != nil {
				t.Fatalf("scheduled_at %q: %v", v, err)
			}
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// setJobState moves a job to state, as a worker would.
func setJobState(t *testing.T, s *store.Store, id int64, state string) {
	t.Helper()
	finalized := "NULL"
	if state == "completed" || state == "cancelled" || state == "discarded" {
		finalized = "created_at"
	}
	q := "UPDATE river_job SET state = ?, finalized_at = " + finalized + " WHERE id = ?"
	if s.Dialect() == migrations.Postgres {
		q = "UPDATE river_job SET state = $1, finalized_at = " + finalized + " WHERE id = $2"
	}
	if _, err := s.SQLDB().Exec(q, state, id); err != nil {
		t.Fatalf("set job %d %s: %v", id, state, err)
	}
}

// TestInboundCoalesces: events with one key share a job while it has not
// started; once it has (running, finished, or waiting to retry), the next
// event gets one job in the next window, which the later ones share.
// Events without a key, or with another, are not affected, and a skipped
// duplicate is not an error.
func TestInboundCoalesces(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		const window = 24 * time.Hour // no window ends mid-test (checked below)
		opts := queueOptions(s, noProcessor(t), newFakePayloads())
		opts.CoalesceWindow = window
		q := newQueue(t, opts) // not started: the test plays the worker
		ctx := context.Background()
		started := time.Now().Truncate(window)
		enqueue := func(key string) {
			t.Helper()
			err := s.InTx(ctx, func(tx *store.Tx) error {
				return q.EnqueueInboundTx(ctx, tx.SQLTx(), Inbound{Vendor: "iamport", SealedBody: "v1.k1.x", Key: key})
			})
			if err != nil {
				t.Fatalf("EnqueueInboundTx(%q): %v", key, err)
			}
		}
		states := func() []keyedJob {
			t.Helper()
			jobs := inboundJobs(t, s)
			for i := range jobs {
				jobs[i].ID, jobs[i].ScheduledAt = 0, time.Time{}
			}
			return jobs
		}
		check := func(step string, want []keyedJob) {
			t.Helper()
			if diff := cmp.Diff(want, states()); diff != "" {
				t.Errorf("%s: inbound jobs (-want +got):\n%s", step, diff)
			}
		}

		for range 3 {
			enqueue("iamport:imp_a")
		}
		enqueue("iamport:imp_b")
		enqueue("")
		enqueue("")
		check("queued", []keyedJob{
			{Key: "iamport:imp_a", State: "available"},
			{Key: "iamport:imp_b", State: "available"},
			{State: "available"}, {State: "available"},
		})

		// A rolled-back enqueue leaves nothing, and a later one still works.
		rollback := errors.New("roll back")
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := q.EnqueueInboundTx(ctx, tx.SQLTx(), Inbound{Vendor: "iamport", SealedBody: "x", Key: "iamport:imp_c"}); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("rolled-back enqueue: %v", err)
		}

		a := inboundJobs(t, s)[0]
		setJobState(t, s, a.ID, "running")
		for range 3 {
			enqueue("iamport:imp_a")
		}
		jobs := inboundJobs(t, s)
		check("while imp_a's job runs", []keyedJob{
			{Key: "iamport:imp_a", State: "running"},
			{Key: "iamport:imp_b", State: "available"},
			{State: "available"}, {State: "available"},
			{Key: "iamport:imp_a", State: "scheduled"},
		})
		if next := started.Add(window); len(jobs) == 5 && !jobs[4].ScheduledAt.Equal(next) {
			t.Errorf("follow-up scheduled at %v, want the next window's start %v", jobs[4].ScheduledAt, next)
		}

		for _, state := range []string{"completed", "retryable", "cancelled"} {
			b := inboundJobs(t, s)[1]
			setJobState(t, s, b.ID, state)
			enqueue("iamport:imp_b")
			enqueue("iamport:imp_b")
			got := inboundJobs(t, s)
			if last := got[len(got)-1]; last.Key != "iamport:imp_b" || last.State != "scheduled" {
				t.Errorf("after imp_b's job was %s, the last job is %+v, want a scheduled one for imp_b", state, last)
			}
			// Back to the first window's job for the next state.
			if _, err := s.SQLDB().Exec("DELETE FROM river_job WHERE id = "+placeholder(s), got[len(got)-1].ID); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(inboundJobs(t, s)); n != 5 {
			t.Errorf("%d inbound jobs in the end, want 5", n)
		}
		enqueue("iamport:imp_c")
		if got := inboundJobs(t, s); len(got) != 6 || got[5].Key != "iamport:imp_c" {
			t.Errorf("after a rolled-back enqueue of imp_c, a committed one left %+v", got)
		}
		if time.Now().Truncate(window) != started {
			t.Skip("a coalescing window ended during the test; its jobs are in two windows")
		}
	})
}
