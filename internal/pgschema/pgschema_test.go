package pgschema

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

func TestWithSearchPath(t *testing.T) {
	tests := []struct {
		base, want string
		wantErr    bool
	}{
		{base: "postgres://u@h/db", want: "postgres://u@h/db?search_path=s"},
		{base: "postgres://u@h/db?sslmode=disable", want: "postgres://u@h/db?search_path=s&sslmode=disable"},
		{base: "postgresql://u@h/db?search_path=old", want: "postgresql://u@h/db?search_path=s"},
		{base: "sqlite:x.db", wantErr: true},
		{base: "host=h dbname=db", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			got, err := WithSearchPath(tt.base, "s")
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("WithSearchPath(%q) = %q, %v; want %q, error %v", tt.base, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestCreateRefusesBadNames(t *testing.T) {
	for _, prefix := range []string{"", "A_", "x; DROP", "1x"} {
		if _, _, err := Create(context.Background(), "postgres://nowhere.invalid/db", prefix); err == nil {
			t.Errorf("Create with prefix %q: no error", prefix)
		}
	}
	if err := Drop(context.Background(), "postgres://nowhere.invalid/db", "t_", "public"); err == nil {
		t.Error("Drop of a schema without the prefix: no error")
	}
}

func TestForTestPostgres(t *testing.T) {
	base := TestDSN()
	if base == "" {
		t.Skip(EnvTestDSN + " not set")
	}
	var name string
	t.Run("postgres", func(t *testing.T) {
		dsn := ForTest(t, base, "t_pgschema_")
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.QueryRow("SELECT current_schema()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "t_pgschema_") {
			t.Errorf("current_schema() = %q", name)
		}
		if _, err := db.Exec("CREATE TABLE x (id int)"); err != nil {
			t.Fatal(err)
		}
	})
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("schema %s left behind", name)
	}
}
