// Package migrations holds paymentctl's database schema as versioned,
// append-only SQL files and applies them with goose.
//
// There is one directory per dialect (postgres/ and sqlite/) because column
// types differ; both carry the same version numbers, so a version means the
// same schema on either database. A shipped file is never edited: a change is
// a new file with the next number, and it must keep working with the
// previous binary, because the updater runs old and new side by side.
//
// On PostgreSQL nothing names a schema: tables go into the first schema of
// the connection's search_path (the original used a "payments" schema), so
// the same files serve any schema the operator picks.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"sort"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Dialect names accepted by Apply, Status and Reset.
const (
	// Postgres selects the postgres/ files (PostgreSQL 13 or later).
	Postgres = "postgres"
	// SQLite selects the sqlite/ files (SQLite 3.35 or later).
	SQLite = "sqlite"
)

// versionTable is goose's bookkeeping table, kept under goose's default name
// so the goose CLI can inspect a paymentctl database.
const versionTable = goose.DefaultTablename

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Apply brings the schema up to the latest version. Versions already applied
// are skipped, so calling it on an up-to-date database does nothing. On
// PostgreSQL concurrent callers on the same schema are serialised by an
// advisory lock.
func Apply(ctx context.Context, db *sql.DB, dialect string) error {
	p, err := newProvider(ctx, db, dialect)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// Status reports the version the database is at and the latest version this
// binary knows. It does not write: on a database that was never migrated it
// reports current 0 without creating goose's version table.
func Status(ctx context.Context, db *sql.DB, dialect string) (current, latest int64, err error) {
	p, err := newProvider(ctx, db, dialect)
	if err != nil {
		return 0, 0, err
	}
	sources := p.ListSources()
	latest = sources[len(sources)-1].Version
	exists, err := versionTableExists(ctx, db, dialect)
	if err != nil {
		return 0, 0, err
	}
	if !exists {
		return 0, latest, nil
	}
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", err)
	}
	return current, latest, nil
}

// UpToDate reports whether every known migration has been applied.
func UpToDate(ctx context.Context, db *sql.DB, dialect string) (bool, error) {
	current, latest, err := Status(ctx, db, dialect)
	if err != nil {
		return false, err
	}
	return current >= latest, nil
}

// Reset rolls every migration back, down to version zero, which drops all of
// paymentctl's tables and their data. It is meant for `paymentctl reset` on
// test databases. A database that was never migrated is left untouched.
func Reset(ctx context.Context, db *sql.DB, dialect string) error {
	p, err := newProvider(ctx, db, dialect)
	if err != nil {
		return err
	}
	exists, err := versionTableExists(ctx, db, dialect)
	if err != nil {
		return err
	}
	if !exists {
		return nil
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		return fmt.Errorf("reset migrations: %w", err)
	}
	return nil
}

// File is one embedded migration file.
type File struct {
	Version int64  // the number the file name starts with
	Name    string // base name, e.g. "00001_payments.sql"
	SQL     string // the whole file, goose annotations included
}

// Files returns the dialect's migration files in version order, so that
// `paymentctl schema --dry-run` can show what Apply would run without a
// database.
func Files(dialect string) ([]File, error) {
	if dialect != Postgres && dialect != SQLite {
		return nil, fmt.Errorf("unknown database dialect %q (want %q or %q)", dialect, Postgres, SQLite)
	}
	entries, err := fs.ReadDir(files, dialect)
	if err != nil {
		return nil, fmt.Errorf("migrations for %s: %w", dialect, err)
	}
	var out []File
	for _, e := range entries {
		version, err := goose.NumericComponent(e.Name())
		if err != nil {
			return nil, fmt.Errorf("migration %s/%s: %w", dialect, e.Name(), err)
		}
		b, err := fs.ReadFile(files, dialect+"/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("migration %s/%s: %w", dialect, e.Name(), err)
		}
		out = append(out, File{Version: version, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// newProvider builds a goose provider over the dialect's embedded files.
// Nothing is registered globally and goose's own logging is silenced: the
// callers report results.
func newProvider(ctx context.Context, db *sql.DB, dialect string) (*goose.Provider, error) {
	opts := []goose.ProviderOption{
		goose.WithLogger(goose.NopLogger()),
		goose.WithDisableGlobalRegistry(true),
	}
	var gd goose.Dialect
	switch dialect {
	case Postgres:
		gd = goose.DialectPostgres
		schema, err := currentSchema(ctx, db)
		if err != nil {
			return nil, err
		}
		// The lock id is derived from the schema so that migrations of
		// different schemas in one database do not wait for each other.
		locker, err := lock.NewPostgresSessionLocker(
			lock.WithLockID(lockID(schema)),
			lock.WithLockTimeout(1, 300),
		)
		if err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	case SQLite:
		gd = goose.DialectSQLite3
	default:
		return nil, fmt.Errorf("unknown database dialect %q (want %q or %q)", dialect, Postgres, SQLite)
	}
	dir, err := fs.Sub(files, dialect)
	if err != nil {
		return nil, fmt.Errorf("migrations for %s: %w", dialect, err)
	}
	p, err := goose.NewProvider(gd, db, dir, opts...)
	if err != nil {
		return nil, fmt.Errorf("load %s migrations: %w", dialect, err)
	}
	return p, nil
}

// currentSchema returns the schema PostgreSQL creates unqualified tables in:
// the first existing schema of the search_path.
func currentSchema(ctx context.Context, db *sql.DB) (string, error) {
	var schema sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return "", fmt.Errorf("read current schema: %w", err)
	}
	if !schema.Valid {
		return "", errors.New("no schema of the connection's search_path exists; create it first (paymentctl schema)")
	}
	return schema.String, nil
}

func lockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("paymentctl migrations\x00" + schema))
	return int64(h.Sum64())
}

// versionTableExists checks for goose's table without creating it, which
// goose itself would do on first use.
func versionTableExists(ctx context.Context, db *sql.DB, dialect string) (bool, error) {
	var q string
	switch dialect {
	case Postgres:
		q = "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1)"
	case SQLite:
		q = "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?)"
	default:
		return false, fmt.Errorf("unknown database dialect %q", dialect)
	}
	var exists bool
	if err := db.QueryRowContext(ctx, q, versionTable).Scan(&exists); err != nil {
		return false, fmt.Errorf("check schema version table: %w", err)
	}
	return exists, nil
}
