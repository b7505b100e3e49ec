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
		t.Run(name, func(t *testing.T) { cancelCaptureOnce(t, dsn(t)) })
	}
}

func cancelCaptureOnce(t *testing.T, dsn string) {
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
