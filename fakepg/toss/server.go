package toss

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/paymentctl/paymentctl/fakepg/fault"
	"github.com/paymentctl/paymentctl/fakepg/hook"
	"github.com/paymentctl/paymentctl/fakepg/memstore"
	"github.com/paymentctl/paymentctl/fakepg/skeleton"
	tossapi "github.com/paymentctl/paymentctl/gateway/toss"
)

// Defaults used when Options leaves a field zero.
const (
	// DefaultPort is where `paymentctl fake` listens for Toss, as the
	// original fake did.
	DefaultPort = 30771
	// DefaultSecretKey is the test secret key the original fake and
	// payment-backend's default configuration use.
	DefaultSecretKey = "test_ak_ZORzdMaqN3wQd5k6ygr5AkYXQGwy"
	// DefaultTTL is how long a record lives after it was last written.
	DefaultTTL = skeleton.DefaultTTL
	// DefaultCapacity bounds each kind of record (payments, billing keys,
	// cash receipts); the oldest is evicted first.
	DefaultCapacity = skeleton.DefaultCapacity
)

// maxBody bounds a request body.
const maxBody = 1 << 20

// Options configures a Server. The zero value is a working fake with the
// default secret key, no webhook target and no faults.
type Options struct {
	// SecretKey is the accepted secret key; "" means DefaultSecretKey.
	SecretKey string
	// Authorize, if set, replaces the SecretKey comparison: it receives
	// the decoded secret key of each call and says whether to accept it.
	Authorize func(secretKey string) bool
	// Stores, when set, replace SecretKey and Authorize: only their
	// secret keys are accepted (others get 401 UNAUTHORIZED_KEY), one
	// merchant account each. A payment belongs to the store whose key
	// made it; another store's key gets 404 NOT_FOUND_PAYMENT for it, by
	// paymentKey or orderId, as the real API hides other accounts'
	// payments, and order ids are per store; so are billing keys.
	Stores []Store
	// WebhookURL receives every webhook; "" records them in Webhooks
	// without sending. SetWebhookURL changes it later.
	WebhookURL string
	// TTL is how long a record lives after its last write; 0 means
	// DefaultTTL, negative means forever.
	TTL time.Duration
	// Capacity bounds each record kind; 0 means DefaultCapacity, negative
	// means unbounded.
	Capacity int
	// Backoff is the webhook retry schedule; nil means Toss's real one
	// (hook.TossBackoff), an empty non-nil slice means no retries.
	Backoff []time.Duration
	// Faults are the fault knobs; nil means a fresh Injector with none
	// set, reachable through Server.Faults.
	Faults *fault.Injector
	// Logf receives one line per failed call and per received self-sink
	// webhook; nil discards. Secrets and card numbers are never logged.
	Logf func(format string, args ...any)
	// Now is the clock of records and timestamps; nil means time.Now.
	Now func() time.Time
	// HTTPClient delivers webhooks; nil means hook's default client.
	HTTPClient *http.Client
}

// Store is one merchant account of Options.Stores: an id of the caller's
// choosing and its secret key.
type Store struct {
	ID        string
	SecretKey string
}

// Server is the fake Toss Payments API. It is an http.Handler; create it with
// New and stop its webhook deliveries with Close. The embedded skeleton
// gives it SetWebhookURL, WebhookURL, Faults, Webhooks and Close.
type Server struct {
	*skeleton.Server

	authorize func(string) bool
	// stores maps a secret key to its store, with Options.Stores.
	stores   map[string]string
	perStore bool
	now      func() time.Time
	logf     func(format string, args ...any)
	faults   *fault.Injector

	createMu    sync.Mutex // makes the orderId uniqueness check and the insert one step
	payments    *memstore.Map[string, tossapi.Payment]
	owners      *memstore.Map[string, string] // paymentKey → store, with Options.Stores
	orders      *memstore.Map[string, string] // orderKey → paymentKey
	billings    *memstore.Map[string, billingRecord]
	receipts    *memstore.Map[string, receiptRecord]
	idempotency *idempotency // first answers of POSTs with an Idempotency-Key
}

// New returns a Server configured by opts.
func New(opts Options) *Server {
	base := skeleton.New(skeleton.Config{
		Name:           "toss fake",
		DefaultBackoff: hook.TossBackoff(),
		FaultAnswer: func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, &apiError{http.StatusInternalServerError, tossapi.CodeFailedInternalSystemProcessing,
				"내부 시스템 처리 작업이 실패했습니다. 잠시 후 다시 시도해주세요. (injected fault)"})
		},
		NoRoute:    noRoute,
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
		Server:    base,
		authorize: opts.Authorize,
		now:       base.Now,
		logf:      base.Logf,
		faults:    base.Faults(),
	}
	if len(opts.Stores) > 0 {
		s.perStore, s.stores = true, make(map[string]string, len(opts.Stores))
		for _, st := range opts.Stores {
			s.stores[st.SecretKey] = st.ID
		}
		s.authorize = func(got string) bool {
			for _, st := range opts.Stores {
				if subtle.ConstantTimeCompare([]byte(got), []byte(st.SecretKey)) == 1 {
					return true
				}
			}
			return false
		}
	}
	if s.authorize == nil {
		key := opts.SecretKey
		if key == "" {
			key = DefaultSecretKey
		}
		s.authorize = func(got string) bool {
			return subtle.ConstantTimeCompare([]byte(got), []byte(key)) == 1
		}
	}
	store := base.StoreOptions()
	s.payments = memstore.New[string, tossapi.Payment](store)
	s.owners = memstore.New[string, string](store)
	s.orders = memstore.New[string, string](store)
	s.billings = memstore.New[string, billingRecord](store)
	s.receipts = memstore.New[string, receiptRecord](store)
	s.idempotency = newIdempotency(store.Capacity, s.now)
	s.routes()
	return s
}

// routes is the route table.
func (s *Server) routes() {
	s.Handle("GET /v1/payments/{paymentKey}", s.api(s.getPayment))
	s.Handle("GET /v1/payments/orders/{orderId}", s.api(s.getPaymentByOrder))
	s.Handle("POST /v1/payments/key-in", s.api(s.keyIn))
	s.Handle("POST /v1/payments/confirm", s.api(s.confirm))
	s.Handle("POST /v1/payments/{paymentKey}", s.api(s.approve))
	s.Handle("POST /v1/payments/{paymentKey}/cancel", s.api(s.cancel))
	s.Handle("POST /v1/virtual-accounts", s.api(s.createVirtualAccount))

	s.Handle("POST /v1/billing/authorizations/card", s.api(s.issueBilling))
	s.Handle("POST /v1/billing/authorizations/issue", s.api(s.issueBillingByAuthKey))
	s.Handle("POST /v1/billing/authorizations/{billingKey}", s.api(s.getBilling))
	s.Handle("POST /v1/billing/{billingKey}", s.api(s.payBilling))

	s.Handle("POST /v1/cash-receipts", s.api(s.issueCashReceipt))
	s.Handle("POST /v1/cash-receipts/{receiptKey}/cancel", s.api(s.cancelCashReceipt))

	s.Handle("PUT /internal/{paymentKey}/deposit", s.api(s.deposit))
	s.Handle("DELETE /internal/{paymentKey}/deposit", s.api(s.cancelDeposit))
	s.Handle("POST /internal/webhook", http.HandlerFunc(s.webhookSink))
}

// Payment returns the stored payment with the given key, as GET
// /v1/payments/{paymentKey} would, without going through HTTP.
func (s *Server) Payment(paymentKey string) (tossapi.Payment, bool) {
	p, ok := s.payments.Get(paymentKey)
	if !ok {
		return tossapi.Payment{}, false
	}
	return p.Clone(), true
}

// noRoute answers unknown paths and wrong methods in Toss's error shape
// instead of the mux's plain text.
func noRoute(w http.ResponseWriter, r *http.Request, allow string) {
	if allow != "" {
		w.Header().Set("Allow", allow)
		writeError(w, &apiError{http.StatusMethodNotAllowed, tossapi.CodeInvalidRequest,
			fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path)})
		return
	}
	writeError(w, &apiError{http.StatusNotFound, tossapi.CodeNotFound,
		"존재하지 않는 정보 입니다. (no route " + r.Method + " " + r.URL.Path + ")"})
}

// apiHandler answers an authenticated call with a value to write as JSON
// (HTTP 200) or an error.
type apiHandler func(r *http.Request) (any, error)

// api wraps h with Basic authentication, the Idempotency-Key header and
// the JSON answer.
func (s *Server) api(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secretKey, err := s.authenticate(r)
		if err != nil {
			writeError(w, err)
			return
		}
		if s.perStore {
			r = r.WithContext(context.WithValue(r.Context(), storeKey{}, s.stores[secretKey]))
		}
		s.idempotency.do(r, secretKey, func() answer {
			v, err := h(r)
			if err != nil {
				var ae *apiError
				if !errors.As(err, &ae) || ae.status >= 500 {
					s.logf("toss fake: %s %s: %v", r.Method, r.URL.Path, err)
				}
				return errorAnswer(err)
			}
			return jsonAnswer(http.StatusOK, v)
		}).write(w)
	})
}

// storeKey keys the caller's store in a request's context.
type storeKey struct{}

// storeOf returns the store whose secret key authenticated r: "" without
// Options.Stores.
func storeOf(r *http.Request) string {
	s, _ := r.Context().Value(storeKey{}).(string)
	return s
}

// authenticate checks the Basic credentials and returns the secret key: it
// is the user name, the password is empty. Every failure is 401
// UNAUTHORIZED_KEY.
func (s *Server) authenticate(r *http.Request) (string, error) {
	user, _, ok := r.BasicAuth()
	if !ok || !s.authorize(user) {
		return "", &apiError{http.StatusUnauthorized, tossapi.CodeUnauthorizedKey,
			"인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다."}
	}
	return user, nil
}

// apiError is a failure answered in Toss's {code, message} shape.
type apiError struct {
	status  int
	code    string
	message string
}

// Error formats the status, code and message.
func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

// invalid returns a 400 INVALID_REQUEST.
func invalid(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, tossapi.CodeInvalidRequest, "잘못된 요청입니다. " + fmt.Sprintf(format, args...)}
}

func notFoundPayment() *apiError {
	return &apiError{http.StatusNotFound, tossapi.CodeNotFoundPayment, "존재하지 않는 결제 정보 입니다."}
}

func writeError(w http.ResponseWriter, err error) { errorAnswer(err).write(w) }

func writeJSON(w http.ResponseWriter, status int, v any) { jsonAnswer(status, v).write(w) }

// errorAnswer is err in Toss's {code, message} shape, with its status; an
// error other than *apiError is a 500 FAILED_INTERNAL_SYSTEM_PROCESSING.
func errorAnswer(err error) answer {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{http.StatusInternalServerError, tossapi.CodeFailedInternalSystemProcessing, err.Error()}
	}
	return jsonAnswer(ae.status, tossapi.ErrorBody{Code: ae.code, Message: ae.message})
}

// jsonAnswer is v as JSON with status, or a 500 if v cannot be encoded.
func jsonAnswer(status int, v any) answer {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(tossapi.ErrorBody{Code: tossapi.CodeFailedInternalSystemProcessing, Message: err.Error()})
	}
	return answer{status: status, body: b}
}

// decode reads a JSON request body into v; unknown fields are tolerated, as
// the original fake and the real API do.
func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return invalid("cannot read the body: %v", err)
	}
	if len(b) > maxBody {
		return invalid("body over %d bytes", maxBody)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}") // an empty body is an empty object; validation names what is missing
	}
	if err := json.Unmarshal(b, v); err != nil {
		return invalid("body is not the expected JSON: %v", err)
	}
	return nil
}
