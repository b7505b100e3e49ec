package sdk

import "net/http"

// Headers of the answers that ResponseInfo and Error report.
const (
	// IdempotentReplayedHeader is "true" on an answer the server replayed
	// from its idempotency record instead of acting again.
	IdempotentReplayedHeader = "Idempotent-Replayed"
	// RequestIDHeader carries the id the server's logs know the request
	// by.
	RequestIDHeader = "X-Request-Id"
)

// CallOption adjusts one call of a Client method.
type CallOption func(*callOptions)

type callOptions struct {
	idempotencyKey string
	info           *ResponseInfo
}

// WithIdempotencyKey sends key in the Idempotency-Key header, so that the
// call can be retried after a timeout or a dropped connection without
// creating or cancelling twice: the server replays the first answer to a
// repeat with the same key (Stripe's semantics, where reusing a key with a
// different body is refused). Use a fresh random key, such as a UUID, per
// logical operation and reuse it only for its retries. An empty key sends
// no header. The server only honours keys on POST and PUT (CreateHistory,
// CancelHistory, CreateReservation); other methods send it but it does
// nothing.
//
// With Options.MaxRetries set, a POST or PUT without a key gets a random
// one, kept across its retries (ResponseInfo.IdempotencyKey reports it).
func WithIdempotencyKey(key string) CallOption {
	return func(o *callOptions) { o.idempotencyKey = key }
}

// WithResponseInfo makes the call fill in *info with what the HTTP
// exchange said beyond the body: whether the server replayed the answer
// (Idempotent-Replayed), the key and the request id, how many attempts
// were made. info is filled in whether the call succeeds or fails, once it
// returns.
func WithResponseInfo(info *ResponseInfo) CallOption {
	return func(o *callOptions) { o.info = info }
}

// ResponseInfo describes the HTTP exchange of one call (WithResponseInfo).
type ResponseInfo struct {
	// StatusCode is the status of the last answer; zero when no answer
	// arrived.
	StatusCode int
	// Header is the header of the last answer; nil when no answer arrived.
	Header http.Header
	// IdempotentReplayed reports that the last answer was replayed from the
	// server's idempotency record (Idempotent-Replayed: true): the call had
	// been made before with the same key, and nothing was done again. A
	// retry of a call whose first attempt got through but whose answer was
	// lost ends this way.
	IdempotentReplayed bool
	// IdempotencyKey is the Idempotency-Key the call was sent with: the
	// caller's (WithIdempotencyKey), one generated for a POST or PUT when
	// retries are on, or empty. Keep it to retry the call later yourself.
	IdempotencyKey string
	// RequestID is the last answer's X-Request-Id; empty when it had none.
	RequestID string
	// Attempts is how many times the request was sent (1 unless retried).
	Attempts int
}

// record keeps what resp says of the exchange.
func (i *ResponseInfo) record(resp *http.Response) {
	i.StatusCode = resp.StatusCode
	i.Header = resp.Header
	i.IdempotentReplayed = resp.Header.Get(IdempotentReplayedHeader) == "true"
	i.RequestID = resp.Header.Get(RequestIDHeader)
}
