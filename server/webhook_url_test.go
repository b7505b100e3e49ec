package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/egress"
)

// registrations is a payment service that only counts registrations.
type registrations struct {
	payments
	n int
}

func (r *registrations) CreateHistory(_ context.Context, in sdk.HistoryCreate) (*sdk.History, error) {
	r.n++
	return &sdk.History{ID: uuid.NewString()}, nil
}

// register POSTs a registration with webhookURL to the history handler
// under dests and returns the status and the error message.
func register(t *testing.T, dests *egress.Policy, webhookURL string) (int, string, int) {
	t.Helper()
	svc := &registrations{}
	r := gin.New()
	r.Use(errorMapper(slog.New(slog.DiscardHandler)))
	r.POST("/payments/histories", newPaymentHandlers(svc, dests).createHistory)
	body, err := json.Marshal(sdk.HistoryCreate{
		Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: "store", UID: "imp_1"},
		Source: sdk.Source{Schema: "s", Table: "t", ID: uuid.NewString()},
		Price:  1000, Password: "pw", WebhookURL: webhookURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/payments/histories", strings.NewReader(string(body))))
	var e struct {
		Message string `json:"message"`
	}
	if rec.Code != http.StatusCreated {
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			t.Fatalf("error body %q: %v", rec.Body, err)
		}
	}
	return rec.Code, e.Message, svc.n
}

// TestRegistrationRefusesWebhookDestinations runs every refused form
// through the registration handler of dev and real mode: 400, naming
// webhook_url but not repeating the URL, and nothing registered. (Schemes
// other than http(s) are refused before, by decode's checkWebhookURL.)
func TestRegistrationRefusesWebhookDestinations(t *testing.T) {
	refused := []string{
		"http://127.0.0.1:37820/",
		"http://localhost:9090/metrics",
		"http://[::1]/",
		"http://[::ffff:127.0.0.1]/",
		"http://[64:ff9b::7f00:1]/",
		"http://[2002:7f00:1::1]/",
		"http://2130706433/",
		"http://0x7f000001/",
		"http://0177.0.0.1/",
		"http://127.1/",
		"http://0.0.0.0:8080/",
		"http://[::]/",
		"http://10.0.0.8/",
		"http://172.16.0.1/",
		"http://192.168.0.1/",
		"http://100.64.0.1/",
		"http://169.254.1.1/",
		"http://[fe80::1]/",
		"http://[fd00::1]/",
		"http://169.254.169.254/latest/meta-data/",
		"http://[fd00:ec2::254]/",
		"http://metadata.google.internal/computeMetadata/v1/",
		"http://metadata/",
		"http://224.0.0.1/",
		"http://255.255.255.255/",
		"http://192.0.2.1/",
		"http://240.0.0.1/",
		"http://user:secret@example.com/",
		"http://example.com:0/",
	}
	for _, u := range refused {
		status, msg, n := register(t, egress.New(egress.Options{}), u+"?token=Tk")
		if status != http.StatusBadRequest || !strings.Contains(msg, "$input.webhook_url: refused (") || n != 0 {
			t.Errorf("register %q: %d %q (%d registered), want 400 naming webhook_url and none registered", u, status, msg, n)
		}
		if strings.Contains(msg, "Tk") || strings.Contains(msg, u) {
			t.Errorf("register %q: message %q repeats the URL", u, msg)
		}
	}
}

func TestRegistrationWebhookDestinationAllowed(t *testing.T) {
	_, private, _ := net.ParseCIDR("127.0.0.0/8")
	tests := []struct {
		name  string
		dests *egress.Policy
		url   string
		want  int
	}{
		{"public", egress.New(egress.Options{}), "https://hooks.example.com/payments", http.StatusCreated},
		{"allowed network", egress.New(egress.Options{Allowed: []*net.IPNet{private}}), "http://127.0.0.1:9/hook", http.StatusCreated},
		{"allowed network, not localhost", egress.New(egress.Options{Allowed: []*net.IPNet{private}}), "http://localhost:9/hook", http.StatusBadRequest},
		{"local mode, loopback", egress.New(egress.Options{Loopback: true}), "http://127.0.0.1:37821/payments/internal/webhook", http.StatusCreated},
		{"local mode, localhost", egress.New(egress.Options{Loopback: true}), "http://localhost:3000/hook", http.StatusCreated},
		{"local mode, private", egress.New(egress.Options{Loopback: true}), "http://10.0.0.8/hook", http.StatusBadRequest},
		{"local mode, metadata", egress.New(egress.Options{Loopback: true}), "http://169.254.169.254/", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, msg, n := register(t, tt.dests, tt.url)
			if status != tt.want {
				t.Errorf("register %q: %d %q, want %d", tt.url, status, msg, tt.want)
			}
			if wantN := map[bool]int{true: 1, false: 0}[tt.want == http.StatusCreated]; n != wantN {
				t.Errorf("register %q: %d registered, want %d", tt.url, n, wantN)
			}
		})
	}
}
