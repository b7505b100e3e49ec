package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/toss"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/payment"
	"github.com/paymentctl/paymentctl/server/store"
)

// TestToHTTPErrorCodes: every path of toHTTPError gives a status and a
// code, and the body carries the code next to the original's fields.
func TestToHTTPErrorCodes(t *testing.T) {
	refused := func(reason error) error { return fmt.Errorf("%w: some text: %w", payment.ErrRefused, reason) }
	tests := []struct {
		name   string
		err    error
		status int
		code   sdk.ErrorCode
	}{
		{"invalid", fmt.Errorf("%w: price must be positive", payment.ErrInvalid), 400, sdk.CodeInvalidRequest},
		{"wrong password", payment.ErrWrongPassword, 403, sdk.CodeWrongPassword},
		{"not found", fmt.Errorf("find: %w", store.ErrNotFound), 404, sdk.CodeNotFound},
		{"duplicate", fmt.Errorf("%w: the source is registered already", store.ErrConflict), 409, sdk.CodeDuplicate},
		{"key in use", errIdempotencyKeyInUse, 409, sdk.CodeIdempotencyKeyInUse},
		{"cancel in progress", fmt.Errorf("%w: a refund is requested", payment.ErrCancelInProgress), 409, sdk.CodeCancelInProgress},
		{"key reused", errIdempotencyKeyReused, 422, sdk.CodeIdempotencyKeyReused},
		{"amount mismatch", refused(payment.ErrAmountMismatch), 422, sdk.CodeAmountMismatch},
		{"order mismatch", refused(payment.ErrOrderMismatch), 422, sdk.CodeOrderMismatch},
		{"not paid", refused(payment.ErrNotPaid), 422, sdk.CodePaymentNotPaid},
		{"over-refund", refused(payment.ErrRefundExceedsBalance), 422, sdk.CodeRefundExceedsBalance},
		{"unknown store", refused(payment.ErrUnknownStore), 422, sdk.CodeUnknownStore},
		{"other refusal", fmt.Errorf("%w: no", payment.ErrRefused), 422, sdk.CodeRefused},
		{"iamport 404", &iamport.Error{Status: 404, Message: "no such payment"}, 404, sdk.CodePGRefused},
		{"iamport envelope refusal", &iamport.Error{Status: 200, Code: -1, Message: "declined"}, 422, sdk.CodePGRefused},
		{"toss 400", &toss.Error{Status: 400, Code: "INVALID_CARD", Message: "bad card"}, 400, sdk.CodePGRefused},
		{"toss refuses our key", &toss.Error{Status: 401, Code: "UNAUTHORIZED_KEY", Message: "no"}, 502, sdk.CodePGUnavailable},
		{"iamport 500", &iamport.Error{Status: 500, Message: "down"}, 502, sdk.CodePGUnavailable},
		{"PG unreachable", &payment.PGError{PG: "Iamport", Err: errors.New("dial")}, 502, sdk.CodePGUnavailable},
		{"PG timeout", &payment.PGError{PG: "Toss Payments", Timeout: true, Err: errors.New("slow")}, 504, sdk.CodePGTimeout},
		{"unknown after 5xx", &payment.PGError{PG: "Toss Payments", Unknown: true, Err: errors.New("reset")}, 502, sdk.CodeOutcomeUnknown},
		{"unknown after timeout", &payment.PGError{PG: "Iamport", Timeout: true, Unknown: true, Err: errors.New("slow")}, 504, sdk.CodeOutcomeUnknown},
		{"unknown after our database failed", &payment.PGError{Unknown: true, Err: errors.New("db")}, 500, sdk.CodeOutcomeUnknown},
		{"our database failed", &payment.PGError{Err: errors.New("db")}, 500, sdk.CodeInternal},
		{"body too large", errorf(413, "Request body is larger than %d bytes.", maxBody), 413, sdk.CodePayloadTooLarge},
		{"bad body", errorf(400, "Request body is not a JSON object."), 400, sdk.CodeInvalidRequest},
		{"no route", errorf(404, "Cannot GET /x"), 404, sdk.CodeNotFound},
		{"no method", errorf(405, "Cannot DELETE /monitors/health"), 405, sdk.CodeMethodNotAllowed},
		{"throttled", errorf(429, "Too many failed attempts; retry after 3 seconds."), 429, sdk.CodeThrottled},
		{"not ready", &HTTPError{Status: 503, Message: "not ready"}, 503, sdk.CodeUnavailable},
		{"coded HTTPError kept", &HTTPError{Status: 400, Code: sdk.CodePayloadTooLarge, Message: "x"}, 400, sdk.CodePayloadTooLarge},
		{"anything else", errors.New("boom"), 500, sdk.CodeInternal},
		{"panic", fmt.Errorf("panic: %v", "nil map"), 500, sdk.CodeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			he := toHTTPError(tt.err)
			if he.Status != tt.status || he.Code != tt.code {
				t.Errorf("toHTTPError(%v) = %d %q, want %d %q", tt.err, he.Status, he.Code, tt.status, tt.code)
			}
			var body map[string]any
			if err := json.Unmarshal(he.body(), &body); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"statusCode": float64(tt.status), "message": he.Message, "error": http.StatusText(tt.status), "code": string(tt.code)}
			for k, v := range want {
				if body[k] != v {
					t.Errorf("body[%q] = %v, want %v (body %v)", k, body[k], v, body)
				}
			}
		})
	}
}
