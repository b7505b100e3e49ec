package toss

import (
	"io"
	"net/http"

	tossapi "github.com/paymentctl/paymentctl/gateway/toss"
)

// emit sends the webhooks of a change, after the change is stored:
// PAYMENT_STATUS_CHANGED with the whole payment when the status changed or
// always is set (every cancel, so each partial cancel is announced as the
// original fake and payment-backend's tests expect), and for a virtual
// account that was just issued, paid in, or lost its deposit (new status
// WAITING_FOR_DEPOSIT or DONE) also the flat DEPOSIT_CALLBACK with the
// account's secret. before is "" for a new payment. They leave once the
// answer to r is written.
func (s *Server) emit(r *http.Request, before tossapi.Status, p tossapi.Payment, always bool) {
	if before == p.Status && !always {
		return
	}
	now := s.now()
	s.NotifyJSON(r, "", nil, tossapi.PaymentStatusChanged{
		EventType: tossapi.EventPaymentStatusChanged,
		CreatedAt: tossapi.FormatWebhookTime(now),
		Data:      p,
	})
	if p.Method != tossapi.MethodVirtualAccount || before == p.Status {
		return
	}
	if p.Status == tossapi.StatusWaitingForDeposit || p.Status == tossapi.StatusDone {
		s.NotifyJSON(r, "", nil, tossapi.DepositCallback{
			CreatedAt:      tossapi.FormatWebhookTime(now),
			Secret:         p.Secret,
			Status:         p.Status,
			TransactionKey: p.TransactionKey,
			OrderID:        p.OrderID,
		})
	}
}

// webhookSink answers POST /internal/webhook, the original fake's default
// webhook target. It checks that the body is a Toss webhook, logs it and
// answers 200; unlike the original it changes no state.
func (s *Server) webhookSink(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, invalid("cannot read the body: %v", err))
		return
	}
	ev, err := tossapi.ParseWebhook(b)
	if err != nil {
		writeError(w, invalid("%v", err))
		return
	}
	switch {
	case ev.StatusChanged != nil:
		s.logf("toss fake: self-sink got %s %s %s", ev.Type, ev.StatusChanged.Data.PaymentKey, ev.StatusChanged.Data.Status)
	case ev.Deposit != nil:
		s.logf("toss fake: self-sink got %s %s %s", ev.Type, ev.Deposit.OrderID, ev.Deposit.Status)
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
