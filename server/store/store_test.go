package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/internal/pgschema"
	"github.com/paymentctl/paymentctl/migrations"
)

// testClock is a settable clock. It starts off UTC and with nanoseconds so
// that the tests see the store normalise times.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	kst := time.FixedZone("KST", 9*60*60)
	return &testClock{now: time.Date(2026, 11, 24, 18, 30, 0, 123456789, kst)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// forEachDSN runs fn as one parallel subtest per database: a new SQLite
// file, and a new PostgreSQL schema when pgschema.EnvTestDSN is set.
func forEachDSN(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run(migrations.SQLite, func(t *testing.T) {
		t.Parallel()
		fn(t, "sqlite:"+filepath.Join(t.TempDir(), "payments.db"))
	})
	base := pgschema.TestDSN()
	if base == "" {
		return
	}
	t.Run(migrations.Postgres, func(t *testing.T) {
		t.Parallel()
		fn(t, pgschema.ForTest(t, base, "t_store_"))
	})
}

// forEachBackend runs fn on a fresh, migrated store per database.
func forEachBackend(t *testing.T, fn func(t *testing.T, s *Store, clock *testClock)) {
	t.Helper()
	forEachDSN(t, func(t *testing.T, dsn string) {
		clock := newTestClock()
		s := openStore(t, dsn, WithClock(clock.Now))
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		fn(t, s, clock)
	})
}

func openStore(t *testing.T, dsn string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newHistory returns an unsaved Toss history with unique vendor and source
// keys.
func newHistory(price int64) *History {
	return &History{
		Vendor:     Vendor{Code: "toss.payments", StoreID: "test-store", UID: "pk_" + uuid.NewString()},
		Source:     Source{Schema: "shop", Table: "orders", ID: uuid.NewString()},
		Currency:   "KRW",
		Price:      price,
		WebhookURL: "http://127.0.0.1:37821/payments/internal/webhook",
		Data:       "v1.k1.sealed-payment",
		Password:   "$2a$10$hash",
	}
}

func createHistory(t *testing.T, s *Store, price int64) *History {
	t.Helper()
	h := newHistory(price)
	if err := s.CreateHistory(context.Background(), h); err != nil {
		t.Fatalf("CreateHistory: %v", err)
	}
	return h
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Errorf("%s: got error %v, want %v", what, got, want)
	}
}

func TestMigrateAndSchemaStatus(t *testing.T) {
	ctx := context.Background()
	forEachDSN(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		ok, err := s.SchemaUpToDate(ctx)
		if err != nil || ok {
			t.Fatalf("SchemaUpToDate on an empty database = %v, %v; want false, nil", ok, err)
		}
		if _, err := s.History(ctx, uuid.NewString()); err == nil || errors.Is(err, ErrNotFound) {
			t.Fatalf("History before Migrate: got %v, want a missing-table error", err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		if ok, err := s.SchemaUpToDate(ctx); err != nil || !ok {
			t.Fatalf("SchemaUpToDate after Migrate = %v, %v; want true, nil", ok, err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		current, latest, err := migrations.Status(ctx, s.SQLDB(), s.Dialect())
		if err != nil || current != latest || latest == 0 {
			t.Fatalf("migrations.Status = %d, %d, %v; want equal non-zero versions", current, latest, err)
		}
	})
}

func TestDialect(t *testing.T) {
	forEachDSN(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		if got, want := s.Dialect(), filepath.Base(t.Name()); got != want {
			t.Errorf("Dialect() = %q, want %q", got, want)
		}
	})
}

func TestInTx(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, s *Store, _ *testClock) {
		errRollback := errors.New("roll back")
		h := newHistory(1000)
		err := s.InTx(ctx, func(tx *Tx) error {
			if err := tx.CreateHistory(ctx, h); err != nil {
				return err
			}
			sqlTx := tx.SQLTx()
			if sqlTx == nil {
				t.Fatal("SQLTx() = nil")
			}
			// The raw transaction sees the uncommitted row: it is the same one.
			var n int
			if err := sqlTx.QueryRowContext(ctx, "SELECT count(*) FROM payment_histories").Scan(&n); err != nil {
				t.Fatalf("query through SQLTx: %v", err)
			}
			if n != 1 {
				t.Errorf("rows seen through SQLTx = %d, want 1", n)
			}
			return errRollback
		})
		if err != errRollback {
			t.Fatalf("InTx returned %v, want fn's error unchanged", err)
		}
		_, err = s.History(ctx, h.ID)
		wantErr(t, "History after rollback", err, ErrNotFound)

		h2 := newHistory(2000)
		if err := s.InTx(ctx, func(tx *Tx) error { return tx.CreateHistory(ctx, h2) }); err != nil {
			t.Fatalf("InTx: %v", err)
		}
		if _, err := s.History(ctx, h2.ID); err != nil {
			t.Fatalf("History after commit: %v", err)
		}
	})
}

func TestParseDSN(t *testing.T) {
	tests := []struct {
		name    string
		dsn     string
		dialect string
		want    string // expected driver DSN; "" skips the check
		memory  bool
		wantErr bool
	}{
		{name: "postgres", dsn: "postgres://u:p@127.0.0.1:5432/db?sslmode=disable", dialect: migrations.Postgres,
			want: "postgres://u:p@127.0.0.1:5432/db?sslmode=disable"},
		{name: "postgresql scheme", dsn: "postgresql://u@127.0.0.1/db", dialect: migrations.Postgres,
			want: "postgresql://u@127.0.0.1/db"},
		{name: "prisma schema becomes search_path", dsn: "postgres://u@127.0.0.1/db?schema=payments",
			dialect: migrations.Postgres, want: "postgres://u@127.0.0.1/db?search_path=payments"},
		{name: "explicit search_path wins", dsn: "postgres://u@127.0.0.1/db?schema=a&search_path=b",
			dialect: migrations.Postgres, want: "postgres://u@127.0.0.1/db?search_path=b"},
		{name: "sqlite prefix", dsn: "sqlite:/var/lib/paymentctl/payments.db", dialect: migrations.SQLite,
			want: "/var/lib/paymentctl/payments.db?_pragma=journal_mode%28WAL%29&_pragma=foreign_keys%281%29&_pragma=busy_timeout%2815000%29&_pragma=synchronous%28NORMAL%29&_txlock=immediate"},
		{name: "sqlite url form", dsn: "sqlite:///tmp/p.db", dialect: migrations.SQLite,
			want: "/tmp/p.db?_pragma=journal_mode%28WAL%29&_pragma=foreign_keys%281%29&_pragma=busy_timeout%2815000%29&_pragma=synchronous%28NORMAL%29&_txlock=immediate"},
		{name: "file uri keeps prefix", dsn: "file:payments.db", dialect: migrations.SQLite,
			want: "file:payments.db?_pragma=journal_mode%28WAL%29&_pragma=foreign_keys%281%29&_pragma=busy_timeout%2815000%29&_pragma=synchronous%28NORMAL%29&_txlock=immediate"},
		{name: "bare path", dsn: "data/payments.db", dialect: migrations.SQLite},
		{name: "bare sqlite3 path", dsn: "payments.sqlite3", dialect: migrations.SQLite},
		{name: "own pragma and txlock kept", dsn: "sqlite:p.db?_pragma=busy_timeout(1)&_txlock=exclusive", dialect: migrations.SQLite,
			want: "p.db?_pragma=busy_timeout%281%29&_pragma=journal_mode%28WAL%29&_pragma=foreign_keys%281%29&_pragma=synchronous%28NORMAL%29&_txlock=exclusive"},
		{name: "memory", dsn: "sqlite::memory:", dialect: migrations.SQLite, memory: true},
		{name: "memory uri", dsn: "file:x?mode=memory&cache=shared", dialect: migrations.SQLite, memory: true},
		{name: "empty", dsn: "", wantErr: true},
		{name: "mysql", dsn: "mysql://u@h/db", wantErr: true},
		{name: "no extension", dsn: "payments", wantErr: true},
		{name: "sqlite without path", dsn: "sqlite:", wantErr: true},
		{name: "time format refused", dsn: "sqlite:p.db?_time_format=sqlite", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDSN(tt.dsn)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseDSN(%q) = %+v, want an error", tt.dsn, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseDSN(%q): %v", tt.dsn, err)
			}
			if got.dialect != tt.dialect {
				t.Errorf("dialect = %q, want %q", got.dialect, tt.dialect)
			}
			if tt.want != "" && got.dsn != tt.want {
				t.Errorf("dsn = %q, want %q", got.dsn, tt.want)
			}
			if got.memory != tt.memory {
				t.Errorf("memory = %v, want %v", got.memory, tt.memory)
			}
		})
	}
}

func TestParseDSNErrorHidesPassword(t *testing.T) {
	_, err := parseDSN("mysql://user:s3cret@127.0.0.1/db")
	if err == nil {
		t.Fatal("want an error")
	}
	if got := err.Error(); strings.Contains(got, "s3cret") {
		t.Errorf("error %q repeats the password", got)
	}
}

func TestSQLitePragmasApplied(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, "sqlite:"+filepath.Join(t.TempDir(), "p.db"))
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "15000"},
	}
	for _, tt := range tests {
		var got string
		if err := s.SQLDB().QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
		}
		if got != tt.want {
			t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
		}
	}
}

func TestSQLiteFile(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"sqlite:/var/lib/paymentctl/payments.db", "/var/lib/paymentctl/payments.db"},
		{"sqlite:///tmp/p.db?_txlock=exclusive", "/tmp/p.db"},
		{"sqlite:p.db", "p.db"},
		{"data/payments.db", "data/payments.db"},
		{"file:payments.db", "payments.db"},
		{"file:my%20payments.db?cache=shared", "my payments.db"},
		{"file:///srv/p.db", "/srv/p.db"},
		{"file://localhost/srv/p.db", "/srv/p.db"},
		{"file://otherhost/srv/p.db", ""},
		{"file:p.db?mode=rwc", "p.db"},
		{"file:p.db?mode=ro", ""},
		{"file:p.db?mode=rw", ""},
		{"sqlite::memory:", ""},
		{"file:x?mode=memory&cache=shared", ""},
		{"postgres://u:p@127.0.0.1/db", ""},
	}
	for _, tt := range tests {
		got, err := parseDSN(tt.dsn)
		if err != nil {
			t.Fatalf("parseDSN(%q): %v", tt.dsn, err)
		}
		if got.file != tt.want {
			t.Errorf("parseDSN(%q).file = %q, want %q", tt.dsn, got.file, tt.want)
		}
	}
}

// TestSQLiteFilesPrivate checks that a new SQLite database and the files
// SQLite keeps beside it are readable by their owner only, and that an
// existing file keeps its mode.
func TestSQLiteFilesPrivate(t *testing.T) {
	dir := t.TempDir()
	for _, dsn := range []string{"sqlite:" + filepath.Join(dir, "a.db"), "file:" + filepath.Join(dir, "b.db")} {
		s := openStore(t, dsn)
		// Migrating writes, so the -wal and -shm files exist as well.
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		file := sqliteFile(strings.TrimPrefix(dsn, "sqlite:"))
		for _, name := range []string{file, file + "-wal", file + "-shm"} {
			fi, err := os.Stat(name)
			if err != nil {
				t.Fatalf("%s: %v", dsn, err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("%s: mode %v, want -rw-------", name, perm)
			}
		}
	}

	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(existing, 0o640); err != nil { // whatever the umask
		t.Fatal(err)
	}
	openStore(t, "sqlite:"+existing)
	if fi, err := os.Stat(existing); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("existing file: %v, %v; want its mode -rw-r----- kept", fi.Mode(), err)
	}

	if _, err := Open(context.Background(), "sqlite:"+filepath.Join(dir, "missing", "p.db")); err == nil || !strings.Contains(err.Error(), "create the sqlite database file") {
		t.Errorf("Open in a missing directory: %v, want the file's creation to fail", err)
	}
}

// TestExpectedErrorsNotLogged checks that a taken unique key reaches the
// caller as ErrConflict without a log line (so no SQL statement), while an
// unexpected error is still logged.
func TestExpectedErrorsNotLogged(t *testing.T) {
	forEachDSN(t, func(t *testing.T, dsn string) {
		var mu sync.Mutex
		var logs []string
		s := openStore(t, dsn, WithLogf(func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			logs = append(logs, fmt.Sprintf(format, args...))
		}))
		ctx := context.Background()
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		logged := func() string {
			mu.Lock()
			defer mu.Unlock()
			out := strings.Join(logs, "\n")
			logs = nil
			return out
		}
		logged() // whatever migrating said

		h := createHistory(t, s, 1000)
		again := newHistory(1000)
		again.Vendor = h.Vendor
		wantErr(t, "second history of one vendor payment", s.CreateHistory(ctx, again), ErrConflict)
		again = newHistory(1000)
		again.Source = h.Source
		wantErr(t, "second history of one source", s.CreateHistory(ctx, again), ErrConflict)
		_, err := s.History(ctx, uuid.NewString())
		wantErr(t, "unknown history", err, ErrNotFound)
		if out := logged(); out != "" {
			t.Errorf("expected errors were logged:\n%s", out)
		}

		if err := s.conn(ctx).Exec("SELECT * FROM no_such_table WHERE id = ?", "secret-argument").Error; err == nil {
			t.Fatal("querying a missing table succeeded")
		}
		out := logged()
		if !strings.Contains(out, "no_such_table") {
			t.Errorf("an unexpected error was not logged: %q", out)
		}
		if strings.Contains(out, "secret-argument") {
			t.Errorf("the log holds a query's argument: %q", out)
		}
	})
}
