package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/gateway/portone"
	"github.com/paymentctl/paymentctl/sdk"
)

// webhookReceiver is what the PG webhook routes need.
type webhookReceiver interface {
	ReceiveWebhook(ctx context.Context, vendor sdk.VendorCode, body []byte) error
}

// webhookHandlers serve the PGs' webhook routes. They are plain JSON (not
// encrypted), and answer only once the event is stored.
type webhookHandlers struct {
	svc webhookReceiver
	// portoneSigs verifies PortOne V2's signatures; nil when PortOne V2
	// is off.
	portoneSigs *portoneSigners
	now         func() time.Time
}

// iamport receives Iamport's {imp_uid, merchant_uid, status}, as JSON or
// as the form encoding the Iamport console also offers. It answers 201 as
// the original (Iamport accepts any 2xx).
func (h *webhookHandlers) iamport(c *gin.Context) {
	body, err := readPGBody(c, true)
	if err != nil {
		fail(c, err)
		return
	}
	if err := h.svc.ReceiveWebhook(c.Request.Context(), sdk.VendorIamport, body); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusCreated)
}

// toss receives Toss webhooks. It answers 200: Toss counts anything else
// as a failure and retries (the original's 201 was a bug against the real
// Toss).
func (h *webhookHandlers) toss(c *gin.Context) {
	body, err := readPGBody(c, false)
	if err != nil {
		fail(c, err)
		return
	}
	if err := h.svc.ReceiveWebhook(c.Request.Context(), sdk.VendorToss, body); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusOK)
}

// portone receives PortOne V2 webhooks (format 2024-04-25). Only a body
// signed under the webhook_secret of the store it names (its own, else
// portone.webhook_secret; either of two during a rotation), with a
// webhook-timestamp within five minutes of now, is read at all; anything
// else is 401 and stores nothing, so a forged webhook costs one HMAC per
// secret of one store. The signature is checked on the raw bytes
// before the body is parsed. It answers 200, as PortOne expects a 2xx.
func (h *webhookHandlers) portone(c *gin.Context) {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxPGBody))
	if err != nil {
		fail(c, errorf(http.StatusRequestEntityTooLarge, "Request body is larger than %d bytes.", maxPGBody))
		return
	}
	if h.portoneSigs == nil {
		fail(c, &HTTPError{Status: http.StatusUnauthorized, Message: "PortOne V2 webhooks are not accepted: PortOne V2 is not enabled on this server."})
		return
	}
	if err := h.portoneSigs.verifyAt(c.Request.Header, raw, h.now()); err != nil {
		fail(c, &HTTPError{Status: http.StatusUnauthorized, Message: "Invalid PortOne V2 webhook signature: " + signatureProblem(err) + ".", Err: err})
		return
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(raw))
	body, err := readPGBody(c, false)
	if err != nil {
		fail(c, err)
		return
	}
	if err := h.svc.ReceiveWebhook(c.Request.Context(), sdk.VendorPortOne, body); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusOK)
}

// signatureProblem names what is wrong with a webhook's Standard Webhooks
// headers, without quoting them.
func signatureProblem(err error) string {
	switch {
	case errors.Is(err, portone.ErrWebhookHeader):
		return "the webhook-id, webhook-timestamp or webhook-signature header is missing or malformed"
	case errors.Is(err, portone.ErrWebhookTimestamp):
		return "webhook-timestamp is more than five minutes away from now"
	}
	return "no webhook-signature matches"
}

// maxPGBody bounds a PG webhook body. Iamport's is three fields; Toss's
// largest, a whole payment object, is a few kilobytes.
const maxPGBody = 64 << 10

// readPGBody reads a PG webhook body as JSON; with form allowed, an
// x-www-form-urlencoded body is turned into the equivalent JSON object.
// Either must be valid UTF-8 and hold no NUL in any string: the body is
// stored, and the fields paymentctl reads are checked for their PG's
// formats by the payment service.
func readPGBody(c *gin.Context, form bool) ([]byte, error) {
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxPGBody))
	if err != nil {
		return nil, errorf(http.StatusRequestEntityTooLarge, "Request body is larger than %d bytes.", maxPGBody)
	}
	if !utf8.Valid(raw) {
		return nil, errorf(http.StatusBadRequest, "Request body is not valid UTF-8.")
	}
	switch {
	case mt == "application/json":
		if !json.Valid(raw) {
			return nil, errorf(http.StatusBadRequest, "Request body is not valid JSON.")
		}
		if jsonHasNUL(raw) {
			return nil, errorf(http.StatusBadRequest, "Request body holds a NUL character.")
		}
		return raw, nil
	case form && mt == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "Request body is not a valid form.")
		}
		obj := make(map[string]string, len(vals))
		for k := range vals {
			v := vals.Get(k)
			// Percent-encoding can carry any byte. The field's name is the
			// sender's, and may be what is wrong: it is not quoted back.
			if !utf8.ValidString(k) || !utf8.ValidString(v) || strings.ContainsRune(k+v, 0) {
				return nil, errorf(http.StatusBadRequest, "Request body has a form field whose name or value is not valid UTF-8 or holds a NUL character.")
			}
			obj[k] = v
		}
		return json.Marshal(obj)
	}
	return nil, errorf(http.StatusBadRequest, "Request body is not the application/json.")
}

// jsonHasNUL reports whether any string of a valid JSON document, key or
// value, holds a NUL (escaped as \u0000; a raw one is not valid JSON).
func jsonHasNUL(raw []byte) bool {
	if !bytes.Contains(raw, []byte(`\u0000`)) {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := dec.Token()
		if err != nil {
			return err != io.EOF // unreadable: refuse
		}
		if s, ok := tok.(string); ok && strings.IndexByte(s, 0) >= 0 {
			return true
		}
	}
}

// Inbox is the test receiver behind POST /payments/internal/webhook (the
// original's FakePaymentStorage.webhooks): it keeps every event delivered
// to it, decrypted. It is mounted only in local mode and in tests, and is
// safe for concurrent use.
type Inbox struct {
	mu     sync.Mutex
	events []sdk.WebhookHistory
	notify chan struct{}
	log    *slog.Logger
}

// NewInbox returns an empty Inbox that logs each event it receives to log
// (nil: silent), so a developer running local mode sees them.
func NewInbox(log *slog.Logger) *Inbox {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Inbox{notify: make(chan struct{}), log: log}
}

// Events returns a copy of the events received, oldest first.
func (b *Inbox) Events() []sdk.WebhookHistory {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]sdk.WebhookHistory(nil), b.events...)
}

// Wait blocks until at least n events have arrived or ctx ends, and
// returns the events received so far.
func (b *Inbox) Wait(ctx context.Context, n int) ([]sdk.WebhookHistory, error) {
	for {
		b.mu.Lock()
		if len(b.events) >= n {
			out := append([]sdk.WebhookHistory(nil), b.events...)
			b.mu.Unlock()
			return out, nil
		}
		ch := b.notify
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return b.Events(), ctx.Err()
		}
	}
}

// add records one event and wakes the waiters.
func (b *Inbox) add(ev sdk.WebhookHistory) {
	b.mu.Lock()
	b.events = append(b.events, ev)
	close(b.notify)
	b.notify = make(chan struct{})
	b.mu.Unlock()
}

// receive is the handler of POST /payments/internal/webhook (encrypted
// route: the middleware has decrypted the body).
func (b *Inbox) receive(c *gin.Context) {
	var ev sdk.WebhookHistory
	if err := decode(c, &ev, "id", "source", "previous", "current"); err != nil {
		fail(c, err)
		return
	}
	b.add(ev)
	var refund int64
	if ev.Current.Refund != nil {
		refund = *ev.Current.Refund
	}
	b.log.Info("test receiver got a webhook event", "id", ev.ID, "history", ev.Current.ID,
		"paid_at", ev.Current.PaidAt, "cancelled_at", ev.Current.CancelledAt, "refund", refund)
	c.Status(http.StatusCreated)
}
