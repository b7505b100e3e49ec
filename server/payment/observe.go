package payment

import (
	"context"
	"errors"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/store"
)

// The payment flows a FlowObserver hears of.
const (
	FlowRegister = "register" // CreateHistory
	FlowCancel   = "cancel"   // Cancel
)

// The outcomes of a flow (see flowOutcome).
const (
	// OutcomeSucceeded: the payment was registered or refunded.
	OutcomeSucceeded = "succeeded"
	// OutcomeRefused: nothing changed, and retrying the same request would
	// not change that (bad request, wrong password, not found, duplicate,
	// amount mismatch, over-refund, the PG's own refusal).
	OutcomeRefused = "refused"
	// OutcomeUnknown: a PG call that moves money may have acted; it is
	// verified later (ErrOutcomeUnknown).
	OutcomeUnknown = "unknown"
	// OutcomeFailed: anything else, such as a PG or the database being
	// unreachable before any money moved.
	OutcomeFailed = "failed"
)

// FlowObserver hears the outcome of every registration and cancel; the
// metrics implement it. vendor is the vendor code the request named,
// which a client chooses: bound it.
type FlowObserver interface {
	Flow(flow, vendor, outcome string)
}

// SetFlowObserver sets who hears of the flows' outcomes; call it once,
// before serving.
func (s *Service) SetFlowObserver(o FlowObserver) { s.flows = o }

// Flows lists the flows a FlowObserver hears of.
func Flows() []string { return []string{FlowRegister, FlowCancel} }

// Outcomes lists the outcomes a FlowObserver hears.
func Outcomes() []string {
	return []string{OutcomeSucceeded, OutcomeRefused, OutcomeUnknown, OutcomeFailed}
}

// Vendors lists the vendor codes the service accepts.
func Vendors() []string { return []string{string(sdk.VendorIamport), string(sdk.VendorToss)} }

// flowOutcome classifies the error a flow returned.
func flowOutcome(err error) string {
	switch {
	case err == nil:
		return OutcomeSucceeded
	case errors.Is(err, ErrOutcomeUnknown):
		return OutcomeUnknown
	case errors.Is(err, ErrInvalid), errors.Is(err, ErrWrongPassword), errors.Is(err, ErrRefused),
		errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict), refusedByPG(err):
		return OutcomeRefused
	}
	return OutcomeFailed
}

// observeFlow tells the observer how a flow ended and logs a refusal at
// info, with its reason: a refusal is a money event an operator may be
// asked about ("why was my payment not registered?"). Failures are
// logged where they happen and by the HTTP layer.
func (s *Service) observeFlow(ctx context.Context, flow, vendor string, err error, attrs ...any) {
	outcome := flowOutcome(err)
	if outcome == OutcomeRefused {
		what := "payment registration refused"
		if flow == FlowCancel {
			what = "payment cancel refused"
		}
		s.log.InfoContext(ctx, what, append(attrs, "vendor", vendor, "reason", err.Error())...)
	}
	if s.flows != nil {
		s.flows.Flow(flow, vendor, outcome)
	}
}
