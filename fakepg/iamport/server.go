package iamport

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/paymentctl/paymentctl/fakepg/fault"
	"github.com/paymentctl/paymentctl/fakepg/hook"
	"github.com/paymentctl/paymentctl/fakepg/memstore"
	"github.com/paymentctl/paymentctl/fakepg/skeleton"
	gw "github.com/paymentctl/paymentctl/gateway/iamport"
)

// DefaultPort is the port the original fake listened on; `paymentctl fake`
// and the test setup of the payment server use it.
const DefaultPort = 10851

// Defaults used when Options leaves a field zero.
const (
	DefaultKey      = "test_imp_key"
	DefaultSecret   = "test_imp_secret"
	DefaultTokenTTL = 30 * time.Minute
	DefaultTTL      = skeleton.DefaultTTL
	DefaultCapacity = skeleton.DefaultCapacity
)

// tokenGrace and tokenExtension mirror the real API: asking for a token
// within tokenGrace of its expiry extends it by tokenExtension.
const (
	tokenGrace     = time.Minute
	tokenExtension = 5 * time.Minute
)

// Options configure a Server. The zero value is a usable fake with the
// original's credentials and no webhook target.
type Options struct {
	// Key and Secret are the accepted imp_key / imp_secret; "" means
	// DefaultKey / DefaultSecret. Ignored when Stores is set.
	Key    string
	Secret string
	// Stores, when set, are the only accepted credentials, one merchant
	// account each: a payment belongs to the store whose token made it,
	// and another store's token gets 404 for it (by imp_uid or by
	// merchant_uid), as the real API hides other accounts' payments.
	// Billing keys are per store too (a customer_uid of one store is
	// unknown to another). Unknown credentials get 401 as always;
	// certifications stay shared.
	Stores []Store
	// WebhookURL receives webhooks of payments created without a
	// notice_url; "" records them as dropped.
	WebhookURL string
	// TokenTTL is an access token's lifetime; 0 means DefaultTokenTTL.
	TokenTTL time.Duration
	// TTL and Capacity bound every record store (payments, billing keys,
	// receipts, certifications); 0 means DefaultTTL / DefaultCapacity.
	TTL      time.Duration
	Capacity int
	// Backoff is the webhook retry schedule; nil means the real one
	// (hook.IamportBackoff), an empty non-nil slice no retries.
	Backoff []time.Duration
	// Faults are the fault knobs; nil means a fresh Injector with every
	// knob off (reachable through Server.Faults).
	Faults *fault.Injector
	// Logf receives diagnostics; nil discards them. Secrets are never
	// logged.
	Logf func(format string, args ...any)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// HTTPClient delivers webhooks; nil means hook's default client.
	HTTPClient *http.Client
}

// Store is one merchant account of Options.Stores: an id of the caller's
// choosing and its imp_key / imp_secret.
type Store struct {
	ID     string
	Key    string
	Secret string
}

// grant is an issued access token: its expiry and the store it acts for
// ("" without Options.Stores).
type grant struct {
	exp   time.Time
	store string
}

// Server is the fake Iamport API as an http.Handler. Create it with New and
// stop it with Close. The embedded skeleton gives it SetWebhookURL (where
// webhooks of payments without a notice_url go), WebhookURL, Faults,
// Webhooks and Close.
type Server struct {
	*skeleton.Server

	stores   []Store // Options.Stores, or one store "" of Key and Secret
	perStore bool    // Options.Stores was set: payments belong to stores
	tokenTTL time.Duration
	now      func() time.Time
	logf     func(format string, args ...any)
	faults   *fault.Injector

	// mu guards current, and serialises the operations that touch more
	// than one store (payment creation, receipts).
	mu      sync.Mutex
	current map[string]string // store → the token getToken hands out while it is valid

	tokens      *memstore.Map[string, grant] // access token → expiry and store
	payments    *memstore.Map[string, gw.Payment]
	owners      *memstore.Map[string, string]   // imp_uid → store, with Options.Stores
	merchants   *memstore.Map[string, []string] // merchant_uid → imp_uids, oldest first
	billingKeys *memstore.Map[string, gw.BillingKey]
	receipts    *memstore.Map[string, gw.Receipt]
	certs       *memstore.Map[string, gw.Certification]
}

// New returns a fake configured by opts.
func New(opts Options) *Server {
	base := skeleton.New(skeleton.Config{
		Name:           "fake iamport",
		DefaultBackoff: hook.IamportBackoff(),
		FaultAnswer:    writeFault,
		NoRoute: func(w http.ResponseWriter, _ *http.Request, _ string) {
			writeEnvelope(w, http.StatusNotFound, gw.Envelope[any]{Code: -1, Message: "no such API"})
		},
		WebhookURL: opts.WebhookURL,
		TTL:        opts.TTL,
		Capacity:   opts.Capacity,
		Backoff:    opts.Backoff,
		Faults:     opts.Faults,
		Logf:       opts.Logf,
		Now:        opts.Now,
		HTTPClient: opts.HTTPClient,
	})
	s := &Server{
		Server:   base,
		stores:   opts.Stores,
		perStore: len(opts.Stores) > 0,
		tokenTTL: opts.TokenTTL,
		now:      base.Now,
		logf:     base.Logf,
		faults:   base.Faults(),
		current:  map[string]string{},
	}
	if !s.perStore {
		key, secret := opts.Key, opts.Secret
		if key == "" {
			key = DefaultKey
		}
		if secret == "" {
			secret = DefaultSecret
		}
		s.stores = []Store{{Key: key, Secret: secret}}
	}
	if s.tokenTTL <= 0 {
		s.tokenTTL = DefaultTokenTTL
	}
	store := base.StoreOptions()
	// Tokens expire by their own expired_at, checked on every call.
	s.tokens = memstore.New[string, grant](memstore.Options{TTL: -1, Capacity: store.Capacity, Now: s.now})
	s.payments = memstore.New[string, gw.Payment](store)
	s.owners = memstore.New[string, string](store)
	s.merchants = memstore.New[string, []string](store)
	s.billingKeys = memstore.New[string, gw.BillingKey](store)
	s.receipts = memstore.New[string, gw.Receipt](store)
	s.certs = memstore.New[string, gw.Certification](store)
	s.routes()
	return s
}

// routes is the route table: every path of the SDK (fake-pg.md §2.4) plus
// the real API's PUT /vbanks/{imp_uid} and the merchant_uid look-ups.
func (s *Server) routes() {
	open := func(pattern string, ep endpoint) { s.Handle(pattern, s.endpoint(false, ep)) }
	authed := func(pattern string, ep endpoint) { s.Handle(pattern, s.endpoint(true, ep)) }

	open("POST /users/getToken", s.getToken)

	authed("GET /payments/{imp_uid}", s.getPayment)
	authed("GET /payments/find/{merchant_uid}", s.findPayment)
	authed("GET /payments/find/{merchant_uid}/{payment_status}", s.findPayment)
	authed("GET /payments/findAll/{merchant_uid}", s.findAllPayments)
	authed("GET /payments/findAll/{merchant_uid}/{payment_status}", s.findAllPayments)
	authed("POST /payments/cancel", s.cancelPayment)

	authed("POST /subscribe/payments/onetime", s.payOnetime)
	authed("POST /subscribe/payments/again", s.payAgain)
	authed("GET /subscribe/customers/{customer_uid}", s.getBillingKey)
	authed("POST /subscribe/customers/{customer_uid}", s.createBillingKey)
	authed("DELETE /subscribe/customers/{customer_uid}", s.deleteBillingKey)

	authed("POST /vbanks", s.createVBank)
	authed("PUT /vbanks", s.updateVBank)
	authed("PUT /vbanks/{imp_uid}", s.updateVBank)

	authed("GET /receipts/{imp_uid}", s.getReceipt)
	authed("POST /receipts/{imp_uid}", s.issueReceipt)
	authed("DELETE /receipts/{imp_uid}", s.cancelReceipt)

	authed("POST /certifications/otp/request", s.requestCertification)
	authed("POST /certifications/otp/confirm/{imp_uid}", s.confirmCertification)
	authed("GET /certifications/{imp_uid}", s.getCertification)
	authed("DELETE /certifications/{imp_uid}", s.deleteCertification)

	open("POST /internal/webhook", s.webhookSink)
	authed("PUT /internal/deposit/{imp_uid}", s.deposit)
	authed("GET /internal/deposit/{imp_uid}", s.deposit) // 1.0.x spelling
}

// apiError is a failed call: HTTP status, envelope code and message, and
// optionally a response member (a declined payment).
type apiError struct {
	status   int
	code     int
	msg      string
	response any
}

// Error formats e for logs.
func (e *apiError) Error() string { return fmt.Sprintf("%d/%d %s", e.status, e.code, e.msg) }

// notFound is a 404 answer.
func notFound(format string, args ...any) *apiError {
	return &apiError{status: http.StatusNotFound, code: 1, msg: fmt.Sprintf(format, args...)}
}

// refused is a 422 answer: the request was well formed but the state of
// the object forbids it.
func refused(format string, args ...any) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, code: 1, msg: fmt.Sprintf(format, args...)}
}

// call is one request being served.
type call struct {
	s *Server
	r *http.Request
	// store is the merchant account the call's token acts for: "" without
	// Options.Stores, and for the calls that need no token.
	store string
}

// notify announces a webhook about p, sent with status once the answer is
// written: {imp_uid, merchant_uid, status} to the payment's notice_url,
// else to the server's webhook URL.
func (c *call) notify(p gw.Payment, status gw.Status) {
	c.s.NotifyJSON(c.r, p.NoticeURL, http.Header{"Content-Type": {"application/json"}},
		gw.Webhook{ImpUID: p.ImpUID, MerchantUID: p.MerchantUID, Status: status})
}

// endpoint answers a call with the envelope's response member or an error.
type endpoint func(c *call) (any, error)

func (s *Server) endpoint(auth bool, ep endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var (
			c   = &call{s: s, r: r}
			out any
			err error
		)
		if auth {
			c.store, err = s.authorize(r)
		}
		if err == nil {
			out, err = ep(c)
		}
		if err != nil {
			s.writeError(w, err)
		} else {
			writeEnvelope(w, http.StatusOK, gw.Envelope[any]{Code: 0, Message: "success", Response: out})
		}
	})
}

func (s *Server) writeError(w http.ResponseWriter, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		s.logf("fake iamport: internal error: %v", err)
		e = &apiError{status: http.StatusInternalServerError, code: -1, msg: "internal error"}
	}
	writeEnvelope(w, e.status, gw.Envelope[any]{Code: e.code, Message: e.msg, Response: e.response})
}

// writeFault is the answer of an injected ErrorRate failure.
func writeFault(w http.ResponseWriter, _ *http.Request) {
	writeEnvelope(w, http.StatusInternalServerError, gw.Envelope[any]{Code: -1, Message: "일시적인 서버 오류입니다. (injected fault)"})
}

func writeEnvelope(w http.ResponseWriter, status int, env gw.Envelope[any]) {
	skeleton.WriteJSON(w, status, env, []byte(`{"code":-1,"message":"encode response","response":null}`))
}

// authorize checks the access token of a call and returns the store it
// acts for. It takes the raw token, as the SDK sends it, or "Bearer
// <token>", as the real API documents.
func (s *Server) authorize(r *http.Request) (string, error) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		return "", unauthorized("토큰이 없습니다. (missing Authorization header)")
	}
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		h = strings.TrimSpace(h[7:])
	}
	g, ok := s.tokens.Get(h)
	if !ok {
		return "", unauthorized("Unauthorized")
	}
	if !s.now().Before(g.exp) {
		return "", unauthorized("Unauthorized (token expired)")
	}
	return g.store, nil
}

// storeOf returns the store whose credentials these are.
func (s *Server) storeOf(key, secret string) (string, bool) {
	for _, st := range s.stores {
		if subtle.ConstantTimeCompare([]byte(key), []byte(st.Key)) == 1 && subtle.ConstantTimeCompare([]byte(secret), []byte(st.Secret)) == 1 {
			return st.ID, true
		}
	}
	return "", false
}

func unauthorized(msg string) *apiError {
	return &apiError{status: http.StatusUnauthorized, code: -1, msg: msg}
}

// getToken issues an access token (POST /users/getToken). Like the real
// API it hands back the current token while it is valid, extending it by
// five minutes when asked within its last minute.
func (s *Server) getToken(c *call) (any, error) {
	var in gw.TokenRequest
	if err := decode(c.r, &in, "imp_key", "imp_secret"); err != nil {
		return nil, err
	}
	store, ok := s.storeOf(in.ImpKey, in.ImpSecret)
	if !ok {
		return nil, unauthorized("인증에 실패하였습니다. API키와 secret을 확인하세요.")
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.current[store]
	if g, ok := s.tokens.Get(cur); ok && now.Before(g.exp) {
		if g.exp.Sub(now) <= tokenGrace {
			g.exp = g.exp.Add(tokenExtension)
			s.tokens.Set(cur, g)
		}
		return gw.Token{AccessToken: cur, Now: gw.TimestampOf(now), ExpiredAt: gw.TimestampOf(g.exp)}, nil
	}
	tok := randomHex(20)
	exp := now.Add(s.tokenTTL)
	s.tokens.Set(tok, grant{exp: exp, store: store})
	s.current[store] = tok
	return gw.Token{AccessToken: tok, Now: gw.TimestampOf(now), ExpiredAt: gw.TimestampOf(exp)}, nil
}

// webhookSink is the fake's own default receiver (POST /internal/webhook):
// it checks the body's shape and does nothing else.
func (s *Server) webhookSink(c *call) (any, error) {
	var in gw.Webhook
	if err := decode(c.r, &in, "imp_uid", "merchant_uid", "status"); err != nil {
		return nil, err
	}
	if _, err := statusParam(string(in.Status)); err != nil || in.Status == "" {
		return nil, invalid("$input.status %q is not a payment status", in.Status)
	}
	return nil, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

func randomDigits(n int) string {
	var sb strings.Builder
	for range n {
		sb.WriteByte(byte('0' + mrand.IntN(10)))
	}
	return sb.String()
}

// nullable turns "" into JSON null.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
