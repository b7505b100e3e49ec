package store

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/paymentctl/paymentctl/migrations"
)

// sqliteBusyTimeout is how long a SQLite writer waits for the write lock
// before failing with SQLITE_BUSY. Transactions that hold the lock across a
// PG call (a cancel) must finish well within it.
const sqliteBusyTimeout = 15 * time.Second

// sqlitePragmas returns the pragmas set on every SQLite connection unless
// the DSN sets the same pragma itself.
func sqlitePragmas() [][2]string {
	return [][2]string{
		// Readers never block the single writer and vice versa.
		{"journal_mode", "WAL"},
		// SQLite leaves REFERENCES unenforced unless asked, per connection.
		{"foreign_keys", "1"},
		{"busy_timeout", fmt.Sprint(sqliteBusyTimeout.Milliseconds())},
		// Safe with WAL: a power loss may drop the last commits, never
		// corrupt the file.
		{"synchronous", "NORMAL"},
	}
}

// target is a parsed DSN: which dialect, and the driver's own DSN.
type target struct {
	dialect string
	dsn     string
	// memory marks an in-memory SQLite database, which exists once per
	// connection and so must be used through a single one.
	memory bool
	// file is the SQLite database file, which Open creates private if it
	// is missing; empty for PostgreSQL, a memory database, and mode=ro or
	// mode=rw, which must find the file.
	file string
}

// parseDSN recognises the DSN forms documented on Open. Errors never repeat
// the DSN, which may hold a password.
func parseDSN(dsn string) (target, error) {
	switch {
	case dsn == "":
		return target{}, errors.New("empty database dsn")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return parsePostgres(dsn)
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
		return parseSQLite(path)
	case strings.HasPrefix(dsn, "file:"):
		return parseSQLite(dsn)
	}
	base, _, _ := strings.Cut(dsn, "?")
	for _, ext := range []string{".db", ".sqlite", ".sqlite3"} {
		if strings.HasSuffix(base, ext) {
			return parseSQLite(dsn)
		}
	}
	return target{}, errors.New("unsupported database dsn: want postgres://..., postgresql://..., sqlite:PATH, file:PATH or a PATH ending in .db")
}

func parsePostgres(dsn string) (target, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return target{}, errors.New("invalid postgres dsn: not a url")
	}
	q := u.Query()
	// Prisma's ?schema= (the original's PAYMENT_POSTGRES_URL) is not a
	// PostgreSQL parameter; it means the search_path.
	if schema := q.Get("schema"); schema != "" {
		if q.Get("search_path") == "" {
			q.Set("search_path", schema)
		}
		q.Del("schema")
		u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20") // a space must not become a literal "+"
	}
	return target{dialect: migrations.Postgres, dsn: u.String()}, nil
}

func parseSQLite(dsn string) (target, error) {
	path, rawQuery, _ := strings.Cut(dsn, "?")
	if path == "" || path == "file:" {
		return target{}, errors.New("invalid sqlite dsn: no path")
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return target{}, errors.New("invalid sqlite dsn: bad query")
	}
	// The driver stops reading parameters after _time_format, which would
	// silently drop _txlock; the store picks the time format itself.
	if q.Has("_time_format") {
		return target{}, errors.New("invalid sqlite dsn: _time_format is not supported")
	}
	set := map[string]bool{}
	for _, p := range q["_pragma"] {
		name, _, _ := strings.Cut(strings.ToLower(p), "(")
		name, _, _ = strings.Cut(name, "=")
		set[strings.TrimSpace(name)] = true
	}
	for _, p := range sqlitePragmas() {
		if !set[p[0]] {
			q.Add("_pragma", p[0]+"("+p[1]+")")
		}
	}
	if !q.Has("_txlock") {
		// Read-write transactions take the write lock at BEGIN, where the
		// busy timeout applies, rather than at their first write, where a
		// WAL snapshot conflict fails at once with SQLITE_BUSY.
		q.Set("_txlock", "immediate")
	}
	memory := strings.Contains(path, ":memory:") || q.Get("mode") == "memory"
	t := target{dialect: migrations.SQLite, dsn: path + "?" + q.Encode(), memory: memory}
	if mode := q.Get("mode"); !memory && (mode == "" || mode == "rwc") {
		// ro and rw open an existing file only.
		t.file = sqliteFile(path)
	}
	return t, nil
}

// sqliteFile returns the file a SQLite path or file: URI names, or ""
// when it cannot tell (a file: URI on another host, a bad escape).
func sqliteFile(path string) string {
	rest, uri := strings.CutPrefix(path, "file:")
	if !uri {
		return path
	}
	if strings.HasPrefix(rest, "//") {
		u, err := url.Parse(path)
		if err != nil || (u.Host != "" && u.Host != "localhost") {
			return ""
		}
		return u.Path
	}
	p, err := url.PathUnescape(rest)
	if err != nil {
		return ""
	}
	return p
}

// createPrivate creates the SQLite database file, empty (which SQLite
// reads as a new database) and readable by its owner only, unless it
// exists; SQLite gives the -wal and -shm files it creates next to it the
// database file's mode. An existing file keeps its mode.
func createPrivate(file string) error {
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create the sqlite database file: %w", err)
	}
	return f.Close()
}

func (t target) dialector() (gorm.Dialector, error) {
	if t.dialect == migrations.Postgres {
		// gorm on a pool of our own: its connections begin a locked
		// transaction in one round trip (InLockedTx).
		db, err := openPostgres(t.dsn)
		if err != nil {
			return nil, err
		}
		return postgres.New(postgres.Config{Conn: db}), nil
	}
	return sqlite.Open(t.dsn), nil
}

// tunePool sizes the connection pool for the dialect.
func (t target) tunePool(db *sql.DB) {
	switch {
	case t.memory:
		db.SetMaxOpenConns(1)
	case t.dialect == migrations.SQLite:
		// One writer at a time anyway; a few connections let reads run
		// beside it under WAL.
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
	default:
		// Bounded so several instances stay below PostgreSQL's default
		// max_connections of 100. Every open connection may stay idle:
		// with fewer idle than open, each burst above the idle count closed
		// and re-opened backends (measured: 547 instead of 1,074 req/s).
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
}
