package server_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// floodRequests is how many requests of each kind
// TestServicesFloodCostsNothing sends: the hostile-caller report's floods
// were 10,000, scaled down for test time; the bounds asserted do not
// depend on it.
const floodRequests = 1000

// floodTables are the application's tables a refused request must not
// write to.
var floodTables = []string{
	"payment_histories", "payment_history_cancels", "payment_reservations",
	"payment_history_webhooks", "payment_pending_webhooks", "payment_operations",
	"payment_idempotency_keys", "payment_throttle_counters", "payment_audit_events",
}

// TestServicesFloodCostsNothing: a flood of look-ups of one record with
// unknown API keys (each different, or the same one), a malformed
// Authorization header or none (services.require_key), and with another
// service's valid key and the record's right password: every one is
// refused (401, or 404 for the other service), and together they write
// no row in any table, make no PG call and add no metric series; the
// answers never echo the key sent.
func TestServicesFloodCostsNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := startWith(t, dsn(t), map[string]string{
			"PAYMENT_SERVICES":             servicesEnv(t, shopService, billingService),
			"PAYMENT_SERVICES_REQUIRE_KEY": "true",
		}, nil)
		made := h.registerAs(h.client(shopService, shopService.apiKeys[0]), newSource(), 1000, h.webhookURL())
		h.drainJobs()

		type kind struct {
			name   string
			auth   func(i int) string
			key    testService // whose body keys the request is sealed with
			status int
		}
		const sameUnknown = "pk_unknownKey0000000000000000000000000000"
		kinds := []kind{
			{"a new unknown key each time", func(i int) string { return "Bearer pk_" + strings.ReplaceAll(uuid.NewString(), "-", "") }, shopService, http.StatusUnauthorized},
			{"one unknown key", func(int) string { return "Bearer " + sameUnknown }, shopService, http.StatusUnauthorized},
			{"a malformed header", func(i int) string { return fmt.Sprintf("Basic \xff%d\"", i) }, shopService, http.StatusUnauthorized},
			{"no header", func(int) string { return "" }, shopService, http.StatusUnauthorized},
			{"another service's key", func(int) string { return "Bearer " + billingService.apiKeys[0] }, billingService, http.StatusNotFound},
		}
		send := func(k kind, i int) (int, string, error) {
			c, err := wirecrypt.New(k.key.key, k.key.iv)
			if err != nil {
				return 0, "", err
			}
			req, err := http.NewRequest(http.MethodPatch, h.srv.URL+"/payments/histories/"+made.ID,
				strings.NewReader(string(c.Encrypt([]byte(`{"password":"`+testPassword+`"}`)))))
			if err != nil {
				return 0, "", err
			}
			req.Header.Set("Content-Type", wirecrypt.ContentType)
			auth := k.auth(i)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return 0, "", err
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			if after, ok := strings.CutPrefix(auth, "Bearer "); ok && strings.Contains(string(body), after) {
				return res.StatusCode, "", fmt.Errorf("the answer echoes the key sent: %s", body)
			}
			return res.StatusCode, string(body), err
		}

		// One of each first, so that every series the refusals make
		// exists before counting.
		for _, k := range kinds {
			if status, body, err := send(k, -1); err != nil || status != k.status {
				t.Fatalf("%s: %d %s %v, want %d", k.name, status, body, err, k.status)
			}
		}
		rows := func() map[string]int {
			out := map[string]int{}
			for _, table := range floodTables {
				out[table] = h.count("SELECT count(*) FROM " + table)
			}
			return out
		}
		rowsBefore, seriesBefore := rows(), metricSeries(h.srv)
		callsBefore, _ := h.pgCalls()

		for _, k := range kinds {
			var wg sync.WaitGroup
			var mu sync.Mutex
			var wrong []string
			next := make(chan int)
			for range 8 {
				wg.Go(func() {
					for i := range next {
						status, body, err := send(k, i)
						if err != nil || status != k.status {
							mu.Lock()
							wrong = append(wrong, fmt.Sprintf("%d %s %v", status, body, err))
							mu.Unlock()
						}
					}
				})
			}
			for i := range floodRequests {
				next <- i
			}
			close(next)
			wg.Wait()
			if len(wrong) > 0 {
				t.Errorf("%s: %d of %d answers not %d, e.g. %s", k.name, len(wrong), floodRequests, k.status, wrong[0])
			}
		}

		if after := rows(); fmt.Sprint(after) != fmt.Sprint(rowsBefore) {
			t.Errorf("rows after the flood %v, before %v: want no change", after, rowsBefore)
		}
		if calls, by := h.pgCalls(); calls != callsBefore {
			t.Errorf("the flood made %d PG calls (%v), want 0", calls-callsBefore, by)
		}
		if after := metricSeries(h.srv); after != seriesBefore {
			t.Errorf("%d metric series after the flood, %d before: want no new series", after, seriesBefore)
		}
	})
}

// TestStoresFloodCostsNothing: in real mode, registrations naming a new
// unknown store id each time are each refused with 422 unknown_store, and
// together they make no PG call, write no row and add no metric series.
func TestStoresFloodCostsNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		e := startStores(t, dsn(t), config.ModeReal)
		register := func(i int) error {
			vendor := []sdk.VendorCode{sdk.VendorIamport, sdk.VendorToss}[i%2]
			_, err := e.register(vendor, fmt.Sprintf("store-flood-%d", i), fmt.Sprintf("imp_flood%d", i), newSource(), 1000)
			return err
		}
		if err := register(floodRequests); !errors.Is(err, sdk.ErrUnknownStore) {
			t.Fatalf("an unknown store: %v, want 422 unknown_store", err)
		}
		rows := func() string {
			var out []string
			for _, table := range floodTables {
				var n int
				if err := e.srv.Store.SQLDB().QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprintf("%s=%d", table, n))
			}
			return strings.Join(out, " ")
		}
		rowsBefore, seriesBefore := rows(), metricSeries(e.srv)
		callsBefore := e.iamportCalls.Load() + e.tossCalls.Load()

		var wg sync.WaitGroup
		var wrong atomic.Int64
		next := make(chan int)
		for range 8 {
			wg.Go(func() {
				for i := range next {
					if err := register(i); !errors.Is(err, sdk.ErrUnknownStore) {
						if wrong.Add(1) == 1 {
							t.Errorf("registration %d: %v, want 422 unknown_store", i, err)
						}
					}
				}
			})
		}
		for i := range floodRequests {
			next <- i
		}
		close(next)
		wg.Wait()
		if n := wrong.Load(); n > 0 {
			t.Errorf("%d of %d registrations not refused with unknown_store", n, floodRequests)
		}
		if calls := e.iamportCalls.Load() + e.tossCalls.Load(); calls != callsBefore {
			t.Errorf("the flood made %d PG calls, want 0", calls-callsBefore)
		}
		if after := rows(); after != rowsBefore {
			t.Errorf("rows after the flood %s, before %s: want no change", after, rowsBefore)
		}
		if after := metricSeries(e.srv); after != seriesBefore {
			t.Errorf("%d metric series after the flood, %d before: want no new series", after, seriesBefore)
		}
	})
}

// metricSeries is how many series the server's /metrics shows.
func metricSeries(srv *server.Running) int {
	rec := httptest.NewRecorder()
	srv.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	n := 0
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			n++
		}
	}
	return n
}
