package payment

import (
	"bytes"
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/internal/pgschema"
	"github.com/paymentctl/paymentctl/server/seal"
	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// replayingToss is a TossAPI whose Cancel succeeds every time, as Toss
// answers a cancel sent again with the same Idempotency-Key by replaying
// the first answer.
type replayingToss struct {
	TossAPI
	cancels atomic.Int64
}

func (r *replayingToss) Cancel(_ context.Context, paymentKey string, _ toss.CancelRequest) (*toss.Payment, error) {
	r.cancels.Add(1)
	return &toss.Payment{PaymentKey: paymentKey, Status: toss.StatusCanceled}, nil
}

// TestCancelCaptureOnce: the registration's own compensation and the
// reconciler's retry, holding the same operation as read before either
// ran, cancel an orphaned capture once between them: the second finds the
// operation compensated under the payment's lock and neither asks the PG
// again nor adds a second "cancelled" event to the audit trail.
func TestCancelCaptureOnce(t *testing.T) {
	eachDatabase(t, cancelCaptureOnce)
}

// eachDatabase runs fn on a fresh SQLite database, and on a PostgreSQL
// schema of its own when PAYMENTCTL_TEST_POSTGRES_DSN is set.
func eachDatabase(t *testing.T, fn func(t *testing.T, dsn string)) {
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
		t.Run(name, func(t *testing.T) { fn(t, dsn(t)) })
	}
}

// compensateService returns a service on a migrated database at dsn whose
// Toss cancels always succeed, with its store and that Toss.
func compensateService(t *testing.T, dsn string) (*Service, *store.Store, *replayingToss) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	key := seal.Key{ID: "test", Secret: bytes.Repeat([]byte{7}, seal.KeySize)}
	ring := func(purpose string) *seal.Keyring {
		r, err := seal.NewKeyring(purpose, key)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	hasher, err := seal.NewHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	wire, err := wirecrypt.New("0123456789abcdef0123456789abcdef", "0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	pg := &replayingToss{}
	s, err := New(Options{
		Store: st, Iamport: struct{ IamportAPI }{}, Toss: pg, Wire: wire,
		Keys: Keys{History: ring("history"), Reservation: ring("reservation"), Cancel: ring("cancel"),
			Webhook: ring("webhook"), Audit: ring("audit"), Passwords: hasher},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, st, pg
}

func cancelCaptureOnce(t *testing.T, dsn string) {
	ctx := context.Background()
	s, st, pg := compensateService(t, dsn)
	o := &store.Operation{Kind: store.OpConfirm, State: store.OpCompensate,
		Vendor: store.Vendor{Code: "toss.payments", StoreID: "tosspayments", UID: "pk_orphan"}, Amount: 7000}
	if err := st.CreateOperation(ctx, o); err != nil {
		t.Fatal(err)
	}
	stale := *o
	for i, caller := range []string{"registration", "reconciler"} {
		op := stale
		cancelled, err := s.cancelCapture(ctx, &op)
		if err != nil {
			t.Fatalf("%s: %v", caller, err)
		}
		if want := i == 0; cancelled != want {
			t.Errorf("%s: cancelled = %v, want %v", caller, cancelled, want)
		}
	}
	if n := pg.cancels.Load(); n != 1 {
		t.Errorf("the PG was asked to cancel %d times, want 1", n)
	}
	var audited int
	if err := st.SQLDB().QueryRowContext(ctx, "SELECT count(*) FROM payment_audit_events WHERE event = 'cancelled'").Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if audited != 1 {
		t.Errorf("%d cancelled events in the audit trail, want 1", audited)
	}
}

// TestRefusedTwiceCancelledOnce: two refusals of the same Toss payment
// for its amount at once, each with an operation of its own (neither saw
// the other's), cancel it once between them: the second finds the first
// compensated under the payment's lock, asks the PG nothing (a new
// Idempotency-Key would have it cancel again, or answer as if it had),
// and is not audited again.
func TestRefusedTwiceCancelledOnce(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, st, pg := compensateService(t, dsn)
		vendor := store.Vendor{Code: "toss.payments", StoreID: "tosspayments", UID: "pk_refused"}
		var ops []*store.Operation
		for range 2 {
			o := &store.Operation{Kind: store.OpConfirm, State: store.OpCompensate, Vendor: vendor,
				PGKey: refusedKeyPrefix + vendor.UID, Amount: 7000}
			if err := st.CreateOperation(ctx, o); err != nil {
				t.Fatal(err)
			}
			ops = append(ops, o)
		}
		for i, o := range ops {
			cancelled, err := s.cancelCapture(ctx, o)
			if err != nil {
				t.Fatalf("operation %d: %v", i, err)
			}
			if want := i == 0; cancelled != want {
				t.Errorf("operation %d: cancelled = %v, want %v", i, cancelled, want)
			}
			if cur, err := st.OperationOfID(ctx, o.ID); err != nil || cur.State != store.OpCompensated {
				t.Errorf("operation %d after its cancel: %+v, %v; want compensated", i, cur, err)
			}
		}
		if n := pg.cancels.Load(); n != 1 {
			t.Errorf("the PG was asked to cancel %d times, want 1", n)
		}
		var audited int
		if err := st.SQLDB().QueryRowContext(ctx, "SELECT count(*) FROM payment_audit_events WHERE event = 'cancelled'").Scan(&audited); err != nil {
			t.Fatal(err)
		}
		if audited != 1 {
			t.Errorf("%d cancelled events in the audit trail, want 1", audited)
		}
	})
}
