package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/internal/safetext"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/payment"
	"github.com/paymentctl/paymentctl/server/store"
)

// HTTPError is an error with the status, code and message a client
// should see. Err, when set, is the cause: logged, never sent. An empty
// Code is filled in from the status by toHTTPError (see codeOfStatus).
type HTTPError struct {
	Status  int
	Code    sdk.ErrorCode
	Message string
	Err     error
}

// Error describes the error for logs, cause included.
func (e *HTTPError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Message)
}

// Unwrap returns the cause.
func (e *HTTPError) Unwrap() error { return e.Err }

// errorf returns an HTTPError with a formatted client message.
func errorf(status int, format string, args ...any) *HTTPError {
	return &HTTPError{Status: status, Message: fmt.Sprintf(format, args...)}
}

// errorBody is the plain-JSON error body, shaped like the original's
// NestJS errors so its SDK reads them: {statusCode, message, error}, plus
// the machine-readable code (sdk.ErrorCode), which the original's SDK
// ignores.
type errorBody struct {
	StatusCode int           `json:"statusCode"`
	Message    string        `json:"message"`
	Error      string        `json:"error"`
	Code       sdk.ErrorCode `json:"code"`
}

// Bounds of what an error puts in a response and in a log line. Messages
// quote client values only in part (decode.go's got), but a PG's message
// or a wrapped error's text may carry more.
const (
	maxMessage   = 2048
	maxLoggedErr = 1024
)

// body renders the error as the client sees it.
func (e *HTTPError) body() []byte {
	code := e.Code
	if code == "" {
		code = codeOfStatus(e.Status)
	}
	b, _ := json.Marshal(errorBody{StatusCode: e.Status, Message: safetext.Clean(e.Message, maxMessage), Error: http.StatusText(e.Status), Code: code})
	return b
}

// logErr renders err for a log line: bounded, without NUL, control
// characters or invalid UTF-8, whatever client text it wraps.
func logErr(err error) string { return safetext.Clean(err.Error(), maxLoggedErr) }

// The idempotency layer's refusals, mapped by toHTTPError.
var (
	errIdempotencyKeyReused = errors.New("idempotency key reused with another request")
	errIdempotencyKeyInUse  = errors.New("idempotency key in use by a running request")
)

// toHTTPError maps any error to what the client sees. It is the one place
// domain, storage and PG errors become statuses and codes
// (sdk.ErrorCode):
//
//	payment.ErrInvalid               400 invalid_request
//	store.ErrInvalid                 400 invalid_request (text the database
//	                                 cannot hold; the handlers refuse it first)
//	payment.ErrWrongPassword         403 wrong_password "Wrong password."
//	store.ErrNotFound                404 not_found
//	payment.ErrCancelInProgress      409 cancel_in_progress
//	store.ErrConflict                409 duplicate
//	errIdempotencyKeyInUse           409 idempotency_key_in_use
//	errIdempotencyKeyReused          422 idempotency_key_reused
//	payment.ErrRefused               422, by its reason: amount_mismatch,
//	                                 order_mismatch, payment_not_paid,
//	                                 refund_exceeds_balance, unknown_store;
//	                                 else refused (a PortOne V2 billing
//	                                 key not issued)
//	PG 4xx refusals                  the PG's status and message, pg_refused
//	                                 (422 for an Iamport envelope refusal)
//	PG 5xx, unreachable, our         502 pg_unavailable
//	credentials refused
//	PG timed out                     504 pg_timeout
//	outcome unknown                  502/504 (500 if our database failed after
//	                                 the PG acted) outcome_unknown, "being
//	                                 verified: retry with the same Idempotency-Key"
//	an *HTTPError                    itself, its code from its status when
//	                                 unset (codeOfStatus)
//	anything else                    500 internal, details only in the log
func toHTTPError(err error) *HTTPError {
	var he *HTTPError
	if errors.As(err, &he) {
		if he.Code != "" {
			return he
		}
		coded := *he
		coded.Code = codeOfStatus(he.Status)
		return &coded
	}
	var ie *iamport.Error
	var te *toss.Error
	var poe *portone.Error
	var pe *payment.PGError
	switch {
	case errors.As(err, &pe):
		return pgFailure(pe)
	case errors.Is(err, payment.ErrInvalid):
		return &HTTPError{Status: http.StatusBadRequest, Code: sdk.CodeInvalidRequest, Message: clientMessage(err, payment.ErrInvalid), Err: err}
	case errors.Is(err, store.ErrInvalid):
		return &HTTPError{Status: http.StatusBadRequest, Code: sdk.CodeInvalidRequest, Message: "Invalid request: a value holds NUL, a control character or invalid UTF-8.", Err: err}
	case errors.Is(err, payment.ErrWrongPassword):
		return &HTTPError{Status: http.StatusForbidden, Code: sdk.CodeWrongPassword, Message: "Wrong password.", Err: err}
	case errors.Is(err, store.ErrNotFound):
		return &HTTPError{Status: http.StatusNotFound, Code: sdk.CodeNotFound, Message: "Unable to find the matched record.", Err: err}
	case errors.Is(err, payment.ErrCancelInProgress):
		return &HTTPError{Status: http.StatusConflict, Code: sdk.CodeCancelInProgress, Message: "Another cancel of this payment is in progress at the PG (its call still running, or its refund requested and not made yet); retry later.", Err: err}
	case errors.Is(err, store.ErrConflict):
		return &HTTPError{Status: http.StatusConflict, Code: sdk.CodeDuplicate, Message: "A record with the same vendor uid or source already exists.", Err: err}
	case errors.Is(err, errIdempotencyKeyInUse):
		return &HTTPError{Status: http.StatusConflict, Code: sdk.CodeIdempotencyKeyInUse, Message: "A request with this " + IdempotencyHeader + " is still running; retry later.", Err: err}
	case errors.Is(err, errIdempotencyKeyReused):
		return &HTTPError{Status: http.StatusUnprocessableEntity, Code: sdk.CodeIdempotencyKeyReused, Message: "This " + IdempotencyHeader + " was used with a different request; use a new key.", Err: err}
	case errors.Is(err, payment.ErrRefused):
		return &HTTPError{Status: http.StatusUnprocessableEntity, Code: refusalCode(err), Message: clientMessage(err, payment.ErrRefused), Err: err}
	case errors.As(err, &ie):
		return pgError(ie.Status, "Iamport", ie.Message, err)
	case errors.As(err, &te):
		return pgError(te.Status, "Toss Payments", te.Code+": "+te.Message, err)
	case errors.As(err, &poe):
		return pgError(poe.Status, "PortOne V2", string(poe.Type)+": "+poe.Message, err)
	}
	return &HTTPError{Status: http.StatusInternalServerError, Code: sdk.CodeInternal, Message: "Internal server error.", Err: err}
}

// refusalCode is the code of a payment.ErrRefused error, by its reason.
func refusalCode(err error) sdk.ErrorCode {
	switch {
	case errors.Is(err, payment.ErrAmountMismatch):
		return sdk.CodeAmountMismatch
	case errors.Is(err, payment.ErrOrderMismatch):
		return sdk.CodeOrderMismatch
	case errors.Is(err, payment.ErrNotPaid):
		return sdk.CodePaymentNotPaid
	case errors.Is(err, payment.ErrRefundExceedsBalance):
		return sdk.CodeRefundExceedsBalance
	case errors.Is(err, payment.ErrUnknownStore):
		return sdk.CodeUnknownStore
	}
	return sdk.CodeRefused
}

// codeOfStatus is the code of an *HTTPError made without one: the
// request-level refusals (body, path, size, throttling, routing,
// readiness), whose status says it all.
func codeOfStatus(status int) sdk.ErrorCode {
	switch {
	case status == http.StatusNotFound:
		return sdk.CodeNotFound
	case status == http.StatusMethodNotAllowed:
		return sdk.CodeMethodNotAllowed
	case status == http.StatusRequestEntityTooLarge:
		return sdk.CodePayloadTooLarge
	case status == http.StatusTooManyRequests:
		return sdk.CodeThrottled
	case status == http.StatusUnauthorized:
		return sdk.CodeUnauthorized
	case status == http.StatusServiceUnavailable:
		return sdk.CodeUnavailable
	case status >= 500:
		return sdk.CodeInternal
	}
	return sdk.CodeInvalidRequest
}

// pgFailure answers a PG that failed, timed out or left a money-moving
// call's outcome unknown.
func pgFailure(pe *payment.PGError) *HTTPError {
	status, code, what := http.StatusBadGateway, sdk.CodePGUnavailable, pe.PG+" did not answer as expected."
	if pe.Timeout {
		status, code, what = http.StatusGatewayTimeout, sdk.CodePGTimeout, pe.PG+" did not answer in time."
	}
	if pe.PG == "" {
		status, code, what = http.StatusInternalServerError, sdk.CodeInternal, "The PG's answer could not be recorded."
	}
	if pe.Unknown {
		code = sdk.CodeOutcomeUnknown
		what += " Whether the payment was changed is being verified; retry with the same " + IdempotencyHeader + " to get the outcome."
	}
	return &HTTPError{Status: status, Code: code, Message: what, Err: pe}
}

// pgError passes a PG's refusal through. Our own credentials being refused
// (401/403) or the PG failing is the gateway's problem, not the client's:
// 502.
func pgError(status int, pg, msg string, err error) *HTTPError {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == 0 || status >= 500:
		return &HTTPError{Status: http.StatusBadGateway, Code: sdk.CodePGUnavailable, Message: pg + " did not answer as expected.", Err: err}
	case status < 400:
		// An Iamport refusal inside a 200 envelope.
		return &HTTPError{Status: http.StatusUnprocessableEntity, Code: sdk.CodePGRefused, Message: pg + ": " + msg, Err: err}
	}
	return &HTTPError{Status: status, Code: sdk.CodePGRefused, Message: pg + ": " + msg, Err: err}
}

// clientMessage strips the sentinel's own text from a wrapped message.
func clientMessage(err, sentinel error) string {
	msg := strings.TrimPrefix(err.Error(), sentinel.Error()+": ")
	if msg == "" {
		return sentinel.Error()
	}
	r, size := utf8.DecodeRuneInString(msg)
	return string(unicode.ToUpper(r)) + msg[size:]
}

// errorMapper writes the response of a failed request once the handlers
// are done: handlers call c.Error(err) and return. Server errors are
// logged with their cause; clients only see the mapped message.
func errorMapper(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		if len(c.Errors) == 0 {
			return
		}
		err := c.Errors.Last().Err
		var re *replayedError
		if errors.As(err, &re) {
			c.Data(re.status, "application/json; charset=utf-8", re.body)
			return
		}
		he := toHTTPError(err)
		if he.Status >= 500 {
			log.ErrorContext(c.Request.Context(), "request failed", "method", c.Request.Method, "route", c.FullPath(), "status", he.Status, "err", logErr(err))
		} else {
			log.DebugContext(c.Request.Context(), "request refused", "method", c.Request.Method, "route", c.FullPath(), "status", he.Status, "err", logErr(err))
		}
		if c.Writer.Written() {
			return
		}
		c.Data(he.Status, "application/json; charset=utf-8", he.body())
	}
}
