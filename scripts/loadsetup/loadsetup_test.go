package loadsetup

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/paymentctl/paymentctl/internal/pgschema"
)

func TestPorts(t *testing.T) {
	var out bytes.Buffer
	if err := Ports(&out, []string{"3"}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range strings.Fields(out.String()) {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 || seen[p] {
			t.Errorf("port %q (printed %q)", p, out.String())
		}
		seen[p] = true
	}
	if len(seen) != 3 {
		t.Errorf("printed %q, want 3 different ports", out.String())
	}
	for _, bad := range []string{"0", "-1", "x"} {
		if err := Ports(io.Discard, []string{bad}); err == nil {
			t.Errorf("Ports(%q): no error", bad)
		}
	}
}

func TestSchemaUsage(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{nil, {"list"}, {"create"}, {"drop", "-base", "postgres://nowhere.invalid/db", "-name", "public"}} {
		if err := Schema(ctx, io.Discard, io.Discard, "load_", args); err == nil {
			t.Errorf("Schema(%q): no error", args)
		}
	}
}

func TestSchemaPostgres(t *testing.T) {
	base := pgschema.TestDSN()
	if base == "" {
		t.Skip(pgschema.EnvTestDSN + " not set")
	}
	t.Run("postgres", func(t *testing.T) {
		ctx := context.Background()
		var out bytes.Buffer
		if err := Schema(ctx, &out, io.Discard, "t_loadsetup_", []string{"create", "-base", base}); err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSpace(out.String())
		if !strings.HasPrefix(name, "t_loadsetup_") {
			t.Fatalf("created %q", name)
		}
		dsn, err := pgschema.WithSearchPath(base, name)
		if err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		for _, table := range []string{"payment_histories", "river_job"} {
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
				t.Errorf("the new schema is not migrated: %v", err)
			}
		}
		if err := Schema(ctx, io.Discard, io.Discard, "t_loadsetup_", []string{"drop", "-base", base, "-name", name}); err != nil {
			t.Fatal(err)
		}
	})
}
