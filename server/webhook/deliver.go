package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paymentctl/paymentctl/internal/safetext"
	"github.com/paymentctl/paymentctl/sdk"
)

const (
	// maxRecordedBody is how many bytes of a reply's body an attempt
	// record keeps (the payment service seals them).
	maxRecordedBody = 1 << 10
	// maxDrainedBody is how much more of a reply is read, unrecorded, so
	// that the connection can be reused.
	maxDrainedBody = 64 << 10
	// recordTimeout bounds RecordAttempt, which outlives a cancelled
	// attempt.
	recordTimeout = 5 * time.Second
	// userAgent identifies deliveries to the receiving service.
	userAgent = "paymentctl-webhook/1"
)

// deliver makes attempt (1 for the first) of the delivery of the webhook
// event id and records it. It returns nil when the service answered 2xx.
func (q *Queue) deliver(ctx context.Context, id string, attempt int) error {
	msg, err := q.payloads.Delivery(ctx, id)
	if err != nil {
		return fmt.Errorf("load webhook %s: %w", id, err)
	}
	return q.send(ctx, id, attempt, msg)
}

// send makes attempt of the delivery of the webhook event id, whose
// content is msg, and records it, as deliver does.
func (q *Queue) send(ctx context.Context, id string, attempt int, msg Message) error {
	url, body, secret := msg.URL, msg.Body, msg.Secret
	if secret == nil {
		secret = q.secret
	}
	at := q.now()
	status, reply, sendErr := q.post(ctx, url, id, at, body, secret)
	var errText string
	if sendErr != nil {
		errText = safetext.Clean(sendErr.Error(), maxJobError)
	}
	// Recorded even when a shutdown cancelled the attempt.
	recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	recordErr := q.payloads.RecordAttempt(recordCtx, id, status, reply, errText, at)
	if recordErr != nil {
		recordErr = fmt.Errorf("record attempt of webhook %s: %w", id, recordErr)
	}
	if sendErr == nil && status >= 200 && status < 300 {
		q.log.InfoContext(ctx, "webhook delivered", "webhook", id, "host", hostOf(url), "status", status,
			"attempt", attempt, "duration", q.now().Sub(at))
		if recordErr != nil {
			// The service has the event; sending it again only because
			// the bookkeeping failed would be a needless duplicate.
			q.log.ErrorContext(ctx, "webhook delivered but its attempt was not recorded", "webhook", id, "err", safetext.Clean(recordErr.Error(), maxJobError))
		}
		return nil
	}
	if sendErr == nil {
		sendErr = fmt.Errorf("deliver webhook %s: service answered %d", id, status)
	}
	return errors.Join(sendErr, recordErr)
}

// post sends body to url, signed with secret for the event id at time at, and returns
// the reply's status and the start of its body.
func (q *Queue) post(ctx context.Context, url, id string, at time.Time, body, secret []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("deliver webhook %s: bad url: %w", id, errors.Join(err, ErrPermanent))
	}
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("User-Agent", userAgent)
	// Standard Webhooks: the receiver verifies with sdk.VerifyWebhook.
	req.Header.Set(sdk.WebhookIDHeader, id)
	req.Header.Set(sdk.WebhookTimestampHeader, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(sdk.WebhookSignatureHeader, sdk.SignWebhook(secret, id, at, body))
	resp, err := q.http.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("deliver webhook %s: %w", id, err)
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxRecordedBody))
	if err != nil && len(reply) == 0 {
		q.log.InfoContext(ctx, "webhook reply body unreadable", "webhook", id, "err", safetext.Clean(err.Error(), maxJobError))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainedBody))
	return resp.StatusCode, recordable(reply), nil
}

// recordable makes a reply body storable as text on both databases, in
// at most maxRecordedBody bytes: PostgreSQL refuses invalid UTF-8 (a cut
// multi-byte rune included) and NUL, and their replacement is longer than
// what it replaces.
func recordable(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	if len(s) <= maxRecordedBody {
		return s
	}
	cut := maxRecordedBody
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// hostOf returns the host of a webhook URL for logs: never its path or
// query, which may hold a token of the service's.
func hostOf(rawURL string) string {
	u, err := neturl.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Host
}
