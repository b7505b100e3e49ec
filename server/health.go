package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

const (
	// readyTimeout bounds the checks of one GET /readyz; an orchestrator's
	// probe gives up after about a second.
	readyTimeout = 2 * time.Second
	// schemaCheckEvery is how long a schema found current is not checked
	// again: only `paymentctl schema` changes it, and a newer schema is
	// still current for this binary.
	schemaCheckEvery = time.Minute
)

// readyCheck is one condition of readiness: its name and why it fails
// (nil when it holds). reason is what the probe's answer says; err, the
// cause, is only logged.
type readyCheck struct {
	name   string
	reason string
	err    error
}

// health is the App's readiness state.
type health struct {
	draining atomic.Bool

	mu       sync.Mutex
	schemaOK time.Time // when the schema was last found current
}

// SetDraining marks the instance as shutting down or handing over to a
// new binary: from then on GET /readyz answers 503, so that a load
// balancer or Kubernetes stops sending it requests. `paymentctl serve`
// calls it when its drain starts.
func (a *App) SetDraining() { a.health.draining.Store(true) }

// readiness runs the checks of GET /readyz: the instance is not
// draining, its database answers and has the schema this binary needs,
// and its webhook workers run.
func (a *App) readiness(ctx context.Context) []readyCheck {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	checks := []readyCheck{{name: "serving"}, {name: "database"}, {name: "schema"}, {name: "workers"}}
	if a.health.draining.Load() {
		checks[0].reason = "draining"
	}
	if err := a.Store.Ping(ctx); err != nil {
		checks[1].reason, checks[1].err = "unreachable", err
	}
	if ok, err := a.schemaCurrent(ctx); err != nil {
		checks[2].reason, checks[2].err = "not checked", err
	} else if !ok {
		checks[2].reason = "out of date: run paymentctl schema"
	}
	if !a.queue.Running() {
		checks[3].reason = "not running"
	}
	return checks
}

// schemaCurrent reports whether the database has every migration this
// binary knows, remembering a positive answer for schemaCheckEvery.
func (a *App) schemaCurrent(ctx context.Context) (bool, error) {
	h := &a.health
	h.mu.Lock()
	fresh := !h.schemaOK.IsZero() && time.Since(h.schemaOK) < schemaCheckEvery
	h.mu.Unlock()
	if fresh {
		return true, nil
	}
	ok, err := a.Store.SchemaUpToDate(ctx)
	if ok && err == nil {
		h.schemaFound(time.Now())
	}
	return ok, err
}

// schemaFound records that the schema was found current at t.
func (h *health) schemaFound(t time.Time) {
	h.mu.Lock()
	h.schemaOK = t
	h.mu.Unlock()
}

// probeHandlers serve GET /livez and GET /readyz, Kubernetes' probe
// routes: plain text, one line per check ("[+]database ok", "[-]workers
// failed: not running"), then "ok" or "readyz check failed".
type probeHandlers struct {
	ready func(ctx context.Context) []readyCheck
	log   *slog.Logger
}

// livez answers 200 while the process serves HTTP at all: a liveness
// probe that fails only when restarting the process is the cure.
func (h *probeHandlers) livez(c *gin.Context) {
	c.String(http.StatusOK, "[+]ping ok\nok\n")
}

// readyz answers 200 when every readiness check holds, else 503 with the
// failing ones. Their causes are logged at warn, not sent; draining is
// expected and not logged.
func (h *probeHandlers) readyz(c *gin.Context) {
	var b strings.Builder
	var failed []any
	for _, ch := range h.ready(c.Request.Context()) {
		if ch.reason == "" {
			b.WriteString("[+]" + ch.name + " ok\n")
			continue
		}
		b.WriteString("[-]" + ch.name + " failed: " + ch.reason + "\n")
		if ch.name == "serving" {
			continue
		}
		cause := ch.reason
		if ch.err != nil {
			cause = ch.err.Error()
		}
		failed = append(failed, ch.name, cause)
	}
	if !strings.Contains(b.String(), "[-]") {
		c.String(http.StatusOK, b.String()+"ok\n")
		return
	}
	if len(failed) > 0 {
		h.log.WarnContext(c.Request.Context(), "not ready", failed...)
	}
	c.String(http.StatusServiceUnavailable, b.String()+"readyz check failed\n")
}
