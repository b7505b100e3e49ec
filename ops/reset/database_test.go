package reset

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/internal/pgschema"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/store"
)

// backend is a database the reset tests run on.
type backend struct {
	name string
	dsn  func(t *testing.T) string
}

// backends returns SQLite always and PostgreSQL when
// PAYMENTCTL_TEST_POSTGRES_DSN is set, each test in a fresh database file
// or schema.
func backends() []backend {
	bs := []backend{{name: "sqlite", dsn: func(t *testing.T) string {
		return "sqlite:" + filepath.Join(t.TempDir(), "payments.db")
	}}}
	if base := pgschema.TestDSN(); base != "" {
		bs = append(bs, backend{name: "postgres", dsn: func(t *testing.T) string { return pgschema.ForTest(t, base, "reset_") }})
	}
	return bs
}

// testConfig is a local-mode configuration on dsn, with nothing on fixed
// ports.
func testConfig(t *testing.T, env map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Load(config.LoadOptions{LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// counts reads the number of rows of each of paymentctl's tables, and of
// the job queue's unfinished jobs.
func counts(t *testing.T, dsn string) map[string]int {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got := map[string]int{}
	for name, q := range map[string]string{
		"histories":           "SELECT count(*) FROM payment_histories",
		"histories paid":      "SELECT count(*) FROM payment_histories WHERE paid_at IS NOT NULL",
		"histories refunded":  "SELECT count(*) FROM payment_histories WHERE refund = 5000 AND cancelled_at IS NOT NULL",
		"reservations":        "SELECT count(*) FROM payment_reservations",
		"cancels":             "SELECT count(*) FROM payment_history_cancels",
		"idempotency keys":    "SELECT count(*) FROM payment_idempotency_keys",
		"unfinished jobs":     "SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'discarded', 'cancelled')",
		"forwarded webhooks":  "SELECT count(*) FROM payment_history_webhooks",
		"delivery answers ok": "SELECT count(*) FROM payment_history_webhook_responses WHERE status BETWEEN 200 AND 299",
	} {
		var n int
		if err := st.SQLDB().QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		got[name] = n
	}
	return got
}

// ids returns the ids of a table.
func ids(t *testing.T, dsn, table string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.SQLDB().QueryContext(ctx, "SELECT id FROM "+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestResetDatabase drops and re-creates the schema and seeds it twice on
// each database: after each reset the database holds exactly the records
// of the last seed, and none of the one before.
func TestResetDatabase(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.dsn(t)
			cfg := testConfig(t, map[string]string{"PAYMENT_DATABASE_URL": dsn, "PAYMENT_METRICS_ADDR": "127.0.0.1:0"})

			var before *Sample
			for round := 1; round <= 2; round++ {
				s, err := RecreateSchema(ctx, dsn)
				if err != nil {
					t.Fatalf("round %d: RecreateSchema: %v", round, err)
				}
				if s.To == 0 || s.RiverTo == 0 {
					t.Fatalf("round %d: schema not re-created: %+v", round, s)
				}
				if round == 1 && (s.From != 0 || s.RiverFrom != 0) {
					t.Errorf("round 1 on an empty database: %+v", s)
				}
				if round == 2 && (s.From != s.To || s.RiverFrom != s.RiverTo) {
					t.Errorf("round 2 did not start from the full schema: %+v", s)
				}
				if got := counts(t, dsn)["histories"]; got != 0 {
					t.Fatalf("round %d: %d histories right after the schema was re-created", round, got)
				}

				sample, err := Seed(ctx, cfg, SeedOptions{Wait: 20 * time.Second})
				if err != nil {
					t.Fatalf("round %d: Seed: %v", round, err)
				}
				got := counts(t, dsn)
				want := map[string]int{
					"histories": 5, "histories paid": 4, "histories refunded": 1,
					"reservations": 3, "cancels": 1, "idempotency keys": 0,
					"unfinished jobs": 0,
					// The deposit and the partial cancel, each delivered.
					"forwarded webhooks": 2, "delivery answers ok": 2,
				}
				for k, w := range want {
					if got[k] != w {
						t.Errorf("round %d: %s = %d, want %d", round, k, got[k], w)
					}
				}
				if sample.Count(KindHistory) != 5 || sample.Count(KindReservation) != 3 || sample.Password != SamplePassword {
					t.Errorf("round %d: sample %+v", round, sample)
				}
				hist, res := ids(t, dsn, "payment_histories"), ids(t, dsn, "payment_reservations")
				for _, r := range sample.Records {
					table := hist
					if r.Kind == KindReservation {
						table = res
					}
					if !table[r.ID] {
						t.Errorf("round %d: sample %s %s is not in the database", round, r.Kind, r.ID)
					}
				}
				if before != nil {
					for _, r := range before.Records {
						if hist[r.ID] || res[r.ID] {
							t.Errorf("round %d: %s %s of the previous seed survived the reset", round, r.Kind, r.ID)
						}
					}
				}
				before = sample
			}
		})
	}
}

func TestSampleLines(t *testing.T) {
	s := &Sample{Password: SamplePassword, Records: []SampleRecord{{
		Kind: KindHistory, ID: "h1", Vendor: sdk.Vendor{Code: sdk.VendorIamport, UID: "imp_1"}, SourceID: "s1", Flow: "card", State: "paid 20000 KRW",
	}}}
	got := s.Lines()
	if len(got) != 2 || !strings.Contains(got[0], "h1") || !strings.Contains(got[0], "source.id s1") ||
		!strings.Contains(got[1], `"sample-password"`) {
		t.Errorf("Lines = %q", got)
	}
}
