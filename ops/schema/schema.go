// Package schema sets paymentctl's database up: `paymentctl schema`.
//
// On PostgreSQL it does what the original's `npm run schema` did
// (payments-backend.md §10.3), but idempotently and with every name
// quoted: as a superuser it creates the writer and the read-only roles, the
// database owned by the writer and, inside it, the schema, and grants the
// read-only role SELECT on the schema's present and future tables. Then it
// applies paymentctl's migrations and the job queue's as the writer, so the
// tables belong to the writer. Running it again changes nothing and says so.
//
// On SQLite there are no roles or schemas: it only migrates.
//
// Plan returns the SQL without touching a database (for --dry-run);
// Apply runs it.
package schema

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/paymentctl/paymentctl/config"
)

// maxNameBytes is PostgreSQL's identifier limit (NAMEDATALEN-1). Longer
// names are silently truncated by the server, which would make the
// existence checks, done on the full name, miss the truncated object.
const maxNameBytes = 63

// Params names what the set-up creates.
type Params struct {
	Database string // database, owned by Writer
	Schema   string // schema inside Database, owned by Writer
	Writer   string // role the server connects as; owns the tables
	Readonly string // role for people, SELECT only
	// Password is the password both roles are created with (the original
	// gave both accounts PAYMENT_POSTGRES_PASSWORD). Empty: the roles get
	// no password.
	Password config.Secret
	// WriterDSN is the server's DSN, used to apply the migrations as
	// Writer; its search_path must select Schema.
	WriterDSN config.Secret
}

// FromConfig derives the parameters from the server's own database DSN
// (cfg.DatabaseURL), read by pgx exactly as the server reads it, so that
// the set-up creates what the server will connect to: the DSN's user,
// database and first search_path schema (public when it sets none, as
// PostgreSQL would). The password is the DSN's, or
// PAYMENT_POSTGRES_PASSWORD when the DSN has none; the read-only role is
// PAYMENT_POSTGRES_USERNAME_READONLY.
func FromConfig(cfg *config.Config) (Params, error) {
	dsn := cfg.DatabaseURL()
	if !IsPostgres(dsn) {
		return Params{}, errors.New("the database DSN is not a PostgreSQL one (postgres://…)")
	}
	pc, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message shows the DSN with its password redacted.
		return Params{}, fmt.Errorf("parse the database dsn: %w", err)
	}
	p := Params{
		Database:  pc.Database,
		Writer:    pc.User,
		Readonly:  cfg.Postgres.UsernameReadonly,
		Password:  config.Secret(pc.Password),
		WriterDSN: config.Secret(dsn),
	}
	if p.Password == "" {
		p.Password = cfg.Postgres.Password
	}
	if p.Database == "" {
		return Params{}, errors.New("the database DSN names no database; set PAYMENT_POSTGRES_DATABASE or put it in PAYMENT_DATABASE_URL")
	}
	path, ok := pc.RuntimeParams["search_path"]
	if !ok {
		// Prisma's parameter, as the original's PAYMENT_POSTGRES_URL has
		// it; the store reads it as the search_path.
		path = pc.RuntimeParams["schema"]
	}
	p.Schema = firstSchema(path, p.Writer)
	return p, nil
}

// firstSchema returns the first entry of a search_path value the way
// PostgreSQL reads it: a quoted name as written (with "" for a quote), an
// unquoted one folded to lower case, and $user meaning the user. An empty
// path means public.
func firstSchema(path, user string) string {
	path = strings.TrimSpace(path)
	var name string
	if rest, ok := strings.CutPrefix(path, `"`); ok {
		var b strings.Builder
		for i := 0; i < len(rest); i++ {
			if rest[i] == '"' {
				if i+1 < len(rest) && rest[i+1] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				break
			}
			b.WriteByte(rest[i])
		}
		return b.String()
	}
	name, _, _ = strings.Cut(path, ",")
	name = strings.ToLower(strings.TrimSpace(name))
	switch name {
	case "":
		return "public"
	case "$user":
		return user
	}
	return name
}

// Validate reports names PostgreSQL cannot hold as given: empty, longer
// than 63 bytes, or containing a NUL byte; and a read-only role equal to
// the writer.
func (p Params) Validate() error {
	var problems []string
	for _, n := range []struct{ what, name string }{
		{"database", p.Database}, {"schema", p.Schema},
		{"writer role", p.Writer}, {"read-only role", p.Readonly},
	} {
		switch {
		case n.name == "":
			problems = append(problems, fmt.Sprintf("the %s name is empty", n.what))
		case len(n.name) > maxNameBytes:
			problems = append(problems, fmt.Sprintf("the %s name %q is longer than %d bytes", n.what, n.name, maxNameBytes))
		case strings.ContainsRune(n.name, 0):
			problems = append(problems, fmt.Sprintf("the %s name %q contains a NUL byte", n.what, n.name))
		}
	}
	if p.Writer != "" && p.Writer == p.Readonly {
		problems = append(problems, fmt.Sprintf("the read-only role is the writer %q; set PAYMENT_POSTGRES_USERNAME_READONLY to another name", p.Writer))
	}
	if strings.ContainsRune(p.Password.Reveal(), 0) {
		problems = append(problems, "the password contains a NUL byte")
	}
	if len(problems) > 0 {
		return fmt.Errorf("cannot set the database up: %s", strings.Join(problems, "; "))
	}
	return nil
}

// IsSQLite reports whether dsn names a SQLite database, on which the
// set-up only migrates.
func IsSQLite(dsn string) bool {
	return strings.HasPrefix(dsn, "sqlite:") || strings.HasPrefix(dsn, "file:")
}

// IsPostgres reports whether dsn is a PostgreSQL URL.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}
