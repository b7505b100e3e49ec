package metrics

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	_ "modernc.org/sqlite"
)

func TestMiddlewareCountsReplays(t *testing.T) {
	gin.SetMode(gin.TestMode)
	m := New()
	r := gin.New()
	r.Use(m.Middleware())
	r.POST("/payments/histories", func(c *gin.Context) {
		if c.GetHeader("Idempotency-Key") == "seen" {
			c.Header("Idempotent-Replayed", "true")
		}
		c.Status(http.StatusCreated)
	})
	for _, key := range []string{"new", "seen", "seen"} {
		req := httptest.NewRequest(http.MethodPost, "/payments/histories", nil)
		req.Header.Set("Idempotency-Key", key)
		r.ServeHTTP(httptest.NewRecorder(), req)
	}
	if want := `paymentctl_idempotent_replays_total{route="/payments/histories"} 2`; !strings.Contains(scrape(t, m), want) {
		t.Errorf("metrics lack %s", want)
	}
}

func TestPresetSeries(t *testing.T) {
	out := scrape(t, New())
	for _, want := range []string{
		`paymentctl_webhook_delivery_attempts_total{outcome="delivered"} 0`,
		`paymentctl_webhook_delivery_attempts_total{outcome="failed"} 0`,
		`paymentctl_handoffs_total{outcome="succeeded"} 0`,
		`paymentctl_handoffs_total{outcome="failed"} 0`,
		`paymentctl_pending_webhooks 0`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("a fresh registry lacks %s", want)
		}
	}
}

func TestPaymentsBoundsLabels(t *testing.T) {
	m := New()
	p := m.Payments([]string{"register", "cancel"}, []string{"iamport", "toss.payments"}, []string{"succeeded", "refused"})
	p.Flow("register", "iamport", "succeeded")
	p.Flow("cancel", "made-up-vendor", "refused")
	p.Flow("cancel", "", "refused")
	p.Flow("register", "toss.payments", "exploded")
	out := scrape(t, m)
	for _, want := range []string{
		`paymentctl_payments_total{flow="register",outcome="succeeded",vendor="iamport"} 1`,
		`paymentctl_payments_total{flow="cancel",outcome="refused",vendor="other"} 2`,
		`paymentctl_payments_total{flow="register",outcome="other",vendor="toss.payments"} 1`,
		`paymentctl_payments_total{flow="cancel",outcome="succeeded",vendor="toss.payments"} 0`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(out, "made-up-vendor") {
		t.Error("a client's vendor code became a label value")
	}
}

// fakeClock is a settable time source.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func TestObserveQueue(t *testing.T) {
	m := New()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	queries := 0
	var fail error
	stats := []JobCount{
		{Kind: "webhook_delivery", State: "available", Count: 3, Oldest: 90 * time.Second},
		{Kind: "webhook_delivery", State: "retryable", Count: 2, Oldest: time.Hour},
		{Kind: "webhook_inbound", State: "running", Count: 1},
		{Kind: "someone_elses", State: "available", Count: 4, Oldest: time.Second},
		{Kind: "webhook_inbound", State: "pending", Count: 5},
	}
	var errs []error
	m.ObserveQueue(QueueOptions{
		Kinds:  []string{"webhook_inbound", "webhook_delivery"},
		States: []string{"available", "running", "retryable"},
		Stats: func(context.Context) ([]JobCount, error) {
			queries++
			return stats, fail
		},
		Pending: func(context.Context) (int64, error) { return 7, nil },
		OnError: func(err error) { errs = append(errs, err) },
		Now:     clock.Now,
	})
	out := scrape(t, m)
	for _, want := range []string{
		`paymentctl_webhook_jobs{kind="webhook_delivery",state="available"} 3`,
		`paymentctl_webhook_jobs{kind="webhook_delivery",state="retryable"} 2`,
		`paymentctl_webhook_jobs{kind="webhook_delivery",state="running"} 0`,
		`paymentctl_webhook_jobs{kind="webhook_inbound",state="running"} 1`,
		`paymentctl_webhook_jobs{kind="webhook_inbound",state="other"} 5`,
		`paymentctl_webhook_jobs{kind="other",state="available"} 4`,
		`paymentctl_webhook_jobs_oldest_available_seconds{kind="webhook_delivery"} 90`,
		`paymentctl_webhook_jobs_oldest_available_seconds{kind="webhook_inbound"} 0`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if want := `paymentctl_pending_webhooks 7`; !strings.Contains(scrape(t, m), want) {
		t.Errorf("metrics lack %s", want)
	}

	scrape(t, m)
	if queries != 1 {
		t.Errorf("%d queries for scrapes within %v, want 1", queries, jobStatsMaxAge)
	}
	clock.now = clock.now.Add(jobStatsMaxAge)
	fail, stats = errors.New("database down"), nil
	out = scrape(t, m)
	if queries != 2 || len(errs) != 1 {
		t.Errorf("after the cache expired: %d queries, errors %v; want 2 queries, 1 error", queries, errs)
	}
	if want := `paymentctl_webhook_jobs{kind="webhook_delivery",state="available"} 3`; !strings.Contains(out, want) {
		t.Errorf("a failed query lost the last values: metrics lack %s", want)
	}
}

func TestObserveDB(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := New()
	m.ObserveDB(db)
	out := scrape(t, m)
	for _, want := range []string{
		`go_sql_open_connections{db_name="paymentctl"}`,
		`go_sql_in_use_connections{db_name="paymentctl"}`,
		`go_sql_idle_connections{db_name="paymentctl"}`,
		`go_sql_wait_count_total{db_name="paymentctl"}`,
		`go_sql_wait_duration_seconds_total{db_name="paymentctl"}`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestObserveUnsettled: the unsettled operations are reported by state,
// every listed state at zero when absent, with the oldest's age; a
// failed query keeps the last values; without the option nothing is
// reported.
func TestObserveUnsettled(t *testing.T) {
	m := New()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	counts, age := map[string]int64{"compensate": 1, "unknown": 2, "failed": 9}, 2*time.Hour
	var fail error
	m.ObserveQueue(QueueOptions{
		Kinds:  []string{"webhook_inbound"},
		States: []string{"available"},
		Stats:  func(context.Context) ([]JobCount, error) { return nil, nil },
		Unsettled: func(context.Context) (map[string]int64, time.Duration, error) {
			return counts, age, fail
		},
		UnsettledStates: []string{"unknown", "compensate", "pending"},
		Now:             clock.Now,
	})
	out := scrape(t, m)
	for _, want := range []string{
		`paymentctl_unsettled_operations{state="compensate"} 1`,
		`paymentctl_unsettled_operations{state="unknown"} 2`,
		`paymentctl_unsettled_operations{state="pending"} 0`,
		`paymentctl_unsettled_operations_oldest_seconds 7200`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(out, `state="failed"`) {
		t.Error("a state not listed is reported")
	}
	clock.now = clock.now.Add(jobStatsMaxAge)
	counts, age, fail = nil, 0, errors.New("database down")
	if out := scrape(t, m); !strings.Contains(out, `paymentctl_unsettled_operations{state="unknown"} 2`) {
		t.Error("a failed query lost the last values")
	}
	clock.now = clock.now.Add(jobStatsMaxAge)
	counts, fail = map[string]int64{}, nil
	if out := scrape(t, m); !strings.Contains(out, `paymentctl_unsettled_operations{state="unknown"} 0`) ||
		!strings.Contains(out, `paymentctl_unsettled_operations_oldest_seconds 0`) {
		t.Errorf("settled operations are still reported:\n%s", out)
	}

	plain := New()
	plain.ObserveQueue(QueueOptions{Stats: func(context.Context) ([]JobCount, error) { return nil, nil }})
	if strings.Contains(scrape(t, plain), "paymentctl_unsettled_operations") {
		t.Error("unsettled operations reported without the option")
	}
}
