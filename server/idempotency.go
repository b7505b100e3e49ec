package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/server/payment"
	"github.com/paymentctl/paymentctl/server/store"
)

// IdempotencyHeader is the request header that makes a POST or PUT safe to
// retry (Stripe's semantics).
const IdempotencyHeader = "Idempotency-Key"

// maxIdempotencyKey bounds the header's length, as Stripe does.
const maxIdempotencyKey = 255

// validIdempotencyKey reports whether key is 1 to maxIdempotencyKey
// printable ASCII characters (space included). HTTP lets a header carry
// other bytes, which PostgreSQL would refuse as invalid UTF-8.
func validIdempotencyKey(key string) bool {
	if key == "" || len(key) > maxIdempotencyKey {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < ' ' || key[i] > '~' {
			return false
		}
	}
	return true
}

// idempotencyStore keeps idempotency records; *store.Store implements it.
type idempotencyStore interface {
	BeginIdempotency(ctx context.Context, req store.IdempotencyRequest) (*store.IdempotencyRecord, bool, error)
	CompleteIdempotency(ctx context.Context, id string, status int, sealedBody string) error
	ReleaseIdempotency(ctx context.Context, id string) error
	MarkIdempotencyUnknown(ctx context.Context, id string) error
}

// responseSealer seals stored responses; *seal.Keyring implements it.
type responseSealer interface {
	Seal(plain, aad []byte) (string, error)
	Open(sealed string, aad []byte) ([]byte, error)
}

// idempotency makes POST and PUT requests with an Idempotency-Key header
// run once: the first request's response is stored (sealed) and replayed
// for a retry with the same key and body; the same key with a different
// body is refused (422), and a retry while the first is still running is
// told so (409). Keys are per service (payment.ServiceOf): one service
// can neither replay nor block another's. Responses that say nothing happened (400, 409, 5xx) are
// not kept, so the client can retry them; a request whose PG call may have
// acted (payment.ErrOutcomeUnknown, answered 502/504) keeps the key bound
// to it, and its retry runs again with the same record, which the payment
// service uses to find the outcome before doing anything twice; a record left running by a
// process that died frees its key after store.IdempotencyLease. It runs
// inside the body encryption, on plaintext.
func idempotency(st idempotencyStore, sealer responseSealer, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		key := c.GetHeader(IdempotencyHeader)
		if key == "" || (c.Request.Method != http.MethodPost && c.Request.Method != http.MethodPut) {
			c.Next()
			return
		}
		if !validIdempotencyKey(key) {
			fail(c, errorf(http.StatusBadRequest, "%s must be at most %d printable ASCII characters.", IdempotencyHeader, maxIdempotencyKey))
			c.Abort()
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
		if err != nil {
			fail(c, errorf(http.StatusRequestEntityTooLarge, "Request body is larger than %d bytes.", maxBody))
			c.Abort()
			return
		}
		c.Request.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(body)
		ctx := c.Request.Context()
		rec, created, err := st.BeginIdempotency(ctx, store.IdempotencyRequest{
			Service: payment.ServiceOf(ctx), Key: key, Method: c.Request.Method, Path: c.Request.URL.Path, RequestHash: hex.EncodeToString(sum[:]),
		})
		if err != nil {
			fail(c, err)
			c.Abort()
			return
		}
		if !created {
			replay(c, rec, hex.EncodeToString(sum[:]), sealer)
			c.Abort()
			return
		}

		// The request's operations are bound to its record, so a retry
		// finds them.
		c.Request = c.Request.WithContext(payment.WithRequestKey(ctx, rec.ID))
		w := &teeWriter{ResponseWriter: c.Writer}
		c.Writer = w
		defer func() { c.Writer = w.ResponseWriter }()
		c.Next()
		c.Writer = w.ResponseWriter

		status, stored := w.Status(), w.buf.Bytes()
		if len(c.Errors) > 0 {
			err := c.Errors.Last().Err
			if errors.Is(err, payment.ErrOutcomeUnknown) {
				// The PG may have acted: the key stays bound to this
				// request, whose retry resolves the outcome first.
				if err := st.MarkIdempotencyUnknown(context.WithoutCancel(ctx), rec.ID); err != nil {
					log.Error("keep an idempotency key of unknown outcome", "err", err)
				}
				return
			}
			he := toHTTPError(err)
			status, stored = he.Status, he.body()
		}
		// 400 (bad request), 409 (concurrent), 429 (throttled) and 5xx say
		// nothing was done: forget the key so the client can retry.
		if status >= 500 || status == http.StatusBadRequest || status == http.StatusConflict || status == http.StatusTooManyRequests {
			if err := st.ReleaseIdempotency(context.WithoutCancel(ctx), rec.ID); err != nil {
				log.Error("release idempotency key", "err", logErr(err))
			}
			return
		}
		sealed, err := sealer.Seal(stored, []byte(rec.ID))
		if err == nil {
			err = st.CompleteIdempotency(context.WithoutCancel(ctx), rec.ID, status, sealed)
		}
		if err != nil {
			log.Error("store idempotent response", "err", logErr(err))
		}
	}
}

// replay answers a retry from the stored record.
func replay(c *gin.Context, rec *store.IdempotencyRecord, hash string, sealer responseSealer) {
	switch {
	case rec.RequestHash != hash:
		fail(c, errIdempotencyKeyReused)
	case rec.Status != store.IdempotencyCompleted:
		fail(c, errIdempotencyKeyInUse)
	default:
		body, err := sealer.Open(rec.ResponseBody, []byte(rec.ID))
		if err != nil {
			fail(c, err)
			return
		}
		c.Header("Idempotent-Replayed", "true")
		if rec.ResponseStatus >= 400 {
			// Refusals are plain JSON, never encrypted.
			c.Error(&replayedError{status: rec.ResponseStatus, body: body})
			return
		}
		c.Data(rec.ResponseStatus, "application/json; charset=utf-8", body)
	}
}

// replayedError carries a stored refusal back through the error mapper.
type replayedError struct {
	status int
	body   []byte
}

func (e *replayedError) Error() string { return http.StatusText(e.status) + " (replayed)" }

// teeWriter passes a response through while keeping a copy.
type teeWriter struct {
	gin.ResponseWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }
