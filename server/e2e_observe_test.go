package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/requestid"
)

// jsonLogs collects a server's JSON logs.
type jsonLogs struct{ logBuffer }

// records returns the log records written so far.
func (l *jsonLogs) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		out = append(out, rec)
	}
	return out
}

// find returns the records with the message and, when id is set, the
// request ID.
func (l *jsonLogs) find(t *testing.T, msg, id string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, rec := range l.records(t) {
		if rec["msg"] == msg && (id == "" || rec[requestid.Key] == id) {
			out = append(out, rec)
		}
	}
	return out
}

// waitLog waits for a record with the message and request ID.
func (l *jsonLogs) waitLog(t *testing.T, msg, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(eventWaitTimeout)
	for {
		if recs := l.find(t, msg, id); len(recs) > 0 {
			return recs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q line with request ID %q in:\n%s", msg, id, l.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// idTransport sends the X-Request-Id it is set to.
type idTransport struct {
	mu sync.Mutex
	id string
}

func (tr *idTransport) set(id string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.id = id
}

func (tr *idTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	tr.mu.Lock()
	id := tr.id
	tr.mu.Unlock()
	r = r.Clone(r.Context())
	r.Header.Set(requestid.Header, id)
	return http.DefaultTransport.RoundTrip(r)
}

// TestRequestIDsInLogs follows request IDs from the access log through
// the money events to the webhook deliveries the requests cause.
func TestRequestIDsInLogs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		var logs jsonLogs
		// No periodic reconciler: a pass that finds the deposit before its
		// webhook's job does applies it too, rightly under no request ID
		// (a loaded CI machine saw it), and this test follows requests.
		h := &harness{t: t, dsn: dsn(t), env: map[string]string{"PAYMENT_RECONCILE_INTERVAL": "0"},
			logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
		h.boot()
		t.Cleanup(h.stop)
		ctx := context.Background()
		tr := &idTransport{}
		api, err := sdk.New(sdk.Options{BaseURL: h.srv.URL, Key: connectionKey, IV: connectionIV, HTTPClient: &http.Client{Transport: tr}})
		if err != nil {
			t.Fatal(err)
		}

		// A registration: the access line and the money event share the ID.
		src := newSource()
		uid := h.tossCard(src, 15000).PaymentKey
		tr.set("reg-1")
		hist, err := api.CreateHistory(ctx, sdk.HistoryCreate{
			Vendor: sdk.Vendor{Code: sdk.VendorToss, StoreID: tossStoreID, UID: uid}, Source: src,
			Price: 15000, Password: testPassword, WebhookURL: h.webhookURL(),
		})
		if err != nil {
			t.Fatal(err)
		}
		access := logs.waitLog(t, "request", "reg-1")
		for k, want := range map[string]any{"method": "POST", "route": "/payments/histories", "status": 201.0, "client": "127.0.0.1"} {
			if access[k] != want {
				t.Errorf("access line %s = %v, want %v (%v)", k, access[k], want, access)
			}
		}
		if _, ok := access["duration"]; !ok {
			t.Errorf("access line without duration: %v", access)
		}
		reg := logs.waitLog(t, "payment registered", "reg-1")
		if reg["history"] != hist.ID {
			t.Errorf("registration logged as %v, want history %s", reg, hist.ID)
		}

		// A refused registration says why, at info.
		wrongSrc := newSource()
		wrongUID := h.tossCard(wrongSrc, 15000).PaymentKey
		tr.set("reg-refused-1")
		_, err = api.CreateHistory(ctx, sdk.HistoryCreate{
			Vendor: sdk.Vendor{Code: sdk.VendorToss, StoreID: tossStoreID, UID: wrongUID}, Source: wrongSrc,
			Price: 14000, Password: testPassword, WebhookURL: h.webhookURL(),
		})
		if statusOf(err) != http.StatusUnprocessableEntity {
			t.Fatalf("registration of another amount: %v, want 422", err)
		}
		regRefused := logs.waitLog(t, "payment registration refused", "reg-refused-1")
		if reason, _ := regRefused["reason"].(string); regRefused["level"] != "INFO" || !strings.Contains(reason, "amount") {
			t.Errorf("registration refusal logged as %v", regRefused)
		}

		// A PG webhook that changes nothing a service sees (an Iamport
		// virtual account issued): not stored, logged as ignored.
		tr.set("ignored-1")
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.srv.URL+"/payments/webhooks/iamport",
			strings.NewReader(`{"imp_uid":"imp_ignored1","merchant_uid":"order-ignored-1","status":"ready"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Errorf("an Iamport ready webhook answered %d, want 2xx", resp.StatusCode)
		}
		ignored := logs.waitLog(t, "pg webhook ignored", "ignored-1")
		if ignored["uid"] != "imp_ignored1" || ignored["level"] != "INFO" || ignored["reason"] == nil {
			t.Errorf("ignored webhook logged as %v", ignored)
		}

		// A refusal says why.
		tr.set("refused-1")
		_, err = api.CancelHistory(ctx, sdk.CancelCreate{Source: src, Password: "wrong", Price: 1000, Reason: "test"})
		if statusOf(err) != http.StatusForbidden {
			t.Fatalf("cancel with a wrong password: %v, want 403", err)
		}
		refused := logs.waitLog(t, "payment cancel refused", "refused-1")
		if refused["reason"] != "wrong password" || refused["history"] != hist.ID || refused["level"] != "INFO" {
			t.Errorf("refusal logged as %v", refused)
		}

		// A cancel: the event it causes is delivered under the cancel's
		// request ID, or under the ID of the request whose webhook job
		// applied the refund first: the PG's own webhook about it, or the
		// registration's replay of a webhook kept before it
		// (payment.replayPending).
		tr.set("cancel-1")
		if _, err := api.CancelHistory(ctx, sdk.CancelCreate{Source: src, Password: testPassword, Price: 5000, Reason: "test"}); err != nil {
			t.Fatal(err)
		}
		logs.waitLog(t, "payment cancelled", "cancel-1")
		refunded := waitEvent(h, func(ev sdk.WebhookHistory) bool {
			return ev.Current.ID == hist.ID && ev.Current.Refund != nil && *ev.Current.Refund == 5000
		})
		id := deliveredUnder(t, &logs, refunded.ID)
		if id != "cancel-1" && id != "reg-1" && !pgWebhookID(t, &logs, uid, src.ID, id) {
			t.Errorf("the refund's event was delivered under request ID %q, not one of a request about the payment", id)
		}

		// A PG webhook (a deposit): received, applied and its event
		// delivered under the ID of the PG's request, or of the
		// registration's when its replay of a webhook kept before it (see
		// payment.replayPending) fetched the deposit first.
		vsrc := newSource()
		vuid := h.tossVBank(vsrc, 20000).PaymentKey
		tr.set("reg-2")
		vhist, err := api.CreateHistory(ctx, sdk.HistoryCreate{
			Vendor: sdk.Vendor{Code: sdk.VendorToss, StoreID: tossStoreID, UID: vuid}, Source: vsrc,
			Price: 20000, Password: testPassword, WebhookURL: h.webhookURL(),
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.toss.SimulateDeposit(ctx, vuid); err != nil {
			t.Fatal(err)
		}
		deposited := waitEvent(h, func(ev sdk.WebhookHistory) bool { return ev.Current.ID == vhist.ID && ev.Current.PaidAt != nil })
		id = deliveredUnder(t, &logs, deposited.ID)
		if id != "reg-2" && !pgWebhookID(t, &logs, vuid, vsrc.ID, id) {
			t.Errorf("the deposit's event was delivered under request ID %q, neither a PG webhook's nor the registration's", id)
		}
		applied := logs.waitLog(t, "pg webhook applied", id)
		if applied["changed"] != true || applied["history"] != vhist.ID {
			t.Errorf("webhook applied logged as %v", applied)
		}

		for _, l := range []string{"wrong", testPassword, connectionKey} {
			if strings.Contains(logs.String(), `"`+l+`"`) {
				t.Errorf("the logs hold a secret or a body (%q)", l)
			}
		}
	})
}

// waitEvent waits for a forwarded webhook event that ok accepts.
func waitEvent(h *harness, ok func(sdk.WebhookHistory) bool) sdk.WebhookHistory {
	h.t.Helper()
	deadline := time.Now().Add(eventWaitTimeout)
	for {
		for _, ev := range h.srv.Inbox.Events() {
			if ok(ev) {
				return ev
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("no such forwarded event in %+v", h.srv.Inbox.Events())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deliveredUnder waits for the "webhook delivered" line of the event and
// returns its request ID.
func deliveredUnder(t *testing.T, logs *jsonLogs, eventID string) string {
	t.Helper()
	deadline := time.Now().Add(eventWaitTimeout)
	for {
		for _, rec := range logs.find(t, "webhook delivered", "") {
			if rec["webhook"] == eventID {
				id, _ := rec[requestid.Key].(string)
				if id == "" {
					// An empty ID would match every line in find.
					t.Fatalf("event %s was delivered under no request ID: %v", eventID, rec)
				}
				return id
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s not logged as delivered:\n%s", eventID, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pgWebhookID reports whether id is the request ID of a PG webhook
// received about a payment, named by its PG id or (a Toss deposit
// callback) its order. The line is written once the webhook is stored,
// which may be after its job ran: it waits for it.
func pgWebhookID(t *testing.T, logs *jsonLogs, uid, order, id string) bool {
	t.Helper()
	deadline := time.Now().Add(eventWaitTimeout)
	for !time.Now().After(deadline) {
		// "pg webhook received" is a debug line (a flood of forged
		// webhooks must not flood the log); the test logs at debug.
		for _, rec := range logs.find(t, "pg webhook received", id) {
			if rec["uid"] == uid || rec["order"] == order {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// TestRequestIDHeader: a usable client ID is echoed, anything else is
// replaced by a generated one.
func TestRequestIDHeader(t *testing.T) {
	h := start(t, backends()[0].dsn(t))
	tests := []struct {
		name, sent string
		echoed     bool
	}{
		{"kept", "client-id-1", true},
		{"with a space", "two words", false},
		{"too long", strings.Repeat("x", requestid.MaxLen+1), false},
		{"none", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, h.srv.URL+"/nope", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.sent != "" {
				req.Header.Set(requestid.Header, tt.sent)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := resp.Header.Get(requestid.Header)
			if tt.echoed && got != tt.sent {
				t.Errorf("%s = %q, want %q echoed", requestid.Header, got, tt.sent)
			}
			if !tt.echoed && (got == tt.sent || !requestid.Valid(got)) {
				t.Errorf("%s = %q, want a generated one", requestid.Header, got)
			}
		})
	}
}

// TestProbes: /livez, /readyz (503 once draining) and the original's
// /monitors/health, unchanged, each answer checked against the OpenAPI
// document.
func TestProbes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		hc := checkedClient(t)
		get := func(path string) (int, string) {
			t.Helper()
			resp, err := hc.Get(h.srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		if code, body := get("/livez"); code != http.StatusOK || !strings.HasSuffix(body, "ok\n") {
			t.Errorf("GET /livez = %d %q", code, body)
		}
		want := "[+]serving ok\n[+]database ok\n[+]schema ok\n[+]workers ok\nok\n"
		if code, body := get("/readyz"); code != http.StatusOK || body != want {
			t.Errorf("GET /readyz = %d %q, want 200 %q", code, body, want)
		}
		h.srv.SetDraining()
		if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "[-]serving failed: draining") {
			t.Errorf("GET /readyz while draining = %d %q, want 503", code, body)
		}
		if code, _ := get("/livez"); code != http.StatusOK {
			t.Errorf("GET /livez while draining = %d, want 200", code)
		}
		if code, body := get("/monitors/health"); code != http.StatusOK || body != "" {
			t.Errorf("GET /monitors/health = %d %q, want an empty 200 as the original's", code, body)
		}
	})
}
