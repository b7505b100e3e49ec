package server

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/server/metrics"
	"github.com/paymentctl/paymentctl/server/payment"
	"github.com/paymentctl/paymentctl/server/requestid"
)

// requestLog gives every request an ID and logs it once it is answered.
// The ID is the client's X-Request-Id when it is short and printable
// (requestid.Valid), else a new one; it is echoed in the response and
// carried by the request's context, so every line logged for the request
// (and by the webhook jobs it enqueues) has it. The access line holds the
// method (bounded as the metrics bound it), route template, status,
// duration, response size and client address (gin's ClientIP: the
// connection's, or X-Forwarded-For's from a trusted proxy); never a
// body, a query or a header's value. Successful probes log at debug,
// since orchestrators call them every few seconds.
func requestLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		id := requestid.FromClient(c.GetHeader(requestid.Header))
		c.Header(requestid.Header, id)
		ctx := requestid.NewContext(c.Request.Context(), id)
		c.Request = c.Request.WithContext(ctx)
		c.Next()
		status, route := c.Writer.Status(), metrics.RouteLabel(c)
		level := slog.LevelInfo
		if isProbe(route) && status < 400 {
			level = slog.LevelDebug
		}
		if !log.Enabled(ctx, level) {
			// Below the configured level (serve's log.level warn, say):
			// neither the attributes nor the client address are worked
			// out, a dozen allocations per request.
			return
		}
		attrs := []any{"method", metrics.MethodLabel(c.Request.Method), "route", route,
			"status", status, "duration", time.Since(start), "bytes", max(c.Writer.Size(), 0), "client", c.ClientIP()}
		// The service authenticate found (its name, never its key).
		if service := payment.ServiceOf(c.Request.Context()); service != payment.DefaultService {
			attrs = append(attrs, "service", service)
		}
		log.Log(ctx, level, "request", attrs...)
	}
}

// isProbe reports whether route is a health probe.
func isProbe(route string) bool {
	switch route {
	case "/livez", "/readyz", "/monitors/health":
		return true
	}
	return false
}
