package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/sdk"
)

// monitorSource is what the monitor routes need; *monitor.Monitor
// implements it.
type monitorSource interface {
	Performance() sdk.Performance
	System() sdk.System
}

// monitorHandlers serve /monitors/*.
type monitorHandlers struct {
	mon monitorSource
	// ready reports whether the instance can serve (database reachable).
	ready func(*gin.Context) error
}

// health is the liveness probe: an empty 200.
func (h *monitorHandlers) health(c *gin.Context) {
	if h.ready != nil {
		if err := h.ready(c); err != nil {
			fail(c, &HTTPError{Status: http.StatusServiceUnavailable, Message: "not ready", Err: err})
			return
		}
	}
	c.Status(http.StatusOK)
}

func (h *monitorHandlers) performance(c *gin.Context) { c.JSON(http.StatusOK, h.mon.Performance()) }

func (h *monitorHandlers) system(c *gin.Context) { c.JSON(http.StatusOK, h.mon.System()) }
