package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/payment"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// testService is a service of the services list the tests configure.
type testService struct {
	name    string
	apiKeys []string // the keys; their hashes go to the configuration
	key, iv string
	// webhookSecret is its own signing secret, or "" for the top-level one.
	webhookSecret string
	// format is its encryption.format, "" for the default.
	format string
}

var (
	shopService = testService{name: "shop", apiKeys: []string{"pk_shopKeyOne0000000000000000000000000000"},
		key: "shopKey0shopKey0shopKey0shopKey0", iv: "shopIV0shopIV0sh",
		webhookSecret: "whsec_c2hvcC13ZWJob29rLXNlY3JldC0wMTIzNDU2Nzg5YWI="}
	billingService = testService{name: "billing", apiKeys: []string{"pk_billingKeyOne000000000000000000000000"},
		key: "billKey0billKey0", iv: "billIV0billIV0bi"}
)

// topLevelWebhookSecret is the default webhook.secret the harness runs with.
const topLevelWebhookSecret = "paymentctl-local-webhook-secret"

// servicesEnv is the PAYMENT_SERVICES value configuring ss.
func servicesEnv(t *testing.T, ss ...testService) string {
	t.Helper()
	type enc struct {
		Key    string `json:"key"`
		IV     string `json:"iv"`
		Format string `json:"format,omitempty"`
	}
	type entry struct {
		Name          string   `json:"name"`
		APIKeys       []string `json:"api_keys"`
		Encryption    enc      `json:"encryption"`
		WebhookSecret string   `json:"webhook_secret,omitempty"`
	}
	var list []entry
	for _, s := range ss {
		e := entry{Name: s.name, Encryption: enc{s.key, s.iv, s.format}, WebhookSecret: s.webhookSecret}
		for _, k := range s.apiKeys {
			e.APIKeys = append(e.APIKeys, config.HashAPIKey(k))
		}
		list = append(list, e)
	}
	b, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// client returns an SDK client of the harness's server calling with
// apiKey and the key and IV of s.
func (h *harness) client(s testService, apiKey string) *sdk.Client {
	h.t.Helper()
	c, err := sdk.New(sdk.Options{BaseURL: h.srv.URL, APIKey: apiKey, Key: s.key, IV: s.iv})
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// delivery is one forwarded event as a service's hookReceiver got it.
type delivery struct {
	header http.Header
	body   []byte
}

// hookReceiver is a service's webhook endpoint: it keeps what it is sent.
type hookReceiver struct {
	srv *httptest.Server
	got chan delivery
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	r := &hookReceiver{got: make(chan delivery, 16)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.got <- delivery{header: req.Header.Clone(), body: body}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// next waits for the next delivery.
func (r *hookReceiver) next(t *testing.T) delivery {
	t.Helper()
	select {
	case d := <-r.got:
		return d
	case <-time.After(eventWaitTimeout):
		t.Fatalf("no event delivered within %s", eventWaitTimeout)
		return delivery{}
	}
}

// registerAs pays amount by card at the fake Iamport and registers it
// with c, its events going to url.
func (h *harness) registerAs(c *sdk.Client, src sdk.Source, amount int64, url string) *sdk.History {
	h.t.Helper()
	uid := h.iamportCard(src, amount).ImpUID
	hist, err := c.CreateHistory(context.Background(), sdk.HistoryCreate{
		Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: uid}, Source: src,
		Price: amount, Password: testPassword, WebhookURL: url,
	})
	if err != nil {
		h.t.Fatalf("register a payment: %v", err)
	}
	return hist
}

// TestServices: two services with their own API keys and body keys each
// register, read and cancel their own payments; neither sees the other's
// records, even with the right password; unknown and malformed keys are
// refused; each service's events are encrypted and signed with its own
// keys; idempotency keys and the audit trail are per service.
func TestServices(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		ctx := context.Background()
		h := startWith(t, dsn(t), map[string]string{"PAYMENT_SERVICES": servicesEnv(t, shopService, billingService)}, nil)
		shop := h.client(shopService, shopService.apiKeys[0])
		billing := h.client(billingService, billingService.apiKeys[0])
		shopHooks, billingHooks := newHookReceiver(t), newHookReceiver(t)

		type owned struct {
			hist *sdk.History
			api  *sdk.Client
		}
		var records []owned
		for _, c := range []struct {
			name  string
			api   *sdk.Client
			hooks *hookReceiver
		}{{"shop", shop, shopHooks}, {"billing", billing, billingHooks}} {
			hist := h.registerAs(c.api, newSource(), 10000, c.hooks.srv.URL)
			if got, err := c.api.History(ctx, hist.ID, testPassword); err != nil || got.ID != hist.ID {
				t.Fatalf("%s reads its payment by id: %v, %v", c.name, got, err)
			}
			if got, err := c.api.HistoryBySource(ctx, sdk.Accessor{Source: hist.Source, Password: testPassword}); err != nil || got.ID != hist.ID {
				t.Fatalf("%s reads its payment by source: %v, %v", c.name, got, err)
			}
			cancelled, err := c.api.CancelHistory(ctx, sdk.CancelCreate{Source: hist.Source, Password: testPassword, Price: 3000, Reason: "partial"})
			if err != nil || cancelled.Refund == nil || *cancelled.Refund != 3000 {
				t.Fatalf("%s cancels its payment: %+v, %v", c.name, cancelled, err)
			}
			records = append(records, owned{hist, c.api})
		}
		shopHist := records[0].hist

		t.Run("other services get 404", func(t *testing.T) {
			for _, c := range []struct {
				name string
				api  *sdk.Client
			}{{"billing", billing}, {"default", h.api}} {
				if _, err := c.api.History(ctx, shopHist.ID, testPassword); statusOf(err) != http.StatusNotFound {
					t.Errorf("%s reads shop's payment by id: %v, want 404", c.name, err)
				}
				if _, err := c.api.HistoryBySource(ctx, sdk.Accessor{Source: shopHist.Source, Password: testPassword}); statusOf(err) != http.StatusNotFound {
					t.Errorf("%s reads shop's payment by source: %v, want 404", c.name, err)
				}
				_, err := c.api.CancelHistory(ctx, sdk.CancelCreate{Source: shopHist.Source, Password: testPassword, Price: 1000, Reason: "steal"})
				if statusOf(err) != http.StatusNotFound {
					t.Errorf("%s cancels shop's payment: %v, want 404", c.name, err)
				}
			}
			if got, err := shop.History(ctx, shopHist.ID, testPassword); err != nil || *got.Refund != 3000 {
				t.Errorf("shop's payment after the others tried: %+v, %v; want refund 3000", got, err)
			}
		})

		t.Run("the same PG payment cannot be registered twice", func(t *testing.T) {
			_, err := billing.CreateHistory(ctx, sdk.HistoryCreate{
				Vendor: shopHist.Vendor, Source: sdk.Source{Schema: "b", Table: "orders", ID: shopHist.Source.ID},
				Price: shopHist.Price, Password: testPassword, WebhookURL: billingHooks.srv.URL,
			})
			if !errors.Is(err, sdk.ErrDuplicate) {
				t.Errorf("billing registers shop's PG payment: %v, want 409 duplicate", err)
			}
		})

		t.Run("unknown, revoked and malformed keys get 401", func(t *testing.T) {
			for name, header := range map[string]string{
				"unknown key":     "Bearer pk_notAKeyOfAnyService000000000000000000",
				"key of no one":   "Bearer " + shopService.apiKeys[0] + "x",
				"basic auth":      "Basic c2hvcDpzZWNyZXQ=",
				"no key":          "Bearer",
				"hash as the key": "Bearer " + config.HashAPIKey(shopService.apiKeys[0]),
			} {
				req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/payments/histories", strings.NewReader("garbage"))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", header)
				req.Header.Set("Content-Type", "text/plain")
				req.Header.Set("Idempotency-Key", "unauthorized-"+name)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var e struct{ Code string }
				_ = json.Unmarshal(body, &e)
				if resp.StatusCode != http.StatusUnauthorized || e.Code != string(sdk.CodeUnauthorized) {
					t.Errorf("%s: %d %s, want 401 unauthorized", name, resp.StatusCode, body)
				}
				if strings.Contains(string(body), "pk_") || strings.Contains(string(body), "sha256:") {
					t.Errorf("%s: the answer echoes the key: %s", name, body)
				}
			}
			// Refused before the idempotency layer: nothing was stored.
			if n := h.count("SELECT count(*) FROM payment_idempotency_keys WHERE idempotency_key LIKE 'unauthorized-%'"); n != 0 {
				t.Errorf("%d idempotency keys stored for refused requests, want 0", n)
			}
			wrong := h.client(shopService, "pk_revoked0000000000000000000000000000000")
			if _, err := wrong.History(ctx, shopHist.ID, testPassword); !errors.Is(err, sdk.ErrUnauthorized) {
				t.Errorf("SDK with an unknown key: %v, want ErrUnauthorized", err)
			}
		})

		t.Run("the authenticated body format under a service's key", func(t *testing.T) {
			gcm, err := sdk.New(sdk.Options{BaseURL: h.srv.URL, APIKey: shopService.apiKeys[0], Key: shopService.key, IV: shopService.iv, AuthenticatedBodies: true})
			if err != nil {
				t.Fatal(err)
			}
			if got, err := gcm.HistoryBySource(ctx, sdk.Accessor{Source: shopHist.Source, Password: testPassword}); err != nil || got.ID != shopHist.ID {
				t.Errorf("shop in AES-GCM: %v, %v", got, err)
			}
			other, err := sdk.New(sdk.Options{BaseURL: h.srv.URL, APIKey: shopService.apiKeys[0], Key: billingService.key, IV: billingService.iv, AuthenticatedBodies: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := other.HistoryBySource(ctx, sdk.Accessor{Source: shopHist.Source, Password: testPassword}); statusOf(err) != http.StatusBadRequest {
				t.Errorf("shop's key with billing's GCM key: %v, want 400", err)
			}
		})

		t.Run("a service's keys do not open another's bodies", func(t *testing.T) {
			// shop's API key with billing's body keys: the body does not
			// decrypt under shop's keys.
			mixed := h.client(billingService, shopService.apiKeys[0])
			if _, err := mixed.History(ctx, shopHist.ID, testPassword); statusOf(err) != http.StatusBadRequest {
				t.Errorf("shop's key with billing's body keys: %v, want 400", err)
			}
		})

		t.Run("events are sealed and signed per service", func(t *testing.T) {
			for _, c := range []struct {
				svc    testService
				hooks  *hookReceiver
				secret string
				others []testService
			}{
				{shopService, shopHooks, shopService.webhookSecret, []testService{billingService, {key: connectionKey, iv: connectionIV}}},
				{billingService, billingHooks, topLevelWebhookSecret, []testService{shopService, {key: connectionKey, iv: connectionIV}}},
			} {
				d := c.hooks.next(t)
				key, err := sdk.ParseWebhookSecret(c.secret)
				if err != nil {
					t.Fatal(err)
				}
				if err := sdk.VerifyWebhook(key, d.header, d.body, time.Hour, time.Now()); err != nil {
					t.Errorf("%s's event does not verify with its secret: %v", c.svc.name, err)
				}
				other := shopService.webhookSecret
				if c.svc.name == shopService.name {
					other = topLevelWebhookSecret
				}
				otherKey, _ := sdk.ParseWebhookSecret(other)
				if err := sdk.VerifyWebhook(otherKey, d.header, d.body, time.Hour, time.Now()); err == nil {
					t.Errorf("%s's event verifies with another secret", c.svc.name)
				}
				own := h.client(c.svc, "")
				ev, err := own.DecodeWebhook(d.body)
				if err != nil {
					t.Fatalf("%s's event does not decrypt with its keys: %v", c.svc.name, err)
				}
				if ev.Current.Refund == nil || *ev.Current.Refund != 3000 {
					t.Errorf("%s's event: %+v, want the cancel", c.svc.name, ev.Current)
				}
				for _, o := range c.others {
					cipher, err := wirecrypt.New(o.key, o.iv)
					if err != nil {
						t.Fatal(err)
					}
					if plain, err := cipher.Decrypt(d.body); err == nil && json.Valid(plain) {
						t.Errorf("%s's event decrypts with the keys %q", c.svc.name, o.key)
					}
				}
			}
		})

		t.Run("idempotency keys are per service", func(t *testing.T) {
			const key = "same-key-for-both"
			var got []*sdk.History
			for _, c := range []*sdk.Client{shop, billing} {
				src := newSource()
				uid := h.iamportCard(src, 2000).ImpUID
				hist, err := c.CreateHistory(ctx, sdk.HistoryCreate{
					Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: uid}, Source: src,
					Price: 2000, Password: testPassword, WebhookURL: h.webhookURL(),
				}, sdk.WithIdempotencyKey(key))
				if err != nil {
					t.Fatalf("register with a key another service used: %v", err)
				}
				got = append(got, hist)
			}
			if got[0].ID == got[1].ID {
				t.Errorf("billing was answered with shop's registration")
			}
		})

		t.Run("saved cards are per service", func(t *testing.T) {
			src := newSource()
			if _, err := h.iamport.CreateBillingKey(ctx, src.ID, iamport.BillingKeyRequest{
				CustomerUID: src.ID, CardFields: iamport.CardFields{CardNumber: "1234-5678-1234-5678", Expiry: "2028-12", Birth: "880311"},
			}); err != nil {
				t.Fatal(err)
			}
			r, err := shop.CreateReservation(ctx, sdk.ReservationCreate{
				Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: src.ID}, Source: src,
				Title: "card", Password: testPassword,
			})
			if err != nil {
				t.Fatalf("shop saves a card: %v", err)
			}
			if _, err := shop.ReservationBySource(ctx, sdk.Accessor{Source: src, Password: testPassword}); err != nil {
				t.Errorf("shop reads its card: %v", err)
			}
			if _, err := billing.Reservation(ctx, r.ID, testPassword); statusOf(err) != http.StatusNotFound {
				t.Errorf("billing reads shop's card by id: %v, want 404", err)
			}
			if _, err := billing.ReservationBySource(ctx, sdk.Accessor{Source: src, Password: testPassword}); statusOf(err) != http.StatusNotFound {
				t.Errorf("billing reads shop's card by source: %v, want 404", err)
			}
		})

		t.Run("a refused registration is audited with its service", func(t *testing.T) {
			src := newSource()
			uid := h.iamportCard(src, 5000).ImpUID
			_, err := billing.CreateHistory(ctx, sdk.HistoryCreate{
				Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: uid}, Source: src,
				Price: 4000, Password: testPassword, WebhookURL: h.webhookURL(),
			})
			if !errors.Is(err, sdk.ErrAmountMismatch) {
				t.Fatalf("register with the wrong amount: %v, want amount_mismatch", err)
			}
			n := h.count("SELECT count(*) FROM payment_audit_events WHERE event = 'refused' AND service = 'billing' AND history_id IS NULL AND request_id <> ''")
			if n != 1 {
				t.Errorf("%d refusals of billing audited, want 1", n)
			}
		})

		t.Run("audit trail", func(t *testing.T) {
			trail, err := h.srv.Payments.AuditTrail(ctx, shopHist.ID)
			if err != nil {
				t.Fatal(err)
			}
			var events []string
			for _, e := range trail {
				if e.Event == payment.AuditReconciled {
					// The PG's webhook about the cancel, when it was
					// applied before the cancel's own answer.
					continue
				}
				events = append(events, e.Event)
				if e.Service != shopService.name || e.HistoryID != shopHist.ID || e.StoreID != iamportStoreID || e.RequestID == "" {
					t.Errorf("audit event %+v: want service shop, the history, its store and a request id", e)
				}
			}
			if want := []string{payment.AuditRegistered, payment.AuditCancelled}; strings.Join(events, ",") != strings.Join(want, ",") {
				t.Fatalf("audit trail %v, want %v", events, want)
			}
			if d := trail[len(trail)-1].Details; d.Amount != 3000 || d.RefundBefore != 0 || d.RefundAfter != 3000 || d.Price != 10000 {
				t.Errorf("cancel's audit details %+v", d)
			}
			if n := h.count("SELECT count(*) FROM payment_audit_events WHERE data LIKE '%" + testPassword + "%'"); n != 0 {
				t.Errorf("%d audit rows hold the record password in the clear", n)
			}
		})
	})
}

// TestServicesRequireKey: with services.require_key a request without an
// API key is refused, except the monitors, which hold no service's
// records.
func TestServicesRequireKey(t *testing.T) {
	h := startWith(t, backends()[0].dsn(t), map[string]string{
		"PAYMENT_SERVICES":             servicesEnv(t, shopService),
		"PAYMENT_SERVICES_REQUIRE_KEY": "true",
	}, nil)
	ctx := context.Background()
	if _, err := h.api.HistoryBySource(ctx, sdk.Accessor{Source: newSource(), Password: testPassword}); !errors.Is(err, sdk.ErrUnauthorized) {
		t.Errorf("no key: %v, want 401", err)
	}
	if _, err := h.api.Performance(ctx); err != nil {
		t.Errorf("monitors without a key: %v", err)
	}
	shop := h.client(shopService, shopService.apiKeys[0])
	if _, err := shop.HistoryBySource(ctx, sdk.Accessor{Source: newSource(), Password: testPassword}); statusOf(err) != http.StatusNotFound {
		t.Errorf("with shop's key: %v, want 404 for an unknown record", err)
	}
}

// TestServiceKeyRotation: a service's API key is rotated by listing the
// new key beside the old one, moving the callers, then dropping the old
// one. While both are listed, requests with either, interleaved, all
// succeed and see the same records; once the old one is dropped it is
// refused and nothing made with it is lost.
func TestServiceKeyRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		ctx := context.Background()
		oldKey, newKey := "pk_rotationOld00000000000000000000000000", "pk_rotationNew00000000000000000000000000"
		svc := shopService
		svc.apiKeys = []string{oldKey}
		h := startWith(t, dsn(t), map[string]string{"PAYMENT_SERVICES": servicesEnv(t, svc)}, nil)
		var made []*sdk.History
		made = append(made, h.registerAs(h.client(svc, oldKey), newSource(), 1000, h.webhookURL()))

		h.stop()
		svc.apiKeys = []string{oldKey, newKey}
		h.env["PAYMENT_SERVICES"] = servicesEnv(t, svc)
		h.boot()
		clients := []*sdk.Client{h.client(svc, oldKey), h.client(svc, newKey)}
		for i := range 6 {
			c := clients[i%2]
			made = append(made, h.registerAs(c, newSource(), int64(1000+i), h.webhookURL()))
			for _, m := range made {
				if _, err := c.History(ctx, m.ID, testPassword); err != nil {
					t.Fatalf("request %d (key %d) reads %s during the rotation: %v", i, i%2, m.ID, err)
				}
			}
		}

		h.stop()
		svc.apiKeys = []string{newKey}
		h.env["PAYMENT_SERVICES"] = servicesEnv(t, svc)
		h.boot()
		if _, err := h.client(svc, oldKey).History(ctx, made[0].ID, testPassword); !errors.Is(err, sdk.ErrUnauthorized) {
			t.Errorf("the dropped key: %v, want 401", err)
		}
		c := h.client(svc, newKey)
		for _, m := range made {
			if _, err := c.History(ctx, m.ID, testPassword); err != nil {
				t.Errorf("read %s with the new key after the rotation: %v", m.ID, err)
			}
		}
	})
}

// TestServiceGCMOnly: a service with encryption.format gcm is served in
// the authenticated format only: its CBC requests are refused (400)
// before the body is decrypted, its GCM requests work. Another service
// keeps both formats.
func TestServiceGCMOnly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		strict := shopService
		strict.format = config.BodyFormatGCM
		h := startWith(t, dsn(t), map[string]string{"PAYMENT_SERVICES": servicesEnv(t, strict, billingService)}, nil)
		ctx := context.Background()
		key := strict.apiKeys[0]

		cbc := h.client(strict, key)
		if _, err := cbc.CreateHistory(ctx, sdk.HistoryCreate{Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: "imp_x"},
			Source: newSource(), Price: 1000, Password: testPassword}); statusOf(err) != http.StatusBadRequest {
			t.Errorf("a CBC body to a gcm-only service: %v, want 400", err)
		}

		gcm, err := sdk.New(sdk.Options{BaseURL: h.srv.URL, APIKey: key, Key: strict.key, IV: strict.iv, AuthenticatedBodies: true})
		if err != nil {
			t.Fatal(err)
		}
		made := h.registerAs(gcm, newSource(), 1000, h.webhookURL())
		if _, err := gcm.History(ctx, made.ID, testPassword); err != nil {
			t.Errorf("read in GCM: %v", err)
		}

		// The same, raw: refused before the body is decrypted, like any
		// unreadable body (an error, so plain JSON), naming the format.
		cipher, err := wirecrypt.New(strict.key, strict.iv)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPatch, h.srv.URL+"/payments/histories/"+made.ID,
			strings.NewReader(string(cipher.Encrypt([]byte(`{"password":"`+testPassword+`"}`)))))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", wirecrypt.ContentType)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "encryption.format") {
			t.Errorf("a raw CBC read of a gcm-only service: %d %s, want 400 naming encryption.format", res.StatusCode, body)
		}

		// The other service still takes the original's format.
		h.registerAs(h.client(billingService, billingService.apiKeys[0]), newSource(), 1000, h.webhookURL())
	})
}
