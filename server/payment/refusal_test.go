package payment

import (
	"errors"
	"testing"
)

// TestRefusedf: a refusal wraps ErrRefused and its reason, and its
// message is ErrRefused's followed by the client's text, as before the
// reasons existed.
func TestRefusedf(t *testing.T) {
	reasons := []error{ErrAmountMismatch, ErrOrderMismatch, ErrNotPaid, ErrRefundExceedsBalance, ErrNotIssued}
	for _, reason := range reasons {
		t.Run(reason.Error(), func(t *testing.T) {
			err := refusedf(reason, "cannot refund %d: only %d of %d remains", 5, 1, 10)
			if got, want := err.Error(), "refused: cannot refund 5: only 1 of 10 remains"; got != want {
				t.Errorf("Error() = %q, want %q", got, want)
			}
			if !errors.Is(err, ErrRefused) || !errors.Is(err, reason) {
				t.Errorf("%v does not wrap ErrRefused and %v", err, reason)
			}
			for _, other := range reasons {
				if other != reason && errors.Is(err, other) {
					t.Errorf("%v wraps %v too", err, other)
				}
			}
		})
	}
}
