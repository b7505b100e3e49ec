package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/server/gateway/iamport"
	"github.com/paymentctl/paymentctl/server/gateway/toss"
	"github.com/paymentctl/paymentctl/server/payment"
	"github.com/paymentctl/paymentctl/server/store"
)

// HTTPError is an error with the status and message a client should see.
// Err, when set, is the cause: logged, never sent.
type HTTPError struct {
	Status  int
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
// NestJS errors so its SDK reads them: {statusCode, message, error}.
type errorBody struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
	Error      string `json:"error"`
}

// body renders the error as the client sees it.
func (e *HTTPError) body() []byte {
	b, _ := json.Marshal(errorBody{StatusCode: e.Status, Message: e.Message, Error: http.StatusText(e.Status)})
	return b
}

// toHTTPError maps any error to what the client sees. It is the one place
// domain, storage and PG errors become statuses:
//
//	payment.ErrInvalid         400
//	payment.ErrWrongPassword   403 "Wrong password."
//	store.ErrNotFound          404
//	store.ErrConflict          409
//	payment.ErrRefused         422 (amount mismatch, over-refund, failed payment)
//	PG 4xx refusals            the PG's status and message (422 for an Iamport envelope refusal)
//	PG 5xx, PG unreachable     502; PG timed out 504 (*payment.PGError)
//	outcome unknown            502/504 (500 if our database failed after the PG acted),
//	                           "being verified: retry with the same Idempotency-Key"
//	anything else              500, details only in the log
func toHTTPError(err error) *HTTPError {
	var he *HTTPError
	if errors.As(err, &he) {
		return he
	}
	var ie *iamport.Error
	var te *toss.Error
	var pe *payment.PGError
	switch {
	case errors.As(err, &pe):
		return pgFailure(pe)
	case errors.Is(err, payment.ErrInvalid):
		return &HTTPError{Status: http.StatusBadRequest, Message: clientMessage(err, payment.ErrInvalid), Err: err}
	case errors.Is(err, payment.ErrWrongPassword):
		return &HTTPError{Status: http.StatusForbidden, Message: "Wrong password.", Err: err}
	case errors.Is(err, store.ErrNotFound):
		return &HTTPError{Status: http.StatusNotFound, Message: "Unable to find the matched record.", Err: err}
	case errors.Is(err, store.ErrConflict):
		return &HTTPError{Status: http.StatusConflict, Message: "A record with the same vendor uid or source already exists.", Err: err}
	case errors.Is(err, payment.ErrRefused):
		return &HTTPError{Status: http.StatusUnprocessableEntity, Message: clientMessage(err, payment.ErrRefused), Err: err}
	case errors.As(err, &ie):
		return pgError(ie.Status, "Iamport", ie.Message, err)
	case errors.As(err, &te):
		return pgError(te.Status, "Toss Payments", te.Code+": "+te.Message, err)
	}
	return &HTTPError{Status: http.StatusInternalServerError, Message: "Internal server error.", Err: err}
}

// pgFailure answers a PG that failed, timed out or left a money-moving
// call's outcome unknown.
func pgFailure(pe *payment.PGError) *HTTPError {
	status, what := http.StatusBadGateway, pe.PG+" did not answer as expected."
	if pe.Timeout {
		status, what = http.StatusGatewayTimeout, pe.PG+" did not answer in time."
	}
	if pe.PG == "" {
		status, what = http.StatusInternalServerError, "The PG's answer could not be recorded."
	}
	if pe.Unknown {
		what += " Whether the payment was changed is being verified; retry with the same " + IdempotencyHeader + " to get the outcome."
	}
	return &HTTPError{Status: status, Message: what, Err: pe}
}

// pgError passes a PG's refusal through. Our own credentials being refused
// (401/403) or the PG failing is the gateway's problem, not the client's:
// 502.
func pgError(status int, pg, msg string, err error) *HTTPError {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == 0 || status >= 500:
		return &HTTPError{Status: http.StatusBadGateway, Message: pg + " did not answer as expected.", Err: err}
	case status < 400:
		// An Iamport refusal inside a 200 envelope.
		return &HTTPError{Status: http.StatusUnprocessableEntity, Message: pg + ": " + msg, Err: err}
	}
	return &HTTPError{Status: status, Message: pg + ": " + msg, Err: err}
}

// clientMessage strips the sentinel's own text from a wrapped message.
func clientMessage(err, sentinel error) string {
	msg := strings.TrimPrefix(err.Error(), sentinel.Error()+": ")
	if msg == "" {
		return sentinel.Error()
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
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
			log.ErrorContext(c.Request.Context(), "request failed", "method", c.Request.Method, "route", c.FullPath(), "status", he.Status, "err", err)
		} else {
			log.DebugContext(c.Request.Context(), "request refused", "method", c.Request.Method, "route", c.FullPath(), "status", he.Status, "err", err)
		}
		if c.Writer.Written() {
			return
		}
		c.Data(he.Status, "application/json; charset=utf-8", he.body())
	}
}
