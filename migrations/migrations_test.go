package migrations

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	_ "github.com/glebarez/go-sqlite"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// postgresDSNEnv names the variable that enables the PostgreSQL runs; CI sets
// it, and without it only SQLite is tested.
const postgresDSNEnv = "PAYMENTCTL_TEST_POSTGRES_DSN"

// tables is every table the migrations create.
var tables = []string{
	"payment_reservations",
	"payment_histories",
	"payment_history_cancels",
	"payment_history_webhooks",
	"payment_history_webhook_responses",
	"payment_idempotency_keys",
	"payment_pending_webhooks",
	"payment_operations",
	"payment_throttle_counters",
}

type testDB struct {
	dialect string
	db      *sql.DB
}

// testDBs returns a fresh, empty SQLite database and, when PostgreSQL is
// configured, a connection whose search_path is a new schema dropped at the
// end of the test.
func testDBs(t *testing.T) []testDB {
	t.Helper()
	dbs := []testDB{{SQLite, openSQLite(t)}}
	if dsn := os.Getenv(postgresDSNEnv); dsn != "" {
		dbs = append(dbs, testDB{Postgres, openPostgres(t, dsn, true)})
	}
	return dbs
}

func openSQLite(t *testing.T) *sql.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "payments.db")
	db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openPostgres connects with search_path set to a random schema, which is
// created first when create is true.
func openPostgres(t *testing.T, dsn string, create bool) *sql.DB {
	t.Helper()
	ctx := context.Background()
	buf := make([]byte, 6)
	rand.Read(buf)
	schema := "t_migrations_" + hex.EncodeToString(buf)
	if create {
		admin, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Close() })
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatalf("create schema: %v", err)
		}
		t.Cleanup(func() {
			if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				t.Errorf("drop schema: %v", err)
			}
		})
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func versions(t *testing.T, dialect string) []int64 {
	t.Helper()
	names, err := fs.Glob(files, dialect+"/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, name := range names {
		prefix, _, ok := strings.Cut(filepath.Base(name), "_")
		if !ok {
			t.Fatalf("migration %s has no version prefix", name)
		}
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", name, err)
		}
		out = append(out, v)
	}
	return out
}

func TestDialectsShareVersions(t *testing.T) {
	pg, lite := versions(t, Postgres), versions(t, SQLite)
	if len(pg) == 0 {
		t.Fatal("no postgres migrations embedded")
	}
	if diff := cmp.Diff(pg, lite); diff != "" {
		t.Errorf("sqlite versions differ from postgres versions (-postgres +sqlite):\n%s", diff)
	}
	for i, v := range pg {
		if v != int64(i+1) {
			t.Errorf("postgres version %d at position %d, want consecutive versions from 1", v, i)
		}
	}
}

func TestApplyStatusReset(t *testing.T) {
	ctx := context.Background()
	for _, tdb := range testDBs(t) {
		t.Run(tdb.dialect, func(t *testing.T) {
			db, dialect := tdb.db, tdb.dialect
			want := versions(t, dialect)
			latest := want[len(want)-1]

			assertStatus(t, db, dialect, 0, latest)
			if exists, err := versionTableExists(ctx, db, dialect); err != nil || exists {
				t.Fatalf("Status created the version table: exists=%v err=%v", exists, err)
			}
			if ok, err := UpToDate(ctx, db, dialect); err != nil || ok {
				t.Fatalf("UpToDate before Apply = %v, %v; want false, nil", ok, err)
			}

			if err := Apply(ctx, db, dialect); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			assertStatus(t, db, dialect, latest, latest)
			assertTables(t, db, true)
			if ok, err := UpToDate(ctx, db, dialect); err != nil || !ok {
				t.Fatalf("UpToDate after Apply = %v, %v; want true, nil", ok, err)
			}
			if err := Apply(ctx, db, dialect); err != nil {
				t.Fatalf("second Apply: %v", err)
			}
			assertStatus(t, db, dialect, latest, latest)

			if err := Reset(ctx, db, dialect); err != nil {
				t.Fatalf("Reset: %v", err)
			}
			assertStatus(t, db, dialect, 0, latest)
			assertTables(t, db, false)

			// The down migrations leave nothing behind that blocks a fresh start.
			if err := Apply(ctx, db, dialect); err != nil {
				t.Fatalf("Apply after Reset: %v", err)
			}
			assertStatus(t, db, dialect, latest, latest)
		})
	}
}

func TestResetOnEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	for _, tdb := range testDBs(t) {
		t.Run(tdb.dialect, func(t *testing.T) {
			if err := Reset(ctx, tdb.db, tdb.dialect); err != nil {
				t.Fatalf("Reset: %v", err)
			}
			if exists, err := versionTableExists(ctx, tdb.db, tdb.dialect); err != nil || exists {
				t.Fatalf("Reset on an empty database created the version table: exists=%v err=%v", exists, err)
			}
		})
	}
}

func TestUnknownDialect(t *testing.T) {
	db := openSQLite(t)
	ctx := context.Background()
	if err := Apply(ctx, db, "mysql"); err == nil {
		t.Error("Apply(mysql) succeeded, want an error")
	}
	if _, _, err := Status(ctx, db, "mysql"); err == nil {
		t.Error("Status(mysql) succeeded, want an error")
	}
	if err := Reset(ctx, db, "mysql"); err == nil {
		t.Error("Reset(mysql) succeeded, want an error")
	}
}

func TestPostgresMissingSchema(t *testing.T) {
	dsn := os.Getenv(postgresDSNEnv)
	if dsn == "" {
		t.Skip(postgresDSNEnv + " not set")
	}
	db := openPostgres(t, dsn, false)
	err := Apply(context.Background(), db, Postgres)
	if err == nil || !strings.Contains(err.Error(), "search_path") {
		t.Fatalf("Apply without the schema: got %v, want an error naming the search_path", err)
	}
}

func assertStatus(t *testing.T, db *sql.DB, dialect string, wantCurrent, wantLatest int64) {
	t.Helper()
	current, latest, err := Status(context.Background(), db, dialect)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if current != wantCurrent || latest != wantLatest {
		t.Fatalf("Status = (%d, %d), want (%d, %d)", current, latest, wantCurrent, wantLatest)
	}
}

// assertTables checks that every table exists (or none does) by selecting
// from it, which works the same on both dialects.
func assertTables(t *testing.T, db *sql.DB, exist bool) {
	t.Helper()
	for _, table := range tables {
		var n int
		err := db.QueryRowContext(context.Background(), "SELECT count(*) FROM "+table).Scan(&n)
		if exist && err != nil {
			t.Errorf("table %s: %v", table, err)
		}
		if !exist && err == nil {
			t.Errorf("table %s still exists", table)
		}
	}
}
