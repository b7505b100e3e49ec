package store

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestSourcesPerService: a source is unique per service, found only for
// its own service; a PG payment stays unique across services.
func TestSourcesPerService(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, _ *testClock) {
		shop := newHistory(1000)
		shop.Source.Service = "shop"
		if err := s.CreateHistory(ctx, shop); err != nil {
			t.Fatal(err)
		}
		billing := newHistory(2000)
		billing.Source = shop.Source
		billing.Source.Service = "billing"
		if err := s.CreateHistory(ctx, billing); err != nil {
			t.Fatalf("another service's history with the same source: %v", err)
		}
		again := newHistory(3000)
		again.Source = shop.Source
		wantErr(t, "the same source twice in one service", s.CreateHistory(ctx, again), ErrConflict)
		samePayment := newHistory(1000)
		samePayment.Vendor = shop.Vendor
		samePayment.Source.Service = "billing"
		wantErr(t, "the same PG payment in another service", s.CreateHistory(ctx, samePayment), ErrConflict)

		for _, tt := range []struct {
			service string
			want    string
		}{{"shop", shop.ID}, {"billing", billing.ID}} {
			src := shop.Source
			src.Service = tt.service
			got, err := s.HistoryBySource(ctx, src)
			if err != nil || got.ID != tt.want || got.Source.Service != tt.service {
				t.Errorf("HistoryBySource(%s) = %+v, %v; want %s", tt.service, got, err, tt.want)
			}
		}
		src := shop.Source
		src.Service = ""
		_, err := s.HistoryBySource(ctx, src)
		wantErr(t, "the default service's look-up of shop's source", err, ErrNotFound)
		if got, err := s.History(ctx, shop.ID); err != nil || got.Source.Service != "shop" {
			t.Errorf("History(%s) = %+v, %v; want service shop", shop.ID, got, err)
		}
	})
}

// TestIdempotencyKeysPerService: one key used by two services makes two
// records.
func TestIdempotencyKeysPerService(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, _ *testClock) {
		req := IdempotencyRequest{Service: "shop", Key: "k", Method: "POST", Path: "/payments/histories", RequestHash: "a"}
		first, created, err := s.BeginIdempotency(ctx, req)
		if err != nil || !created {
			t.Fatalf("shop's key: %v, created %v", err, created)
		}
		req.Service, req.RequestHash = "billing", "b"
		second, created, err := s.BeginIdempotency(ctx, req)
		if err != nil || !created || second.ID == first.ID {
			t.Fatalf("billing's use of the same key: %+v, created %v, %v; want a record of its own", second, created, err)
		}
	})
}

// TestAuditTrailAppendOnly: events are read back in order, and the
// database refuses to change or delete them.
func TestAuditTrailAppendOnly(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		h := createHistory(t, s, 1000)
		for _, ev := range []string{"registered", "cancelled"} {
			e := &AuditEvent{HistoryID: h.ID, Service: "shop", Event: ev, VendorCode: h.Vendor.Code, StoreID: h.Vendor.StoreID, RequestID: "req-" + ev, Data: "sealed"}
			if err := s.AddAuditEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Second)
		}
		if err := s.AddAuditEvent(ctx, &AuditEvent{Service: "shop", Event: "refused", VendorCode: "iamport", Data: "sealed"}); err != nil {
			t.Fatalf("an event without a history: %v", err)
		}
		trail, err := s.AuditTrail(ctx, h.ID)
		if err != nil || len(trail) != 2 || trail[0].Event != "registered" || trail[1].Event != "cancelled" || trail[1].RequestID != "req-cancelled" {
			t.Fatalf("AuditTrail = %+v, %v", trail, err)
		}
		if none, err := s.AuditTrail(ctx, uuid.NewString()); err != nil || len(none) != 0 {
			t.Errorf("AuditTrail(unknown) = %v, %v; want none", none, err)
		}
		for _, stmt := range []string{
			"UPDATE payment_audit_events SET event = 'nothing'",
			"DELETE FROM payment_audit_events",
		} {
			if _, err := s.SQLDB().ExecContext(ctx, stmt); err == nil {
				t.Errorf("%s: succeeded, want a refusal", stmt)
			}
		}
		if trail, _ := s.AuditTrail(ctx, h.ID); len(trail) != 2 || trail[0].Event != "registered" {
			t.Errorf("trail changed: %+v", trail)
		}
	})
}
