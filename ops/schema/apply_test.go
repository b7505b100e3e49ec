package schema

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/migrations"
	"github.com/paymentctl/paymentctl/server/store"
)

// postgresDSNEnv names the variable that enables the PostgreSQL tests: a
// superuser DSN of a disposable server.
const postgresDSNEnv = "PAYMENTCTL_TEST_POSTGRES_DSN"

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestMigrateSQLite(t *testing.T) {
	ctx := testContext(t)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "p.db")

	var first, second bytes.Buffer
	if err := Migrate(ctx, dsn, &first); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first.String(), "migrated from version 0 to ") {
		t.Errorf("first run printed %q", first.String())
	}
	if err := Migrate(ctx, dsn, &second); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(second.String(), "migrations up to date (version ") {
		t.Errorf("second run printed %q", second.String())
	}

	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ok, err := s.SchemaUpToDate(ctx); err != nil || !ok {
		t.Errorf("SchemaUpToDate = %v, %v after Migrate", ok, err)
	}
	var n int
	if err := s.SQLDB().QueryRowContext(ctx, "SELECT count(*) FROM river_job").Scan(&n); err != nil {
		t.Errorf("job queue table missing: %v", err)
	}
}

func TestAppliedVersionSQLite(t *testing.T) {
	ctx := testContext(t)
	file := filepath.Join(t.TempDir(), "p.db")
	dsn := "sqlite:" + file
	if v, err := AppliedVersion(ctx, dsn); v != 0 || err != nil {
		t.Errorf("AppliedVersion of no file = %d, %v; want 0", v, err)
	}
	if _, err := os.Stat(file); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("AppliedVersion created %s (stat: %v)", file, err)
	}
	if err := Migrate(ctx, dsn, io.Discard); err != nil {
		t.Fatal(err)
	}
	files, err := migrations.Files(migrations.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	latest := files[len(files)-1].Version
	for _, dsn := range []string{dsn, "file:" + file + "?_pragma=busy_timeout(5000)"} {
		if v, err := AppliedVersion(ctx, dsn); v != latest || err != nil {
			t.Errorf("AppliedVersion(%s) after Migrate = %d, %v; want %d", dsn, v, err, latest)
		}
	}
}

// TestApplyBadSuperuserDSN needs no server: nothing listens on port 1, and
// the error must not show the password.
func TestApplyBadSuperuserDSN(t *testing.T) {
	ctx := testContext(t)
	var out bytes.Buffer
	err := Apply(ctx, "postgres://postgres:hunter2@127.0.0.1:1/postgres?connect_timeout=5", defaultParams(), &out)
	if err == nil {
		t.Fatal("Apply succeeded against a closed port")
	}
	if !strings.Contains(err.Error(), "connect as superuser") {
		t.Errorf("err = %v", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the password: %v", err)
	}
	if err := Apply(ctx, "postgres://u@h/d", Params{}, &out); err == nil || !strings.Contains(err.Error(), "name is empty") {
		t.Errorf("Apply with empty params: err = %v", err)
	}
}

// TestApplyPostgres sets up roles, a database and a schema with awkward
// names on a real server, twice, then checks what each role may do.
func TestApplyPostgres(t *testing.T) {
	superDSN := os.Getenv(postgresDSNEnv)
	if superDSN == "" {
		t.Skipf("%s is not set", postgresDSNEnv)
	}
	ctx := testContext(t)
	superCfg, err := pgx.ParseConfig(superDSN)
	if err != nil {
		t.Fatal(err)
	}

	suffix := randomSuffix(t)
	p := Params{
		Database: "pc db " + suffix,
		Schema:   `Pay"Sch ` + suffix,
		Writer:   "pc w'" + suffix,
		Readonly: "pc_r_" + suffix,
		Password: config.Secret(`it's a \ $do$ ` + suffix),
	}
	p.WriterDSN = config.Secret(roleDSN(superCfg, p, p.Writer))
	t.Cleanup(func() { dropAll(t, superCfg, p) })

	var first bytes.Buffer
	if err := Apply(ctx, superDSN, p, &first); err != nil {
		t.Fatalf("first Apply: %v\noutput:\n%s", err, first.String())
	}
	for _, want := range []string{
		"created role " + ident(p.Writer) + " (writer)\n",
		"created role " + ident(p.Readonly) + " (read-only)\n",
		"created database " + ident(p.Database) + "\n",
		"created schema " + ident(p.Schema) + "\n",
		"granted SELECT on the tables of schema " + ident(p.Schema) + " to " + ident(p.Readonly) + "\n",
		"migrated from version 0 to ",
		"job queue tables (River) at their latest version\n",
	} {
		if !strings.Contains(first.String(), want) {
			t.Errorf("first run lacks %q:\n%s", want, first.String())
		}
	}

	var second bytes.Buffer
	if err := Apply(ctx, superDSN, p, &second); err != nil {
		t.Fatalf("second Apply: %v\noutput:\n%s", err, second.String())
	}
	for _, want := range []string{
		"role " + ident(p.Writer) + " (writer) exists\n",
		"role " + ident(p.Readonly) + " (read-only) exists\n",
		"database " + ident(p.Database) + " exists\n",
		"schema " + ident(p.Schema) + " exists\n",
		"migrations up to date (version ",
	} {
		if !strings.Contains(second.String(), want) {
			t.Errorf("second run lacks %q:\n%s", want, second.String())
		}
	}
	if strings.Contains(second.String(), "created") {
		t.Errorf("second run created something:\n%s", second.String())
	}
	files, err := migrations.Files(migrations.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := AppliedVersion(ctx, p.WriterDSN.Reveal()); v != files[len(files)-1].Version || err != nil {
		t.Errorf("AppliedVersion after Apply = %d, %v; want %d", v, err, files[len(files)-1].Version)
	}

	t.Run("WriterOwnsTablesPostgres", func(t *testing.T) {
		conn := connect(t, p.WriterDSN.Reveal())
		rows, err := conn.Query(ctx, "SELECT tablename, tableowner FROM pg_catalog.pg_tables WHERE schemaname = $1", p.Schema)
		if err != nil {
			t.Fatal(err)
		}
		owners := map[string]string{}
		for rows.Next() {
			var table, owner string
			if err := rows.Scan(&table, &owner); err != nil {
				t.Fatal(err)
			}
			owners[table] = owner
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"payment_histories", "payment_reservations", "payment_idempotency_keys", "river_job"} {
			if owners[table] != p.Writer {
				t.Errorf("table %s: owner %q, want %q (all: %v)", table, owners[table], p.Writer, owners)
			}
		}
		if _, err := conn.Exec(ctx, "INSERT INTO payment_idempotency_keys DEFAULT VALUES"); pgCode(err) == "42501" {
			t.Errorf("the writer may not insert: %v", err)
		}
	})

	t.Run("ReadonlySelectsOnlyPostgres", func(t *testing.T) {
		conn := connect(t, roleDSN(superCfg, p, p.Readonly))
		for _, table := range []string{"payment_histories", "payment_history_webhooks", "river_job"} {
			var n int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+ident(table)).Scan(&n); err != nil {
				t.Errorf("SELECT from %s as the read-only role: %v", table, err)
			}
		}
		for _, stmt := range []string{
			"INSERT INTO payment_histories DEFAULT VALUES",
			"DELETE FROM payment_reservations",
			"CREATE TABLE intruder (id int)",
		} {
			_, err := conn.Exec(ctx, stmt)
			if got := pgCode(err); got != "42501" {
				t.Errorf("%s as the read-only role: SQLSTATE %q (err %v), want 42501 insufficient_privilege", stmt, got, err)
			}
		}
	})
}

// roleDSN returns a URL connecting as role to p's database and schema, on
// the server of cfg.
func roleDSN(cfg *pgx.ConnConfig, p Params, role string) string {
	// pgx reads a + in the query as itself, not as a space.
	searchPath := strings.ReplaceAll(url.QueryEscape(ident(p.Schema)), "+", "%20")
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(role, p.Password.Reveal()),
		Host:     net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))),
		Path:     "/" + p.Database,
		RawQuery: "sslmode=disable&search_path=" + searchPath,
	}
	return u.String()
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// pgCode returns err's SQLSTATE, or "" when it is not a server error.
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

func randomSuffix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// dropAll removes what Apply created: the database (with the schema, its
// tables and the default privileges in it), then the roles.
func dropAll(t *testing.T, cfg *pgx.ConnConfig, p Params) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer conn.Close(ctx)
	for _, stmt := range []string{
		"DROP DATABASE IF EXISTS " + ident(p.Database) + " WITH (FORCE)",
		"DROP ROLE IF EXISTS " + ident(p.Readonly),
		"DROP ROLE IF EXISTS " + ident(p.Writer),
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Errorf("cleanup %s: %v", stmt, err)
		}
	}
}
