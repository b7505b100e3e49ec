package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestProbeHandlers(t *testing.T) {
	tests := []struct {
		name     string
		checks   []readyCheck
		status   int
		body     string
		logged   string // in the warning, "" for none
		unlogged string // never in the answer
	}{
		{
			name:   "ready",
			checks: []readyCheck{{name: "serving"}, {name: "database"}},
			status: http.StatusOK,
			body:   "[+]serving ok\n[+]database ok\nok\n",
		},
		{
			name:   "draining is expected and not logged",
			checks: []readyCheck{{name: "serving", reason: "draining"}, {name: "database"}},
			status: http.StatusServiceUnavailable,
			body:   "[-]serving failed: draining\n[+]database ok\nreadyz check failed\n",
		},
		{
			name: "a cause is logged, not sent",
			checks: []readyCheck{
				{name: "serving"},
				{name: "database", reason: "unreachable", err: errors.New("dial tcp 10.0.0.9:5432: connection refused")},
				{name: "workers", reason: "not running"},
			},
			status:   http.StatusServiceUnavailable,
			body:     "[+]serving ok\n[-]database failed: unreachable\n[-]workers failed: not running\nreadyz check failed\n",
			logged:   "10.0.0.9",
			unlogged: "10.0.0.9",
		},
	}
	gin.SetMode(gin.TestMode)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := &probeHandlers{
				ready: func(context.Context) []readyCheck { return tt.checks },
				log:   slog.New(slog.NewTextHandler(&logs, nil)),
			}
			r := gin.New()
			r.GET("/readyz", h.readyz)
			r.GET("/livez", h.livez)
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != tt.status || rec.Body.String() != tt.body {
				t.Errorf("GET /readyz = %d %q, want %d %q", rec.Code, rec.Body.String(), tt.status, tt.body)
			}
			if tt.unlogged != "" && strings.Contains(rec.Body.String(), tt.unlogged) {
				t.Errorf("the answer tells the cause %q", tt.unlogged)
			}
			if tt.logged == "" && logs.Len() > 0 {
				t.Errorf("logged %s", logs.String())
			}
			if tt.logged != "" && !strings.Contains(logs.String(), tt.logged) {
				t.Errorf("log %q lacks %q", logs.String(), tt.logged)
			}
			rec = httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/livez", nil))
			if rec.Code != http.StatusOK {
				t.Errorf("GET /livez = %d, want 200 whatever readiness says", rec.Code)
			}
		})
	}
}
