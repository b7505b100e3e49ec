package schema

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/config"
)

func loadConfig(t *testing.T, env map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Load(config.LoadOptions{
		LookupEnv: func(key string) (string, bool) {
			v, ok := env[key]
			return v, ok
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestFromConfig(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Params // WriterDSN is not compared
	}{
		{
			name: "dev defaults, built from PAYMENT_POSTGRES_*",
			env:  map[string]string{"PAYMENT_MODE": "dev"},
			want: Params{Database: "payments", Schema: "payments", Writer: "samchon", Readonly: "samchon_r", Password: "samchon"},
		},
		{
			name: "parts with odd characters",
			env: map[string]string{"PAYMENT_MODE": "dev",
				"PAYMENT_POSTGRES_USERNAME": "pay w", "PAYMENT_POSTGRES_PASSWORD": "p@ss:/?#",
				"PAYMENT_POSTGRES_DATABASE": "pay db", "PAYMENT_POSTGRES_SCHEMA": "Billing"},
			// An unquoted search_path entry is folded to lower case by
			// PostgreSQL, so that is where the tables go.
			want: Params{Database: "pay db", Schema: "billing", Writer: "pay w", Readonly: "samchon_r", Password: "p@ss:/?#"},
		},
		{
			name: "PAYMENT_DATABASE_URL wins, first search_path entry",
			env: map[string]string{"PAYMENT_MODE": "dev",
				"PAYMENT_DATABASE_URL": "postgres://app:pw@db:5432/main?search_path=ledger,public"},
			want: Params{Database: "main", Schema: "ledger", Writer: "app", Readonly: "samchon_r", Password: "pw"},
		},
		{
			name: "quoted search_path keeps its case",
			env: map[string]string{"PAYMENT_MODE": "dev",
				"PAYMENT_DATABASE_URL": `postgres://app:pw@db/main?search_path=%22My%20%22%22S%22%22%22,public`},
			want: Params{Database: "main", Schema: `My "S"`, Writer: "app", Readonly: "samchon_r", Password: "pw"},
		},
		{
			name: "$user means the writer",
			env: map[string]string{"PAYMENT_MODE": "dev",
				"PAYMENT_DATABASE_URL": "postgres://app:pw@db/main?search_path=%24user,public"},
			want: Params{Database: "main", Schema: "app", Writer: "app", Readonly: "samchon_r", Password: "pw"},
		},
		{
			name: "no search_path is public",
			env: map[string]string{"PAYMENT_MODE": "dev",
				"PAYMENT_DATABASE_URL": "postgres://app:pw@db/main"},
			want: Params{Database: "main", Schema: "public", Writer: "app", Readonly: "samchon_r", Password: "pw"},
		},
		{
			name: "no password in the DSN takes PAYMENT_POSTGRES_PASSWORD",
			env: map[string]string{"PAYMENT_MODE": "dev", "PAYMENT_POSTGRES_PASSWORD": "fallback",
				"PAYMENT_DATABASE_URL": "postgresql://app@db/main?search_path=s"},
			want: Params{Database: "main", Schema: "s", Writer: "app", Readonly: "samchon_r", Password: "fallback"},
		},
		{
			name: "the original's Prisma URL",
			env: map[string]string{"PAYMENT_MODE": "dev", "PAYMENT_POSTGRES_USERNAME_READONLY": "reader",
				"PAYMENT_POSTGRES_URL": "postgresql://w:x@127.0.0.1:5432/pay?schema=pschema"},
			want: Params{Database: "pay", Schema: "pschema", Writer: "w", Readonly: "reader", Password: "x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := loadConfig(t, tt.env)
			got, err := FromConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got.WriterDSN.Reveal() != cfg.DatabaseURL() {
				t.Errorf("WriterDSN is not the server's DSN")
			}
			got.WriterDSN = ""
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("FromConfig (-want +got):\n%s", diff)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestFromConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"sqlite in local mode", map[string]string{}, "not a PostgreSQL"},
		{"unparsable", map[string]string{"PAYMENT_MODE": "dev", "PAYMENT_DATABASE_URL": "postgres://u:secretpw@db/main?a=b=c"}, "parse the database dsn"},
		{"no database", map[string]string{"PAYMENT_MODE": "dev", "PAYMENT_DATABASE_URL": "postgres://u:secretpw@db"}, "names no database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromConfig(loadConfig(t, tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secretpw") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	long := strings.Repeat("x", 64)
	tests := []struct {
		name   string
		modify func(*Params)
		want   string // "" for valid
	}{
		{"valid", func(*Params) {}, ""},
		{"63 bytes", func(p *Params) { p.Schema = long[:63] }, ""},
		{"64 bytes", func(p *Params) { p.Schema = long }, "schema name"},
		{"multi-byte name over the limit", func(p *Params) { p.Database = strings.Repeat("결", 22) }, "longer than 63 bytes"},
		{"empty database", func(p *Params) { p.Database = "" }, "database name is empty"},
		{"NUL in a role", func(p *Params) { p.Writer = "a\x00b" }, "NUL"},
		{"NUL in the password", func(p *Params) { p.Password = "a\x00b" }, "password contains a NUL"},
		{"readonly is the writer", func(p *Params) { p.Readonly = p.Writer }, "read-only role is the writer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := defaultParams()
			tt.modify(&p)
			err := p.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestDialectOfDSN(t *testing.T) {
	tests := []struct {
		dsn              string
		sqlite, postgres bool
	}{
		{"sqlite:paymentctl.db", true, false},
		{"file:/tmp/p.db?mode=rwc", true, false},
		{"postgres://u@h/d", false, true},
		{"postgresql://u@h/d", false, true},
		{"mysql://u@h/d", false, false},
	}
	for _, tt := range tests {
		if got := IsSQLite(tt.dsn); got != tt.sqlite {
			t.Errorf("IsSQLite(%q) = %v", tt.dsn, got)
		}
		if got := IsPostgres(tt.dsn); got != tt.postgres {
			t.Errorf("IsPostgres(%q) = %v", tt.dsn, got)
		}
	}
}
