package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestOperations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		ctx := context.Background()
		h := createHistory(t, s, 10000)
		key := uuid.NewString()
		o := &Operation{Kind: OpCancel, HistoryID: h.ID, Vendor: h.Vendor, RequestKey: key, PGKey: "pg-1",
			Amount: 3000, RefundBefore: 0, CancelsBefore: 0, Data: "v1.sealed"}
		if err := s.CreateOperation(ctx, o); err != nil {
			t.Fatal(err)
		}
		if o.ID == "" || o.State != OpPending {
			t.Fatalf("created %+v, want an id and pending", o)
		}
		open, err := s.OpenOperations(ctx, h.ID)
		if err != nil || len(open) != 1 || open[0].ID != o.ID || open[0].PGKey != "pg-1" || open[0].Amount != 3000 {
			t.Fatalf("OpenOperations = %+v, %v", open, err)
		}
		// Pending within its lease is not due; past it, it is.
		if due, err := s.DueOperations(ctx, clock.Now().Add(-time.Minute), 10); err != nil || len(due) != 0 {
			t.Errorf("DueOperations of a fresh pending one = %+v, %v; want none", due, err)
		}
		clock.Advance(2 * time.Minute)
		if due, err := s.DueOperations(ctx, clock.Now().Add(-time.Minute), 10); err != nil || len(due) != 1 {
			t.Errorf("DueOperations of a stale pending one = %+v, %v; want it", due, err)
		}
		if err := s.UpdateOperation(ctx, o.ID, OperationUpdate{State: OpUnknown, Error: "timeout"}); err != nil {
			t.Fatal(err)
		}
		if due, err := s.DueOperations(ctx, clock.Now().Add(-time.Hour), 10); err != nil || len(due) != 1 || due[0].State != OpUnknown {
			t.Errorf("DueOperations of an unknown one = %+v, %v; want it whatever its age", due, err)
		}
		got, err := s.OperationOfRequest(ctx, key)
		if err != nil || got.ID != o.ID || got.Error != "timeout" || got.Attempts != 1 {
			t.Fatalf("OperationOfRequest = %+v, %v", got, err)
		}
		if err := s.UpdateOperation(ctx, o.ID, OperationUpdate{State: OpSucceeded}); err != nil {
			t.Fatal(err)
		}
		got, err = s.OperationOfID(ctx, o.ID)
		if err != nil || got.State != OpSucceeded || got.ResolvedAt == nil {
			t.Errorf("after success: %+v, %v", got, err)
		}
		if open, _ := s.OpenOperations(ctx, h.ID); len(open) != 0 {
			t.Errorf("a succeeded operation is still open: %+v", open)
		}
		if _, err := s.OperationOfRequest(ctx, uuid.NewString()); !errors.Is(err, ErrNotFound) {
			t.Errorf("OperationOfRequest of another key = %v, want ErrNotFound", err)
		}
		wantErr(t, "UpdateOperation of an unknown id", s.UpdateOperation(ctx, uuid.NewString(), OperationUpdate{State: OpFailed}), ErrNotFound)
	})
}

func TestOpenHistoriesAndReconciled(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		ctx := context.Background()
		unpaid := createHistory(t, s, 1000)
		paid := newHistory(2000)
		now := clock.Now()
		paid.PaidAt = &now
		if err := s.CreateHistory(ctx, paid); err != nil {
			t.Fatal(err)
		}
		open, err := s.OpenHistories(ctx, 10)
		if err != nil || len(open) != 1 || open[0].ID != unpaid.ID || open[0].ReconciledAt != nil {
			t.Fatalf("OpenHistories = %+v, %v; want only the unpaid one, never reconciled", open, err)
		}
		if err := s.MarkReconciled(ctx, unpaid.ID, now); err != nil {
			t.Fatal(err)
		}
		open, err = s.OpenHistories(ctx, 10)
		if err != nil || len(open) != 1 || open[0].ReconciledAt == nil || !open[0].ReconciledAt.Equal(stamp(now)) {
			t.Errorf("after MarkReconciled: %+v, %v", open, err)
		}
	})
}

func TestIdempotencyUnknownResumes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		ctx := context.Background()
		req := IdempotencyRequest{Key: "k-" + uuid.NewString(), Method: "PUT", Path: "/payments/histories/cancel", RequestHash: "h1"}
		rec, created, err := s.BeginIdempotency(ctx, req)
		if err != nil || !created {
			t.Fatalf("Begin = %v, %v", created, err)
		}
		if err := s.MarkIdempotencyUnknown(ctx, rec.ID); err != nil {
			t.Fatal(err)
		}
		// Past the running lease an unknown record is not abandoned: the
		// key stays bound to its request.
		clock.Advance(IdempotencyLease + time.Minute)
		other := req
		other.RequestHash = "h2"
		got, created, err := s.BeginIdempotency(ctx, other)
		if err != nil || created || got.ID != rec.ID || got.Status != IdempotencyUnknown {
			t.Errorf("Begin with another body = %+v, %v, %v; want the unknown record, not created", got, created, err)
		}
		got, created, err = s.BeginIdempotency(ctx, req)
		if err != nil || !created || got.ID != rec.ID || got.Status != IdempotencyRunning {
			t.Fatalf("Begin of the retry = %+v, %v, %v; want the same record taken back as running", got, created, err)
		}
		if _, created, _ := s.BeginIdempotency(ctx, req); created {
			t.Error("a second concurrent retry took the record too")
		}
		if err := s.CompleteIdempotency(ctx, rec.ID, 200, "sealed"); err != nil {
			t.Errorf("Complete after resume: %v", err)
		}
	})
}

func TestUnsettledOperations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		ctx := context.Background()
		h := createHistory(t, s, 10000)
		counts, oldest, err := s.UnsettledOperations(ctx, clock.Now().Add(-time.Minute))
		if err != nil || len(counts) != 0 || !oldest.IsZero() {
			t.Fatalf("UnsettledOperations of none = %+v, %v, %v; want none, zero", counts, oldest, err)
		}
		create := func(state OperationState) *Operation {
			t.Helper()
			o := &Operation{Kind: OpCancel, HistoryID: h.ID, Vendor: h.Vendor, Amount: 100, Data: "v1.sealed"}
			if err := s.CreateOperation(ctx, o); err != nil {
				t.Fatal(err)
			}
			if state != OpPending {
				if err := s.UpdateOperation(ctx, o.ID, OperationUpdate{State: state}); err != nil {
					t.Fatal(err)
				}
			}
			return o
		}
		first := clock.Now()
		create(OpPending) // stale by the time of the count
		clock.Advance(2 * time.Minute)
		create(OpUnknown)
		create(OpUnknown)
		create(OpCompensate)
		create(OpSucceeded)
		create(OpCompensated)
		create(OpPending) // its call may still be in flight
		counts, oldest, err = s.UnsettledOperations(ctx, clock.Now().Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		want := []UnsettledCount{{OpCompensate, 1}, {OpPending, 1}, {OpUnknown, 2}}
		if len(counts) != len(want) {
			t.Fatalf("UnsettledOperations = %+v, want %+v", counts, want)
		}
		for i := range want {
			if counts[i] != want[i] {
				t.Errorf("UnsettledOperations[%d] = %+v, want %+v", i, counts[i], want[i])
			}
		}
		if !oldest.Equal(first.UTC().Truncate(time.Microsecond)) {
			t.Errorf("oldest = %v, want the stale pending one's creation, %v", oldest, first)
		}
	})
}
