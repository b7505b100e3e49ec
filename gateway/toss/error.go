package toss

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes of the real API that the fake answers with (a subset of Toss's
// list; the real API has many more, all passed through in Error.Code).
const (
	CodeInvalidRequest                 = "INVALID_REQUEST"                   // 400 malformed or invalid body
	CodeInvalidIdempotencyKey          = "INVALID_IDEMPOTENCY_KEY"           // 400 Idempotency-Key over 300 characters
	CodeNotMatchesRefundableAmount     = "NOT_MATCHES_REFUNDABLE_AMOUNT"     // 400 a cancel's refundableAmount is not the balance left
	CodeAlreadyProcessedPayment        = "ALREADY_PROCESSED_PAYMENT"         // 400 approved or paid already
	CodeAlreadyCanceledPayment         = "ALREADY_CANCELED_PAYMENT"          // 400 canceled already
	CodeDuplicatedOrderID              = "DUPLICATED_ORDER_ID"               // 400 orderId used before
	CodeUnauthorizedKey                = "UNAUTHORIZED_KEY"                  // 401 wrong or missing secret key
	CodeRejectCardPayment              = "REJECT_CARD_PAYMENT"               // 403 card declined (limit, balance)
	CodeNotCancelableAmount            = "NOT_CANCELABLE_AMOUNT"             // 403 more than the balance
	CodeNotCancelablePayment           = "NOT_CANCELABLE_PAYMENT"            // 403 status does not allow a cancel
	CodeNotMatchesCustomerKey          = "NOT_MATCHES_CUSTOMER_KEY"          // 403 billing key of another customer
	CodeNotFoundPayment                = "NOT_FOUND_PAYMENT"                 // 404 unknown paymentKey or orderId
	CodeNotFound                       = "NOT_FOUND"                         // 404 unknown billing key, receipt or route
	CodeIdempotentRequestProcessing    = "IDEMPOTENT_REQUEST_PROCESSING"     // 409 the first call with this Idempotency-Key still runs
	CodeFailedInternalSystemProcessing = "FAILED_INTERNAL_SYSTEM_PROCESSING" // 500 Toss-side failure
)

// ErrorBody is Toss's error answer, {code, message}.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is a failure answered by Toss (or by something in front of it): the
// HTTP status and, when the body was Toss's {code, message}, its code and
// message. For a body in another shape Code is empty and Message holds the
// body's message field or the start of its text.
type Error struct {
	Status  int
	Code    string
	Message string
}

// Error formats the status, code and message.
func (e *Error) Error() string {
	code := e.Code
	if code == "" {
		code = http.StatusText(e.Status)
	}
	if e.Message == "" {
		return fmt.Sprintf("toss: http %d %s", e.Status, code)
	}
	return fmt.Sprintf("toss: http %d %s: %s", e.Status, code, e.Message)
}

// IsCode reports whether err is, or wraps, an *Error with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
