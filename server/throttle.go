package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/server/metrics"
	"github.com/paymentctl/paymentctl/server/payment"
	"github.com/paymentctl/paymentctl/server/store"
	"github.com/paymentctl/paymentctl/server/throttle"
)

// limiter is what the HTTP layer needs of the throttle; *throttle.Limiter
// implements it.
type limiter interface {
	Status(ctx context.Context, address string) (*throttle.Status, error)
	FailPassword(ctx context.Context, address, record string) error
	FailDecrypt(ctx context.Context, address string) error
}

// throttling refuses, with 429 and Retry-After, clients that sent too many
// wrong record passwords or undecryptable bodies (server/throttle), before
// the password is checked or the body decrypted. The client is gin's
// ClientIP: the connection's address unless api.trusted_proxies names the
// proxy it came through. A nil *throttling throttles nothing.
type throttling struct {
	lim limiter
	// refused counts a throttled request by reason (metrics).
	refused func(reason string)
	log     *slog.Logger
}

// newThrottling returns the throttle configured by cfg, and its limiter
// for the periodic clean-up; both nil when throttle.failures is 0.
func newThrottling(cfg *config.Config, st *store.Store, m *metrics.Metrics, now func() time.Time, log *slog.Logger) (*throttling, *throttle.Limiter, error) {
	if cfg.Throttle.Failures == 0 {
		return nil, nil, nil
	}
	lim, err := throttle.New(throttle.Options{
		Store: st, Now: now, Logger: log,
		Policy: throttle.Policy{Failures: cfg.Throttle.Failures, AddressFailures: cfg.Throttle.AddressFailures, Window: cfg.Throttle.Window},
	})
	if err != nil {
		return nil, nil, err
	}
	var reasons []string
	for _, r := range throttle.Reasons() {
		reasons = append(reasons, string(r))
	}
	counter, err := m.NewThrottled(reasons...)
	if err != nil {
		return nil, nil, err
	}
	return &throttling{lim: lim, refused: counter.Inc, log: log}, lim, nil
}

// throttleStatusKey holds the client's throttle.Status on the gin context,
// so a request reads it once.
const throttleStatusKey = "paymentctl.throttle.status"

// status returns the client's lockouts, read once per request.
func (t *throttling) status(c *gin.Context) (*throttle.Status, error) {
	if v, ok := c.Get(throttleStatusKey); ok {
		return v.(*throttle.Status), nil
	}
	st, err := t.lim.Status(c.Request.Context(), client(c))
	if err != nil {
		return nil, err
	}
	c.Set(throttleStatusKey, st)
	return st, nil
}

// client is who the throttle counts a request under: the calling
// service's client address (throttle.ServiceClient), so that services
// sharing an address do not lock each other out.
func client(c *gin.Context) string {
	return throttle.ServiceClient(payment.ServiceOf(c.Request.Context()), c.ClientIP())
}

// refuse answers 429 with Retry-After in whole seconds.
func (t *throttling) refuse(c *gin.Context, v throttle.Verdict) {
	secs := int(math.Ceil(v.RetryAfter.Seconds()))
	c.Header("Retry-After", strconv.Itoa(secs))
	t.refused(string(v.Reason))
	fail(c, errorf(http.StatusTooManyRequests, "Too many failed attempts; retry after %d seconds.", secs))
	c.Abort()
}

// allowBody reports whether the client may have a request body
// decrypted; when not, the request is answered (429, or 500 when the
// counters cannot be read) and aborted.
func (t *throttling) allowBody(c *gin.Context) bool {
	if t == nil {
		return true
	}
	st, err := t.status(c)
	if err != nil {
		fail(c, err)
		c.Abort()
		return false
	}
	if v := st.Decrypt(); v.Throttled() {
		t.refuse(c, v)
		return false
	}
	return true
}

// failedBody counts a request body that did not decrypt. The count is
// kept even if the client hangs up before its answer.
func (t *throttling) failedBody(c *gin.Context) {
	if t == nil {
		return
	}
	if err := t.lim.FailDecrypt(context.WithoutCancel(c.Request.Context()), client(c)); err != nil {
		t.log.Error("count a body that did not decrypt", "err", err)
	}
}

// passwords wraps a handler that checks a record password: a client
// locked out for the record (or for all records) is refused before next
// runs, and a wrong password that next reports is counted. record names
// the record the request is for, "" when the request is malformed (next
// refuses it without checking a password).
func (t *throttling) passwords(record func(*gin.Context) string, next gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		rec := record(c)
		if rec == "" {
			next(c)
			return
		}
		st, err := t.status(c)
		if err != nil {
			fail(c, err)
			return
		}
		if v := st.Password(rec); v.Throttled() {
			t.refuse(c, v)
			return
		}
		next(c)
		if len(c.Errors) > 0 && errors.Is(c.Errors.Last().Err, payment.ErrWrongPassword) {
			if err := t.lim.FailPassword(context.WithoutCancel(c.Request.Context()), client(c), rec); err != nil {
				t.log.Error("count a wrong password", "err", err)
			}
		}
	}
}

// guard puts the password throttle around the handlers that check a
// record password: look-ups by id and by source, and cancels.
func (t *throttling) guard(h paymentHandlers) paymentHandlers {
	if t == nil {
		return h
	}
	h.historyByID = t.passwords(recordByID("history"), h.historyByID)
	h.historyBySource = t.passwords(recordBySource[sdk.Accessor]("history", func(a sdk.Accessor) sdk.Source { return a.Source }), h.historyBySource)
	h.cancel = t.passwords(recordBySource[sdk.CancelCreate]("history", func(in sdk.CancelCreate) sdk.Source { return in.Source }), h.cancel)
	h.reservationByID = t.passwords(recordByID("reservation"), h.reservationByID)
	h.reservationBySource = t.passwords(recordBySource[sdk.Accessor]("reservation", func(a sdk.Accessor) sdk.Source { return a.Source }), h.reservationBySource)
	return h
}

// recordByID names the record of a look-up by the :id path segment, in
// canonical UUID form so that spellings of one id share a counter.
func recordByID(kind string) func(*gin.Context) string {
	return func(c *gin.Context) string {
		id, err := uuid.Parse(c.Param("id"))
		if err != nil {
			return ""
		}
		return kind + " id " + id.String()
	}
}

// recordBySource names the record of a request that finds it by source,
// read from the (decrypted) JSON body into the handler's own type, so the
// two agree on what the body says; the body is put back for the handler.
func recordBySource[In any](kind string, source func(In) sdk.Source) func(*gin.Context) string {
	return func(c *gin.Context) string {
		raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
		c.Request.Body = io.NopCloser(bytes.NewReader(raw))
		if err != nil {
			return ""
		}
		var in In
		if err := json.Unmarshal(raw, &in); err != nil {
			return ""
		}
		s := source(in)
		// Sources are per service: so are their counters.
		return kind + " source " + strconv.Quote(payment.ServiceOf(c.Request.Context())) + " " + strconv.Quote(s.Schema) + " " + strconv.Quote(s.Table) + " " + strconv.Quote(s.ID)
	}
}
