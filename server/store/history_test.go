package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

func TestHistoryLookups(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		paid := clock.Now().Add(-time.Minute)
		h := newHistory(20000)
		h.PaidAt = &paid
		if err := s.CreateHistory(ctx, h); err != nil {
			t.Fatalf("CreateHistory: %v", err)
		}
		if h.ID == "" || !validID(h.ID) {
			t.Fatalf("CreateHistory set ID %q, want a UUID", h.ID)
		}
		if want := stamp(clock.Now()); !h.CreatedAt.Equal(want) || h.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt = %v, want %v in UTC", h.CreatedAt, want)
		}
		other := createHistory(t, s, 1000)
		h.Cancels = []Cancel{}

		tests := []struct {
			name    string
			find    func() (*History, error)
			want    *History
			wantErr error
		}{
			{"by id", func() (*History, error) { return s.History(ctx, h.ID) }, h, nil},
			{"by vendor", func() (*History, error) { return s.HistoryByVendor(ctx, h.Vendor.Code, h.Vendor.UID) }, h, nil},
			{"by source", func() (*History, error) { return s.HistoryBySource(ctx, h.Source) }, h, nil},
			{"other by id", func() (*History, error) { return s.History(ctx, other.ID) }, other, nil},
			{"unknown id", func() (*History, error) { return s.History(ctx, uuid.NewString()) }, nil, ErrNotFound},
			{"malformed id", func() (*History, error) { return s.History(ctx, "not-a-uuid") }, nil, ErrNotFound},
			{"vendor code mismatch", func() (*History, error) { return s.HistoryByVendor(ctx, "iamport", h.Vendor.UID) }, nil, ErrNotFound},
			{"unknown vendor uid", func() (*History, error) { return s.HistoryByVendor(ctx, h.Vendor.Code, "nope") }, nil, ErrNotFound},
			{"source table mismatch", func() (*History, error) {
				src := h.Source
				src.Table = "carts"
				return s.HistoryBySource(ctx, src)
			}, nil, ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := tt.find()
				if tt.wantErr != nil {
					wantErr(t, "find", err, tt.wantErr)
					return
				}
				if err != nil {
					t.Fatalf("find: %v", err)
				}
				if tt.want.Cancels == nil {
					tt.want.Cancels = []Cancel{}
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("history mismatch (-want +got):\n%s", diff)
				}
				if got.CreatedAt.Location() != time.UTC || got.PaidAt != nil && got.PaidAt.Location() != time.UTC {
					t.Errorf("times not in UTC: created %v, paid %v", got.CreatedAt, got.PaidAt)
				}
			})
		}
	})
}

func TestHistoryTimesNormalised(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, _ *testClock) {
		kst := time.FixedZone("KST", 9*60*60)
		paid := time.Date(2026, 1, 2, 3, 4, 5, 999999999, kst)
		h := newHistory(100)
		h.PaidAt = &paid
		if err := s.CreateHistory(ctx, h); err != nil {
			t.Fatalf("CreateHistory: %v", err)
		}
		got, err := s.History(ctx, h.ID)
		if err != nil {
			t.Fatalf("History: %v", err)
		}
		want := time.Date(2026, 1, 1, 18, 4, 5, 999999000, time.UTC)
		if got.PaidAt == nil || !got.PaidAt.Equal(want) || got.PaidAt.Location() != time.UTC {
			t.Errorf("PaidAt = %v, want %v (UTC, microseconds)", got.PaidAt, want)
		}
	})
}

func TestHistoryConflicts(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, _ *testClock) {
		first := createHistory(t, s, 1000)
		tests := []struct {
			name   string
			modify func(h *History)
			want   error
		}{
			{"same vendor", func(h *History) { h.Vendor = first.Vendor }, ErrConflict},
			{"same vendor uid, other store id", func(h *History) {
				h.Vendor.UID = first.Vendor.UID
				h.Vendor.StoreID = "another-store"
			}, ErrConflict},
			{"same source", func(h *History) { h.Source = first.Source }, ErrConflict},
			{"same id", func(h *History) { h.ID = first.ID }, ErrConflict},
			{"refund above price", func(h *History) { h.Refund = h.Price + 1 }, ErrConflict},
			{"negative price", func(h *History) { h.Price = -1 }, ErrConflict},
			{"unknown reservation", func(h *History) { h.ReservationID = uuid.NewString() }, ErrNotFound},
			{"malformed reservation", func(h *History) { h.ReservationID = "card-1" }, ErrNotFound},
			{"same vendor uid at another pg", func(h *History) {
				h.Vendor.Code = "iamport"
				h.Vendor.UID = first.Vendor.UID
			}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h := newHistory(1000)
				tt.modify(h)
				err := s.CreateHistory(ctx, h)
				if tt.want == nil {
					if err != nil {
						t.Fatalf("CreateHistory: %v", err)
					}
					return
				}
				wantErr(t, "CreateHistory", err, tt.want)
			})
		}
		if err := s.CreateHistory(ctx, &History{ID: "not-a-uuid"}); err == nil {
			t.Error("CreateHistory with a malformed id succeeded")
		}
	})
}

func TestHistoryReservationLink(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, _ *testClock) {
		r := createReservation(t, s)
		h := newHistory(5000)
		h.ReservationID = r.ID
		if err := s.CreateHistory(ctx, h); err != nil {
			t.Fatalf("CreateHistory: %v", err)
		}
		got, err := s.History(ctx, h.ID)
		if err != nil {
			t.Fatalf("History: %v", err)
		}
		if got.ReservationID != r.ID {
			t.Errorf("ReservationID = %q, want %q", got.ReservationID, r.ID)
		}
	})
}

func TestUpdateHistory(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		h := createHistory(t, s, 10000)
		paid := stamp(clock.Now())
		first := paid.Add(time.Hour)
		second := paid.Add(2 * time.Hour)

		steps := []struct {
			name            string
			update          HistoryUpdate
			wantRefund      int64
			wantCancelledAt *time.Time
		}{
			{"paid", HistoryUpdate{Currency: "KRW", Price: 10000, PaidAt: &paid, Data: "v1.k1.paid"}, 0, nil},
			{"first cancel sets cancelled_at", HistoryUpdate{Currency: "KRW", Price: 10000, Refund: 4000,
				PaidAt: &paid, CancelledAt: &first, Data: "v1.k1.partial"}, 4000, &first},
			{"second cancel keeps it", HistoryUpdate{Currency: "KRW", Price: 10000, Refund: 10000,
				PaidAt: &paid, CancelledAt: &second, Data: "v1.k1.cancelled"}, 10000, &first},
			{"update without cancel time keeps it", HistoryUpdate{Currency: "KRW", Price: 10000, Refund: 10000,
				PaidAt: &paid, Data: "v1.k1.resync"}, 10000, &first},
		}
		for _, st := range steps {
			if err := s.UpdateHistory(ctx, h.ID, st.update); err != nil {
				t.Fatalf("%s: UpdateHistory: %v", st.name, err)
			}
			got, err := s.History(ctx, h.ID)
			if err != nil {
				t.Fatalf("%s: History: %v", st.name, err)
			}
			if got.Refund != st.wantRefund || got.Data != st.update.Data {
				t.Errorf("%s: refund %d data %q, want %d %q", st.name, got.Refund, got.Data, st.wantRefund, st.update.Data)
			}
			if got.PaidAt == nil || !got.PaidAt.Equal(paid) {
				t.Errorf("%s: PaidAt = %v, want %v", st.name, got.PaidAt, paid)
			}
			if diff := cmp.Diff(st.wantCancelledAt, got.CancelledAt); diff != "" {
				t.Errorf("%s: CancelledAt (-want +got):\n%s", st.name, diff)
			}
		}

		err := s.UpdateHistory(ctx, h.ID, HistoryUpdate{Currency: "KRW", Price: 10000, Refund: 10001, Data: "x"})
		wantErr(t, "refund above price", err, ErrConflict)
		err = s.UpdateHistory(ctx, uuid.NewString(), HistoryUpdate{Currency: "KRW", Data: "x"})
		wantErr(t, "unknown history", err, ErrNotFound)
		err = s.UpdateHistory(ctx, "nope", HistoryUpdate{})
		wantErr(t, "malformed id", err, ErrNotFound)
	})
}

func TestAddCancels(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		h := createHistory(t, s, 10000)
		t0 := stamp(clock.Now())
		seq := func(i int) *int { return &i }
		a := Cancel{Amount: 2000, Reason: "customer", Data: "v1.k1.a", CreatedAt: t0.Add(2 * time.Minute), Sequence: seq(1)}
		b := Cancel{Amount: 3000, Reason: "customer", Data: "v1.k1.b", CreatedAt: t0.Add(time.Minute), Sequence: seq(0)}
		c := Cancel{Amount: 2000, Reason: "customer", Data: "v1.k1.c", CreatedAt: t0.Add(3 * time.Minute), Sequence: seq(2)}

		n, err := s.AddCancels(ctx, h.ID, []Cancel{a, b})
		if err != nil || n != 2 {
			t.Fatalf("AddCancels(a, b) = %d, %v; want 2, nil", n, err)
		}
		// A re-sync from the PG brings every event again: only c is new.
		n, err = s.AddCancels(ctx, h.ID, []Cancel{a, b, c})
		if err != nil || n != 1 {
			t.Fatalf("AddCancels(a, b, c) = %d, %v; want 1, nil", n, err)
		}
		if n, err := s.AddCancels(ctx, h.ID, nil); err != nil || n != 0 {
			t.Fatalf("AddCancels(nil) = %d, %v; want 0, nil", n, err)
		}

		got, err := s.History(ctx, h.ID)
		if err != nil {
			t.Fatalf("History: %v", err)
		}
		var summary []string
		for _, c := range got.Cancels {
			if c.HistoryID != h.ID || !validID(c.ID) {
				t.Errorf("cancel %+v: wrong history or id", c)
			}
			summary = append(summary, fmt.Sprintf("%s %d %s", c.CreatedAt.Sub(t0), c.Amount, c.Data))
		}
		// Equal cancels in the same second are distinct events when their
		// positions differ (PGs report times to the second).
		d := Cancel{Amount: 2000, Reason: "customer", Data: "v1.k1.d", CreatedAt: c.CreatedAt, Sequence: seq(3)}
		if n, err := s.AddCancels(ctx, h.ID, []Cancel{a, b, c, d}); err != nil || n != 1 {
			t.Fatalf("AddCancels(a, b, c, d) = %d, %v; want 1, nil", n, err)
		}
		got, err = s.History(ctx, h.ID)
		if err != nil {
			t.Fatalf("History: %v", err)
		}
		summary = summary[:0]
		for _, c := range got.Cancels {
			summary = append(summary, fmt.Sprintf("%s %d %s", c.CreatedAt.Sub(t0), c.Amount, c.Data))
		}
		want := []string{"1m0s 3000 v1.k1.b", "2m0s 2000 v1.k1.a", "3m0s 2000 v1.k1.c", "3m0s 2000 v1.k1.d"}
		if diff := cmp.Diff(want, summary); diff != "" {
			t.Errorf("cancels, oldest first (-want +got):\n%s", diff)
		}

		_, err = s.AddCancels(ctx, uuid.NewString(), []Cancel{a})
		wantErr(t, "unknown history", err, ErrNotFound)
		_, err = s.AddCancels(ctx, h.ID, []Cancel{{Amount: -1, Reason: "x", Data: "x"}})
		wantErr(t, "negative amount", err, ErrConflict)
	})
}

// errInsufficient is what the cancel callback below returns when the
// remaining amount cannot cover another cancel.
var errInsufficient = errors.New("remaining amount too small")

func TestConcurrentPartialCancels(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		const (
			price   = 5000
			amount  = 1000
			workers = 10
		)
		h := createHistory(t, s, price)
		results := make(chan error, workers)
		var wg sync.WaitGroup
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results <- s.WithHistoryLocked(ctx, h.ID, func(tx *Tx, locked *History) error {
					if locked.Price-locked.Refund < amount {
						return errInsufficient
					}
					// Widen the window between read and write: without the
					// lock, other workers would read the same refund here.
					time.Sleep(time.Millisecond)
					cancel := Cancel{Amount: amount, Reason: fmt.Sprintf("partial %d", i), Data: "v1.k1.c"}
					if _, err := tx.AddCancels(ctx, locked.ID, []Cancel{cancel}); err != nil {
						return err
					}
					now := clock.Now()
					return tx.UpdateHistory(ctx, locked.ID, HistoryUpdate{
						Currency: locked.Currency, Price: locked.Price, Refund: locked.Refund + amount,
						PaidAt: locked.PaidAt, CancelledAt: &now, Data: locked.Data,
					})
				})
			}()
		}
		wg.Wait()
		close(results)
		var ok, insufficient int
		for err := range results {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, errInsufficient):
				insufficient++
			default:
				t.Errorf("cancel failed: %v", err)
			}
		}
		if ok != price/amount || insufficient != workers-price/amount {
			t.Errorf("%d cancels succeeded and %d were refused, want %d and %d", ok, insufficient, price/amount, workers-price/amount)
		}
		got, err := s.History(ctx, h.ID)
		if err != nil {
			t.Fatalf("History: %v", err)
		}
		var sum int64
		for _, c := range got.Cancels {
			sum += c.Amount
		}
		if got.Refund != price || sum != price || len(got.Cancels) != price/amount {
			t.Errorf("refund %d, %d cancels summing to %d; want %d, %d, %d", got.Refund, len(got.Cancels), sum, price, price/amount, price)
		}
	})
}

func TestWithHistoryLockedErrors(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, _ *testClock) {
		called := false
		err := s.WithHistoryLocked(ctx, uuid.NewString(), func(*Tx, *History) error {
			called = true
			return nil
		})
		wantErr(t, "unknown history", err, ErrNotFound)
		if called {
			t.Error("fn called for an unknown history")
		}

		// fn's error rolls back what it wrote.
		h := createHistory(t, s, 3000)
		errStop := errors.New("pg refused")
		err = s.WithHistoryLocked(ctx, h.ID, func(tx *Tx, locked *History) error {
			if _, err := tx.AddCancels(ctx, locked.ID, []Cancel{{Amount: 1000, Reason: "r", Data: "d"}}); err != nil {
				return err
			}
			return errStop
		})
		if err != errStop {
			t.Fatalf("WithHistoryLocked returned %v, want fn's error", err)
		}
		cancels, err := s.Cancels(ctx, h.ID)
		if err != nil || len(cancels) != 0 {
			t.Errorf("Cancels after rollback = %v, %v; want none", cancels, err)
		}
	})
}

// TestRegisterHistory checks the registration's write on both dialects
// (one statement on PostgreSQL, three on SQLite): the history and its
// audit event stored, the payment's kept webhooks applied and returned,
// and a taken payment or source refused with nothing written.
func TestRegisterHistory(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		taken := createHistory(t, s, 1000)
		tests := []struct {
			name         string
			edit         func(h *History)
			keep         bool // a webhook of the payment kept before
			applyPending bool
			wantErr      error
			wantApplied  int
		}{
			{name: "kept webhook applied", keep: true, applyPending: true, wantApplied: 1},
			{name: "none kept", applyPending: true},
			{name: "kept webhook left", keep: true},
			{name: "payment taken", edit: func(h *History) { h.Vendor = taken.Vendor }, applyPending: true, wantErr: ErrConflict},
			{name: "source taken", edit: func(h *History) { h.Source = taken.Source }, keep: true, applyPending: true, wantErr: ErrConflict},
			{name: "unstorable", edit: func(h *History) { h.Currency = "KR\x00" }, applyPending: true, wantErr: ErrInvalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h := newHistory(20000)
				if tt.edit != nil {
					tt.edit(h)
				}
				var kept *PendingWebhook
				if tt.keep {
					kept = &PendingWebhook{VendorCode: h.Vendor.Code, VendorUID: h.Vendor.UID, Data: "v1.k1.kept", ReceivedAt: clock.Now()}
					if err := s.KeepPendingWebhook(ctx, kept); err != nil {
						t.Fatalf("KeepPendingWebhook: %v", err)
					}
				}
				e := &AuditEvent{Service: h.Source.Service, Event: "registered", VendorCode: h.Vendor.Code, StoreID: h.Vendor.StoreID, Data: "v1.k1.details"}
				var applied []PendingWebhook
				err := s.InTx(ctx, func(tx *Tx) error {
					if err := tx.LockVendorPayment(ctx, h.Vendor.Code, h.Vendor.UID); err != nil {
						return err
					}
					var err error
					applied, err = tx.RegisterHistory(ctx, h, e, tt.applyPending)
					return err
				})
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("RegisterHistory() error = %v, want %v", err, tt.wantErr)
				}
				if len(applied) != tt.wantApplied {
					t.Errorf("RegisterHistory() applied %d webhooks, want %d", len(applied), tt.wantApplied)
				}
				if tt.wantApplied > 0 && (applied[0].ID != kept.ID || applied[0].AppliedAt != nil) {
					t.Errorf("RegisterHistory() applied %+v, want the kept %s as it was", applied[0], kept.ID)
				}
				pending, perr := s.PendingWebhooks(ctx, h.Vendor.Code, h.Vendor.UID)
				if perr != nil {
					t.Fatal(perr)
				}
				if wantLeft := btoi(tt.keep) - tt.wantApplied; err == nil && len(pending) != wantLeft {
					t.Errorf("pending webhooks left = %d, want %d", len(pending), wantLeft)
				}
				if tt.wantErr != nil {
					if tt.keep && len(pending) != 1 {
						t.Errorf("pending webhooks left after a refusal = %d, want the kept one", len(pending))
					}
					return
				}
				got, err := s.History(ctx, h.ID)
				if err != nil {
					t.Fatalf("History(%s): %v", h.ID, err)
				}
				if got.Vendor != h.Vendor || got.Price != h.Price || !got.CreatedAt.Equal(h.CreatedAt) {
					t.Errorf("History(%s) = %+v, want %+v", h.ID, got, h)
				}
				trail, err := s.AuditTrail(ctx, h.ID)
				if err != nil {
					t.Fatal(err)
				}
				if len(trail) != 1 || trail[0].ID != e.ID || trail[0].Data != e.Data || e.HistoryID != h.ID || !trail[0].CreatedAt.Equal(e.CreatedAt) {
					t.Errorf("AuditTrail(%s) = %+v, want the one event %+v", h.ID, trail, e)
				}
			})
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestUpdateAndReadHistory: the update writes what UpdateHistory writes
// and reads the history back with its cancels, those added earlier in the
// same transaction included.
func TestUpdateAndReadHistory(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		h := createHistory(t, s, 10000)
		paid := stamp(clock.Now())
		first := paid.Add(time.Hour)
		seq := func(i int) *int { return &i }
		tests := []struct {
			name            string
			cancels         []Cancel // added first, in the same transaction
			update          HistoryUpdate
			wantCancels     int
			wantCancelledAt *time.Time
			wantErr         error
		}{
			{name: "paid", update: HistoryUpdate{Currency: "KRW", Price: 10000, PaidAt: &paid, Data: "v1.k1.paid"}},
			{name: "cancel added before", cancels: []Cancel{{Amount: 4000, Reason: "customer", Data: "v1.k1.c", CreatedAt: first, Sequence: seq(0)}},
				update:      HistoryUpdate{Currency: "KRW", Price: 10000, Refund: 4000, PaidAt: &paid, CancelledAt: &first, Data: "v1.k1.partial"},
				wantCancels: 1, wantCancelledAt: &first},
			{name: "cancel time kept", update: HistoryUpdate{Currency: "KRW", Price: 10000, Refund: 4000, PaidAt: &paid, Data: "v1.k1.resync"},
				wantCancels: 1, wantCancelledAt: &first},
			{name: "refund above price", update: HistoryUpdate{Currency: "KRW", Price: 10000, Refund: 10001, Data: "x"}, wantErr: ErrConflict},
			{name: "unstorable", update: HistoryUpdate{Currency: "KR\x00", Data: "x"}, wantErr: ErrInvalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var got *History
				err := s.InTx(ctx, func(tx *Tx) error {
					if _, err := tx.AddCancels(ctx, h.ID, tt.cancels); err != nil {
						return err
					}
					var err error
					got, err = tx.UpdateAndReadHistory(ctx, h.ID, tt.update)
					return err
				})
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("UpdateAndReadHistory() error = %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr != nil {
					return
				}
				stored, err := s.History(ctx, h.ID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(stored, got); diff != "" {
					t.Errorf("UpdateAndReadHistory() differs from History() (-stored +got):\n%s", diff)
				}
				if got.Data != tt.update.Data || got.Refund != tt.update.Refund || len(got.Cancels) != tt.wantCancels {
					t.Errorf("UpdateAndReadHistory() = data %q refund %d %d cancels, want %q %d %d",
						got.Data, got.Refund, len(got.Cancels), tt.update.Data, tt.update.Refund, tt.wantCancels)
				}
				if diff := cmp.Diff(tt.wantCancelledAt, got.CancelledAt); diff != "" {
					t.Errorf("CancelledAt (-want +got):\n%s", diff)
				}
			})
		}
		err := s.InTx(ctx, func(tx *Tx) error {
			_, err := tx.UpdateAndReadHistory(ctx, uuid.NewString(), HistoryUpdate{Currency: "KRW", Data: "x"})
			return err
		})
		wantErr(t, "unknown history", err, ErrNotFound)
	})
}
