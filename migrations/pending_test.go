package migrations

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// TestPendingWebhooksDeduplicated: version 7 keeps the latest unapplied
// pending webhook of each payment, leaves applied ones alone, and refuses
// a second unapplied one afterwards.
func TestPendingWebhooksDeduplicated(t *testing.T) {
	ctx := context.Background()
	for _, tdb := range testDBs(t) {
		t.Run(tdb.dialect, func(t *testing.T) {
			db, dialect := tdb.db, tdb.dialect
			p, err := newProvider(ctx, db, dialect)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(ctx, 6); err != nil {
				t.Fatalf("migrate up to 6: %v", err)
			}
			arg := func(i int) string {
				if dialect == Postgres {
					return "$" + string(rune('0'+i))
				}
				return "?"
			}
			insert := "INSERT INTO payment_pending_webhooks (id, vendor_code, vendor_uid, data, received_at, applied_at) VALUES (" +
				arg(1) + ", " + arg(2) + ", " + arg(3) + ", " + arg(4) + ", " + arg(5) + ", " + arg(6) + ")"
			base := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
			rows := []struct {
				uid, data string
				at        time.Duration
				applied   bool
			}{
				{"imp_a", "a-applied", 0, true},
				{"imp_a", "a-1", time.Second, false},
				{"imp_a", "a-3", 3 * time.Second, false},
				{"imp_a", "a-2", 2500 * time.Millisecond, false},
				{"imp_b", "b-1", time.Second, false},
			}
			for _, r := range rows {
				var applied any
				if r.applied {
					applied = base
				}
				if _, err := db.ExecContext(ctx, insert, uuid.NewString(), "iamport", r.uid, r.data, base.Add(r.at), applied); err != nil {
					t.Fatalf("insert %s: %v", r.data, err)
				}
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatalf("migrate up: %v", err)
			}
			got := map[string]bool{}
			rs, err := db.QueryContext(ctx, "SELECT data, applied_at IS NULL FROM payment_pending_webhooks")
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			for rs.Next() {
				var data string
				var pending bool
				if err := rs.Scan(&data, &pending); err != nil {
					t.Fatal(err)
				}
				got[data] = pending
			}
			if err := rs.Err(); err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{"a-applied": false, "a-3": true, "b-1": true}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("rows after the migration, data → unapplied (-want +got):\n%s", diff)
			}
			if _, err := db.ExecContext(ctx, insert, uuid.NewString(), "iamport", "imp_b", "b-2", base, nil); err == nil {
				t.Error("a second unapplied row for imp_b was accepted")
			}
			if _, err := db.ExecContext(ctx, insert, uuid.NewString(), "iamport", "imp_b", "b-old", base, base); err != nil {
				t.Errorf("an applied row next to an unapplied one: %v", err)
			}
		})
	}
}
