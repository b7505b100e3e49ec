package server_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	fakeportone "github.com/paymentctl/paymentctl/fakepg/portone"
	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/internal/stdwebhook"
	"github.com/paymentctl/paymentctl/openapi"
	"github.com/paymentctl/paymentctl/openapi/openapitest"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// checkedTransport returns a transport that checks every answer (and the
// request of every accepted one) against the OpenAPI document, reporting
// to t: every end-to-end test's SDK calls go through it.
func checkedTransport(t *testing.T) *openapitest.Transport {
	t.Helper()
	spec, err := openapitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := openapitest.NewKeys(connectionKey, connectionIV)
	if err != nil {
		t.Fatal(err)
	}
	return &openapitest.Transport{Spec: spec, Keys: keys, Report: t.Errorf}
}

// checkedClient is an http.Client on checkedTransport.
func checkedClient(t *testing.T) *http.Client {
	t.Helper()
	return &http.Client{Transport: checkedTransport(t)}
}

// routeTable returns the routes of h's server as "METHOD /path", in the
// document's spelling of parameters ("{id}").
func routeTable(t *testing.T, h *harness) []string {
	t.Helper()
	engine, ok := h.srv.Handler.(*gin.Engine)
	if !ok {
		t.Fatalf("App.Handler is a %T, not the *gin.Engine whose routes this test reads", h.srv.Handler)
	}
	var routes []string
	for _, r := range engine.Routes() {
		segs := strings.Split(r.Path, "/")
		for i, s := range segs {
			if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
				segs[i] = "{" + s[1:] + "}"
			}
		}
		routes = append(routes, r.Method+" "+strings.Join(segs, "/"))
	}
	return routes
}

// TestOpenAPIMatchesRoutes fails when the route table of a running server
// (local mode, so the test receiver is mounted) and the document's
// operations differ.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	h := start(t, backends()[0].dsn(t))
	routes := routeTable(t, h)
	spec, err := openapitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	documented := spec.Operations()
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi/openapi.json", r)
		}
	}
	for _, op := range documented {
		if !slices.Contains(routes, op) {
			t.Errorf("openapi/openapi.json documents %s, which no route serves", op)
		}
	}
}

// TestOpenAPIAnswers calls every route, with successes and the refusals a
// client meets, through the checking transport, and fails when an answer
// or an accepted request does not match the document, or a mounted
// operation was not exercised.
func TestOpenAPIAnswers(t *testing.T) {
	h := start(t, backends()[0].dsn(t))
	ctx := context.Background()
	tr := checkedTransport(t)
	hc := &http.Client{Transport: tr}
	api, err := sdk.New(sdk.Options{BaseURL: h.srv.URL, Key: connectionKey, IV: connectionIV, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	gcmAPI, err := sdk.New(sdk.Options{BaseURL: h.srv.URL, Key: connectionKey, IV: connectionIV, HTTPClient: hc, AuthenticatedBodies: true})
	if err != nil {
		t.Fatal(err)
	}
	cbc, err := wirecrypt.New(connectionKey, connectionIV)
	if err != nil {
		t.Fatal(err)
	}
	raw := func(method, path, contentType string, body []byte) int {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, h.srv.URL+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	refused := func(what string, err error, status int) {
		t.Helper()
		if got := statusOf(err); got != status {
			t.Errorf("%s: %v, want status %d", what, err, status)
		}
	}

	// The document itself, as embedded.
	if got := raw(http.MethodGet, "/openapi.json", "", nil); got != http.StatusOK {
		t.Errorf("GET /openapi.json = %d", got)
	}
	resp, err := hc.Get(h.srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var served bytes.Buffer
	served.ReadFrom(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(served.Bytes(), openapi.Document()) {
		t.Error("GET /openapi.json is not the embedded document")
	}

	// Monitors and probes.
	if err := api.Health(ctx); err != nil {
		t.Error(err)
	}
	if _, err := api.Performance(ctx); err != nil {
		t.Error(err)
	}
	if _, err := api.System(ctx); err != nil {
		t.Error(err)
	}
	if _, err := gcmAPI.System(ctx); err != nil {
		t.Error(err)
	}
	for _, p := range []string{"/livez", "/readyz"} {
		if got := raw(http.MethodGet, p, "", nil); got != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", p, got)
		}
	}

	// Payments: registration, look-ups, cancels, and their refusals.
	src := newSource()
	pay := h.iamportCard(src, 20000)
	reg := sdk.HistoryCreate{
		Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: pay.ImpUID}, Source: src,
		Price: 20000, Password: testPassword, WebhookURL: h.webhookURL(),
	}
	hist, err := api.CreateHistory(ctx, reg, sdk.WithIdempotencyKey(src.ID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.CreateHistory(ctx, reg, sdk.WithIdempotencyKey(src.ID)); err != nil {
		t.Errorf("replay: %v", err)
	}
	other := reg
	other.Price = 1
	_, err = api.CreateHistory(ctx, other, sdk.WithIdempotencyKey(src.ID))
	refused("key reused with another body", err, http.StatusUnprocessableEntity)
	_, err = api.CreateHistory(ctx, reg)
	refused("duplicate", err, http.StatusConflict)
	wrongSrc := newSource()
	wrong := h.iamportCard(wrongSrc, 5000)
	_, err = api.CreateHistory(ctx, sdk.HistoryCreate{
		Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: wrong.ImpUID}, Source: wrongSrc,
		Price: 4000, Password: testPassword, WebhookURL: h.webhookURL(),
	})
	refused("amount mismatch", err, http.StatusUnprocessableEntity)
	_, err = api.CreateHistory(ctx, sdk.HistoryCreate{Vendor: reg.Vendor, Source: sdk.Source{Schema: "s", Table: "t", ID: "x"},
		Price: 1, Password: testPassword, WebhookURL: h.webhookURL()})
	refused("invalid body", err, http.StatusBadRequest)

	if _, err := api.History(ctx, hist.ID, testPassword); err != nil {
		t.Error(err)
	}
	if _, err := gcmAPI.HistoryBySource(ctx, sdk.Accessor{Source: src, Password: testPassword}); err != nil {
		t.Error(err)
	}
	_, err = api.History(ctx, hist.ID, "wrong")
	refused("wrong password", err, http.StatusForbidden)
	_, err = api.History(ctx, uuid.NewString(), testPassword)
	refused("no such history", err, http.StatusNotFound)
	if got := raw(http.MethodPatch, "/payments/histories/not-a-uuid", "text/plain",
		cbc.Encrypt([]byte(`{"password":"`+testPassword+`"}`))); got != http.StatusBadRequest {
		t.Errorf("PATCH /payments/histories/not-a-uuid = %d, want 400", got)
	}

	cancel := sdk.CancelCreate{Source: src, Password: testPassword, Price: 5000, Reason: "partial"}
	if _, err := api.CancelHistory(ctx, cancel); err != nil {
		t.Error(err)
	}
	cancel.Price = 1_000_000
	_, err = api.CancelHistory(ctx, cancel)
	refused("over-refund", err, http.StatusUnprocessableEntity)

	// Saved cards.
	card := newSource()
	if _, err := h.iamport.CreateBillingKey(ctx, card.ID, iamport.BillingKeyRequest{
		CustomerUID: card.ID, CardFields: iamport.CardFields{CardNumber: "1234-5678-1234-5678", Expiry: "2028-12", Birth: "880311"},
	}); err != nil {
		t.Fatal(err)
	}
	res, err := api.CreateReservation(ctx, sdk.ReservationCreate{
		Vendor: sdk.Vendor{Code: sdk.VendorIamport, StoreID: iamportStoreID, UID: card.ID}, Source: card,
		Title: "card", Password: testPassword,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.Reservation(ctx, res.ID, testPassword); err != nil {
		t.Error(err)
	}
	if _, err := api.ReservationBySource(ctx, sdk.Accessor{Source: card, Password: testPassword}); err != nil {
		t.Error(err)
	}
	_, err = api.ReservationBySource(ctx, sdk.Accessor{Source: newSource(), Password: testPassword})
	refused("no such reservation", err, http.StatusNotFound)

	// The forwarded event, as a service receives it.
	rcv := newReceiver(t)
	vbankToReceiver(t, h, rcv)
	req, body := rcv.wait(t, 1)
	keys, err := openapitest.NewKeys(connectionKey, connectionIV)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Spec.CheckWebhook("paymentEvent", req.Header, body, keys); err != nil {
		t.Errorf("OpenAPI: %v", err)
	}
	// The local test receiver takes it as a service would.
	if got := raw(http.MethodPost, testWebhookPath, "text/plain", cbc.Encrypt(mustDecrypt(t, cbc, body))); got != http.StatusCreated {
		t.Errorf("POST %s = %d", testWebhookPath, got)
	}

	// The PGs' webhooks, plain.
	raw(http.MethodPost, "/payments/webhooks/iamport", "application/json",
		[]byte(`{"imp_uid":"`+pay.ImpUID+`","merchant_uid":"`+src.ID+`","status":"paid"}`))
	raw(http.MethodPost, "/payments/webhooks/iamport", "application/x-www-form-urlencoded",
		[]byte("imp_uid="+pay.ImpUID+"&merchant_uid="+src.ID+"&status=paid"))
	raw(http.MethodPost, "/payments/webhooks/iamport", "application/json", []byte(`{"status":"paid"}`))
	raw(http.MethodPost, "/payments/webhooks/toss", "application/json",
		[]byte(`{"eventType":"PAYMENT_STATUS_CHANGED","createdAt":"2026-11-24T10:00:00.000000","data":{"paymentKey":"unknown","status":"DONE"}}`))
	raw(http.MethodPost, "/payments/webhooks/toss", "application/json", []byte(`{"eventType":"PAYOUT_STATUS_CHANGED","data":{}}`))
	portoneBody := portoneWebhook(t, portone.EventTransactionPaid, uuid.NewString())
	raw(http.MethodPost, "/payments/webhooks/portone", "application/json", portoneBody) // unsigned: 401
	signed, err := http.NewRequestWithContext(ctx, http.MethodPost, h.srv.URL+"/payments/webhooks/portone", bytes.NewReader(portoneBody))
	if err != nil {
		t.Fatal(err)
	}
	key, err := stdwebhook.DecodeSecret(fakeportone.DefaultWebhookSecret)
	if err != nil {
		t.Fatal(err)
	}
	signed.Header = stdwebhook.Header([][]byte{key}, "msg_openapi", time.Now(), portoneBody)
	signed.Header.Set("Content-Type", "application/json")
	if resp, err := hc.Do(signed); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("signed PortOne V2 webhook: %v, %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// What is not a route, and bodies the API does not take.
	raw(http.MethodGet, "/payments/nothing-here", "", nil)
	raw(http.MethodDelete, "/payments/histories", "", nil)
	raw(http.MethodPost, "/payments/histories", "application/json", []byte(`{}`))
	raw(http.MethodPost, "/payments/histories", "text/plain", []byte("not base64"))

	seen := tr.Seen()
	for _, op := range tr.Spec.Operations() {
		if !slices.ContainsFunc(seen, func(s string) bool { return strings.HasPrefix(s, op+" ") }) {
			t.Errorf("%s was not exercised", op)
		}
	}
	t.Logf("checked: %s", strings.Join(seen, ", "))
}

func mustDecrypt(t *testing.T, c *wirecrypt.Cipher, body []byte) []byte {
	t.Helper()
	plain, err := c.Decrypt(body)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}
