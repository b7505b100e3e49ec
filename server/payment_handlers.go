package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/egress"
)

// payments is what the payment handlers need from the payment service.
type payments interface {
	CreateHistory(ctx context.Context, in sdk.HistoryCreate) (*sdk.History, error)
	History(ctx context.Context, id, password string) (*sdk.History, error)
	HistoryBySource(ctx context.Context, in sdk.Accessor) (*sdk.History, error)
	Cancel(ctx context.Context, in sdk.CancelCreate) (*sdk.History, error)
	CreateReservation(ctx context.Context, in sdk.ReservationCreate) (*sdk.Reservation, error)
	Reservation(ctx context.Context, id, password string) (*sdk.Reservation, error)
	ReservationBySource(ctx context.Context, in sdk.Accessor) (*sdk.Reservation, error)
}

// fail records err for the error mapper.
func fail(c *gin.Context, err error) { _ = c.Error(err) }

// route is one JSON-in, JSON-out payment route: the body's required keys,
// its validation, and the service call.
type route[In, Out any] struct {
	status   int
	required []string
	validate func(In) error // nil: nothing beyond the required keys
	call     func(ctx context.Context, c *gin.Context, in In) (Out, error)
	// mutates marks a route that changes state at the PG (money captured
	// or refunded) or records it: once started it runs to the end even if
	// the client goes away (see handler).
	mutates bool
}

// mutationTimeout bounds a mutating flow that no longer depends on its
// client: several PG calls (each bounded by its client's timeout, 10 s by
// default) and the database writes. The configuration refuses an
// api.write_timeout that does not exceed it, so the answer of a flow that
// takes this long still reaches its client.
const mutationTimeout = config.PaymentFlowTimeout

// handler decodes and validates the (decrypted) body, calls the service and
// answers with the route's status; any failure goes to the error mapper.
func (r route[In, Out]) handler() gin.HandlerFunc {
	return func(c *gin.Context) {
		var in In
		if err := decode(c, &in, r.required...); err != nil {
			fail(c, err)
			return
		}
		if r.validate != nil {
			if err := r.validate(in); err != nil {
				fail(c, err)
				return
			}
		}
		ctx := c.Request.Context()
		if r.mutates {
			// A client that disconnects must not cut a flow between the PG
			// (money captured or refunded) and the database (the record of
			// it): the retry would find them disagreeing until the PG's
			// webhook arrives.
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), mutationTimeout)
			defer cancel()
		}
		out, err := r.call(ctx, c, in)
		if err != nil {
			fail(c, err)
			return
		}
		writeJSON(c, r.status, out)
	}
}

// byID adapts a look-up by the :id path segment and a password body.
func byID[Out any](find func(ctx context.Context, id, password string) (Out, error)) route[sdk.Password, Out] {
	return route[sdk.Password, Out]{
		status:   http.StatusOK,
		required: []string{"password"},
		validate: validatePassword,
		call: func(ctx context.Context, c *gin.Context, in sdk.Password) (Out, error) {
			id, err := idParam(c)
			if err != nil {
				var zero Out
				return zero, err
			}
			return find(ctx, id, in.Password)
		},
	}
}

// bySource adapts a look-up by source triple and password.
func bySource[Out any](find func(ctx context.Context, in sdk.Accessor) (Out, error)) route[sdk.Accessor, Out] {
	return route[sdk.Accessor, Out]{
		status:   http.StatusOK,
		required: []string{"schema", "table", "id", "password"},
		validate: validateAccessor,
		call:     func(ctx context.Context, _ *gin.Context, in sdk.Accessor) (Out, error) { return find(ctx, in) },
	}
}

// serviceCall adapts a service method that needs only the body.
func serviceCall[In, Out any](f func(context.Context, In) (Out, error)) func(context.Context, *gin.Context, In) (Out, error) {
	return func(ctx context.Context, _ *gin.Context, in In) (Out, error) { return f(ctx, in) }
}

// paymentHandlers are the handlers of /payments/histories and
// /payments/reservations.
type paymentHandlers struct {
	createHistory, historyByID, historyBySource, cancel     gin.HandlerFunc
	createReservation, reservationByID, reservationBySource gin.HandlerFunc
}

// newPaymentHandlers builds the payment handlers on svc; registrations'
// webhook_urls must reach destinations dests allows.
func newPaymentHandlers(svc payments, dests *egress.Policy) paymentHandlers {
	return paymentHandlers{
		createHistory: route[sdk.HistoryCreate, *sdk.History]{
			status:   http.StatusCreated,
			required: []string{"vendor", "source", "price", "password", "webhook_url"},
			validate: func(in sdk.HistoryCreate) error {
				if err := validateHistoryCreate(in); err != nil {
					return err
				}
				return checkWebhookDestination(dests, in.WebhookURL)
			},
			call:    serviceCall(svc.CreateHistory),
			mutates: true,
		}.handler(),
		historyByID:     byID(svc.History).handler(),
		historyBySource: bySource(svc.HistoryBySource).handler(),
		cancel: route[sdk.CancelCreate, *sdk.History]{
			status:   http.StatusOK,
			required: []string{"source", "password", "price", "reason"},
			validate: validateCancel,
			call:     serviceCall(svc.Cancel),
			mutates:  true,
		}.handler(),
		createReservation: route[sdk.ReservationCreate, *sdk.Reservation]{
			status:   http.StatusCreated,
			required: []string{"vendor", "source", "title", "password"},
			validate: validateReservationCreate,
			call:     serviceCall(svc.CreateReservation),
			mutates:  true,
		}.handler(),
		reservationByID:     byID(svc.Reservation).handler(),
		reservationBySource: bySource(svc.ReservationBySource).handler(),
	}
}

// checkWebhookDestination refuses a webhook_url whose destination dests
// refuses (see package egress) with a 400 that names the field and what
// was refused, not the URL, which may carry a secret.
func checkWebhookDestination(dests *egress.Policy, webhookURL string) error {
	err := dests.CheckURL(webhookURL)
	if err == nil {
		return nil
	}
	reason := "destination not allowed"
	if r, ok := errors.AsType[*egress.Refusal](err); ok {
		reason = r.Reason
	}
	return errorf(http.StatusBadRequest,
		"Invalid request body: $input.webhook_url: refused (%s); expected an http(s) URL of a public address", reason)
}
