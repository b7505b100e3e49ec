package sdk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrorCode is the machine-readable reason of a refused call: the "code"
// of the server's JSON error body, next to the original's "statusCode",
// "message" and "error". Codes are stable: a code is never renamed, and
// its meaning never changes; new codes may be added. Compare an *Error's
// Code with the constants below, or match it with errors.Is and the
// sentinel errors (ErrWrongPassword, …).
type ErrorCode string

// The codes a paymentctl server sends, by HTTP status.
const (
	// CodeInvalidRequest (400): the request is malformed: a body that
	// does not validate, does not decrypt or is of the wrong type, a bad
	// path parameter, an overlong Idempotency-Key.
	CodeInvalidRequest ErrorCode = "invalid_request"
	// CodeWrongPassword (403): the record's password does not match.
	CodeWrongPassword ErrorCode = "wrong_password"
	// CodeNotFound (404): no such record, or no such route.
	CodeNotFound ErrorCode = "not_found"
	// CodeMethodNotAllowed (405): the route exists, the method does not.
	CodeMethodNotAllowed ErrorCode = "method_not_allowed"
	// CodeDuplicate (409): the source or the PG payment is registered
	// already.
	CodeDuplicate ErrorCode = "duplicate"
	// CodeIdempotencyKeyInUse (409): a request with this Idempotency-Key
	// is still running; retry later with the same key.
	CodeIdempotencyKeyInUse ErrorCode = "idempotency_key_in_use"
	// CodeCancelInProgress (409): another cancel of the payment is at the
	// PG, its call still running or its refund requested and not made yet
	// (an asynchronous PG; the payment's webhook event tells when it is).
	// Retry later; nothing was sent to the PG for this request.
	CodeCancelInProgress ErrorCode = "cancel_in_progress"
	// CodePayloadTooLarge (413): the request body is over the limit.
	CodePayloadTooLarge ErrorCode = "payload_too_large"
	// CodeIdempotencyKeyReused (422): this Idempotency-Key was used with
	// another request; use a new key.
	CodeIdempotencyKeyReused ErrorCode = "idempotency_key_reused"
	// CodeAmountMismatch (422): the PG's payment is of another amount than
	// the registration says (a paid one, Iamport, a Toss one already
	// captured or PortOne V2, is cancelled at the PG; if that cancel did
	// not complete, the message says so and the server retries it).
	CodeAmountMismatch ErrorCode = "amount_mismatch"
	// CodeOrderMismatch (422): the PG's payment was made for another
	// order than source.id.
	CodeOrderMismatch ErrorCode = "order_mismatch"
	// CodePaymentNotPaid (422): the PG's payment failed, was aborted or
	// expired, or was cancelled because an earlier registration of it
	// failed or was refused for its amount.
	CodePaymentNotPaid ErrorCode = "payment_not_paid"
	// CodeRefundExceedsBalance (422): a cancel asks for more than what
	// remains of the payment.
	CodeRefundExceedsBalance ErrorCode = "refund_exceeds_balance"
	// CodeUnknownStore (422): vendor.store_id names no store configured
	// for the PG, and the server (in real mode) does not fall back to its
	// top-level credentials.
	CodeUnknownStore ErrorCode = "unknown_store"
	// CodeRefused (422): another refusal of the payment service.
	CodeRefused ErrorCode = "refused"
	// CodePGRefused (the PG's 4xx status, 422 for an Iamport refusal in a
	// 200 envelope): the PG refused the call; the message is the PG's.
	CodePGRefused ErrorCode = "pg_refused"
	// CodeThrottled (429): the client's address failed too often;
	// Error.RetryAfter says when to try again.
	CodeThrottled ErrorCode = "throttled"
	// CodeUnauthorized (401): the API key is unknown or revoked, the
	// Authorization header is not "Bearer <key>", or the server requires a
	// key (services.require_key) and none was sent.
	CodeUnauthorized ErrorCode = "unauthorized"
	// CodeInternal (500): paymentctl failed; the details are in its log.
	CodeInternal ErrorCode = "internal"
	// CodePGUnavailable (502): the PG could not be reached, failed, or
	// refused paymentctl's own credentials.
	CodePGUnavailable ErrorCode = "pg_unavailable"
	// CodeUnavailable (503): the server is not ready (its database is
	// unreachable, or it is shutting down).
	CodeUnavailable ErrorCode = "unavailable"
	// CodePGTimeout (504): the PG did not answer in time; nothing moved.
	CodePGTimeout ErrorCode = "pg_timeout"
	// CodeOutcomeUnknown (502 or 504; 500 when paymentctl's database
	// failed after the PG acted): a money-moving PG call may have taken
	// effect. Retry with the same Idempotency-Key: the retry finds out
	// and answers as the first call should have.
	CodeOutcomeUnknown ErrorCode = "outcome_unknown"
)

// refusal reports whether c is one of the payment service's refusals,
// which ErrRefused matches.
func (c ErrorCode) refusal() bool {
	switch c {
	case CodeRefused, CodeAmountMismatch, CodeOrderMismatch, CodePaymentNotPaid, CodeRefundExceedsBalance, CodeUnknownStore:
		return true
	}
	return false
}

// codeError is a sentinel standing for an ErrorCode.
type codeError struct {
	code ErrorCode
	text string
}

func (e *codeError) Error() string { return e.text }

// Sentinel errors, one per ErrorCode: errors.Is(err, ErrWrongPassword)
// reports whether err is (or wraps) an *Error with CodeWrongPassword.
// ErrRefused also matches the finer refusals (amount, order, unpaid
// payment, refund above the balance).
var (
	ErrInvalidRequest       error = &codeError{CodeInvalidRequest, "invalid request"}
	ErrWrongPassword        error = &codeError{CodeWrongPassword, "wrong password"}
	ErrNotFound             error = &codeError{CodeNotFound, "not found"}
	ErrMethodNotAllowed     error = &codeError{CodeMethodNotAllowed, "method not allowed"}
	ErrDuplicate            error = &codeError{CodeDuplicate, "duplicate"}
	ErrIdempotencyKeyInUse  error = &codeError{CodeIdempotencyKeyInUse, "idempotency key in use"}
	ErrCancelInProgress     error = &codeError{CodeCancelInProgress, "cancel in progress"}
	ErrPayloadTooLarge      error = &codeError{CodePayloadTooLarge, "payload too large"}
	ErrIdempotencyKeyReused error = &codeError{CodeIdempotencyKeyReused, "idempotency key reused"}
	ErrAmountMismatch       error = &codeError{CodeAmountMismatch, "amount mismatch"}
	ErrOrderMismatch        error = &codeError{CodeOrderMismatch, "order mismatch"}
	ErrPaymentNotPaid       error = &codeError{CodePaymentNotPaid, "payment not paid"}
	ErrRefundExceedsBalance error = &codeError{CodeRefundExceedsBalance, "refund exceeds balance"}
	ErrUnknownStore         error = &codeError{CodeUnknownStore, "unknown store"}
	ErrRefused              error = &codeError{CodeRefused, "refused"}
	ErrPGRefused            error = &codeError{CodePGRefused, "refused by the PG"}
	ErrThrottled            error = &codeError{CodeThrottled, "throttled"}
	ErrUnauthorized         error = &codeError{CodeUnauthorized, "unauthorized"}
	ErrInternal             error = &codeError{CodeInternal, "internal server error"}
	ErrPGUnavailable        error = &codeError{CodePGUnavailable, "PG unavailable"}
	ErrUnavailable          error = &codeError{CodeUnavailable, "server unavailable"}
	ErrPGTimeout            error = &codeError{CodePGTimeout, "PG timeout"}
	ErrOutcomeUnknown       error = &codeError{CodeOutcomeUnknown, "outcome unknown"}
)

// Error is a non-2xx answer of the server. Message is the "message" of the
// server's JSON error body ({"statusCode", "message", "error", "code"}),
// or the body's text when it is not such JSON; Body is the body as
// received (at most 64 KiB).
//
// Match it by code with errors.Is and the sentinels (errors.Is(err,
// sdk.ErrWrongPassword)), or get it with errors.As for its fields.
type Error struct {
	// Status is the HTTP status.
	Status int
	// Code is the body's "code"; empty when the answer carried none (a
	// server older than codes, the original TypeScript server, a proxy).
	Code    ErrorCode
	Message string
	Body    []byte
	// RetryAfter is the answer's Retry-After (on 429 and 503), zero when
	// it had none.
	RetryAfter time.Duration
	// RequestID is the answer's X-Request-Id, which the server's logs
	// carry too; empty when it had none.
	RequestID string
}

// Error returns the status and the message, e.g.
// "403 Forbidden: Wrong password.".
func (e *Error) Error() string {
	s := fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is reports whether target is the sentinel of e's code (ErrRefused: of
// any refusal), so that errors.Is(err, sdk.ErrNotFound) works on a
// wrapped *Error.
func (e *Error) Is(target error) bool {
	ce, ok := target.(*codeError)
	if !ok || e.Code == "" {
		return false
	}
	return ce.code == e.Code || ce.code == CodeRefused && e.Code.refusal()
}

// newError reads a non-2xx answer of status with header and body raw.
func newError(status int, header http.Header, raw []byte) *Error {
	msg, code := errorBody(raw)
	return &Error{
		Status: status, Code: code, Message: msg, Body: raw,
		RetryAfter: retryAfter(header.Get("Retry-After"), time.Now()),
		RequestID:  header.Get(RequestIDHeader),
	}
}

// errorBody extracts the message and the code of an error body. The
// server sends {"statusCode", "message", "error", "code"}; validation
// errors of the original carry a list of messages, which are joined. A
// body that is not such JSON is returned as text, shortened.
func errorBody(raw []byte) (string, ErrorCode) {
	var body struct {
		Message json.RawMessage `json:"message"`
		Code    json.RawMessage `json:"code"`
	}
	if json.Unmarshal(raw, &body) != nil {
		return shorten(strings.TrimSpace(string(raw))), ""
	}
	var code string
	_ = json.Unmarshal(body.Code, &code) // a non-string code is no code
	if len(body.Message) == 0 {
		return shorten(strings.TrimSpace(string(raw))), ErrorCode(code)
	}
	var s string
	if json.Unmarshal(body.Message, &s) == nil {
		return s, ErrorCode(code)
	}
	var list []string
	if json.Unmarshal(body.Message, &list) == nil {
		return strings.Join(list, "; "), ErrorCode(code)
	}
	return shorten(string(body.Message)), ErrorCode(code)
}

// retryAfter parses a Retry-After value, in seconds or an HTTP date, as a
// delay from now; zero when it is empty or invalid.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(365*24*3600))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// shorten cuts s to a length fit for an error string, on a rune boundary.
func shorten(s string) string {
	const limit = 200
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
