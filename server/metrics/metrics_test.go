package metrics

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

func TestMiddlewareLabelsRoutes(t *testing.T) {
	gin.SetMode(gin.TestMode)
	m := New()
	r := gin.New()
	r.Use(m.Middleware())
	r.GET("/payments/histories/:id", func(c *gin.Context) { c.Status(http.StatusTeapot) })
	for _, path := range []string{"/payments/histories/1", "/payments/histories/2", "/nope/1", "/nope/2"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	out := scrape(t, m)
	for _, want := range []string{
		`paymentctl_http_request_duration_seconds_count{method="GET",route="/payments/histories/:id",status="418"} 2`,
		`paymentctl_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 2`,
		"go_goroutines",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestCounters(t *testing.T) {
	m := New()
	for _, s := range []int{200, 204, 503, 0, 0} {
		m.Delivery(s)
	}
	m.Handoff(nil)
	m.Handoff(errors.New("child exited"))
	m.PendingWebhooks(7)
	out := scrape(t, m)
	for _, want := range []string{
		`paymentctl_webhook_delivery_attempts_total{outcome="delivered"} 2`,
		`paymentctl_webhook_delivery_attempts_total{outcome="rejected"} 1`,
		`paymentctl_webhook_delivery_attempts_total{outcome="failed"} 2`,
		`paymentctl_handoffs_total{outcome="succeeded"} 1`,
		`paymentctl_handoffs_total{outcome="failed"} 1`,
		`paymentctl_pending_webhooks 7`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestTransport(t *testing.T) {
	m := New()
	pg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer pg.Close()
	c := &http.Client{Transport: m.Transport("iamport", nil)}
	for _, p := range []string{"/ok", "/bad"} {
		resp, err := c.Get(pg.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if _, err := c.Get("http://127.0.0.1:1/"); err == nil {
		t.Fatal("want a connection error")
	}
	out := scrape(t, m)
	for _, want := range []string{
		`paymentctl_pg_request_duration_seconds_count{outcome="2xx",pg="iamport"} 1`,
		`paymentctl_pg_request_duration_seconds_count{outcome="4xx",pg="iamport"} 1`,
		`paymentctl_pg_request_duration_seconds_count{outcome="error",pg="iamport"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
