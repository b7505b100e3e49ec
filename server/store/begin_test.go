package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/migrations"
)

// advisoryLocks counts the advisory locks of the database, granted or
// waited for.
func advisoryLocks(ctx context.Context, t *testing.T, s *Store, granted bool) int {
	t.Helper()
	var n int
	err := s.SQLDB().QueryRowContext(ctx,
		`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted = $1`, granted).Scan(&n)
	if err != nil {
		t.Fatalf("count advisory locks: %v", err)
	}
	return n
}

// lockFree reports whether the lock of LockVendorPayment for (code, uid)
// is free, trying it from a transaction of its own.
func lockFree(ctx context.Context, t *testing.T, s *Store, code, uid string) bool {
	t.Helper()
	tx, err := s.SQLDB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var free bool
	if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))`, code+" "+uid).Scan(&free); err != nil {
		t.Fatalf("try the lock: %v", err)
	}
	return free
}

func TestInLockedTx(t *testing.T) {
	ctx := context.Background()
	forEachDSN(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		pg := s.Dialect() == migrations.Postgres
		uid := "imp_" + time.Now().Format("150405.000000000")

		t.Run("runs fn holding the payment's lock", func(t *testing.T) {
			ran := false
			err := s.InLockedTx(ctx, "iamport", uid, func(tx *Tx) error {
				ran = true
				if pg && lockFree(ctx, t, s, "iamport", uid) {
					t.Error("the payment's lock is free inside InLockedTx")
				}
				return nil
			})
			if err != nil || !ran {
				t.Fatalf("InLockedTx = %v (fn ran: %v), want nil and fn run", err, ran)
			}
			if pg && !lockFree(ctx, t, s, "iamport", uid) {
				t.Error("the payment's lock is held after the transaction ended")
			}
		})

		t.Run("refuses an unstorable key", func(t *testing.T) {
			err := s.InLockedTx(ctx, "iamport", "imp_\x00", func(*Tx) error {
				t.Error("fn ran")
				return nil
			})
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("InLockedTx(NUL uid) = %v, want ErrInvalid", err)
			}
		})

		if !pg {
			return // on SQLite the write transaction is the lock
		}
		holder := openStore(t, dsn)
		hold := func(t *testing.T) (release func()) {
			t.Helper()
			held, done := make(chan struct{}), make(chan struct{})
			errc := make(chan error, 1)
			go func() {
				errc <- holder.InTx(ctx, func(tx *Tx) error {
					if err := tx.LockVendorPayment(ctx, "iamport", uid); err != nil {
						return err
					}
					close(held)
					<-done
					return nil
				})
			}()
			select {
			case <-held:
			case err := <-errc:
				t.Fatalf("hold the lock: %v", err)
			}
			return func() {
				close(done)
				if err := <-errc; err != nil {
					t.Errorf("holder: %v", err)
				}
			}
		}

		t.Run("waits for LockVendorPayment's holder", func(t *testing.T) {
			release := hold(t)
			errc := make(chan error, 1)
			go func() {
				errc <- s.InLockedTx(ctx, "iamport", uid, func(*Tx) error { return nil })
			}()
			for deadline := time.Now().Add(10 * time.Second); advisoryLocks(ctx, t, s, false) == 0; {
				if time.Now().After(deadline) {
					t.Fatal("InLockedTx never waited for the lock")
				}
				time.Sleep(5 * time.Millisecond)
			}
			select {
			case err := <-errc:
				t.Fatalf("InLockedTx ended while the lock was held: %v", err)
			default:
			}
			release()
			if err := <-errc; err != nil {
				t.Fatalf("InLockedTx after the release: %v", err)
			}
		})

		t.Run("a begin that fails leaves no connection in a transaction", func(t *testing.T) {
			s.SQLDB().SetMaxOpenConns(1)
			defer s.SQLDB().SetMaxOpenConns(20)
			release := hold(t)
			defer release()
			cctx, cancel := context.WithCancel(ctx)
			errc := make(chan error, 1)
			go func() {
				errc <- s.InLockedTx(cctx, "iamport", uid, func(*Tx) error {
					t.Error("fn ran without the lock")
					return nil
				})
			}()
			for deadline := time.Now().Add(10 * time.Second); advisoryLocks(ctx, t, holder, false) == 0; {
				if time.Now().After(deadline) {
					t.Fatal("InLockedTx never waited for the lock")
				}
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
			if err := <-errc; err == nil {
				t.Fatal("InLockedTx with its context cancelled while waiting = nil, want an error")
			}
			// The pool's one connection answers (a connection left in
			// the failed transaction would refuse every statement) and
			// holds no lock.
			var held int
			err := s.SQLDB().QueryRowContext(ctx,
				`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`).Scan(&held)
			if err != nil {
				t.Fatalf("query after the failed begin: %v", err)
			}
			if held != 0 {
				t.Errorf("the connection holds %d advisory locks after the failed begin, want 0", held)
			}
		})
	})
}
