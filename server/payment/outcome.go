package payment

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/paymentctl/paymentctl/gateway/iamport"
	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/gateway/toss"
)

// ErrOutcomeUnknown marks a money-moving PG call that may have taken
// effect although it did not succeed: the PG timed out, the connection
// broke after the request was sent, or the PG answered 5xx. The operation
// is recorded as unknown and resolved by re-fetching the payment; the API
// answers 502 or 504 and keeps the request's Idempotency-Key bound to it.
var ErrOutcomeUnknown = errors.New("outcome unknown")

// PGError is a PG that could not be reached, timed out or failed (5xx).
// Unknown is set when the failed call moved money and may have taken
// effect; it then wraps ErrOutcomeUnknown as well as the cause.
type PGError struct {
	// PG names the gateway ("Iamport", "Toss Payments", "PortOne V2"), or
	// is empty when the failure was paymentctl's own database after the PG
	// acted.
	PG string
	// Timeout is set when the PG did not answer in time.
	Timeout bool
	// Unknown is set when the call may have taken effect.
	Unknown bool
	Err     error
}

// Error describes the failure, cause included (for logs).
func (e *PGError) Error() string {
	what := e.PG
	if what == "" {
		what = "recording the PG's answer"
	}
	s := what + " failed"
	if e.Timeout {
		s = what + " timed out"
	}
	if e.Unknown {
		s += " (outcome unknown)"
	}
	return fmt.Sprintf("%s: %v", s, e.Err)
}

// Unwrap returns the cause and, when the outcome is unknown,
// ErrOutcomeUnknown.
func (e *PGError) Unwrap() []error {
	if e.Unknown {
		return []error{ErrOutcomeUnknown, e.Err}
	}
	return []error{e.Err}
}

// pgName names the PG of a vendor code for messages.
func pgName(vendor string) string {
	switch vendor {
	case "iamport":
		return "Iamport"
	case "toss.payments":
		return "Toss Payments"
	case "portone":
		return "PortOne V2"
	}
	return vendor
}

// refusedByPG reports whether err is a definite answer from the PG that
// it did not act: a 4xx or an Iamport refusal in a 200 envelope.
func refusedByPG(err error) bool {
	var ie *iamport.Error
	var te *toss.Error
	var pe *portone.Error
	switch {
	case errors.As(err, &ie):
		return ie.Status != 0 && ie.Status < 500
	case errors.As(err, &te):
		return te.Status != 0 && te.Status < 500
	case errors.As(err, &pe):
		return pe.Status != 0 && pe.Status < 500
	}
	return false
}

// notSent reports whether err shows the request never left: the
// connection could not be made.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// isTimeout reports whether err is a timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// mayHaveActed reports whether a failed money-moving call may still have
// taken effect at the PG. Only a PG's own refusal and a connection that
// was never made say it did not; anything else (timeouts, resets, 5xx,
// an unreadable 2xx) may hide a refund or a capture.
func mayHaveActed(err error) bool {
	return err != nil && !refusedByPG(err) && !notSent(err)
}

// pgFailure wraps a failed PG call for the API: PG refusals pass through
// as they are (the HTTP layer maps their status); other failures become a
// *PGError, unknown when moved is set and the call may have acted.
func pgFailure(vendor string, moved bool, err error) error {
	if err == nil || refusedByPG(err) {
		return err
	}
	var pe *PGError
	if errors.As(err, &pe) {
		return err
	}
	return &PGError{PG: pgName(vendor), Timeout: isTimeout(err), Unknown: moved && mayHaveActed(err), Err: err}
}
