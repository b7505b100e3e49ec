package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// unstorableTexts are values PostgreSQL refuses in text columns (NUL,
// invalid UTF-8, a multi-byte character cut short). The store refuses them
// on both dialects, so SQLite never keeps what PostgreSQL would not.
var unstorableTexts = []struct{ name, v string }{
	{"NUL", "ab\x00cd"},
	{"invalid UTF-8", "ab\xffcd"},
	{"cut character", "결제"[:4]},
}

// malformedIDs look like UUIDs to uuid.Parse, or nearly, but are not the
// canonical form PostgreSQL's uuid type takes.
func malformedIDs() []string {
	id := uuid.NewString()
	return []string{
		"urn:uuid:" + id, "{" + id + "}", strings.ReplaceAll(id, "-", ""),
		id[:35], id + "0", id[:35] + "\x00", "",
	}
}

func TestWritesRefuseUnstorableText(t *testing.T) {
	ctx := context.Background()
	historyFields := map[string]func(h *History, v string){
		"source.schema":  func(h *History, v string) { h.Source.Schema = v },
		"source.table":   func(h *History, v string) { h.Source.Table = v },
		"source.id":      func(h *History, v string) { h.Source.ID = v },
		"vendor.uid":     func(h *History, v string) { h.Vendor.UID = v },
		"vendor.storeID": func(h *History, v string) { h.Vendor.StoreID = v },
		"webhook url":    func(h *History, v string) { h.WebhookURL = v },
		"password":       func(h *History, v string) { h.Password = v },
	}
	reservationFields := map[string]func(r *Reservation, v string){
		"source.table": func(r *Reservation, v string) { r.Source.Table = v },
		"vendor.uid":   func(r *Reservation, v string) { r.Vendor.UID = v },
		"title":        func(r *Reservation, v string) { r.Title = v },
	}
	forEachBackend(t, func(t *testing.T, s *Store, _ *testClock) {
		h := createHistory(t, s, 1000)
		for _, bad := range unstorableTexts {
			t.Run(bad.name, func(t *testing.T) {
				for field, set := range historyFields {
					nh := newHistory(1000)
					set(nh, bad.v)
					wantErr(t, "CreateHistory with "+field, s.CreateHistory(ctx, nh), ErrInvalid)
				}
				for field, set := range reservationFields {
					r := newReservation()
					set(r, bad.v)
					wantErr(t, "CreateReservation with "+field, s.CreateReservation(ctx, r), ErrInvalid)
				}
				_, err := s.AddCancels(ctx, h.ID, []Cancel{{Amount: 1, Reason: bad.v, Data: "sealed"}})
				wantErr(t, "AddCancels with a bad reason", err, ErrInvalid)
				err = s.UpdateHistory(ctx, h.ID, HistoryUpdate{Currency: "KRW", Price: 1000, Data: bad.v})
				wantErr(t, "UpdateHistory with bad data", err, ErrInvalid)
				err = s.KeepPendingWebhook(ctx, &PendingWebhook{VendorCode: "iamport", VendorUID: bad.v, Data: "sealed"})
				wantErr(t, "KeepPendingWebhook with a bad uid", err, ErrInvalid)
				_, _, err = s.BeginIdempotency(ctx, IdempotencyRequest{Key: bad.v, Method: "POST", Path: "/payments/histories", RequestHash: "h"})
				wantErr(t, "BeginIdempotency with a bad key", err, ErrInvalid)
				err = s.InTx(ctx, func(tx *Tx) error { return tx.LockVendorPayment(ctx, "iamport", bad.v) })
				wantErr(t, "LockVendorPayment with a bad uid", err, ErrInvalid)
			})
		}
		t.Run("malformed ids", func(t *testing.T) {
			for _, id := range malformedIDs() {
				if id == "" {
					continue // generates one
				}
				nh := newHistory(1000)
				nh.ID = id
				err := s.CreateHistory(ctx, nh)
				wantErr(t, "CreateHistory with id "+id, err, ErrInvalid)
				if err != nil && strings.Contains(err.Error(), id) {
					t.Errorf("CreateHistory with id %q: error %q quotes the id", id, err)
				}
			}
		})
		// Only what PostgreSQL cannot hold is refused here; other control
		// characters are the handlers' to refuse.
		t.Run("other control characters are stored as they are", func(t *testing.T) {
			nh := newHistory(1000)
			nh.Source.Table = "tab\there\x01\x7f"
			if err := s.CreateHistory(ctx, nh); err != nil {
				t.Fatalf("CreateHistory: %v", err)
			}
			got, err := s.HistoryBySource(ctx, nh.Source)
			if err != nil || got.ID != nh.ID {
				t.Errorf("HistoryBySource(%q) = %v, %v; want %s", nh.Source.Table, got, err, nh.ID)
			}
		})
	})
}

func TestLookupsOfUnstorableTextFindNothing(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, _ *testClock) {
		h := createHistory(t, s, 1000)
		r := createReservation(t, s)
		for _, bad := range unstorableTexts {
			t.Run(bad.name, func(t *testing.T) {
				src := h.Source
				src.Schema = bad.v
				_, err := s.HistoryBySource(ctx, src)
				wantErr(t, "HistoryBySource", err, ErrNotFound)
				_, err = s.HistoryByVendor(ctx, h.Vendor.Code, bad.v)
				wantErr(t, "HistoryByVendor", err, ErrNotFound)
				rsrc := r.Source
				rsrc.ID = bad.v
				_, err = s.ReservationBySource(ctx, rsrc)
				wantErr(t, "ReservationBySource", err, ErrNotFound)
				_, err = s.ReservationByVendor(ctx, bad.v, r.Vendor.UID)
				wantErr(t, "ReservationByVendor", err, ErrNotFound)
				if got, err := s.PendingWebhooks(ctx, "iamport", bad.v); err != nil || len(got) != 0 {
					t.Errorf("PendingWebhooks = %v, %v; want none", got, err)
				}
			})
		}
		for _, id := range malformedIDs() {
			_, err := s.History(ctx, id)
			wantErr(t, "History("+id+")", err, ErrNotFound)
			_, err = s.Reservation(ctx, id)
			wantErr(t, "Reservation("+id+")", err, ErrNotFound)
			err = s.WithHistoryLocked(ctx, id, func(*Tx, *History) error { return nil })
			wantErr(t, "WithHistoryLocked("+id+")", err, ErrNotFound)
			_, err = s.Webhook(ctx, id)
			wantErr(t, "Webhook("+id+")", err, ErrNotFound)
		}
		// An upper-case canonical id is a valid id (PostgreSQL's uuid
		// compares it equal).
		if !validID(strings.ToUpper(h.ID)) {
			t.Errorf("validID(%q) = false", strings.ToUpper(h.ID))
		}
	})
}

// TestNewIDDoesNotQuoteTheID: an id newID refuses may be a client's; its
// error, which reaches logs and job records, says what is wrong without
// any of the id's bytes.
func TestNewIDDoesNotQuoteTheID(t *testing.T) {
	const marker = "zqxjvEcho"
	tests := []struct{ name, id, has string }{
		{"NUL", marker + "\x00", "control character"},
		{"invalid UTF-8", marker + "\xff\xfe", "invalid UTF-8"},
		{"quote", marker + `"`, "outside that set"},
		{"newline", marker + "\nlevel=ERROR msg=forged", "control character"},
		{"1 MB", marker + strings.Repeat("a", 1<<20), "characters"},
		{"near miss", "urn:uuid:" + marker, "outside that set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := newID(tt.id)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("newID(%.40q) = %q, %v; want ErrInvalid", tt.id, got, err)
			}
			if msg := err.Error(); strings.Contains(msg, marker) || len(msg) > 200 || !strings.Contains(msg, tt.has) {
				t.Errorf("newID(%.40q) error = %q; want a short one with %q, without the id", tt.id, msg, tt.has)
			}
		})
	}
}
