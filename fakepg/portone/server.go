package portone

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/fakepg/fault"
	"github.com/paymentctl/paymentctl/fakepg/hook"
	"github.com/paymentctl/paymentctl/fakepg/memstore"
	"github.com/paymentctl/paymentctl/fakepg/skeleton"
	api "github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/internal/stdwebhook"
)

// Defaults used when Options leaves a field zero. They are published, so
// paymentctl's real mode refuses them.
const (
	// DefaultPort is where `paymentctl fake` listens for PortOne V2.
	DefaultPort = 10861
	// DefaultSecret is the accepted API secret.
	DefaultSecret = "fake_portone_v2_api_secret_not_for_production_use"
	// DefaultStoreID is the store the secret belongs to.
	DefaultStoreID = "store-fa4e0000-0000-4000-8000-000000000000"
	// DefaultWebhookSecret signs the webhooks (Standard Webhooks form).
	DefaultWebhookSecret = "whsec_cGF5bWVudGN0bC1mYWtlLXBvcnRvbmUtd2ViaG9vayE="
	// DefaultMerchantID is the merchant of the store.
	DefaultMerchantID = "merchant-fa4e0000-0000-4000-8000-000000000000"
	// DefaultTokenTTL is an access token's lifetime (POST
	// /login/api-secret).
	DefaultTokenTTL = 30 * time.Minute
)

// The test channel every payment and billing key goes through.
const (
	channelID    = "channel-id-fa4e0000-0000-4000-8000-000000000000"
	channelKey   = "channel-key-fa4e0000-0000-4000-8000-000000000000"
	channelName  = "paymentctl fake channel"
	pgProvider   = "TOSSPAYMENTS"
	pgMerchantID = "tosspayments-fake"
)

// maxBody bounds a request body.
const maxBody = 1 << 20

// Options configures a Server. The zero value is a working fake with the
// default credentials, no webhook target and no faults.
type Options struct {
	// Secret is the accepted API secret; "" means DefaultSecret.
	Secret string
	// StoreID is the secret's store; "" means DefaultStoreID. A call
	// naming another store is refused with 403 FORBIDDEN.
	StoreID string
	// WebhookSecrets sign every webhook, one signature each (two while a
	// secret is rotated); nil means DefaultWebhookSecret. Each is
	// "whsec_" and base64; New panics on one that is not.
	WebhookSecrets []string
	// Stores, when set, replace Secret, StoreID and WebhookSecrets:
	// several stores, each with its API secret and webhook secrets. Only
	// their secrets are accepted (others 401 UNAUTHORIZED); a call acts
	// for its secret's store (a storeId naming another is 403 FORBIDDEN),
	// a payment or billing key belongs to the store that made it (another
	// store's secret gets 404 for it), and a webhook is signed with its
	// store's secrets only.
	Stores []Store
	// WebhookURL receives the webhooks of payments and billing keys made
	// without noticeUrls; "" records them without sending.
	// SetWebhookURL changes it later.
	WebhookURL string
	// TTL and Capacity bound every record store; 0 means the skeleton's
	// defaults (3 h, 10,000), negative forever / unbounded.
	TTL      time.Duration
	Capacity int
	// Backoff is the webhook retry schedule; nil means PortOne's
	// (hook.PortOneBackoff), an empty non-nil slice no retries.
	Backoff []time.Duration
	// Faults are the fault knobs; nil means none, reachable through
	// Server.Faults.
	Faults *fault.Injector
	// Logf receives diagnostics; nil discards. Secrets are never logged.
	Logf func(format string, args ...any)
	// Now is the clock of records and of webhook bodies; nil means
	// time.Now. Webhook headers are signed with the real time, which the
	// receiver checks against its own clock.
	Now func() time.Time
	// HTTPClient delivers webhooks; nil means hook's default client.
	HTTPClient *http.Client
	// AsyncCancels takes every cancel as an asynchronous PG does: the
	// cancellation is REQUESTED and nothing is refunded until
	// SettleCancellations. SetAsyncCancels changes it later.
	AsyncCancels bool
}

// Store is one store of Options.Stores: its id, API secret and webhook
// secrets (nil means DefaultWebhookSecret).
type Store struct {
	ID             string
	Secret         string
	WebhookSecrets []string
}

// account is a store as the fake keeps it.
type account struct {
	id     string
	secret string
	keys   [][]byte // decoded webhook secrets
}

// grant is an access token's expiry and store.
type grant struct {
	exp   time.Time
	store string
}

// Server is the fake PortOne V2 API as an http.Handler. Create it with New
// and stop its webhook deliveries with Close. The embedded skeleton gives
// it SetWebhookURL, WebhookURL, Faults, Webhooks and Close.
type Server struct {
	*skeleton.Server

	accounts []account // Options.Stores, or the one of Secret and StoreID
	now      func() time.Time
	faults   *fault.Injector
	payments *memstore.Map[string, payment]
	prereg   *memstore.Map[string, preRegistration]
	billing  *memstore.Map[string, api.BillingKeyInfo]
	tokens   *memstore.Map[string, grant] // access token → expiry and store
	mu       sync.Mutex                   // serialises checkouts of one paymentId with its creation
	// asyncCancels is Options.AsyncCancels, as SetAsyncCancels left it.
	asyncCancels atomic.Bool
}

// New returns a Server configured by opts.
func New(opts Options) *Server {
	stores := opts.Stores
	if len(stores) == 0 {
		stores = []Store{{ID: opts.StoreID, Secret: opts.Secret, WebhookSecrets: opts.WebhookSecrets}}
		if stores[0].ID == "" {
			stores[0].ID = DefaultStoreID
		}
		if stores[0].Secret == "" {
			stores[0].Secret = DefaultSecret
		}
	}
	s := &Server{}
	for _, st := range stores {
		secrets := st.WebhookSecrets
		if secrets == nil {
			secrets = []string{DefaultWebhookSecret}
		}
		a := account{id: st.ID, secret: st.Secret}
		for _, w := range secrets {
			k, err := stdwebhook.DecodeSecret(w)
			if err != nil {
				panic(fmt.Sprintf("fakepg/portone: webhook secret: %v", err))
			}
			a.keys = append(a.keys, k)
		}
		s.accounts = append(s.accounts, a)
	}
	s.Server = skeleton.New(skeleton.Config{
		Name:           "fake portone",
		DefaultBackoff: hook.PortOneBackoff(),
		FaultAnswer: func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, &apiError{status: http.StatusInternalServerError, typ: "INTERNAL_SERVER_ERROR",
				message: "일시적인 오류가 발생했습니다. (injected fault)"})
		},
		NoRoute:    noRoute,
		Sign:       s.sign,
		WebhookURL: opts.WebhookURL,
		TTL:        opts.TTL,
		Capacity:   opts.Capacity,
		Backoff:    opts.Backoff,
		Faults:     opts.Faults,
		Logf:       opts.Logf,
		Now:        opts.Now,
		HTTPClient: opts.HTTPClient,
	})
	s.now = s.Server.Now
	s.faults = s.Server.Faults()
	s.asyncCancels.Store(opts.AsyncCancels)
	store := s.StoreOptions()
	s.payments = memstore.New[string, payment](store)
	s.prereg = memstore.New[string, preRegistration](store)
	s.billing = memstore.New[string, api.BillingKeyInfo](store)
	s.tokens = memstore.New[string, grant](memstore.Options{TTL: -1, Capacity: store.Capacity, Now: s.now})
	s.routes()
	return s
}

// routes is the route table: the real API's routes the fake serves, then
// the fake-only ones under /internal.
func (s *Server) routes() {
	s.Handle("POST /login/api-secret", http.HandlerFunc(s.login))

	s.Handle("GET /payments/{paymentId}", s.api(s.getPayment))
	s.Handle("POST /payments/{paymentId}/cancel", s.api(s.cancel))
	s.Handle("POST /payments/{paymentId}/billing-key", s.api(s.payWithBillingKey))
	s.Handle("POST /payments/{paymentId}/pre-register", s.api(s.preRegister))
	s.Handle("POST /payments/{paymentId}/virtual-account/close", s.api(s.closeVirtualAccount))
	s.Handle("POST /payments/{paymentId}/resend-webhook", s.api(s.resendWebhook))

	s.Handle("POST /billing-keys", s.api(s.issueBillingKey))
	s.Handle("GET /billing-keys/{billingKey}", s.api(s.getBillingKey))
	s.Handle("DELETE /billing-keys/{billingKey}", s.api(s.deleteBillingKey))

	s.Handle("POST /internal/checkout", s.api(s.checkout))
	s.Handle("POST /internal/billing-key-checkout", s.api(s.billingKeyCheckout))
	s.Handle("POST /internal/payments/{paymentId}/deposit", s.api(s.deposit))
	s.Handle("POST /internal/webhook", http.HandlerFunc(s.webhookSink))
}

// StoreID is the store of the fake's secret (with Options.Stores, the
// first store's).
func (s *Server) StoreID() string { return s.accounts[0].id }

// storeKey keys the caller's store in a request's context.
type storeKey struct{}

// storeOf returns the store of the secret or token that authenticated r.
func storeOf(r *http.Request) string {
	id, _ := r.Context().Value(storeKey{}).(string)
	return id
}

// accountBySecret returns the store whose API secret this is.
func (s *Server) accountBySecret(secret string) (string, bool) {
	for _, a := range s.accounts {
		if subtle.ConstantTimeCompare([]byte(secret), []byte(a.secret)) == 1 {
			return a.id, true
		}
	}
	return "", false
}

// keysOf returns the webhook keys of a store, the first store's when it
// is not one (no webhook is made for an unknown store).
func (s *Server) keysOf(store string) [][]byte {
	for _, a := range s.accounts {
		if a.id == store {
			return a.keys
		}
	}
	return s.accounts[0].keys
}

// allKeys returns the webhook keys of every store.
func (s *Server) allKeys() [][]byte {
	var out [][]byte
	for _, a := range s.accounts {
		out = append(out, a.keys...)
	}
	return out
}

// Payment returns a payment as GET /payments/{paymentId} would, without
// going through HTTP.
func (s *Server) Payment(paymentID string) (api.Payment, bool) {
	p, ok := s.payments.Get(paymentID)
	if !ok {
		return nil, false
	}
	return p.view(), true
}

// apiError is a failure answered in PortOne's {type, message} shape.
type apiError struct {
	status    int
	typ       api.ErrorType
	message   string
	pgCode    string
	pgMessage string
}

// Error formats the status, type and message.
func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.typ, e.message) }

// fail returns an error of type t with PortOne's status for it.
func fail(t api.ErrorType, format string, args ...any) *apiError {
	status := t.Status()
	if status == 0 {
		status = http.StatusBadRequest
	}
	return &apiError{status: status, typ: t, message: fmt.Sprintf(format, args...)}
}

// invalid is a 400 INVALID_REQUEST.
func invalid(format string, args ...any) *apiError {
	return fail(api.TypeInvalidRequest, format, args...)
}

// writeError writes err in PortOne's shape; an error other than *apiError
// is a 500.
func writeError(w http.ResponseWriter, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		e = &apiError{status: http.StatusInternalServerError, typ: "INTERNAL_SERVER_ERROR", message: err.Error()}
	}
	writeJSON(w, e.status, api.ErrorBody{Type: e.typ, Message: e.message, PgCode: e.pgCode, PgMessage: e.pgMessage})
}

// writeJSON writes v as the answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	skeleton.WriteJSON(w, status, v, []byte(`{"type":"INTERNAL_SERVER_ERROR","message":"encode response"}`))
}

// noRoute answers an unknown path or method in PortOne's error shape.
func noRoute(w http.ResponseWriter, r *http.Request, allow string) {
	if allow != "" {
		w.Header().Set("Allow", allow)
		writeError(w, &apiError{status: http.StatusMethodNotAllowed, typ: api.TypeInvalidRequest,
			message: fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path)})
		return
	}
	writeError(w, &apiError{status: http.StatusNotFound, typ: "NOT_FOUND", message: "no route " + r.Method + " " + r.URL.Path})
}

// handler answers an authenticated call with a value to write as JSON
// (HTTP 200) or an error.
type handler func(r *http.Request) (any, error)

// api wraps h with authentication, the store check of the storeId query
// parameter and the JSON answer.
func (s *Server) api(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		store, err := s.authenticate(r)
		if err != nil {
			writeError(w, err)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), storeKey{}, store))
		if err := s.checkStore(r, r.URL.Query().Get("storeId")); err != nil {
			writeError(w, err)
			return
		}
		v, err := h(r)
		if err != nil {
			var e *apiError
			if !errors.As(err, &e) || e.status >= 500 {
				s.Logf("fake portone: %s %s: %v", r.Method, r.URL.Path, err)
			}
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
}

// authenticate accepts "PortOne <secret>", as the SDK sends it, and
// "Bearer <access token>" from POST /login/api-secret, and returns the
// store they act for. Every failure is 401 UNAUTHORIZED.
func (s *Server) authenticate(r *http.Request) (string, error) {
	scheme, cred, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	cred = strings.TrimSpace(cred)
	switch {
	case strings.EqualFold(scheme, api.AuthScheme):
		if store, ok := s.accountBySecret(cred); ok {
			return store, nil
		}
	case strings.EqualFold(scheme, "Bearer"):
		if g, ok := s.tokens.Get(cred); ok && s.now().Before(g.exp) {
			return g.store, nil
		}
	}
	return "", fail(api.TypeUnauthorized, "인증 정보가 올바르지 않습니다. (wrong or missing Authorization)")
}

// checkStore refuses a store other than the caller's; "" is the caller's.
func (s *Server) checkStore(r *http.Request, storeID string) error {
	if storeID != "" && storeID != storeOf(r) {
		return fail(api.TypeForbidden, "상점에 접근할 권한이 없습니다. (store %s)", storeID)
	}
	return nil
}

// login answers POST /login/api-secret {apiSecret} with an access token
// valid for DefaultTokenTTL, usable as "Bearer <token>".
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		APISecret string `json:"apiSecret"`
	}
	if err := decode(r, &in); err != nil {
		writeError(w, err)
		return
	}
	store, ok := s.accountBySecret(in.APISecret)
	if !ok {
		writeError(w, fail(api.TypeUnauthorized, "API secret이 올바르지 않습니다."))
		return
	}
	tok := randomHex(32)
	s.tokens.Set(tok, grant{exp: s.now().Add(DefaultTokenTTL), store: store})
	writeJSON(w, http.StatusOK, map[string]string{"accessToken": tok, "refreshToken": randomHex(32)})
}

// decode reads a JSON body into v whatever its Content-Type (the SDK sends
// text/plain); an empty body is {}. Unknown fields are ignored.
func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return invalid("cannot read the body: %v", err)
	}
	if len(b) > maxBody {
		return invalid("body over %d bytes", maxBody)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return invalid("body is not the expected JSON: %v", err)
	}
	return nil
}

// sign sets the Standard Webhooks headers of one delivery attempt:
// webhook-id was set when the webhook was made; the timestamp is now (the
// real clock, which the receiver checks) and the signature covers it.
func (s *Server) sign(h http.Header, body []byte) {
	// The fake's own body names the store the webhook is about: its
	// secrets sign it.
	var w api.Webhook
	_ = json.Unmarshal(body, &w)
	signed := stdwebhook.Header(s.keysOf(w.Data.StoreID), h.Get(stdwebhook.IDHeader), time.Now(), body)
	h.Set(stdwebhook.TimestampHeader, signed.Get(stdwebhook.TimestampHeader))
	h.Set(stdwebhook.SignatureHeader, signed.Get(stdwebhook.SignatureHeader))
}

// notify announces a webhook of type typ with data to urls (the
// payment's noticeUrls), or to the server's target when there are none.
// It leaves once r's answer is written, and is signed at every attempt.
func (s *Server) notify(r *http.Request, urls []string, typ string, data api.WebhookData) {
	body, err := json.Marshal(api.Webhook{Type: typ, Timestamp: stamp(s.now()), Data: data})
	if err != nil {
		s.Logf("fake portone: encode webhook: %v", err)
		return
	}
	if len(urls) == 0 {
		urls = []string{""}
	}
	for _, u := range urls {
		h := http.Header{"Content-Type": {"application/json"}}
		h.Set(stdwebhook.IDHeader, "msg_"+strings.ReplaceAll(uuid.NewString(), "-", ""))
		s.Notify(r, u, h, body)
	}
}

// webhookSink answers POST /internal/webhook, the fake's own default
// receiver: it verifies the signature with the fake's secrets and the
// body's shape, logs the event and answers 200, or 400 on a bad webhook.
func (s *Server) webhookSink(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, invalid("cannot read the body: %v", err))
		return
	}
	if err := stdwebhook.Verify(s.allKeys(), r.Header, b, api.WebhookTolerance, time.Time{}); err != nil {
		writeError(w, invalid("%v", err))
		return
	}
	ev, err := api.ParseWebhook(b)
	if err != nil {
		writeError(w, invalid("%v", err))
		return
	}
	s.Logf("fake portone: self-sink got %s %s%s", ev.Type, ev.Data.PaymentID, ev.Data.BillingKey)
	writeJSON(w, http.StatusOK, struct{}{})
}

// stamp is a time as the fake stores and sends it: UTC, milliseconds.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// randomDigits returns n random decimal digits.
func randomDigits(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	var sb strings.Builder
	for _, c := range b {
		sb.WriteString(strconv.Itoa(int(c) % 10))
	}
	return sb.String()
}
