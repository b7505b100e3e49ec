// Package pgschema makes throw-away PostgreSQL schemas. The tests that run
// on PostgreSQL (when PAYMENTCTL_TEST_POSTGRES_DSN names a database) and
// the load scripts each work in a schema of their own inside one shared
// database, selected through the DSN's search_path, and drop it when they
// are done; so they can run side by side and leave nothing behind.
//
// It creates empty schemas only: callers migrate them (server.Migrate), so
// that the store's own tests can use it without an import cycle.
package pgschema

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// EnvTestDSN names the environment variable that holds the PostgreSQL DSN
// the tests use; unset, the PostgreSQL halves of the tests are skipped.
const EnvTestDSN = "PAYMENTCTL_TEST_POSTGRES_DSN"

// TestDSN returns the DSN from EnvTestDSN, or "" when it is not set.
func TestDSN() string { return os.Getenv(EnvTestDSN) }

// prefixRE is what a schema prefix may be: a lower-case identifier start.
var prefixRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Create creates a schema named prefix followed by a unique suffix in the
// database of base and returns its name and base with that schema as its
// search_path. The prefix is lower-case letters, digits and underscores.
func Create(ctx context.Context, base, prefix string) (name, dsn string, err error) {
	if !prefixRE.MatchString(prefix) {
		return "", "", fmt.Errorf("schema prefix %q: want lower-case letters, digits and underscores", prefix)
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	name = fmt.Sprintf("%s%d_%s", prefix, time.Now().UnixNano(), hex.EncodeToString(suffix))
	if err := exec(ctx, base, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", "", fmt.Errorf("create schema %s: %w", name, err)
	}
	dsn, err = WithSearchPath(base, name)
	if err != nil {
		return "", "", err
	}
	return name, dsn, nil
}

// Drop drops the schema name and everything in it, if it exists. It
// refuses a name that does not start with prefix, so that a mistaken
// argument cannot drop someone else's schema.
func Drop(ctx context.Context, base, prefix, name string) error {
	if prefix == "" || !strings.HasPrefix(name, prefix) {
		return fmt.Errorf("drop schema %q: not a schema made with prefix %q", name, prefix)
	}
	if err := exec(ctx, base, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s: %w", name, err)
	}
	return nil
}

// ForTest creates a schema for tb (see Create), drops it when tb ends, and
// returns the DSN that selects it. Errors fail tb.
func ForTest(tb testing.TB, base, prefix string) string {
	tb.Helper()
	name, dsn, err := Create(context.Background(), base, prefix)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := Drop(context.Background(), base, prefix, name); err != nil {
			tb.Error(err)
		}
	})
	return dsn
}

// WithSearchPath returns the URL-form DSN base with its search_path query
// parameter set to schema, replacing one already there.
func WithSearchPath(base, schema string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("PostgreSQL DSN: want postgres://..., got %q", redact(base))
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// exec runs one statement on a connection of its own to base.
func exec(ctx context.Context, base, stmt string) error {
	db, err := sql.Open("pgx", base)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// redact hides a DSN's password in error messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}
