package schema

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/paymentctl/paymentctl/migrations"
)

// passwordMask replaces passwords in printed SQL.
const passwordMask = "******"

// downMarker starts the rollback part of a goose migration file, which
// --dry-run leaves out.
const downMarker = "\n-- +goose Down"

// Where says which connection a step runs on.
type Where int

const (
	// OnServer steps run on the database the superuser DSN names (the
	// maintenance database, usually postgres).
	OnServer Where = iota
	// OnDatabase steps run, still as the superuser, on the target database.
	OnDatabase
)

// Step is one idempotent piece of the set-up.
type Step struct {
	Where Where
	// Object names what a creating step makes sure exists, e.g.
	// `role "samchon" (writer)`; empty for grants.
	Object string
	// Exists, when set, is a query answering one boolean: whether Object
	// is already there. Apply then skips SQL and reports it as existing.
	Exists string
	// SQL is the statement. It is idempotent by itself, except CREATE
	// DATABASE, which has no IF NOT EXISTS and cannot run in a DO block or
	// a transaction, so Exists guards it.
	SQL string
	// Display is SQL with the password masked, for printing.
	Display string
	// Done is what Apply reports after running a step without Object.
	Done string
}

// Plan returns the steps that set p up on PostgreSQL, in order: the two
// roles, the database and its CONNECT grant on the server, then the
// schema and the grants in the database. Every identifier is quoted with
// pgx.Identifier.Sanitize and every string is a quoted literal, so odd
// names and passwords cannot change the statements. Plan does not check
// p; Apply calls Validate first.
func Plan(p Params) []Step {
	db, schema := ident(p.Database), ident(p.Schema)
	w, r := ident(p.Writer), ident(p.Readonly)
	pw := p.Password.Reveal()

	roleStep := func(name, what string) Step {
		return Step{
			Where:   OnServer,
			Object:  fmt.Sprintf("role %s (%s)", ident(name), what),
			Exists:  "SELECT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = " + literal(name) + ")",
			SQL:     createRole(name, pw, false),
			Display: createRole(name, pw, true),
		}
	}
	steps := []Step{
		roleStep(p.Writer, "writer"),
		roleStep(p.Readonly, "read-only"),
		{
			Where:  OnServer,
			Object: "database " + db,
			Exists: "SELECT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = " + literal(p.Database) + ")",
			SQL:    "CREATE DATABASE " + db + " OWNER " + w,
		},
		grant(OnServer, "GRANT CONNECT ON DATABASE "+db+" TO "+r,
			"granted CONNECT on database "+db+" to "+r),
		{
			Where:  OnDatabase,
			Object: "schema " + schema,
			Exists: "SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = " + literal(p.Schema) + ")",
			SQL:    "CREATE SCHEMA IF NOT EXISTS " + schema + " AUTHORIZATION " + w,
		},
		// The writer owns a schema it created, but not one that was
		// there before (public): it needs CREATE to migrate.
		grant(OnDatabase, "GRANT USAGE, CREATE ON SCHEMA "+schema+" TO "+w,
			"granted USAGE, CREATE on schema "+schema+" to "+w),
		grant(OnDatabase, "GRANT USAGE ON SCHEMA "+schema+" TO "+r,
			"granted USAGE on schema "+schema+" to "+r),
		// Tables that exist already (a re-run), then every table the
		// writer creates from now on (the migrations that follow).
		grant(OnDatabase, "GRANT SELECT ON ALL TABLES IN SCHEMA "+schema+" TO "+r,
			"granted SELECT on the tables of schema "+schema+" to "+r),
		grant(OnDatabase, "ALTER DEFAULT PRIVILEGES FOR ROLE "+w+" IN SCHEMA "+schema+" GRANT SELECT ON TABLES TO "+r,
			"granted SELECT on "+w+"'s future tables in schema "+schema+" to "+r),
	}
	for i := range steps {
		if steps[i].Display == "" {
			steps[i].Display = steps[i].SQL
		}
	}
	return steps
}

func grant(where Where, sql, done string) Step {
	return Step{Where: where, SQL: sql, Done: done}
}

// createRole returns a DO block creating a login role unless it exists;
// masked replaces the password with a mask.
func createRole(name, password string, masked bool) string {
	create := "CREATE ROLE " + ident(name) + " LOGIN"
	switch {
	case password == "":
	case masked:
		create += " PASSWORD " + literal(passwordMask)
	default:
		create += " PASSWORD " + literal(password)
	}
	body := "\nBEGIN\n" +
		"    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = " + literal(name) + ") THEN\n" +
		"        " + create + ";\n" +
		"    END IF;\n" +
		"END\n"
	return "DO " + dollarQuote(body)
}

// ident quotes a PostgreSQL identifier.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// literal quotes s as a SQL string literal, as libpq's PQescapeLiteral
// does: quotes are doubled, and a string holding a backslash becomes an
// E” literal with doubled backslashes, which reads the same whatever
// standard_conforming_strings says. NUL bytes, which PostgreSQL text
// cannot hold, are dropped (Validate refuses them).
func literal(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	s = strings.ReplaceAll(s, "'", "''")
	if strings.Contains(s, `\`) {
		return `E'` + strings.ReplaceAll(s, `\`, `\\`) + `'`
	}
	return "'" + s + "'"
}

// dollarQuote quotes body as a dollar-quoted string whose tag ($do$,
// $do1$, …) does not occur in it, so nothing in body can end the string
// early.
func dollarQuote(body string) string {
	for i := 0; ; i++ {
		tag := "$do$"
		if i > 0 {
			tag = "$do" + strconv.Itoa(i) + "$"
		}
		// The closing tag must be found first where it is put, not
		// earlier inside the body or straddling its end.
		if strings.Index(body+tag, tag) == len(body) {
			return tag + body + tag
		}
	}
}

// Applied is what a dry run knows of the migrations a database has:
// Version, or why it could not be read.
type Applied struct {
	// Version is the version of paymentctl's migrations the database is
	// at; 0 when it has none.
	Version int64
	// Unknown, when not nil, says why the version could not be read;
	// every migration is then listed as to be applied.
	Unknown error
}

// WritePlan prints, without changing anything, the SQL Apply would run
// for p with passwords masked, then the migration files, saying which of
// them the database has already (applied, as AppliedVersion read it). The
// superuser DSN is not used to connect: when not empty, it is only parsed,
// to name the server and the maintenance database; its password is never
// printed.
func WritePlan(w io.Writer, p Params, superuserDSN string, applied Applied) error {
	if err := p.Validate(); err != nil {
		return err
	}
	where := "the maintenance database of the superuser DSN"
	if superuserDSN != "" {
		cfg, err := pgx.ParseConfig(superuserDSN)
		if err != nil {
			return fmt.Errorf("parse the superuser dsn: %w", err)
		}
		where = fmt.Sprintf("database %s of %s:%d, as %s", ident(cfg.Database), cfg.Host, cfg.Port, ident(cfg.User))
	}
	pr := &printer{w: w}
	pr.printf("-- paymentctl schema --dry-run: the SQL it runs on PostgreSQL (passwords masked).\n")
	pr.printf("\n-- As a superuser, on %s:\n", where)
	phase := OnServer
	for _, s := range Plan(p) {
		if s.Where != phase {
			phase = s.Where
			pr.printf("\n-- As the superuser, on database %s:\n", ident(p.Database))
		}
		pr.printf("\n")
		if s.Object != "" {
			pr.printf("-- %s, unless:\n--   %s;\n", s.Object, s.Exists)
		}
		pr.printf("%s;\n", s.Display)
	}
	pr.printf("\n-- As %s, on database %s with search_path %s, the migrations:\n",
		ident(p.Writer), ident(p.Database), ident(p.Schema))
	return writeMigrations(pr, migrations.Postgres, applied)
}

// WriteMigrations prints the dialect's migration files, saying which of
// them the database has already (applied): those it has are named, the
// others, which Migrate applies, printed in full. It notes the job queue's
// own migrations after them.
func WriteMigrations(w io.Writer, dialect string, applied Applied) error {
	pr := &printer{w: w}
	pr.printf("-- paymentctl schema --dry-run: the %s migrations.\n", dialect)
	return writeMigrations(pr, dialect, applied)
}

func writeMigrations(pr *printer, dialect string, applied Applied) error {
	files, err := migrations.Files(dialect)
	if err != nil {
		return err
	}
	latest := files[len(files)-1].Version
	switch {
	case applied.Unknown != nil:
		// On one line: the output stays SQL, the message a comment.
		why := strings.Join(strings.Fields(applied.Unknown.Error()), " ")
		pr.printf("-- The version the database is at could not be read (%s); every migration is listed.\n", why)
	case applied.Version == 0:
		pr.printf("-- The database has none of them yet.\n")
	case applied.Version >= latest:
		pr.printf("-- The database is at version %d: it has every one already; none would run.\n", applied.Version)
	default:
		pr.printf("-- The database is at version %d: it has versions 1 to %d already; the later ones would run.\n", applied.Version, applied.Version)
	}
	for _, f := range files {
		if applied.Unknown == nil && f.Version <= applied.Version {
			pr.printf("\n-- migrations/%s/%s (version %d): applied already\n", dialect, f.Name, f.Version)
			continue
		}
		up, _, hasDown := strings.Cut(f.SQL, downMarker)
		pr.printf("\n-- migrations/%s/%s (version %d): not applied yet\n%s", dialect, f.Name, f.Version, up)
		if !strings.HasSuffix(up, "\n") {
			pr.printf("\n")
		}
		if hasDown {
			pr.printf("-- (its %s section, for rolling back, is not run)\n", strings.TrimPrefix(downMarker, "\n-- "))
		}
	}
	pr.printf("\n-- Then the job queue's (River's) own migrations, to its latest version.\n")
	return pr.err
}

// printer writes formatted text and keeps the first error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}
