package schema

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/migrations"
)

func defaultParams() Params {
	return Params{
		Database: "payments", Schema: "payments",
		Writer: "samchon", Readonly: "samchon_r",
		Password:  "samchon",
		WriterDSN: "postgres://samchon:samchon@127.0.0.1:5432/payments?search_path=payments",
	}
}

func TestPlanDefaultNames(t *testing.T) {
	var got []string
	for _, s := range Plan(defaultParams()) {
		got = append(got, s.SQL)
	}
	role := func(name string) string {
		return "DO $do$\nBEGIN\n" +
			"    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '" + name + "') THEN\n" +
			`        CREATE ROLE "` + name + `" LOGIN PASSWORD 'samchon';` + "\n" +
			"    END IF;\nEND\n$do$"
	}
	want := []string{
		role("samchon"),
		role("samchon_r"),
		`CREATE DATABASE "payments" OWNER "samchon"`,
		`GRANT CONNECT ON DATABASE "payments" TO "samchon_r"`,
		`CREATE SCHEMA IF NOT EXISTS "payments" AUTHORIZATION "samchon"`,
		`GRANT USAGE, CREATE ON SCHEMA "payments" TO "samchon"`,
		`GRANT USAGE ON SCHEMA "payments" TO "samchon_r"`,
		`GRANT SELECT ON ALL TABLES IN SCHEMA "payments" TO "samchon_r"`,
		`ALTER DEFAULT PRIVILEGES FOR ROLE "samchon" IN SCHEMA "payments" GRANT SELECT ON TABLES TO "samchon_r"`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Plan SQL (-want +got):\n%s", diff)
	}
}

func TestPlanWhereAndChecks(t *testing.T) {
	type row struct {
		Where  Where
		Object string
		Exists string
	}
	var got []row
	for _, s := range Plan(defaultParams()) {
		got = append(got, row{s.Where, s.Object, s.Exists})
	}
	want := []row{
		{OnServer, `role "samchon" (writer)`, "SELECT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'samchon')"},
		{OnServer, `role "samchon_r" (read-only)`, "SELECT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'samchon_r')"},
		{OnServer, `database "payments"`, "SELECT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'payments')"},
		{OnServer, "", ""},
		{OnDatabase, `schema "payments"`, "SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = 'payments')"},
		{OnDatabase, "", ""},
		{OnDatabase, "", ""},
		{OnDatabase, "", ""},
		{OnDatabase, "", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Plan steps (-want +got):\n%s", diff)
	}
}

// TestPlanQuotesOddNames checks that names and passwords holding quotes,
// backslashes, semicolons and dollar tags end up quoted, never spliced in.
func TestPlanQuotesOddNames(t *testing.T) {
	tests := []struct {
		name   string
		params Params
		want   []string // substrings of the joined SQL
		absent []string
	}{
		{
			name: "double quote in a role",
			params: Params{Database: "d", Schema: "s", Writer: `we"ird`, Readonly: "r",
				Password: "p"},
			want: []string{
				`CREATE ROLE "we""ird" LOGIN PASSWORD 'p';`,
				`rolname = 'we"ird'`,
				`CREATE DATABASE "d" OWNER "we""ird"`,
				`ALTER DEFAULT PRIVILEGES FOR ROLE "we""ird" IN SCHEMA "s"`,
			},
		},
		{
			name: "single quote in a role",
			params: Params{Database: "d", Schema: "s", Writer: "o'brien", Readonly: "r",
				Password: "p"},
			want: []string{`rolname = 'o''brien'`, `CREATE ROLE "o'brien" LOGIN`},
		},
		{
			name: "statement in a database name",
			params: Params{Database: `pay"; DROP DATABASE postgres; --`, Schema: "s", Writer: "w", Readonly: "r",
				Password: "p"},
			want: []string{
				`CREATE DATABASE "pay""; DROP DATABASE postgres; --" OWNER "w"`,
				`datname = 'pay"; DROP DATABASE postgres; --'`,
			},
			absent: []string{`"pay";`},
		},
		{
			name: "spaces, dots and capitals in a schema",
			params: Params{Database: "d", Schema: "My.Schema x", Writer: "w", Readonly: "r",
				Password: "p"},
			want: []string{
				`CREATE SCHEMA IF NOT EXISTS "My.Schema x" AUTHORIZATION "w"`,
				`nspname = 'My.Schema x'`,
			},
		},
		{
			name: "quote and backslash in the password",
			params: Params{Database: "d", Schema: "s", Writer: "w", Readonly: "r",
				Password: `it's a \ path`},
			want: []string{`PASSWORD E'it''s a \\ path';`},
		},
		{
			name: "dollar tag in the password",
			params: Params{Database: "d", Schema: "s", Writer: "w", Readonly: "r",
				Password: "x$do$; DROP ROLE postgres; $do$"},
			want: []string{"DO $do1$\n", "\n$do1$", `PASSWORD 'x$do$; DROP ROLE postgres; $do$';`},
		},
		{
			name:   "no password",
			params: Params{Database: "d", Schema: "s", Writer: "w", Readonly: "r"},
			want:   []string{`CREATE ROLE "w" LOGIN;`},
			absent: []string{"PASSWORD"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			for _, s := range Plan(tt.params) {
				b.WriteString(s.Exists + "\n" + s.SQL + "\n")
			}
			got := b.String()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("SQL lacks %q:\n%s", w, got)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(got, a) {
					t.Errorf("SQL has %q:\n%s", a, got)
				}
			}
		})
	}
}

func TestLiteral(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "'plain'"},
		{"", "''"},
		{"it's", "'it''s'"},
		{`a\b`, `E'a\\b'`},
		{`'\'`, `E'''\\'''`},
		{"nul\x00byte", "'nulbyte'"},
		{"한글", "'한글'"},
	}
	for _, tt := range tests {
		if got := literal(tt.in); got != tt.want {
			t.Errorf("literal(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestDollarQuote(t *testing.T) {
	tests := []struct{ body, tag string }{
		{"plain", "$do$"},
		{"has $do$ inside", "$do1$"},
		{"ends with $do", "$do1$"},
		{"$do$ and $do1$", "$do2$"},
		{"$$ only", "$do$"},
	}
	for _, tt := range tests {
		got := dollarQuote(tt.body)
		if want := tt.tag + tt.body + tt.tag; got != want {
			t.Errorf("dollarQuote(%q) = %q, want %q", tt.body, got, want)
		}
		// The string must end exactly where the closing tag was put.
		rest := got[len(tt.tag):]
		if i := strings.Index(rest, tt.tag); i != len(tt.body) {
			t.Errorf("dollarQuote(%q): closing tag found at %d, want %d", tt.body, i, len(tt.body))
		}
	}
}

// TestWritePlanMasksPasswords checks that the dry-run output shows neither
// the roles' password nor the superuser's, and lists every migration.
func TestWritePlanMasksPasswords(t *testing.T) {
	p := defaultParams()
	p.Password = config.Secret(`Sup3r'Secret\pw`)
	var out bytes.Buffer
	if err := WritePlan(&out, p, "postgres://admin:hunter2@127.0.0.1:5433/maint?sslmode=disable", Applied{}); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, secret := range []string{"Sup3r", "Secret", "hunter2"} {
		if strings.Contains(got, secret) {
			t.Errorf("dry-run output shows %q:\n%s", secret, got)
		}
	}
	want := []string{
		`-- As a superuser, on database "maint" of 127.0.0.1:5433, as "admin":`,
		`CREATE ROLE "samchon" LOGIN PASSWORD '******';`,
		`CREATE ROLE "samchon_r" LOGIN PASSWORD '******';`,
		`CREATE DATABASE "payments" OWNER "samchon";`,
		`-- As the superuser, on database "payments":`,
		`ALTER DEFAULT PRIVILEGES FOR ROLE "samchon" IN SCHEMA "payments" GRANT SELECT ON TABLES TO "samchon_r";`,
		`-- As "samchon", on database "payments" with search_path "payments"`,
		"River",
	}
	files, err := migrations.Files(migrations.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no postgres migration files")
	}
	var downs []string
	for _, f := range files {
		up, down, ok := strings.Cut(f.SQL, "-- +goose Down")
		if !ok {
			t.Fatalf("%s has no Down section", f.Name)
		}
		want = append(want, "-- migrations/postgres/"+f.Name, strings.TrimRight(up, "\n"))
		downs = append(downs, down)
	}
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("dry-run output lacks %q", w)
		}
	}
	for _, d := range downs {
		if strings.Contains(got, d) {
			t.Errorf("dry-run output shows a rollback section: %q", d)
		}
	}
	// The real SQL, unlike the display, has the password.
	if s := Plan(p)[0]; !strings.Contains(s.SQL, `E'Sup3r''Secret\\pw'`) {
		t.Errorf("the writer step's SQL lacks the quoted password:\n%s", s.SQL)
	}
}

func TestWritePlanRefusesInvalidParams(t *testing.T) {
	p := defaultParams()
	p.Readonly = p.Writer
	var out bytes.Buffer
	err := WritePlan(&out, p, "", Applied{})
	if err == nil || !strings.Contains(err.Error(), "PAYMENT_POSTGRES_USERNAME_READONLY") {
		t.Errorf("WritePlan with readonly = writer: err = %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("WritePlan printed %q before failing", out.String())
	}
}

func TestWriteMigrationsSQLite(t *testing.T) {
	files, err := migrations.Files(migrations.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("%d sqlite migrations; the test needs two", len(files))
	}
	latest := files[len(files)-1].Version
	tests := []struct {
		name      string
		applied   Applied
		summary   string
		appliedTo int64 // the files up to this version are named as applied
	}{
		{"none applied", Applied{}, "-- The database has none of them yet.", 0},
		{"some applied", Applied{Version: files[0].Version},
			fmt.Sprintf("-- The database is at version %d: it has versions 1 to %[1]d already; the later ones would run.", files[0].Version), files[0].Version},
		{"all applied", Applied{Version: latest},
			fmt.Sprintf("-- The database is at version %d: it has every one already; none would run.", latest), latest},
		{"unknown", Applied{Version: latest, Unknown: errors.New("failed to connect:\n\tconnection refused")},
			"-- The version the database is at could not be read (failed to connect: connection refused); every migration is listed.", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := WriteMigrations(&out, migrations.SQLite, tt.applied); err != nil {
				t.Fatal(err)
			}
			got := out.String()
			if !strings.Contains(got, tt.summary+"\n") {
				t.Errorf("output lacks %q:\n%s", tt.summary, got)
			}
			for _, f := range files {
				name := "-- migrations/sqlite/" + f.Name + fmt.Sprintf(" (version %d)", f.Version)
				up, _, _ := strings.Cut(f.SQL, downMarker)
				if f.Version <= tt.appliedTo {
					if !strings.Contains(got, name+": applied already\n") || strings.Contains(got, up) {
						t.Errorf("%s: want it named as applied, without its SQL", f.Name)
					}
				} else if !strings.Contains(got, name+": not applied yet\n"+up) {
					t.Errorf("%s: want it with its SQL, as not applied yet", f.Name)
				}
			}
		})
	}
	var out bytes.Buffer
	if err := WriteMigrations(&out, "oracle", Applied{}); err == nil {
		t.Error("WriteMigrations(oracle) succeeded")
	}
}
