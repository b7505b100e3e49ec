package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/paymentctl/paymentctl/sdk"
)

// dashboardFile is the Grafana dashboard shipped with paymentctl.
const dashboardFile = "../deploy/grafana/paymentctl.json"

// dashboardQueries returns every PromQL expression of a Grafana dashboard:
// its panels' targets (rows' panels included) and its templating queries.
func dashboardQueries(t *testing.T, raw []byte) []string {
	t.Helper()
	var dash struct {
		Title      string            `json:"title"`
		UID        string            `json:"uid"`
		Panels     []json.RawMessage `json:"panels"`
		Templating struct {
			List []struct {
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if dash.Title == "" || dash.UID == "" {
		t.Errorf("%s: no title or uid", dashboardFile)
	}
	type panel struct {
		Title   string                  `json:"title"`
		Type    string                  `json:"type"`
		Panels  []panel                 `json:"panels"`
		Targets []struct{ Expr string } `json:"targets"`
	}
	var exprs []string
	var walk func(p panel)
	walk = func(p panel) {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
		for _, c := range p.Panels {
			walk(c)
		}
	}
	for _, r := range dash.Panels {
		var p panel
		if err := json.Unmarshal(r, &p); err != nil {
			t.Fatalf("%s: panel: %v", dashboardFile, err)
		}
		walk(p)
	}
	for _, v := range dash.Templating.List {
		if v.Definition != "" {
			exprs = append(exprs, v.Definition)
		}
	}
	return exprs
}

// metricName matches the names of paymentctl's, Go's and the process's
// metrics in a PromQL expression.
var metricName = regexp.MustCompile(`\b(?:paymentctl|go|process)_[a-zA-Z0-9_]+\b`)

// TestDashboardMetricsExist runs a short flow through a server, then
// checks that every metric the Grafana dashboard queries is served.
func TestDashboardMetricsExist(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	exprs := dashboardQueries(t, raw)

	h := start(t, backends()[0].dsn(t))
	ctx := context.Background()
	hist := paid(t, h, methods()[0], 10000)
	cancel := sdk.CancelCreate{Source: hist.Source, Password: testPassword, Price: 1000, Reason: "test"}
	for range 2 { // the second is an idempotent replay
		if _, err := h.api.CancelHistory(ctx, cancel, sdk.WithIdempotencyKey("dashboard-1")); err != nil {
			t.Fatal(err)
		}
	}
	h.waitEvents(1)

	rec := httptest.NewRecorder()
	h.srv.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	served := map[string]bool{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		served[strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
	}
	var missing []string
	seen := map[string]bool{}
	for _, e := range exprs {
		for _, name := range metricName.FindAllString(e, -1) {
			if !served[name] && !seen[name] {
				missing = append(missing, name)
			}
			seen[name] = true
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%s queries metrics the server does not serve: %s", dashboardFile, strings.Join(missing, ", "))
	}
	if len(seen) < 10 {
		t.Errorf("found only %d metric names in the dashboard: %v", len(seen), seen)
	}
}

// TestOperatorMetrics runs a registration, a cancel and its replay through
// a server, then checks that /metrics serves every family an operator
// needs (issue 10, item 4), with the labels it is broken down by.
func TestOperatorMetrics(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		ctx := context.Background()
		hist := paid(t, h, methods()[0], 10000)
		cancel := sdk.CancelCreate{Source: hist.Source, Password: testPassword, Price: 1000, Reason: "test"}
		for range 2 { // the second is an idempotent replay
			if _, err := h.api.CancelHistory(ctx, cancel, sdk.WithIdempotencyKey("operator-metrics")); err != nil {
				t.Fatal(err)
			}
		}
		h.waitEvents(1)

		rec := httptest.NewRecorder()
		h.srv.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		body := rec.Body.String()
		for _, tt := range []struct{ what, series string }{
			{"webhook jobs available", `paymentctl_webhook_jobs{kind="webhook_delivery",state="available"} `},
			{"webhook jobs running", `paymentctl_webhook_jobs{kind="webhook_delivery",state="running"} `},
			{"webhook jobs retryable", `paymentctl_webhook_jobs{kind="webhook_delivery",state="retryable"} `},
			{"webhook jobs discarded", `paymentctl_webhook_jobs{kind="webhook_delivery",state="discarded"} `},
			{"oldest waiting job", `paymentctl_webhook_jobs_oldest_available_seconds{kind="webhook_delivery"} `},
			{"pending PG webhooks", `paymentctl_pending_webhooks `},
			{"deliveries by outcome", `paymentctl_webhook_delivery_attempts_total{outcome="delivered"} `},
			{"PG calls by PG, operation and outcome", `paymentctl_pg_request_duration_seconds_count{operation="get_payment",outcome="2xx",pg="iamport"} `},
			{"registrations by vendor and outcome", `paymentctl_payments_total{flow="register",outcome="succeeded",vendor="iamport"} 1`},
			{"cancels by vendor and outcome", `paymentctl_payments_total{flow="cancel",outcome="succeeded",vendor="iamport"} 1`},
			{"idempotent replays", `paymentctl_idempotent_replays_total{route="/payments/histories/cancel"} 1`},
			{"database pool: open", `go_sql_open_connections{db_name="paymentctl"} `},
			{"database pool: in use", `go_sql_in_use_connections{db_name="paymentctl"} `},
			{"database pool: wait time", `go_sql_wait_duration_seconds_total{db_name="paymentctl"} `},
			{"handoffs", `paymentctl_handoffs_total{outcome="succeeded"} 0`},
		} {
			if !strings.Contains(body, "\n"+tt.series) {
				t.Errorf("%s: /metrics has no %s", tt.what, tt.series)
			}
		}
	})
}
