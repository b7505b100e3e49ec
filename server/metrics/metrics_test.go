package metrics

import (
	"errors"
	"fmt"
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

// requestSeries returns the label sets of the request histogram, as a
// scrape would list them.
func requestSeries(t *testing.T, m *Metrics) map[string]bool {
	t.Helper()
	families, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]bool{}
	for _, f := range families {
		if f.GetName() != "paymentctl_http_request_duration_seconds" {
			continue
		}
		for _, metric := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range metric.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			series[fmt.Sprintf("%s %s %s", labels["method"], labels["route"], labels["status"])] = true
		}
	}
	return series
}

func TestMiddlewareBoundsLabels(t *testing.T) {
	gin.SetMode(gin.TestMode)
	m := New()
	r := gin.New()
	r.HandleMethodNotAllowed = true // as the API's router
	r.Use(m.Middleware())
	r.PATCH("/payments/histories/:id", func(c *gin.Context) { c.Status(http.StatusOK) })
	r.GET("/monitors/health", func(c *gin.Context) { c.Status(http.StatusOK) })
	hostile := func(i int) {
		for _, req := range []*http.Request{
			httptest.NewRequest(fmt.Sprintf("MADEUP%d", i), "/payments/histories/x", nil),
			httptest.NewRequest(fmt.Sprintf("X-%d", i), fmt.Sprintf("/random/%d", i), nil),
			httptest.NewRequest(http.MethodPatch, fmt.Sprintf("/payments/histories/%d", i), nil),
			httptest.NewRequest(http.MethodGet, fmt.Sprintf("/nope/%d?q=%d", i, i), nil),
			httptest.NewRequest(http.MethodDelete, "/monitors/health", nil),
		} {
			r.ServeHTTP(httptest.NewRecorder(), req)
		}
	}
	hostile(0)
	before := requestSeries(t, m)
	for i := 1; i <= 1000; i++ {
		hostile(i)
	}
	after := requestSeries(t, m)
	if len(after) != len(before) {
		t.Errorf("%d series after 1,000 rounds of made-up methods and paths, want %d as after one:\n%v", len(after), len(before), after)
	}
	want := map[string]bool{
		"OTHER /payments/histories/:id 200": false, // never: a made-up method is not routed
		"OTHER unmatched 405":               true,
		"OTHER unmatched 404":               true,
		"PATCH /payments/histories/:id 200": true,
		"GET unmatched 404":                 true,
	}
	for s, present := range want {
		if after[s] != present {
			t.Errorf("series %q present = %v, want %v (have %v)", s, after[s], present, after)
		}
	}
}

func TestMethodLabel(t *testing.T) {
	for method, want := range map[string]string{
		"GET": "GET", "POST": "POST", "PUT": "PUT", "PATCH": "PATCH",
		"DELETE": "OTHER", "HEAD": "OTHER", "OPTIONS": "OTHER", "get": "OTHER", "BREW": "OTHER", "": "OTHER",
	} {
		if got := MethodLabel(method); got != want {
			t.Errorf("MethodLabel(%q) = %q, want %q", method, got, want)
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
		if r.URL.Path == "/payments/cancel" {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer pg.Close()
	c := &http.Client{Transport: m.Transport("iamport", nil)}
	for _, p := range []string{"/payments/imp_1", "/payments/cancel"} {
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
		`paymentctl_pg_request_duration_seconds_count{operation="get_payment",outcome="2xx",pg="iamport"} 1`,
		`paymentctl_pg_request_duration_seconds_count{operation="cancel",outcome="4xx",pg="iamport"} 1`,
		`paymentctl_pg_request_duration_seconds_count{operation="other",outcome="error",pg="iamport"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
