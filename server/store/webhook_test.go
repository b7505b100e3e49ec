package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/migrations"
)

func TestWebhookAttempts(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		h := createHistory(t, s, 19900)
		w := &Webhook{
			HistoryID: h.ID,
			Previous:  `{"paid_at":null}`,
			Current:   `{"paid_at":"2026-11-24T09:30:00Z"}`,
			Data:      `{"eventType":"PAYMENT_STATUS_CHANGED"}`,
		}
		if err := s.CreateWebhook(ctx, w); err != nil {
			t.Fatalf("CreateWebhook: %v", err)
		}
		got, err := s.Webhook(ctx, w.ID)
		if err != nil {
			t.Fatalf("Webhook: %v", err)
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("webhook mismatch (-want +got):\n%s", diff)
		}

		// Three delivery attempts: a network failure, a 500, then a 200.
		attempts := []WebhookResponse{
			{Error: "dial tcp 127.0.0.1:1: connection refused"},
			{Status: 500, Body: "oops"},
			{Status: 200, Body: ""},
		}
		for i := range attempts {
			clock.Advance(time.Second)
			attempts[i].WebhookID = w.ID
			if err := s.AddWebhookResponse(ctx, &attempts[i]); err != nil {
				t.Fatalf("AddWebhookResponse %d: %v", i, err)
			}
		}
		responses, err := s.WebhookResponses(ctx, w.ID)
		if err != nil {
			t.Fatalf("WebhookResponses: %v", err)
		}
		if diff := cmp.Diff(attempts, responses); diff != "" {
			t.Errorf("attempts, oldest first (-want +got):\n%s", diff)
		}

		// A failed attempt stores neither status nor body.
		var status, body *string
		err = s.SQLDB().QueryRowContext(ctx,
			"SELECT CAST(status AS TEXT), body FROM payment_history_webhook_responses WHERE id = "+placeholder(s),
			attempts[0].ID).Scan(&status, &body)
		if err != nil || status != nil || body != nil {
			t.Errorf("network failure row: status %v body %v err %v; want NULL, NULL", status, body, err)
		}

		second := &Webhook{HistoryID: h.ID, Previous: "{}", Current: "{}", Data: "{}"}
		if err := s.CreateWebhook(ctx, second); err != nil {
			t.Fatalf("CreateWebhook: %v", err)
		}
		list, err := s.HistoryWebhooks(ctx, h.ID)
		if err != nil {
			t.Fatalf("HistoryWebhooks: %v", err)
		}
		if diff := cmp.Diff([]Webhook{*w, *second}, list); diff != "" {
			t.Errorf("HistoryWebhooks (-want +got):\n%s", diff)
		}

		wantErr(t, "webhook of unknown history",
			s.CreateWebhook(ctx, &Webhook{HistoryID: uuid.NewString()}), ErrNotFound)
		wantErr(t, "response to unknown webhook",
			s.AddWebhookResponse(ctx, &WebhookResponse{WebhookID: uuid.NewString(), Status: 200}), ErrNotFound)
		_, err = s.Webhook(ctx, uuid.NewString())
		wantErr(t, "unknown webhook", err, ErrNotFound)
	})
}

func TestPendingWebhooks(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		keep := func(uid, data string, at time.Time) *PendingWebhook {
			t.Helper()
			p := &PendingWebhook{VendorCode: "iamport", VendorUID: uid, Data: data, ReceivedAt: at}
			if err := s.KeepPendingWebhook(ctx, p); err != nil {
				t.Fatalf("KeepPendingWebhook(%s, %s): %v", uid, data, err)
			}
			return p
		}
		list := func(code, uid string) []PendingWebhook {
			t.Helper()
			got, err := s.PendingWebhooks(ctx, code, uid)
			if err != nil {
				t.Fatalf("PendingWebhooks: %v", err)
			}
			return got
		}
		count := func() int64 {
			t.Helper()
			n, err := s.CountPendingWebhooks(ctx)
			if err != nil {
				t.Fatalf("CountPendingWebhooks: %v", err)
			}
			return n
		}
		t0 := clock.Now()
		a1 := keep("imp_a", "v1.k1.a1", time.Time{})
		keep("imp_b", "v1.k1.b1", t0.Add(time.Second))
		a3 := keep("imp_a", "v1.k1.a3", t0.Add(3*time.Second))
		if a3.ID != a1.ID || a3.Data != "v1.k1.a3" || !a3.ReceivedAt.Equal(stamp(t0.Add(3*time.Second))) {
			t.Errorf("a later webhook kept as %+v, want a1's row (%s) with a3's body and time", a3, a1.ID)
		}
		// Older than the kept one (jobs run out of order): dropped.
		if got := keep("imp_a", "v1.k1.a2", t0.Add(2*time.Second)); *got != *a3 {
			t.Errorf("an earlier webhook kept as %+v, want the later one %+v", got, a3)
		}
		if diff := cmp.Diff([]PendingWebhook{*a3}, list("iamport", "imp_a")); diff != "" {
			t.Errorf("pending for imp_a (-want +got):\n%s", diff)
		}
		if got := list("toss.payments", "imp_a"); len(got) != 0 {
			t.Errorf("pending for another vendor code = %v, want none", got)
		}
		if n := count(); n != 2 {
			t.Errorf("CountPendingWebhooks = %d, want 2", n)
		}

		if err := s.MarkPendingWebhookApplied(ctx, a3.ID); err != nil {
			t.Fatalf("MarkPendingWebhookApplied: %v", err)
		}
		if got := list("iamport", "imp_a"); len(got) != 0 {
			t.Errorf("pending after applying a3 = %v, want none", got)
		}
		wantErr(t, "applying twice", s.MarkPendingWebhookApplied(ctx, a3.ID), ErrConflict)
		wantErr(t, "unknown id", s.MarkPendingWebhookApplied(ctx, uuid.NewString()), ErrNotFound)
		// An applied row does not block a new one.
		a4 := keep("imp_a", "v1.k1.a4", t0.Add(4*time.Second))
		if a4.ID == a3.ID {
			t.Errorf("a webhook after the applied one reused its row %s", a3.ID)
		}
		if n := count(); n != 2 {
			t.Errorf("CountPendingWebhooks = %d, want 2 (a4, b1)", n)
		}

		// Seven days on, everything but a fresh one expires.
		clock.Advance(DefaultPendingWebhookTTL + 5*time.Second)
		fresh := keep("imp_c", "v1.k1.c1", time.Time{})
		n, err := s.ExpirePendingWebhooks(ctx, DefaultPendingWebhookTTL)
		if err != nil || n != 3 {
			t.Errorf("ExpirePendingWebhooks = %d, %v; want 3 (a3 applied, a4, b1), nil", n, err)
		}
		if diff := cmp.Diff([]PendingWebhook{*fresh}, list("iamport", "imp_c")); diff != "" {
			t.Errorf("pending for imp_c after the expiry (-want +got):\n%s", diff)
		}
		if n := count(); n != 1 {
			t.Errorf("CountPendingWebhooks after the expiry = %d, want 1", n)
		}
	})
}

func TestHasHistoryForOrder(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, _ *testClock) {
		h := createHistory(t, s, 19900)
		for _, tc := range []struct {
			code, order string
			want        bool
		}{
			{h.Vendor.Code, h.Source.ID, true},
			{h.Vendor.Code, uuid.NewString(), false},
			{"iamport", h.Source.ID, false},
		} {
			got, err := s.HasHistoryForOrder(ctx, tc.code, tc.order)
			if err != nil || got != tc.want {
				t.Errorf("HasHistoryForOrder(%s, %s) = %v, %v; want %v, nil", tc.code, tc.order, got, err, tc.want)
			}
		}
	})
}

// placeholder returns the first bind parameter in the store's dialect.
func placeholder(s *Store) string {
	if s.Dialect() == "postgres" {
		return "$1"
	}
	return "?"
}

// TestLockVendorPayment: a second transaction locking the same payment
// waits for the first to end; another payment does not.
func TestLockVendorPayment(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, _ *testClock) {
		if s.Dialect() != migrations.Postgres {
			t.Skip("on SQLite the write transaction is the lock")
		}
		held := make(chan struct{})
		release := make(chan struct{})
		first := make(chan error, 1)
		go func() {
			first <- s.InTx(ctx, func(tx *Tx) error {
				if err := tx.LockVendorPayment(ctx, "iamport", "imp_1"); err != nil {
					return err
				}
				close(held)
				<-release
				return nil
			})
		}()
		<-held
		if err := s.InTx(ctx, func(tx *Tx) error { return tx.LockVendorPayment(ctx, "iamport", "imp_2") }); err != nil {
			t.Fatalf("another payment: %v", err)
		}
		second := make(chan error, 1)
		go func() {
			second <- s.InTx(ctx, func(tx *Tx) error { return tx.LockVendorPayment(ctx, "iamport", "imp_1") })
		}()
		select {
		case err := <-second:
			t.Fatalf("the same payment was locked twice at once (err %v)", err)
		case <-time.After(200 * time.Millisecond):
		}
		close(release)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		if err := <-second; err != nil {
			t.Fatalf("after the first ended: %v", err)
		}
	})
}

func TestApplyPendingWebhooks(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		t0 := clock.Now()
		var kept []PendingWebhook
		for i, uid := range []string{"imp_b", "order:o-1", "imp_a"} {
			p := &PendingWebhook{VendorCode: "iamport", VendorUID: uid, Data: "v1.k1." + uid, ReceivedAt: t0.Add(time.Duration(3-i) * time.Second)}
			if err := s.KeepPendingWebhook(ctx, p); err != nil {
				t.Fatalf("KeepPendingWebhook(%s): %v", uid, err)
			}
			kept = append(kept, *p)
		}
		clock.Advance(time.Minute)
		tests := []struct {
			name, code, uid string
			want            []PendingWebhook
		}{
			{"kept", "iamport", "imp_a", []PendingWebhook{kept[2]}},
			{"applied already", "iamport", "imp_a", []PendingWebhook{}},
			{"another code", "toss.payments", "imp_b", []PendingWebhook{}},
			{"order key", "iamport", "order:o-1", []PendingWebhook{kept[1]}},
			{"unstorable uid", "iamport", "imp_\x00", nil},
		}
		for _, tt := range tests {
			var got []PendingWebhook
			err := s.InTx(ctx, func(tx *Tx) error {
				var err error
				got, err = tx.ApplyPendingWebhooks(ctx, tt.code, tt.uid)
				return err
			})
			if err != nil {
				t.Fatalf("%s: ApplyPendingWebhooks(%s, %q): %v", tt.name, tt.code, tt.uid, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s: ApplyPendingWebhooks(%s, %q) (-want +got):\n%s", tt.name, tt.code, tt.uid, diff)
			}
		}
		// The applied ones are no longer pending; the other one is.
		left, err := s.PendingWebhooks(ctx, "iamport", "imp_b")
		if err != nil || len(left) != 1 || left[0].ID != kept[0].ID {
			t.Errorf("PendingWebhooks(imp_b) = %v, %v; want %s only", left, err, kept[0].ID)
		}
		if n, err := s.CountPendingWebhooks(ctx); err != nil || n != 1 {
			t.Errorf("CountPendingWebhooks = %d, %v; want 1", n, err)
		}
	})
}

func TestApplyPendingWebhooksConcurrently(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, _ *testClock) {
		if s.Dialect() != migrations.Postgres {
			t.Skip("on SQLite the write transactions run one at a time")
		}
		p := &PendingWebhook{VendorCode: "iamport", VendorUID: "imp_1", Data: "v1.k1.x"}
		if err := s.KeepPendingWebhook(ctx, p); err != nil {
			t.Fatal(err)
		}
		// The first applies the row and holds it until released; the
		// second waits on the row's lock and then finds it applied.
		applied := make(chan struct{})
		release := make(chan struct{})
		first := make(chan int, 1)
		go func() {
			var n int
			err := s.InTx(ctx, func(tx *Tx) error {
				got, err := tx.ApplyPendingWebhooks(ctx, "iamport", "imp_1")
				n = len(got)
				close(applied)
				<-release
				return err
			})
			if err != nil {
				t.Error(err)
			}
			first <- n
		}()
		<-applied
		second := make(chan int, 1)
		go func() {
			var n int
			err := s.InTx(ctx, func(tx *Tx) error {
				got, err := tx.ApplyPendingWebhooks(ctx, "iamport", "imp_1")
				n = len(got)
				return err
			})
			if err != nil {
				t.Error(err)
			}
			second <- n
		}()
		close(release)
		if a, b := <-first, <-second; a != 1 || b != 0 {
			t.Errorf("concurrent ApplyPendingWebhooks got %d and %d rows, want 1 and 0", a, b)
		}
	})
}

// TestRecordWebhook: the event and its audit event are stored together,
// or neither is.
func TestRecordWebhook(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, _ *testClock) {
		h := createHistory(t, s, 19900)
		taken := &AuditEvent{HistoryID: h.ID, Service: h.Source.Service, Event: "reconciled", VendorCode: h.Vendor.Code, Data: "v1.k1.taken"}
		if err := s.AddAuditEvent(ctx, taken); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name      string
			historyID string
			audit     *AuditEvent
			wantErr   error
		}{
			{name: "with audit", historyID: h.ID, audit: &AuditEvent{Service: h.Source.Service, Event: "reconciled", VendorCode: h.Vendor.Code, Data: "v1.k1.audit"}},
			{name: "without audit", historyID: h.ID},
			{name: "audit id taken", historyID: h.ID, audit: &AuditEvent{ID: taken.ID, Event: "reconciled", Data: "v1.k1.again"}, wantErr: ErrConflict},
			{name: "unknown history", historyID: uuid.NewString(), wantErr: ErrNotFound},
			{name: "unknown history with audit", historyID: uuid.NewString(), audit: &AuditEvent{Event: "reconciled", Data: "v1.k1.lost"}, wantErr: ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if tt.audit != nil && tt.audit.HistoryID == "" {
					tt.audit.HistoryID = h.ID
				}
				before, err := s.AuditTrail(ctx, h.ID)
				if err != nil {
					t.Fatal(err)
				}
				w := &Webhook{HistoryID: tt.historyID, Previous: "v1.k1.prev", Current: "v1.k1.cur", Data: "v1.k1.data"}
				err = s.InTx(ctx, func(tx *Tx) error { return tx.RecordWebhook(ctx, w, tt.audit) })
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("RecordWebhook() error = %v, want %v", err, tt.wantErr)
				}
				trail, terr := s.AuditTrail(ctx, h.ID)
				if terr != nil {
					t.Fatal(terr)
				}
				if tt.wantErr != nil {
					if len(trail) != len(before) {
						t.Errorf("audit events after a failed RecordWebhook = %d, want %d", len(trail), len(before))
					}
					return
				}
				got, err := s.Webhook(ctx, w.ID)
				if err != nil {
					t.Fatalf("Webhook(%s): %v", w.ID, err)
				}
				if diff := cmp.Diff(w, got); diff != "" {
					t.Errorf("stored webhook (-want +got):\n%s", diff)
				}
				wantAudit := len(before)
				if tt.audit != nil {
					wantAudit++
					i := slices.IndexFunc(trail, func(e AuditEvent) bool { return e.ID == tt.audit.ID })
					if i < 0 || trail[i].Data != tt.audit.Data || !trail[i].CreatedAt.Equal(tt.audit.CreatedAt) {
						t.Errorf("audit trail = %+v, want it to hold %+v", trail, tt.audit)
					}
				}
				if len(trail) != wantAudit {
					t.Errorf("audit events = %d, want %d", len(trail), wantAudit)
				}
			})
		}
	})
}
