package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/sdk"
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

// paymentHandlers serve /payments/histories and /payments/reservations.
type paymentHandlers struct {
	svc payments
}

// fail records err for the error mapper.
func fail(c *gin.Context, err error) { _ = c.Error(err) }

func (h *paymentHandlers) createHistory(c *gin.Context) {
	var in sdk.HistoryCreate
	if err := decode(c, &in, "vendor", "source", "price", "password", "webhook_url"); err != nil {
		fail(c, err)
		return
	}
	if err := validateHistoryCreate(in); err != nil {
		fail(c, err)
		return
	}
	out, err := h.svc.CreateHistory(c.Request.Context(), in)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}

func (h *paymentHandlers) historyByID(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		fail(c, err)
		return
	}
	var in sdk.Password
	if err := decode(c, &in, "password"); err != nil {
		fail(c, err)
		return
	}
	out, err := h.svc.History(c.Request.Context(), id, in.Password)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h *paymentHandlers) historyBySource(c *gin.Context) {
	var in sdk.Accessor
	if err := decode(c, &in, "schema", "table", "id", "password"); err != nil {
		fail(c, err)
		return
	}
	if err := validateAccessor(in); err != nil {
		fail(c, err)
		return
	}
	out, err := h.svc.HistoryBySource(c.Request.Context(), in)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h *paymentHandlers) cancel(c *gin.Context) {
	var in sdk.CancelCreate
	if err := decode(c, &in, "source", "password", "price", "reason"); err != nil {
		fail(c, err)
		return
	}
	if err := validateCancel(in); err != nil {
		fail(c, err)
		return
	}
	out, err := h.svc.Cancel(c.Request.Context(), in)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h *paymentHandlers) createReservation(c *gin.Context) {
	var in sdk.ReservationCreate
	if err := decode(c, &in, "vendor", "source", "title", "password"); err != nil {
		fail(c, err)
		return
	}
	if err := validateReservationCreate(in); err != nil {
		fail(c, err)
		return
	}
	out, err := h.svc.CreateReservation(c.Request.Context(), in)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}

func (h *paymentHandlers) reservationByID(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		fail(c, err)
		return
	}
	var in sdk.Password
	if err := decode(c, &in, "password"); err != nil {
		fail(c, err)
		return
	}
	out, err := h.svc.Reservation(c.Request.Context(), id, in.Password)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h *paymentHandlers) reservationBySource(c *gin.Context) {
	var in sdk.Accessor
	if err := decode(c, &in, "schema", "table", "id", "password"); err != nil {
		fail(c, err)
		return
	}
	if err := validateAccessor(in); err != nil {
		fail(c, err)
		return
	}
	out, err := h.svc.ReservationBySource(c.Request.Context(), in)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
