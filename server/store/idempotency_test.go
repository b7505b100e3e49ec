package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestIdempotencyLifecycle(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		req := IdempotencyRequest{Key: "key-1", Method: "POST", Path: "/payments/histories", RequestHash: "h1"}

		first, created, err := s.BeginIdempotency(ctx, req)
		if err != nil || !created {
			t.Fatalf("first BeginIdempotency = created %v, %v; want true, nil", created, err)
		}
		if first.Status != IdempotencyRunning || first.RequestHash != "h1" {
			t.Errorf("first record %+v, want running with hash h1", first)
		}
		if want := stamp(clock.Now()).Add(DefaultIdempotencyTTL); !first.ExpiresAt.Equal(want) {
			t.Errorf("ExpiresAt = %v, want %v", first.ExpiresAt, want)
		}

		// A retry while the first request runs sees the running record.
		again, created, err := s.BeginIdempotency(ctx, IdempotencyRequest{Key: "key-1", Method: "POST", Path: "/payments/histories", RequestHash: "h2"})
		if err != nil || created {
			t.Fatalf("second BeginIdempotency = created %v, %v; want false, nil", created, err)
		}
		if again.ID != first.ID || again.Status != IdempotencyRunning || again.RequestHash != "h1" {
			t.Errorf("second Begin returned %+v, want the running record %s with hash h1", again, first.ID)
		}

		// The same key on another route is another record.
		other, created, err := s.BeginIdempotency(ctx, IdempotencyRequest{Key: "key-1", Method: "PUT", Path: "/payments/histories/cancel"})
		if err != nil || !created || other.ID == first.ID {
			t.Fatalf("Begin on another route = %+v, created %v, %v; want a new record", other, created, err)
		}

		clock.Advance(time.Second)
		if err := s.CompleteIdempotency(ctx, first.ID, 201, "v1.k1.body"); err != nil {
			t.Fatalf("CompleteIdempotency: %v", err)
		}
		done, created, err := s.BeginIdempotency(ctx, req)
		if err != nil || created {
			t.Fatalf("Begin after completion = created %v, %v; want false, nil", created, err)
		}
		if done.Status != IdempotencyCompleted || done.ResponseStatus != 201 || done.ResponseBody != "v1.k1.body" ||
			done.CompletedAt == nil || !done.CompletedAt.Equal(stamp(clock.Now())) {
			t.Errorf("completed record %+v, want status 201, sealed body and completion time", done)
		}

		wantErr(t, "completing twice", s.CompleteIdempotency(ctx, first.ID, 201, "x"), ErrConflict)
		wantErr(t, "completing unknown", s.CompleteIdempotency(ctx, uuid.NewString(), 201, "x"), ErrNotFound)
		wantErr(t, "releasing completed", s.ReleaseIdempotency(ctx, first.ID), ErrConflict)

		// Releasing a running record frees the key.
		if err := s.ReleaseIdempotency(ctx, other.ID); err != nil {
			t.Fatalf("ReleaseIdempotency: %v", err)
		}
		wantErr(t, "releasing twice", s.ReleaseIdempotency(ctx, other.ID), ErrNotFound)
		fresh, created, err := s.BeginIdempotency(ctx, IdempotencyRequest{Key: "key-1", Method: "PUT", Path: "/payments/histories/cancel"})
		if err != nil || !created || fresh.ID == other.ID {
			t.Fatalf("Begin after release = %+v, created %v, %v; want a new record", fresh, created, err)
		}

		if _, _, err := s.BeginIdempotency(ctx, IdempotencyRequest{Method: "POST", Path: "/x"}); err == nil {
			t.Error("Begin with an empty key succeeded")
		}
	})
}

func TestIdempotencyExpiry(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		old, _ := beginKey(t, s, "old-1")
		if err := s.CompleteIdempotency(ctx, old.ID, 201, "body"); err != nil {
			t.Fatal(err)
		}
		beginKey(t, s, "old-2")
		clock.Advance(DefaultIdempotencyTTL - time.Hour)
		young, _ := beginKey(t, s, "young")
		if err := s.CompleteIdempotency(ctx, young.ID, 201, "body"); err != nil {
			t.Fatal(err)
		}

		if n, err := s.ExpireIdempotencyKeys(ctx); err != nil || n != 0 {
			t.Fatalf("ExpireIdempotencyKeys before 24 h = %d, %v; want 0, nil", n, err)
		}
		clock.Advance(time.Hour)
		// An expired key is free again even before the sweep.
		if rec, created := beginKey(t, s, "old-1"); !created || rec.ID == old.ID || rec.Status != IdempotencyRunning {
			t.Errorf("Begin on an expired key = %+v, created %v; want a new running record", rec, created)
		}
		if n, err := s.ExpireIdempotencyKeys(ctx); err != nil || n != 1 {
			t.Fatalf("ExpireIdempotencyKeys after 24 h = %d, %v; want 1 (old-2), nil", n, err)
		}
		if _, created := beginKey(t, s, "young"); created {
			t.Error("the young key was expired too early")
		}
		wantErr(t, "completing an expired record", s.CompleteIdempotency(ctx, old.ID, 201, "x"), ErrNotFound)
	})
}

// TestIdempotencyLease: a record left running (its process died) frees
// its key after IdempotencyLease, and not before; a completed one keeps
// its key for the whole TTL.
func TestIdempotencyLease(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		abandoned, _ := beginKey(t, s, "abandoned")
		done, _ := beginKey(t, s, "done")
		if err := s.CompleteIdempotency(ctx, done.ID, 201, "body"); err != nil {
			t.Fatal(err)
		}
		clock.Advance(IdempotencyLease - time.Second)
		if rec, created := beginKey(t, s, "abandoned"); created || rec.ID != abandoned.ID || rec.Status != IdempotencyRunning {
			t.Errorf("within the lease: %+v, created %v; want the running record", rec, created)
		}
		clock.Advance(time.Second)
		rec, created := beginKey(t, s, "abandoned")
		if !created || rec.ID == abandoned.ID {
			t.Errorf("after the lease: %+v, created %v; want a new record", rec, created)
		}
		wantErr(t, "completing the abandoned record", s.CompleteIdempotency(ctx, abandoned.ID, 201, "x"), ErrNotFound)
		if rec, created := beginKey(t, s, "done"); created || rec.ID != done.ID || rec.Status != IdempotencyCompleted {
			t.Errorf("completed key after the lease: %+v, created %v; want the stored response", rec, created)
		}
	})
}

func TestIdempotencyTTLOption(t *testing.T) {
	ctx := context.Background()
	forEachDSN(t, func(t *testing.T, dsn string) {
		clock := newTestClock()
		s := openStore(t, dsn, WithClock(clock.Now), WithIdempotencyTTL(time.Minute))
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		rec, _, err := s.BeginIdempotency(ctx, IdempotencyRequest{Key: "k", Method: "POST", Path: "/p"})
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.ExpiresAt.Sub(rec.CreatedAt); got != time.Minute {
			t.Errorf("TTL = %v, want 1m", got)
		}
	})
}

func TestIdempotencyConcurrentBegin(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, _ *testClock) {
		const workers = 8
		type result struct {
			id      string
			created bool
			err     error
		}
		results := make(chan result, workers)
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec, created, err := s.BeginIdempotency(ctx, IdempotencyRequest{Key: "race", Method: "POST", Path: "/payments/histories"})
				if err != nil {
					results <- result{err: err}
					return
				}
				results <- result{id: rec.ID, created: created}
			}()
		}
		wg.Wait()
		close(results)
		ids := map[string]bool{}
		created := 0
		for r := range results {
			if r.err != nil {
				t.Errorf("BeginIdempotency: %v", r.err)
				continue
			}
			ids[r.id] = true
			if r.created {
				created++
			}
		}
		if created != 1 || len(ids) != 1 {
			t.Errorf("%d callers created a record and they saw %d ids; want exactly 1 and 1", created, len(ids))
		}
	})
}

// beginKey claims key for POST /payments/histories; errors fail t.
func beginKey(t *testing.T, s *Store, key string) (*IdempotencyRecord, bool) {
	t.Helper()
	rec, created, err := s.BeginIdempotency(context.Background(), IdempotencyRequest{Key: key, Method: "POST", Path: "/payments/histories"})
	if err != nil {
		t.Fatalf("BeginIdempotency(%s): %v", key, err)
	}
	return rec, created
}
