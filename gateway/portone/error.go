package portone

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrorType is the type of a PortOne error body, what callers switch on.
// The set is open: PortOne may answer with a type not listed here, which
// is kept as it is.
type ErrorType string

// The error types of the operations this package calls, with the HTTP
// status PortOne answers them with.
const (
	TypeInvalidRequest                          ErrorType = "INVALID_REQUEST"                                            // 400
	TypeUnauthorized                            ErrorType = "UNAUTHORIZED"                                               // 401 wrong or missing secret
	TypeForbidden                               ErrorType = "FORBIDDEN"                                                  // 403 store not accessible
	TypePaymentNotFound                         ErrorType = "PAYMENT_NOT_FOUND"                                          // 404
	TypePaymentNotPaid                          ErrorType = "PAYMENT_NOT_PAID"                                           // 409 cancel of an unpaid payment
	TypePaymentAlreadyCancelled                 ErrorType = "PAYMENT_ALREADY_CANCELLED"                                  // 409
	TypeCancellableAmountConsistencyBroken      ErrorType = "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN"                      // 409 stale currentCancellableAmount
	TypeCancelAmountExceedsCancellableAmount    ErrorType = "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT"                   // 409 more than the balance
	TypeCancelTaxFreeAmountExceedsCancellable   ErrorType = "CANCEL_TAX_FREE_AMOUNT_EXCEEDS_CANCELLABLE_TAX_FREE_AMOUNT" // 409
	TypeCancelTaxAmountExceedsCancellableTax    ErrorType = "CANCEL_TAX_AMOUNT_EXCEEDS_CANCELLABLE_TAX_AMOUNT"           // 409
	TypeSumOfPartsExceedsCancelAmount           ErrorType = "SUM_OF_PARTS_EXCEEDS_CANCEL_AMOUNT"                         // 409
	TypeNegativePromotionAdjustedCancelAmount   ErrorType = "NEGATIVE_PROMOTION_ADJUSTED_CANCEL_AMOUNT"                  // 400
	TypePromotionDiscountRetainOptionNotChanged ErrorType = "PROMOTION_DISCOUNT_RETAIN_OPTION_SHOULD_NOT_BE_CHANGED"     // 400
	TypePgProvider                              ErrorType = "PG_PROVIDER"                                                // 502 the PG refused; PgCode, PgMessage
	TypeChannelSpecific                         ErrorType = "CHANNEL_SPECIFIC"                                           // 502 per-channel failures
	TypeAlreadyPaid                             ErrorType = "ALREADY_PAID"                                               // 409 the paymentId is paid already
	TypeBillingKeyNotFound                      ErrorType = "BILLING_KEY_NOT_FOUND"                                      // 404
	TypeBillingKeyNotIssued                     ErrorType = "BILLING_KEY_NOT_ISSUED"                                     // 404
	TypeBillingKeyAlreadyDeleted                ErrorType = "BILLING_KEY_ALREADY_DELETED"                                // 409
	TypeChannelNotFound                         ErrorType = "CHANNEL_NOT_FOUND"                                          // 404
	TypeDiscountAmountExceedsTotalAmount        ErrorType = "DISCOUNT_AMOUNT_EXCEEDS_TOTAL_AMOUNT"                       // 400
	TypeMaxTransactionCountReached              ErrorType = "MAX_TRANSACTION_COUNT_REACHED"                              // 400
	TypePaymentScheduleAlreadyExists            ErrorType = "PAYMENT_SCHEDULE_ALREADY_EXISTS"                            // 409
	TypePromotionPayMethodDoesNotMatch          ErrorType = "PROMOTION_PAY_METHOD_DOES_NOT_MATCH"                        // 400
	TypeSumOfPartsExceedsTotalAmount            ErrorType = "SUM_OF_PARTS_EXCEEDS_TOTAL_AMOUNT"                          // 409
	TypePaymentNotWaitingForDeposit             ErrorType = "PAYMENT_NOT_WAITING_FOR_DEPOSIT"                            // 409 closing a VA not VIRTUAL_ACCOUNT_ISSUED
	TypeMaxWebhookRetryCountReached             ErrorType = "MAX_WEBHOOK_RETRY_COUNT_REACHED"                            // 400
	TypeWebhookNotFound                         ErrorType = "WEBHOOK_NOT_FOUND"                                          // 404
	TypeInformationMismatch                     ErrorType = "INFORMATION_MISMATCH"                                       // 409
	TypeAlreadyPaidOrWaiting                    ErrorType = "ALREADY_PAID_OR_WAITING"                                    // 409
	TypeBillingKeyAlreadyIssued                 ErrorType = "BILLING_KEY_ALREADY_ISSUED"                                 // 409
	TypePaymentCancellationNotFound             ErrorType = "PAYMENT_CANCELLATION_NOT_FOUND"                             // 404
	TypePaymentCancellationNotPending           ErrorType = "PAYMENT_CANCELLATION_NOT_PENDING"                           // 409
	TypeInvalidPaymentToken                     ErrorType = "INVALID_PAYMENT_TOKEN"                                      // 400
	TypePaymentScheduleNotFound                 ErrorType = "PAYMENT_SCHEDULE_NOT_FOUND"                                 // 404
	TypePromotionNotFound                       ErrorType = "PROMOTION_NOT_FOUND"                                        // 404
	TypePaymentScheduleAlreadyProcessed         ErrorType = "PAYMENT_SCHEDULE_ALREADY_PROCESSED"                         // 409
	TypePaymentScheduleAlreadyRevoked           ErrorType = "PAYMENT_SCHEDULE_ALREADY_REVOKED"                           // 409
)

// Status returns the HTTP status PortOne answers t with (its OpenAPI
// document's x-portone-status-code), or 0 for a type this package does
// not know.
func (t ErrorType) Status() int {
	switch t {
	case TypeInvalidRequest, TypeNegativePromotionAdjustedCancelAmount, TypePromotionDiscountRetainOptionNotChanged,
		TypeDiscountAmountExceedsTotalAmount, TypeMaxTransactionCountReached, TypePromotionPayMethodDoesNotMatch,
		TypeMaxWebhookRetryCountReached, TypeInvalidPaymentToken:
		return http.StatusBadRequest
	case TypeUnauthorized:
		return http.StatusUnauthorized
	case TypeForbidden:
		return http.StatusForbidden
	case TypePaymentNotFound, TypeBillingKeyNotFound, TypeBillingKeyNotIssued, TypeChannelNotFound, TypeWebhookNotFound,
		TypePaymentCancellationNotFound, TypePaymentScheduleNotFound, TypePromotionNotFound:
		return http.StatusNotFound
	case TypePaymentNotPaid, TypePaymentAlreadyCancelled, TypeCancellableAmountConsistencyBroken,
		TypeCancelAmountExceedsCancellableAmount, TypeCancelTaxFreeAmountExceedsCancellable, TypeCancelTaxAmountExceedsCancellableTax,
		TypeSumOfPartsExceedsCancelAmount, TypeAlreadyPaid, TypeBillingKeyAlreadyDeleted, TypePaymentScheduleAlreadyExists,
		TypeSumOfPartsExceedsTotalAmount, TypePaymentNotWaitingForDeposit, TypeInformationMismatch, TypeAlreadyPaidOrWaiting,
		TypeBillingKeyAlreadyIssued, TypePaymentCancellationNotPending, TypePaymentScheduleAlreadyProcessed,
		TypePaymentScheduleAlreadyRevoked:
		return http.StatusConflict
	case TypePgProvider, TypeChannelSpecific:
		return http.StatusBadGateway
	}
	return 0
}

// ErrorBody is PortOne's error answer: {type, message}, plus pgCode and
// pgMessage for PG_PROVIDER.
type ErrorBody struct {
	Type      ErrorType `json:"type"`
	Message   string    `json:"message,omitempty"`
	PgCode    string    `json:"pgCode,omitempty"`
	PgMessage string    `json:"pgMessage,omitempty"`
}

// Error is a failure answered by PortOne (or by something in front of
// it): the HTTP status and, when the body was PortOne's {type, message},
// its fields. For a body in another shape Type is empty and Message holds
// the start of its text.
type Error struct {
	Status    int
	Type      ErrorType
	Message   string
	PgCode    string // PG_PROVIDER: the PG's own code
	PgMessage string // PG_PROVIDER: the PG's own message
}

// Error formats the status, type and message.
func (e *Error) Error() string {
	t := string(e.Type)
	if t == "" {
		t = http.StatusText(e.Status)
	}
	msg := e.Message
	if e.PgCode != "" || e.PgMessage != "" {
		msg = fmt.Sprintf("%s (PG %s: %s)", msg, e.PgCode, e.PgMessage)
	}
	if msg == "" {
		return fmt.Sprintf("portone: http %d %s", e.Status, t)
	}
	return fmt.Sprintf("portone: http %d %s: %s", e.Status, t, msg)
}

// IsType reports whether err is, or wraps, an *Error of one of types.
func IsType(err error, types ...ErrorType) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	for _, t := range types {
		if e.Type == t {
			return true
		}
	}
	return false
}
