package monitor

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMaskArguments(t *testing.T) {
	tests := []struct {
		name       string
		args, want []string
	}{
		{"nothing secret",
			[]string{"paymentctl", "serve", "--api-port", "37821", "--log-format=json", "-"},
			[]string{"paymentctl", "serve", "--api-port", "37821", "--log-format=json", "-"}},
		{"secret flag with =",
			[]string{"paymentctl", "serve", "--database-url=postgres://user:password@db:5432/payments"},
			[]string{"paymentctl", "serve", "--database-url=******"}},
		{"secret flag and its value apart",
			[]string{"paymentctl", "serve", "--database-url", "postgres://user:password@db/payments", "--api-port", "1"},
			[]string{"paymentctl", "serve", "--database-url", "******", "--api-port", "1"}},
		{"single dash",
			[]string{"paymentctl", "-database-url", "sqlite:x.db", "-postgres-password=hunter2"},
			[]string{"paymentctl", "-database-url", "******", "-postgres-password=******"}},
		{"any secret setting's flag, registered or not",
			[]string{"paymentctl", "--system-password", "hunter2", "--connection-encryption-key=k", "--toss-payments-secret", "live_sk"},
			[]string{"paymentctl", "--system-password", "******", "--connection-encryption-key=******", "--toss-payments-secret", "******"}},
		{"empty value",
			[]string{"paymentctl", "--webhook-secret="},
			[]string{"paymentctl", "--webhook-secret=******"}},
		{"secret flag last, no value",
			[]string{"paymentctl", "serve", "--database-url"},
			[]string{"paymentctl", "serve", "--database-url"}},
		{"secret environment assignments",
			[]string{"env", "PAYMENT_SYSTEM_PASSWORD=hunter2", "PAYMENT_DATABASE_URL=postgres://u:p@h/d", "PAYMENT_API_PORT=1", "paymentctl"},
			[]string{"env", "PAYMENT_SYSTEM_PASSWORD=******", "PAYMENT_DATABASE_URL=******", "PAYMENT_API_PORT=1", "paymentctl"}},
		{"URL password in a non-secret flag",
			[]string{"paymentctl", "--iamport-url=https://key:secret@api.iamport.kr/users/getToken"},
			[]string{"paymentctl", "--iamport-url=https://key:******@api.iamport.kr/users/getToken"}},
		{"URL password in a positional argument",
			[]string{"psql", "postgresql://admin:s3cret@db:5432/payments?sslmode=require"},
			[]string{"psql", "postgresql://admin:******@db:5432/payments?sslmode=require"}},
		{"raw @ in the password",
			[]string{"x", "postgres://u:p@ss@h:5432/db"},
			[]string{"x", "postgres://u:******@h:5432/db"}},
		{"several URLs in one argument",
			[]string{"x", "a=http://u:p1@h1/x,b=redis://:p2@h2 c=http://h3:80/?q=a@b"},
			[]string{"x", "a=http://u:******@h1/x,b=redis://:******@h2 c=http://h3:80/?q=a@b"}},
		{"URLs without a password",
			[]string{"x", "http://user@host/", "http://host:8080/path?mail=a:b@c", "ssh://git@github.com"},
			[]string{"x", "http://user@host/", "http://host:8080/path?mail=a:b@c", "ssh://git@github.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, maskArguments(tt.args)); diff != "" {
				t.Errorf("maskArguments(%q) (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

func TestSystemMasksArguments(t *testing.T) {
	args := []string{"paymentctl", "serve", "--database-url", "postgres://user:password@db/payments"}
	got := New(Options{Args: args}).System().Arguments
	if strings.Contains(strings.Join(got, " "), "password@") {
		t.Errorf("System().Arguments = %q, leaks the database password", got)
	}
	if args[3] != "postgres://user:password@db/payments" {
		t.Errorf("New changed its caller's arguments: %q", args)
	}
}
