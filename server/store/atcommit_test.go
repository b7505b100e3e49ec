package store

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/paymentctl/paymentctl/migrations"
)

// TestAtCommit checks the statements a transaction holds for its COMMIT
// (AtCommit): on PostgreSQL they are not run before the commit, run with
// it, are dropped by a rollback, and a failing one fails the commit,
// leaving nothing of the transaction and a usable pool; outside a
// transaction, and on SQLite, they run at once.
func TestAtCommit(t *testing.T) {
	ctx := context.Background()
	forEachDSN(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		db := s.SQLDB()
		pg := s.Dialect() == migrations.Postgres
		if _, err := db.ExecContext(ctx, `CREATE TABLE at_commit (n integer PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		count := func(q interface {
			QueryRowContext(context.Context, string, ...any) *sql.Row
		}, n int) int {
			t.Helper()
			var c int
			if err := q.QueryRowContext(ctx, `SELECT count(*) FROM at_commit WHERE n = $1`, n).Scan(&c); err != nil {
				t.Fatal(err)
			}
			return c
		}
		inTx := func(fn func(tx *sql.Tx) error) error {
			t.Helper()
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := fn(tx); err != nil {
				tx.Rollback()
				return err
			}
			return tx.Commit()
		}

		t.Run("held until the commit", func(t *testing.T) {
			err := inTx(func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, AtCommit+`INSERT INTO at_commit VALUES (1)`); err != nil {
					return err
				}
				if got, want := count(tx, 1), map[bool]int{true: 0, false: 1}[pg]; got != want {
					t.Errorf("inside the transaction: %d rows, want %d", got, want)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("commit: %v", err)
			}
			if got := count(db, 1); got != 1 {
				t.Errorf("after the commit: %d rows, want 1", got)
			}
		})

		t.Run("dropped by a rollback", func(t *testing.T) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, AtCommit+`INSERT INTO at_commit VALUES (2)`); err != nil {
				t.Fatal(err)
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			// The next transaction on the same connection holds nothing
			// of it.
			if err := inTx(func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO at_commit VALUES (3)`)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if count(db, 2) != 0 || count(db, 3) != 1 {
				t.Errorf("rows 2, 3 = %d, %d; want 0, 1", count(db, 2), count(db, 3))
			}
		})

		t.Run("a failing one fails the commit", func(t *testing.T) {
			// The next statements get the same connection, or a new one.
			defer db.SetMaxOpenConns(db.Stats().MaxOpenConnections)
			db.SetMaxOpenConns(1)
			err := inTx(func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO at_commit VALUES (4)`); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, AtCommit+`INSERT INTO at_commit VALUES (1)`) // a duplicate key
				return err
			})
			if err == nil {
				t.Fatal("the commit of a transaction whose held statement fails succeeded")
			}
			if got := count(db, 4); got != 0 {
				t.Errorf("the failed transaction's own row was kept (%d rows)", got)
			}
			if err := inTx(func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO at_commit VALUES (5)`)
				return err
			}); err != nil || count(db, 5) != 1 {
				t.Errorf("the pool after a failed commit: %v, %d rows", err, count(db, 5))
			}
		})

		t.Run("an aborted transaction does not commit", func(t *testing.T) {
			if !pg {
				t.Skip("SQLite does not abort a transaction on a failed statement")
			}
			err := inTx(func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO at_commit VALUES (6)`); err != nil {
					return err
				}
				_, _ = tx.ExecContext(ctx, `INSERT INTO at_commit VALUES (1)`) // fails; ignored
				_, err := tx.ExecContext(ctx, AtCommit+`INSERT INTO at_commit VALUES (7)`)
				return err
			})
			if err == nil {
				t.Error("an aborted transaction committed")
			}
			if count(db, 6)+count(db, 7) != 0 {
				t.Error("rows of an aborted transaction were kept")
			}
		})

		t.Run("outside a transaction it runs at once", func(t *testing.T) {
			if _, err := db.ExecContext(ctx, AtCommit+`INSERT INTO at_commit VALUES (8)`); err != nil {
				t.Fatal(err)
			}
			if got := count(db, 8); got != 1 {
				t.Errorf("%d rows, want 1", got)
			}
		})

		t.Run("a failed held statement's error", func(t *testing.T) {
			err := inTx(func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, AtCommit+`INSERT INTO at_commit VALUES (1)`)
				return err
			})
			if err == nil || errors.Is(err, sql.ErrTxDone) {
				t.Errorf("commit = %v, want the duplicate key's error", err)
			}
		})
	})
}
