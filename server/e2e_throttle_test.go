package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// startEnv runs paymentctl as start does, with extra configuration by
// environment name.
func startEnv(t *testing.T, dsn string, env map[string]string) *harness {
	t.Helper()
	h := &harness{t: t, dsn: dsn, env: env}
	h.boot()
	t.Cleanup(func() { h.stop() })
	return h
}

// behindProxy is the configuration under which the test process, on
// loopback, is a trusted proxy: X-Forwarded-For names the client.
var behindProxy = map[string]string{"PAYMENT_API_TRUSTED_PROXIES": "127.0.0.1,::1"}

// forwardedFor sends every request as a proxy would for the client at
// addr.
type forwardedFor string

func (f forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", string(f))
	return http.DefaultTransport.RoundTrip(r)
}

// clientFrom returns an SDK client whose requests come from addr.
func clientFrom(t *testing.T, h *harness, addr string) *sdk.Client {
	t.Helper()
	c, err := sdk.New(sdk.Options{BaseURL: h.srv.URL, Key: connectionKey, IV: connectionIV,
		HTTPClient: &http.Client{Transport: forwardedFor(addr)}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// encryptedFrom sends plain, CBC-encrypted, as the client at addr.
func encryptedFrom(t *testing.T, h *harness, method, path string, plain []byte, addr string) answer {
	t.Helper()
	c, err := wirecrypt.New(connectionKey, connectionIV)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, method, h.srv.URL+path, "text/plain", c.Encrypt(plain), http.Header{"X-Forwarded-For": {addr}})
}

// checkThrottled fails unless a is a 429 with a Retry-After of at most
// the default window.
func checkThrottled(t *testing.T, what string, a answer) {
	t.Helper()
	secs, err := strconv.Atoi(a.Header.Get("Retry-After"))
	if a.Status != http.StatusTooManyRequests || err != nil || secs < 1 || secs > 600 {
		t.Errorf("%s: %d, Retry-After %q, %s; want 429 with Retry-After in 1..600", what, a.Status, a.Header.Get("Retry-After"), a.Body)
	}
}

// throttledCount scrapes the server's counter of throttled requests.
func throttledCount(t *testing.T, h *harness, reason string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.srv.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	prefix := `paymentctl_throttled_requests_total{reason="` + reason + `"} `
	for line := range strings.Lines(rec.Body.String()) {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			return strings.TrimSpace(v)
		}
	}
	return "missing"
}

// TestWrongPasswordsThrottled is item 3's done-when: a burst of wrong
// passwords from one address gets 429 with Retry-After, while the right
// password from another address still reads the record.
func TestWrongPasswordsThrottled(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := startEnv(t, dsn(t), behindProxy)
		ctx := context.Background()
		hist := paid(t, h, methods()[0], 10000)
		const attackerAddr = "203.0.113.7"
		attacker, service := clientFrom(t, h, attackerAddr), clientFrom(t, h, "198.51.100.1")
		byID, _ := json.Marshal(sdk.Password{Password: testPassword})

		for i := range 10 {
			if _, err := attacker.History(ctx, hist.ID, "guess-"+strconv.Itoa(i)); statusOf(err) != http.StatusForbidden {
				t.Fatalf("wrong password %d: %v, want 403", i+1, err)
			}
		}
		checkThrottled(t, "11th wrong password", encryptedFrom(t, h, http.MethodPatch, "/payments/histories/"+hist.ID, []byte(`{"password":"guess"}`), attackerAddr))
		checkThrottled(t, "the right password from the attacker's address", encryptedFrom(t, h, http.MethodPatch, "/payments/histories/"+hist.ID, byID, attackerAddr))
		// Another spelling of the same id is the same record.
		upper := strings.ToUpper(hist.ID)
		checkThrottled(t, "the id in capitals", encryptedFrom(t, h, http.MethodPatch, "/payments/histories/"+upper, byID, attackerAddr))

		if got, err := service.History(ctx, hist.ID, testPassword); err != nil || got.ID != hist.ID {
			t.Errorf("the service's right password from its own address: %+v, %v; want the record", got, err)
		}
		if got, err := h.api.History(ctx, hist.ID, testPassword); err != nil || got.ID != hist.ID {
			t.Errorf("the right password from loopback: %+v, %v; want the record", got, err)
		}
		// The attacker's other records (here: the look-up by source) have
		// their own counters.
		if _, err := attacker.HistoryBySource(ctx, sdk.Accessor{Source: hist.Source, Password: "guess"}); statusOf(err) != http.StatusForbidden {
			t.Errorf("by source from the attacker: %v, want 403 (a counter of its own)", err)
		}
		if got := throttledCount(t, h, "password"); got != "3" {
			t.Errorf("throttled requests by reason password = %s, want 3", got)
		}
	})
}

// TestThrottledCancelIsNotStored: the source look-up and the cancel share
// the record's counter, and a throttled cancel does not use up its
// Idempotency-Key.
func TestThrottledCancelIsNotStored(t *testing.T) {
	h := startEnv(t, backends()[0].dsn(t), behindProxy)
	ctx := context.Background()
	hist := paid(t, h, methods()[0], 10000)
	attacker := clientFrom(t, h, "203.0.113.9")
	for range 10 {
		if _, err := attacker.HistoryBySource(ctx, sdk.Accessor{Source: hist.Source, Password: "guess"}); statusOf(err) != http.StatusForbidden {
			t.Fatalf("wrong password by source: %v, want 403", err)
		}
	}
	key := uuid.NewString()
	_, err := attacker.CancelHistory(ctx, sdk.CancelCreate{Source: hist.Source, Password: testPassword, Price: 1, Reason: "r"}, sdk.WithIdempotencyKey(key))
	if statusOf(err) != http.StatusTooManyRequests {
		t.Fatalf("cancel of the locked record: %v, want 429", err)
	}
	if n := h.count("SELECT count(*) FROM payment_idempotency_keys WHERE idempotency_key = $1", key); n != 0 {
		t.Errorf("the throttled cancel's key was kept (%d rows); a retry would replay the 429", n)
	}
}

// TestForwardedForIgnoredByDefault: without api.trusted_proxies, a client
// cannot pick the address it is counted under.
func TestForwardedForIgnoredByDefault(t *testing.T) {
	h := start(t, backends()[0].dsn(t))
	ctx := context.Background()
	hist := paid(t, h, methods()[0], 10000)
	for i := range 10 {
		spoofed := clientFrom(t, h, "203.0.113."+strconv.Itoa(i+1))
		if _, err := spoofed.History(ctx, hist.ID, "guess"); statusOf(err) != http.StatusForbidden {
			t.Fatalf("wrong password %d: %v, want 403", i+1, err)
		}
	}
	checkThrottled(t, "a fresh X-Forwarded-For", encryptedFrom(t, h, http.MethodPatch, "/payments/histories/"+hist.ID, []byte(`{"password":"guess"}`), "203.0.113.99"))
}

// TestUndecryptableBodiesThrottled: bodies that do not decrypt count per
// address, without a record; once locked out, nothing more of the
// client's is decrypted.
func TestUndecryptableBodiesThrottled(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := startEnv(t, dsn(t), behindProxy)
		const attackerAddr = "2001:db8:7::1"
		garbage := []byte(strings.Repeat("A", 44))
		from := func(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }
		path := h.srv.URL + "/payments/histories/" + uuid.NewString()
		for i := range 10 {
			if a := do(t, http.MethodPatch, path, "text/plain", garbage, from(attackerAddr)); a.Status != http.StatusBadRequest {
				t.Fatalf("undecryptable body %d: %+v, want 400", i+1, a)
			}
		}
		checkThrottled(t, "11th undecryptable body", do(t, http.MethodPatch, path, "text/plain", garbage, from(attackerAddr)))
		// Another address of the same /64 is the same client.
		checkThrottled(t, "a valid body from the same /64", encryptedFrom(t, h, http.MethodPatch, "/payments/histories/"+uuid.NewString(), []byte(`{"password":"x"}`), "2001:db8:7::2"))
		if a := encryptedFrom(t, h, http.MethodPatch, "/payments/histories/"+uuid.NewString(), []byte(`{"password":"x"}`), "198.51.100.1"); a.Status != http.StatusNotFound {
			t.Errorf("a valid body from another address: %+v, want 404 (unknown id)", a)
		}
		if got := throttledCount(t, h, "decrypt"); got != "2" {
			t.Errorf("throttled requests by reason decrypt = %s, want 2", got)
		}
	})
}
