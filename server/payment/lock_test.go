package payment

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/internal/pgschema"
	"github.com/paymentctl/paymentctl/server/store"
)

// TestLockAsRead: the history lockAsRead returns is the one stored when
// the lock is taken, cancels included, whether or not it was written
// after the caller's read.
func TestLockAsRead(t *testing.T) {
	dsns := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "payments.db") },
	}
	if base := pgschema.TestDSN(); base != "" {
		dsns["postgres"] = func(t *testing.T) string { return pgschema.ForTest(t, base, "t_payment_") }
	}
	for _, name := range []string{"sqlite", "postgres"} {
		dsn, ok := dsns[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) { lockAsReadOn(t, dsn(t)) })
	}
}

func lockAsReadOn(t *testing.T, dsn string) {
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	seq := func(i int) *int { return &i }
	tests := []struct {
		name string
		// write changes the history after the caller's read, as apply
		// does (a fresh seal of its data, cancels with it); nil: nothing.
		write func(t *testing.T, id string)
	}{
		{name: "unchanged"},
		{name: "written after the read", write: func(t *testing.T, id string) {
			err := st.InTx(ctx, func(tx *store.Tx) error {
				at := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
				if _, err := tx.AddCancels(ctx, id, []store.Cancel{{Amount: 500, Reason: "customer", Data: "v1.k1.c", CreatedAt: at, Sequence: seq(0)}}); err != nil {
					return err
				}
				_, err := tx.UpdateAndReadHistory(ctx, id, store.HistoryUpdate{Currency: "KRW", Price: 1000, Refund: 500, CancelledAt: &at, Data: "v1.k1.resealed"})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &store.History{
				Source:   store.Source{Schema: "s", Table: "t", ID: fmt.Sprint("order-", i)},
				Vendor:   store.Vendor{Code: "toss.payments", UID: uuid.NewString()},
				Currency: "KRW", Price: 1000, Data: "v1.k1.data", Password: "x",
			}
			if err := st.CreateHistory(ctx, h); err != nil {
				t.Fatal(err)
			}
			read, err := st.History(ctx, h.ID)
			if err != nil {
				t.Fatal(err)
			}
			if tt.write != nil {
				tt.write(t, h.ID)
			}
			var locked *store.History
			err = st.InTx(ctx, func(tx *store.Tx) error {
				var err error
				locked, err = lockAsRead(ctx, tx, read)
				return err
			})
			if err != nil {
				t.Fatalf("lockAsRead: %v", err)
			}
			stored, err := st.History(ctx, h.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(stored, locked); diff != "" {
				t.Errorf("lockAsRead() differs from the stored history (-stored +locked):\n%s", diff)
			}
		})
	}
}
