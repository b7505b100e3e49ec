package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/fakepg/fault"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// statusOf returns the HTTP status of an SDK error, or 0.
func statusOf(err error) int {
	var e *sdk.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

func TestRefusals(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		ctx := context.Background()
		card := methods()[0]
		hist := paid(t, h, card, 10000)

		tests := []struct {
			name string
			call func() error
			want int
			msg  string
		}{
			{"wrong password by id", func() error { _, err := h.api.History(ctx, hist.ID, "nope"); return err }, 403, "Wrong password."},
			{"wrong password by source", func() error {
				_, err := h.api.HistoryBySource(ctx, sdk.Accessor{Source: hist.Source, Password: "nope"})
				return err
			}, 403, "Wrong password."},
			{"wrong password on cancel", func() error {
				_, err := h.api.CancelHistory(ctx, sdk.CancelCreate{Source: hist.Source, Password: "nope", Price: 1, Reason: "r"})
				return err
			}, 403, "Wrong password."},
			{"unknown id", func() error { _, err := h.api.History(ctx, uuid.NewString(), testPassword); return err }, 404, ""},
			{"unknown source", func() error {
				_, err := h.api.HistoryBySource(ctx, sdk.Accessor{Source: newSource(), Password: testPassword})
				return err
			}, 404, ""},
			{"unknown reservation", func() error { _, err := h.api.Reservation(ctx, uuid.NewString(), testPassword); return err }, 404, ""},
			{"duplicate registration", func() error {
				_, err := h.api.CreateHistory(ctx, sdk.HistoryCreate{Vendor: hist.Vendor, Source: hist.Source, Price: hist.Price, Password: testPassword, WebhookURL: h.webhookURL()})
				return err
			}, 409, ""},
			{"over-refund", func() error {
				_, err := h.api.CancelHistory(ctx, sdk.CancelCreate{Source: hist.Source, Password: testPassword, Price: hist.Price + 1, Reason: "r"})
				return err
			}, 422, "only 10000 of 10000 remains"},
			{"unknown PG payment", func() error {
				_, err := h.api.CreateHistory(ctx, sdk.HistoryCreate{Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: "s", UID: "imp_nope"}, Source: newSource(), Price: 1, Password: testPassword, WebhookURL: h.webhookURL()})
				return err
			}, 404, "Iamport"},
			{"validation lists every problem", func() error {
				_, err := h.api.CreateHistory(ctx, sdk.HistoryCreate{Vendor: sdk.Vendor{Code: "paypal"}, Source: sdk.Source{ID: "x"}, Price: -1, WebhookURL: "ftp://x"})
				return err
			}, 400, "$input.vendor.code"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := tt.call()
				if got := statusOf(err); got != tt.want {
					t.Fatalf("status = %d (%v), want %d", got, err, tt.want)
				}
				if !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("error %q lacks %q", err, tt.msg)
				}
			})
		}

		t.Run("amount mismatch cancels at the PG", func(t *testing.T) {
			src := newSource()
			p := h.iamportCard(src, 20000)
			_, err := h.api.CreateHistory(ctx, sdk.HistoryCreate{
				Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: p.ImpUID}, Source: src,
				Price: 10000, Password: testPassword, WebhookURL: h.webhookURL(),
			})
			if statusOf(err) != 422 {
				t.Fatalf("register with the wrong price: %v, want 422", err)
			}
			after, err := h.iamport.Payment(ctx, p.ImpUID)
			if err != nil || after.Status != iamport.StatusCancelled {
				t.Errorf("PG payment after the refusal: %+v, %v; want cancelled", after, err)
			}
			if _, err := h.api.HistoryBySource(ctx, sdk.Accessor{Source: src, Password: testPassword}); statusOf(err) != 404 {
				t.Errorf("a refused payment was stored: %v", err)
			}
		})
		t.Run("another order's payment is refused and left alone", func(t *testing.T) {
			victim := newSource()
			p := h.iamportCard(victim, 20000)
			thief := newSource()
			for _, price := range []int64{20000, 1} { // the right amount, and a wrong one
				_, err := h.api.CreateHistory(ctx, sdk.HistoryCreate{
					Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: p.ImpUID}, Source: thief,
					Price: price, Password: testPassword, WebhookURL: h.webhookURL(),
				})
				if statusOf(err) != 422 || !strings.Contains(err.Error(), "was made for order") {
					t.Errorf("register order %s's payment for order %s at %d: %v, want 422", victim.ID, thief.ID, price, err)
				}
			}
			if after, err := h.iamport.Payment(ctx, p.ImpUID); err != nil || after.Status != iamport.StatusPaid {
				t.Errorf("the other order's payment after the refusals: %+v, %v; want it paid", after, err)
			}
			h.register(sdk.VendorIamport, p.ImpUID, victim, 20000) // its own order still can
		})
		t.Run("toss amount mismatch is not confirmed", func(t *testing.T) {
			src := newSource()
			p := h.tossCard(src, 20000)
			_, err := h.api.CreateHistory(ctx, sdk.HistoryCreate{
				Vendor: sdk.Vendor{Code: sdk.VendorToss, StoreID: tossStoreID, UID: p.PaymentKey}, Source: src,
				Price: 10000, Password: testPassword, WebhookURL: h.webhookURL(),
			})
			if statusOf(err) != 422 {
				t.Fatalf("register with the wrong price: %v, want 422", err)
			}
			if after, err := h.toss.GetPayment(ctx, p.PaymentKey); err != nil || after.Status == "DONE" {
				t.Errorf("PG payment after the refusal: %+v, %v; want it unconfirmed", after, err)
			}
		})
	})
}

func TestConcurrentPartialCancels(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		for _, m := range []method{methods()[0], methods()[2], methods()[4]} {
			t.Run(m.name, func(t *testing.T) {
				hist := paid(t, h, m, 5000)
				var ok, refused atomic.Int64
				var wg sync.WaitGroup
				for range 10 {
					wg.Go(func() {
						_, err := h.api.CancelHistory(context.Background(), sdk.CancelCreate{
							Source: hist.Source, Password: testPassword, Price: 1000, Reason: "concurrent",
						})
						switch statusOf(err) {
						case 0:
							if err != nil {
								t.Errorf("cancel: %v", err)
							}
							ok.Add(1)
						case 422:
							refused.Add(1)
						default:
							t.Errorf("cancel: %v", err)
						}
					})
				}
				wg.Wait()
				if ok.Load() != 5 || refused.Load() != 5 {
					t.Errorf("%d cancels succeeded and %d were refused; want 5 and 5", ok.Load(), refused.Load())
				}
				got, err := h.api.History(context.Background(), hist.ID, testPassword)
				if err != nil {
					t.Fatal(err)
				}
				checkCancelled(t, got, 5000, 5)
				if refund, n := h.pgRefund(m.vendor, hist.Vendor.UID); refund != 5000 || n != 5 {
					t.Errorf("the PG refunded %d in %d cancels, want 5000 in 5", refund, n)
				}
			})
		}
	})
}

func TestForgedWebhookChangesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		hist := paid(t, h, methods()[0], 10000)
		h.drainJobs()
		before := len(h.srv.Inbox.Events())
		for _, body := range []string{
			// Claims the paid payment was cancelled: the PG says otherwise.
			`{"imp_uid": "` + hist.Vendor.UID + `", "merchant_uid": "` + hist.Source.ID + `", "status": "cancelled"}`,
			// Names a payment the PG does not know.
			`{"imp_uid": "imp_forged", "merchant_uid": "x", "status": "paid"}`,
		} {
			resp, err := http.Post(h.srv.URL+"/payments/webhooks/iamport", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("webhook answered %d", resp.StatusCode)
			}
		}
		resp, err := http.Post(h.srv.URL+"/payments/webhooks/toss", "application/json", strings.NewReader(`{"not": "a webhook"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("garbage toss webhook answered %d, want 400", resp.StatusCode)
		}
		h.drainJobs()
		got, err := h.api.History(context.Background(), hist.ID, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		if got.CancelledAt != nil || got.Refund != nil || !bytes.Equal(got.Data, hist.Data) {
			t.Errorf("a forged webhook changed the history: %+v", got)
		}
		if n := len(h.srv.Inbox.Events()); n != before {
			t.Errorf("a forged webhook was forwarded: %d events, want %d", n, before)
		}
	})
}

// receiver is a service's webhook endpoint that fails while down.
type receiver struct {
	srv    *httptest.Server
	down   atomic.Bool
	mu     sync.Mutex
	got    []*http.Request
	bodies [][]byte
	hits   atomic.Int64
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		if r.down.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, req)
		r.bodies = append(r.bodies, body)
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// wait returns the n-th delivered request and its body.
func (r *receiver) wait(t *testing.T, n int) (*http.Request, []byte) {
	t.Helper()
	deadline := time.Now().Add(eventWaitTimeout)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		if len(r.got) >= n {
			req, body := r.got[n-1], r.bodies[n-1]
			r.mu.Unlock()
			return req, body
		}
		r.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no delivery %d within %s", n, eventWaitTimeout)
	return nil, nil
}

// vbankToReceiver registers a virtual account whose events go to r and
// deposits into it.
func vbankToReceiver(t *testing.T, h *harness, r *receiver) *sdk.History {
	t.Helper()
	src := newSource()
	p := h.iamportVBank(src, 19900)
	hist, err := h.api.CreateHistory(context.Background(), sdk.HistoryCreate{
		Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: p.ImpUID}, Source: src,
		Price: 19900, Password: testPassword, WebhookURL: r.srv.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.iamport.Deposit(context.Background(), p.ImpUID); err != nil {
		t.Fatal(err)
	}
	return hist
}

// checkDelivery verifies a delivered event: signed, encrypted, right record.
func checkDelivery(t *testing.T, req *http.Request, body []byte, hist *sdk.History) {
	t.Helper()
	if err := sdk.VerifyWebhook([]byte("paymentctl-local-webhook-secret"), req.Header, body, time.Hour, time.Now()); err != nil {
		t.Errorf("signature: %v", err)
	}
	c, _ := wirecrypt.New(connectionKey, connectionIV)
	plain, err := c.Decrypt(body)
	if err != nil {
		t.Fatalf("decrypt delivery: %v", err)
	}
	var ev sdk.WebhookHistory
	if err := json.Unmarshal(plain, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Current.ID != hist.ID || ev.Current.PaidAt == nil || ev.Previous.PaidAt != nil || ev.Source != hist.Source {
		t.Errorf("delivered event: %+v", ev)
	}
}

func TestDeliveryRetriedUntilReceiverIsUp(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		r := newReceiver(t)
		r.down.Store(true)
		hist := vbankToReceiver(t, h, r)
		deadline := time.Now().Add(eventWaitTimeout)
		for r.hits.Load() < 3 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if r.hits.Load() < 3 {
			t.Fatalf("only %d attempts while the receiver was down", r.hits.Load())
		}
		r.down.Store(false)
		req, body := r.wait(t, 1)
		checkDelivery(t, req, body, hist)

		hooks, err := h.srv.Store.HistoryWebhooks(context.Background(), hist.ID)
		if err != nil || len(hooks) != 1 {
			t.Fatalf("stored events: %d, %v", len(hooks), err)
		}
		// The attempt is recorded after the receiver answered: wait for it.
		deadline = time.Now().Add(eventWaitTimeout)
		for {
			attempts, err := h.srv.Store.WebhookResponses(context.Background(), hooks[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(attempts); n > 0 && attempts[n-1].Status == 200 {
				if n < 3 || attempts[0].Status != 503 {
					t.Errorf("recorded attempts: %+v", attempts)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no successful attempt recorded: %+v", attempts)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func TestDeliverySurvivesRestart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		r := newReceiver(t)
		r.down.Store(true)
		hist := vbankToReceiver(t, h, r)
		deadline := time.Now().Add(eventWaitTimeout)
		for r.hits.Load() < 1 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		// The server goes away with the event undelivered; a new one on the
		// same database delivers it once the receiver is back.
		h.stop()
		r.down.Store(false)
		h.boot()
		req, body := r.wait(t, 1)
		checkDelivery(t, req, body, hist)
	})
}

func TestIdempotencyKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		h := start(t, dsn(t))
		ctx := context.Background()
		src := newSource()
		p := h.iamportCard(src, 20000)
		in := sdk.HistoryCreate{
			Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: p.ImpUID}, Source: src,
			Price: 20000, Password: testPassword, WebhookURL: h.webhookURL(),
		}
		key := uuid.NewString()
		first, err := h.api.CreateHistory(ctx, in, sdk.WithIdempotencyKey(key))
		if err != nil {
			t.Fatal(err)
		}
		replayed, err := h.api.CreateHistory(ctx, in, sdk.WithIdempotencyKey(key))
		if err != nil {
			t.Fatalf("replay: %v", err)
		}
		if replayed.ID != first.ID {
			t.Errorf("replay returned %s, want %s", replayed.ID, first.ID)
		}
		other := in
		other.Price = 1
		if _, err := h.api.CreateHistory(ctx, other, sdk.WithIdempotencyKey(key)); statusOf(err) != 422 {
			t.Errorf("same key, different body: %v, want 422", err)
		}
		// Without a key the same request is a duplicate.
		if _, err := h.api.CreateHistory(ctx, in); statusOf(err) != 409 {
			t.Errorf("same request without key: %v, want 409", err)
		}

		// A retry while the first request runs is told so; the first,
		// abandoned by its client at the slowed PG, still runs to the end,
		// and its answer is what the key replays afterwards.
		t.Run("while running, then abandoned by its client", func(t *testing.T) {
			src := newSource()
			p := h.iamportCard(src, 1000)
			// No webhook job may be at the slowed PG: on SQLite one that
			// re-fetches under its history's lock holds the write lock.
			h.drainJobs()
			// Long enough that the retry below arrives while the first
			// waits at the PG, even on a loaded machine.
			h.srv.Fakes.Iamport.Faults().Set(fault.Faults{Latency: 4 * time.Second})
			defer h.srv.Fakes.Iamport.Faults().Set(fault.Faults{})
			in := sdk.HistoryCreate{
				Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: p.ImpUID}, Source: src,
				Price: 1000, Password: testPassword, WebhookURL: h.webhookURL(),
			}
			key := uuid.NewString()
			firstCtx, leave := context.WithCancel(ctx)
			defer leave()
			first := make(chan error, 1)
			go func() {
				_, err := h.api.CreateHistory(firstCtx, in, sdk.WithIdempotencyKey(key))
				first <- err
			}()
			h.waitIdempotencyRunning(key)
			if _, err := h.api.CreateHistory(ctx, in, sdk.WithIdempotencyKey(key)); statusOf(err) != 409 {
				t.Errorf("retry while the first runs: %v, want 409", err)
			}
			leave()
			if err := <-first; !errors.Is(err, context.Canceled) {
				t.Errorf("first request after its client left: %v, want context.Canceled", err)
			}
			// Had the server dropped the flow with its client, the key would
			// have been released instead of completed.
			const completed = "SELECT count(*) FROM payment_idempotency_keys WHERE idempotency_key = $1 AND status = 'completed'"
			deadline := time.Now().Add(eventWaitTimeout)
			for h.count(completed, key) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the request its client abandoned did not run to the end")
				}
				time.Sleep(50 * time.Millisecond)
			}
			replayed, err := h.api.CreateHistory(ctx, in, sdk.WithIdempotencyKey(key))
			if err != nil {
				t.Fatalf("after the first finished: %v, want its answer replayed", err)
			}
			stored, err := h.api.HistoryBySource(ctx, sdk.Accessor{Source: src, Password: testPassword})
			if err != nil || stored.ID != replayed.ID {
				t.Errorf("registered by the abandoned request: %+v, %v; replayed %s", stored, err, replayed.ID)
			}
		})
	})
}

func TestWireProtocol(t *testing.T) {
	h := start(t, backends()[0].dsn(t))
	c, _ := wirecrypt.New(connectionKey, connectionIV)
	post := func(contentType string, body []byte) (int, string) {
		req, _ := http.NewRequest(http.MethodPatch, h.srv.URL+"/payments/histories/"+uuid.NewString(), bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, contentType string
		body              []byte
		want              int
		msg               string
	}{
		{"json instead of text", "application/json", []byte(`{"password":"x"}`), 400, `not \"text/plain\"`},
		{"not encrypted", "text/plain", []byte("hello"), 400, "Failed to decrypt"},
		{"encrypted, not JSON", "text/plain", c.Encrypt([]byte("hello")), 400, "Failed to decrypt"},
		{"missing password", "text/plain", c.Encrypt([]byte(`{}`)), 400, "$input.password: required"},
		{"valid, unknown id", "text/plain; charset=utf-8", c.Encrypt([]byte(`{"password":"x"}`)), 404, "statusCode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(tt.contentType, tt.body)
			if status != tt.want || !strings.Contains(body, tt.msg) {
				t.Errorf("got %d %s, want %d with %q", status, body, tt.want, tt.msg)
			}
		})
	}
	t.Run("bad id", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPatch, h.srv.URL+"/payments/histories/not-a-uuid", bytes.NewReader(c.Encrypt([]byte(`{"password":"x"}`))))
		req.Header.Set("Content-Type", "text/plain")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
	})
	t.Run("health is plain and empty", func(t *testing.T) {
		resp, err := http.Get(h.srv.URL + "/monitors/health")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(b) != 0 {
			t.Errorf("health: %d %q", resp.StatusCode, b)
		}
	})
}
