package store

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

func newReservation() *Reservation {
	id := uuid.NewString()
	return &Reservation{
		Vendor:   Vendor{Code: "iamport", StoreID: "test-store", UID: id},
		Source:   Source{Schema: "shop", Table: "customers", ID: id},
		Title:    "some-title",
		Data:     "v1.k1.sealed-card",
		Password: "$2a$10$hash",
	}
}

func createReservation(t *testing.T, s *Store) *Reservation {
	t.Helper()
	r := newReservation()
	if err := s.CreateReservation(context.Background(), r); err != nil {
		t.Fatalf("CreateReservation: %v", err)
	}
	return r
}

func TestReservationLookups(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, _ *testClock) {
		r := createReservation(t, s)
		if !validID(r.ID) || r.CreatedAt.IsZero() {
			t.Fatalf("CreateReservation left ID %q, CreatedAt %v", r.ID, r.CreatedAt)
		}
		createReservation(t, s)

		tests := []struct {
			name    string
			find    func() (*Reservation, error)
			wantErr error
		}{
			{"by id", func() (*Reservation, error) { return s.Reservation(ctx, r.ID) }, nil},
			{"by vendor", func() (*Reservation, error) { return s.ReservationByVendor(ctx, r.Vendor.Code, r.Vendor.UID) }, nil},
			{"by source", func() (*Reservation, error) { return s.ReservationBySource(ctx, r.Source) }, nil},
			{"unknown id", func() (*Reservation, error) { return s.Reservation(ctx, uuid.NewString()) }, ErrNotFound},
			{"malformed id", func() (*Reservation, error) { return s.Reservation(ctx, "x") }, ErrNotFound},
			{"vendor code mismatch", func() (*Reservation, error) {
				return s.ReservationByVendor(ctx, "toss.payments", r.Vendor.UID)
			}, ErrNotFound},
			{"source schema mismatch", func() (*Reservation, error) {
				src := r.Source
				src.Schema = "other"
				return s.ReservationBySource(ctx, src)
			}, ErrNotFound},
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
				if diff := cmp.Diff(r, got); diff != "" {
					t.Errorf("reservation mismatch (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestReservationConflicts(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, _ *testClock) {
		first := createReservation(t, s)
		tests := []struct {
			name   string
			modify func(r *Reservation)
		}{
			{"same vendor", func(r *Reservation) { r.Vendor = first.Vendor }},
			{"same source", func(r *Reservation) { r.Source = first.Source }},
			{"same id", func(r *Reservation) { r.ID = first.ID }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := newReservation()
				tt.modify(r)
				wantErr(t, "CreateReservation", s.CreateReservation(ctx, r), ErrConflict)
			})
		}
	})
}
