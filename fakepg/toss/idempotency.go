package toss

import (
	"net/http"
	"sync"
	"time"

	"github.com/paymentctl/paymentctl/fakepg/memstore"
	tossapi "github.com/paymentctl/paymentctl/gateway/toss"
)

// The real API's idempotency (docs.tosspayments.com, 멱등키; peers.md):
// every POST may carry an Idempotency-Key header of at most 300
// characters. The first answer to a key is kept for 15 days, scoped by
// secret key, URL and method, and a repeat gets that answer without the
// call running again. Toss returns "the same response as the first
// request", and warns against retrying a failed idempotent call under a new
// key, so errors are replayed too; the body of a repeat is not compared
// (a merchant reusing a key for another confirm got the first answer
// back). A repeat while the first call still runs gets 409
// IDEMPOTENT_REQUEST_PROCESSING.
//
// Not replayed, because the call never reached the API: authentication
// failures (there is no secret key to scope them by) and the ErrorRate
// fault, which answers in front of the routes.
const (
	maxIdempotencyKey = 300
	idempotencyTTL    = 15 * 24 * time.Hour
)

// answer is an API call's HTTP answer: status and JSON body.
type answer struct {
	status int
	body   []byte
}

// write sends a to w.
func (a answer) write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// idempotency keeps the answers of calls made with an Idempotency-Key.
type idempotency struct {
	mu      sync.Mutex
	running map[string]bool // scopes whose first call has not answered yet
	done    *memstore.Map[string, answer]
}

func newIdempotency(capacity int, now func() time.Time) *idempotency {
	return &idempotency{
		running: make(map[string]bool),
		done:    memstore.New[string, answer](memstore.Options{TTL: idempotencyTTL, Capacity: capacity, Now: now}),
	}
}

// do answers r, authenticated with secretKey, by running call unless r is
// a repeat of an idempotent call, whose first answer it returns instead.
func (id *idempotency) do(r *http.Request, secretKey string, call func() answer) answer {
	key := r.Header.Get(tossapi.IdempotencyHeader)
	if key == "" || r.Method != http.MethodPost {
		return call() // Toss ignores the header on other methods
	}
	if len(key) > maxIdempotencyKey {
		return errorAnswer(&apiError{http.StatusBadRequest, tossapi.CodeInvalidIdempotencyKey, "멱등키는 300자 이하여야 합니다."})
	}
	scope := secretKey + "\x00" + r.Method + "\x00" + r.URL.Path + "\x00" + key

	id.mu.Lock()
	if a, ok := id.done.Get(scope); ok {
		id.mu.Unlock()
		return a
	}
	if id.running[scope] {
		id.mu.Unlock()
		return errorAnswer(&apiError{http.StatusConflict, tossapi.CodeIdempotentRequestProcessing, "이전 멱등 요청이 처리중입니다."})
	}
	id.running[scope] = true
	id.mu.Unlock()

	defer func() {
		id.mu.Lock()
		delete(id.running, scope)
		id.mu.Unlock()
	}()
	a := call()
	id.mu.Lock()
	id.done.Set(scope, a)
	id.mu.Unlock()
	return a
}
