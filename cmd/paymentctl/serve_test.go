package main

import (
	"strings"
	"testing"
)

// TestShownDatabase: the local-mode banner names the database without
// its credentials, and says which kind it is.
func TestShownDatabase(t *testing.T) {
	tests := []struct {
		dsn, want string
	}{
		{"sqlite:paymentctl.db", "sqlite:paymentctl.db (SQLite, migrated)"},
		{"postgres://app:s3cret-pw@db.internal:5432/payments?sslmode=disable", "postgres://db.internal:5432/payments (PostgreSQL)"},
		{"postgresql://app@127.0.0.1/payments?password=s3cret-pw&search_path=x", "postgresql://127.0.0.1/payments (PostgreSQL)"},
		{"postgres://app:s3cret-pw@/payments?host=/run/postgresql", "PostgreSQL"},
		{"postgres://%zz:s3cret-pw@h/p", "PostgreSQL"},
	}
	for _, tt := range tests {
		got := shownDatabase(tt.dsn)
		if got != tt.want {
			t.Errorf("shownDatabase(%q) = %q, want %q", tt.dsn, got, tt.want)
		}
		if strings.Contains(got, "s3cret") {
			t.Errorf("shownDatabase(%q) shows the password: %q", tt.dsn, got)
		}
	}
}
