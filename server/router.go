package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/server/egress"
	"github.com/paymentctl/paymentctl/server/payment"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// routerOptions are the dependencies of the route table.
type routerOptions struct {
	Payments payments
	Webhooks webhookReceiver
	// PortOneWebhooks checks the signatures of PortOne V2's webhooks; nil
	// (PortOne V2 off) refuses them all with 401.
	PortOneWebhooks *portoneSigners
	// Now is the clock webhook timestamps are checked against; nil means
	// time.Now.
	Now     func() time.Time
	Monitor monitorSource
	Ready   func(*gin.Context) error
	Wire    *wirecrypt.Cipher
	WireGCM *wirecrypt.GCM // the opt-in authenticated format; nil refuses it
	// Tenants are the services and their API keys; nil serves every
	// request as the default service with Wire and WireGCM.
	Tenants     *tenants
	Idempotency idempotencyStore
	Sealer      responseSealer
	// Destinations is the webhook_url address policy; nil is egress's
	// default (public addresses only).
	Destinations *egress.Policy
	// Throttle refuses clients that failed too often; nil throttles nothing.
	Throttle *throttling
	// TrustedProxies are the proxies whose X-Forwarded-For gives the
	// client's address; none by default.
	TrustedProxies []string
	// Inbox, when set, mounts the test receiver POST
	// /payments/internal/webhook (local mode and tests only).
	Inbox *Inbox
	// Middleware runs first on every request (request counting, metrics).
	Middleware []gin.HandlerFunc
	Logger     *slog.Logger
	// Readiness runs the checks of GET /readyz.
	Readiness func(ctx context.Context) []readyCheck
}

// newRouter returns the whole HTTP API: the original's 13 routes, with the
// same methods, paths and success statuses. Encrypted routes take and give
// AES text/plain bodies; the monitors' health probe and the PG webhook
// receivers are plain.
func newRouter(o routerOptions) *gin.Engine {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// gin trusts every proxy unless told otherwise; the client address
	// the throttle counts by must not be the client's to choose.
	if err := r.SetTrustedProxies(o.TrustedProxies); err != nil {
		_ = r.SetTrustedProxies(nil)
	}
	r.Use(requestLog(o.Logger))
	r.Use(o.Middleware...)
	r.Use(errorMapper(o.Logger))
	r.Use(gin.CustomRecoveryWithWriter(io.Discard, func(c *gin.Context, rec any) {
		fail(c, fmt.Errorf("panic: %v", rec))
		c.Abort()
	}))

	mon := &monitorHandlers{mon: o.Monitor, ready: o.Ready}
	pay := o.Throttle.guard(newPaymentHandlers(o.Payments, o.Destinations))
	hooks := &webhookHandlers{svc: o.Webhooks, portoneSigs: o.PortOneWebhooks, now: o.Now}
	if hooks.now == nil {
		hooks.now = time.Now
	}

	r.GET("/monitors/health", mon.health)
	// Beyond the original's routes: Kubernetes-style probes (health.go).
	probes := &probeHandlers{ready: o.Readiness, log: o.Logger}
	r.GET("/livez", probes.livez)
	r.GET("/readyz", probes.readyz)
	r.GET("/openapi.json", openAPIDocument())
	r.POST("/payments/webhooks/iamport", hooks.iamport)
	r.POST("/payments/webhooks/toss", hooks.toss)
	r.POST("/payments/webhooks/portone", hooks.portone)

	ts := o.Tenants
	if ts == nil {
		ts = &tenants{def: &tenant{name: payment.DefaultService, cbc: o.Wire, gcm: o.WireGCM}}
	}
	// The API key is checked before anything else: an unknown key costs
	// a hash, never a body read or a database query.
	// The monitors hold no service's records: the top-level keys open
	// them even when services.require_key is set (`paymentctl monitor`).
	mons := r.Group("", ts.authenticate(false), encryptedBody(ts.def, o.Throttle))
	mons.GET("/monitors/performance", mon.performance)
	mons.GET("/monitors/system", mon.system)

	enc := r.Group("", ts.authenticate(ts.requireKey), encryptedBody(ts.def, o.Throttle))
	p := enc.Group("/payments", idempotency(o.Idempotency, o.Sealer, o.Logger))
	// Literal "get" routes are matched before ":id", as the original's.
	p.PATCH("/histories/get", pay.historyBySource)
	p.PATCH("/histories/:id", pay.historyByID)
	p.POST("/histories", pay.createHistory)
	p.PUT("/histories/cancel", pay.cancel)
	p.PATCH("/reservations/get", pay.reservationBySource)
	p.PATCH("/reservations/:id", pay.reservationByID)
	p.POST("/reservations", pay.createReservation)
	if o.Inbox != nil {
		p.POST("/internal/webhook", o.Inbox.receive)
	}

	r.NoRoute(func(c *gin.Context) { fail(c, errorf(404, "Cannot %s %s", c.Request.Method, c.Request.URL.Path)) })
	r.NoMethod(func(c *gin.Context) { fail(c, errorf(405, "Cannot %s %s", c.Request.Method, c.Request.URL.Path)) })
	return r
}
