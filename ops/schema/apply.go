package schema

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/paymentctl/paymentctl/migrations"
	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/server/webhook"
)

// SQLSTATEs of an object created concurrently between the existence check
// and the CREATE.
const (
	duplicateDatabase = "42P04"
	duplicateObject   = "42710"
	duplicateSchema   = "42P06"
)

// Apply sets p up on the PostgreSQL server of superuserDSN and migrates.
// It connects as the superuser to the database the DSN names (the
// maintenance database, usually postgres) to create the roles and the
// database, then to p.Database to create the schema and grant, and finally
// applies the migrations as the writer through p.WriterDSN (see Migrate).
// Each step's outcome is printed to out, one line each ("created role …",
// "role … exists"). Running it again creates nothing.
func Apply(ctx context.Context, superuserDSN string, p Params, out io.Writer) error {
	if err := p.Validate(); err != nil {
		return err
	}
	cfg, err := pgx.ParseConfig(superuserDSN)
	if err != nil {
		// pgx's message shows the DSN with its password redacted.
		return fmt.Errorf("parse the superuser dsn: %w", err)
	}
	steps := Plan(p)
	if err := runSteps(ctx, cfg, steps, OnServer, out); err != nil {
		return err
	}
	dbCfg := cfg.Copy()
	dbCfg.Database = p.Database
	if err := runSteps(ctx, dbCfg, steps, OnDatabase, out); err != nil {
		return err
	}
	if err := Migrate(ctx, p.WriterDSN.Reveal(), out); err != nil {
		return fmt.Errorf("as role %s: %w", ident(p.Writer), err)
	}
	return nil
}

// runSteps runs the steps meant for where on one connection made with cfg.
func runSteps(ctx context.Context, cfg *pgx.ConnConfig, steps []Step, where Where, out io.Writer) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect as superuser to database %s: %w", ident(cfg.Database), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, s := range steps {
		if s.Where != where {
			continue
		}
		msg, err := runStep(ctx, conn, s)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(out, msg); err != nil {
			return err
		}
	}
	return nil
}

// runStep runs one step and returns its outcome for the operator.
func runStep(ctx context.Context, conn *pgx.Conn, s Step) (string, error) {
	if s.Exists != "" {
		var exists bool
		if err := conn.QueryRow(ctx, s.Exists).Scan(&exists); err != nil {
			return "", fmt.Errorf("check %s: %w", s.Object, err)
		}
		if exists {
			return s.Object + " exists", nil
		}
	}
	// PostgreSQL's messages never quote the statement, so the password
	// cannot leak through an error.
	if _, err := conn.Exec(ctx, s.SQL); err != nil {
		var pgErr *pgconn.PgError
		if s.Object != "" && errors.As(err, &pgErr) {
			switch pgErr.Code {
			case duplicateDatabase, duplicateObject, duplicateSchema:
				// Another run created it after the check.
				return s.Object + " exists", nil
			}
		}
		if s.Object != "" {
			return "", fmt.Errorf("create %s: %w", s.Object, err)
		}
		return "", fmt.Errorf("%s: %w", s.Done, err)
	}
	if s.Object != "" {
		return "created " + s.Object, nil
	}
	return s.Done, nil
}

// AppliedVersion reads, changing nothing, the version of paymentctl's
// migrations the database of dsn is at: 0 when it has none, and for a
// SQLite file that does not exist yet (which is not created).
func AppliedVersion(ctx context.Context, dsn string) (int64, error) {
	if path := sqlitePath(dsn); path != "" && path != ":memory:" {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return 0, nil
		}
	}
	s, err := store.Open(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	version, _, err := migrations.Status(ctx, s.SQLDB(), s.Dialect())
	return version, err
}

// sqlitePath returns the file of a SQLite DSN (sqlite:PATH, sqlite://PATH
// or file:PATH, parameters after ?), or "" for another DSN.
func sqlitePath(dsn string) string {
	var path string
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path = strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
	case strings.HasPrefix(dsn, "file:"):
		path = strings.TrimPrefix(dsn, "file:")
	default:
		return ""
	}
	path, _, _ = strings.Cut(path, "?")
	return path
}

// Migrate applies paymentctl's pending migrations to the database of dsn
// (PostgreSQL or SQLite), then the job queue's, and prints what it did:
// the versions it moved between, or that the schema was up to date.
func Migrate(ctx context.Context, dsn string, out io.Writer) error {
	s, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer s.Close()
	db, dialect := s.SQLDB(), s.Dialect()
	before, latest, err := migrations.Status(ctx, db, dialect)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("migrations up to date (version %d)", before)
	switch {
	case before > latest:
		msg = fmt.Sprintf("migrations up to date: the database is at version %d, newer than this binary's %d", before, latest)
	case before < latest:
		if err := s.Migrate(ctx); err != nil {
			return err
		}
		after, _, err := migrations.Status(ctx, db, dialect)
		if err != nil {
			return err
		}
		msg = fmt.Sprintf("migrated from version %d to %d", before, after)
	}
	if _, err := fmt.Fprintln(out, msg); err != nil {
		return err
	}
	if err := webhook.Migrate(ctx, db, dialect); err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, "job queue tables (River) at their latest version")
	return err
}
