package reset

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/paymentctl/paymentctl/migrations"
	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/server/webhook"
)

// Schema is what RecreateSchema did.
type Schema struct {
	// Dialect is migrations.SQLite or migrations.Postgres.
	Dialect string
	// From is the app's schema version before (0: never migrated), To the
	// version after.
	From, To int64
	// RiverFrom is the job queue's schema version before (0: no tables),
	// RiverTo the version after.
	RiverFrom, RiverTo int
}

// Summary describes the change in one line.
func (s Schema) Summary() string {
	if s.From == 0 && s.RiverFrom == 0 {
		return fmt.Sprintf("%s: nothing to drop; created app schema version %d and job queue version %d",
			s.Dialect, s.To, s.RiverTo)
	}
	return fmt.Sprintf("%s: dropped app schema version %d and job queue version %d; re-created at versions %d and %d",
		s.Dialect, s.From, s.RiverFrom, s.To, s.RiverTo)
}

// RecreateSchema empties the database of dsn (SQLite or PostgreSQL) by
// migrating down and up again: River's tables down to nothing, the app's
// migrations down to version zero (migrations.Reset), then the app's up to
// the latest (migrations.Apply) and River's up. Every row of paymentctl's
// tables is gone afterwards. On PostgreSQL only the first schema of the
// DSN's search_path is touched; it must exist (paymentctl schema creates it).
func RecreateSchema(ctx context.Context, dsn string) (Schema, error) {
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return Schema{}, err
	}
	defer st.Close()
	db, dialect := st.SQLDB(), st.Dialect()
	s := Schema{Dialect: dialect}

	river, err := newRiverMigrator(db, dialect)
	if err != nil {
		return s, err
	}
	if s.RiverFrom, err = riverVersion(ctx, river); err != nil {
		return s, err
	}
	if s.From, _, err = migrations.Status(ctx, db, dialect); err != nil {
		return s, err
	}
	if _, err := river.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1}); err != nil {
		return s, fmt.Errorf("drop the job queue tables: %w", err)
	}
	if err := migrations.Reset(ctx, db, dialect); err != nil {
		return s, err
	}
	if err := migrations.Apply(ctx, db, dialect); err != nil {
		return s, err
	}
	if err := webhook.Migrate(ctx, db, dialect); err != nil {
		return s, err
	}
	if s.To, _, err = migrations.Status(ctx, db, dialect); err != nil {
		return s, err
	}
	if s.RiverTo, err = riverVersion(ctx, river); err != nil {
		return s, err
	}
	return s, nil
}

// riverMigrator is the part of rivermigrate.Migrator used here, whatever
// its driver's transaction type.
type riverMigrator interface {
	Migrate(ctx context.Context, direction rivermigrate.Direction, opts *rivermigrate.MigrateOpts) (*rivermigrate.MigrateResult, error)
	ExistingVersions(ctx context.Context) ([]rivermigrate.Migration, error)
}

// newRiverMigrator returns River's migrator on db, for the dialect.
func newRiverMigrator(db *sql.DB, dialect string) (riverMigrator, error) {
	cfg := &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)}
	var (
		m   riverMigrator
		err error
	)
	switch dialect {
	case migrations.Postgres:
		m, err = rivermigrate.New(riverdatabasesql.New(db), cfg)
	case migrations.SQLite:
		m, err = rivermigrate.New(riversqlite.New(db), cfg)
	default:
		return nil, fmt.Errorf("unknown database dialect %q", dialect)
	}
	if err != nil {
		return nil, fmt.Errorf("job queue migrations: %w", err)
	}
	return m, nil
}

// riverVersion returns the highest River migration applied, 0 for none.
func riverVersion(ctx context.Context, m riverMigrator) (int, error) {
	applied, err := m.ExistingVersions(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the job queue schema version: %w", err)
	}
	v := 0
	for _, a := range applied {
		v = max(v, a.Version)
	}
	return v, nil
}
