package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/paymentctl/paymentctl/wirecrypt"
)

// DefaultTimeout bounds a call when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// DefaultUserAgent is sent when Options.UserAgent is empty.
const DefaultUserAgent = "paymentctl-sdk-go"

// IdempotencyKeyHeader is the request header that makes a POST or PUT
// safe to retry: the server answers a repeat with the same key and body
// with the first answer instead of acting twice.
const IdempotencyKeyHeader = "Idempotency-Key"

// Response bodies are a few kilobytes (a history with its PG payment);
// the limits only stop a misbehaving peer from exhausting memory.
const (
	maxResponseBody = 16 << 20
	maxErrorBody    = 64 << 10
)

// Options configures a Client.
type Options struct {
	// BaseURL is the server's address, e.g. http://127.0.0.1:37821. A path
	// prefix is kept (for a server behind a reverse proxy).
	BaseURL string
	// Key and IV are the connection encryption strings the server was
	// configured with (PAYMENT_CONNECTION_ENCRYPTION_KEY and _IV), or,
	// with APIKey, the service's own (services.list[].encryption).
	Key, IV string
	// APIKey is the calling service's API key (from `paymentctl config
	// generate --service NAME`), sent as "Authorization: Bearer <key>"
	// with every call. The server then decrypts and answers with that
	// service's Key and IV, and lets it see only the records it
	// registered. Empty sends no Authorization header: the server's
	// default service, with its top-level keys.
	APIKey string
	// HTTPClient sends the requests; nil means a new http.Client of its
	// own (never http.DefaultClient).
	HTTPClient *http.Client
	// Timeout bounds each attempt of a call, from sending the request to
	// reading the whole response, whichever HTTPClient is used: it is
	// applied as a context deadline, so an attempt that runs out of time
	// fails with an error that matches context.DeadlineExceeded (and is
	// retried when MaxRetries allows). Zero means DefaultTimeout, a
	// negative value no bound beyond the caller's context, which bounds
	// the whole call, retries and their waits included.
	Timeout time.Duration
	// UserAgent is sent with every request; empty means DefaultUserAgent.
	UserAgent string
	// AuthenticatedBodies sends and expects bodies in the authenticated
	// AES-256-GCM format (wirecrypt.GCM, Content-Type
	// application/vnd.paymentctl.aesgcm) instead of the original's
	// AES-CBC text/plain: a body altered on the way is refused, on either
	// side, instead of decrypting to something else. The key is derived
	// from Key; IV is not used by it. The server must be a paymentctl
	// that speaks it (the original does not). Error bodies stay plain JSON
	// in both formats.
	AuthenticatedBodies bool
	// MaxRetries turns on automatic retries: a call that got no answer (a
	// connection error, or Timeout passed) or an answer saying "try again"
	// (409 idempotency_key_in_use, 429, 502, 503, 504, or
	// outcome_unknown) is sent again up to MaxRetries more times, after
	// an exponential backoff with jitter (RetryDelay doubling up to
	// MaxRetryDelay) or the answer's Retry-After if longer. A POST or PUT
	// sent without WithIdempotencyKey then gets a random key, the same on
	// each of its attempts, so a retry never creates or cancels twice: an
	// attempt that did get through is answered from the server's record
	// (ResponseInfo.IdempotentReplayed). Zero, the default, sends each call
	// once.
	MaxRetries int
	// RetryDelay is the nominal wait before the first retry; zero means
	// DefaultRetryDelay.
	RetryDelay time.Duration
	// MaxRetryDelay bounds the nominal wait between two attempts; zero
	// means DefaultMaxRetryDelay. A 429 or 503 whose Retry-After asks for
	// longer is returned instead of retried (Error.RetryAfter holds it).
	MaxRetryDelay time.Duration
}

// Client calls the paymentctl API. Request and response bodies of the
// encrypted routes are encrypted and decrypted transparently. A Client is
// safe for concurrent use.
type Client struct {
	base      *url.URL
	cipher    *wirecrypt.Cipher
	gcm       *wirecrypt.GCM // nil unless Options.AuthenticatedBodies
	http      *http.Client
	timeout   time.Duration
	userAgent string
	apiKey    string // sent as a bearer token; "" sends none
	retry     retryPolicy
}

// New returns a Client for opts. It fails when the base URL is not an
// absolute http(s) URL or the key and IV do not make an AES cipher.
func New(opts Options) (*Client, error) {
	base, err := url.Parse(opts.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse base url: %w", err)
	}
	if (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("base url %q is not an absolute http or https url", opts.BaseURL)
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("base url %q has a query or fragment", opts.BaseURL)
	}
	base.Path = strings.TrimRight(base.Path, "/")
	base.RawPath = ""
	c, err := wirecrypt.New(opts.Key, opts.IV)
	if err != nil {
		return nil, fmt.Errorf("connection encryption: %w", err)
	}
	var gcm *wirecrypt.GCM
	if opts.AuthenticatedBodies {
		if gcm, err = wirecrypt.NewGCM(opts.Key); err != nil {
			return nil, fmt.Errorf("connection encryption: %w", err)
		}
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	if strings.ContainsAny(opts.APIKey, "\r\n") {
		return nil, errors.New("api key: must be one line")
	}
	return &Client{base: base, cipher: c, gcm: gcm, http: hc, timeout: timeout, userAgent: ua, apiKey: opts.APIKey, retry: newRetryPolicy(opts)}, nil
}

// Health calls GET /monitors/health; it returns nil when the server
// answers 2xx.
func (c *Client) Health(ctx context.Context, opts ...CallOption) error {
	return c.do(ctx, call{method: http.MethodGet, path: "/monitors/health", opts: opts})
}

// Performance calls GET /monitors/performance: the process's resource use.
func (c *Client) Performance(ctx context.Context, opts ...CallOption) (*Performance, error) {
	var out Performance
	err := c.do(ctx, call{method: http.MethodGet, path: "/monitors/performance", out: &out, encrypted: true, opts: opts})
	return result(&out, err)
}

// System calls GET /monitors/system: what binary runs and since when.
func (c *Client) System(ctx context.Context, opts ...CallOption) (*System, error) {
	var out System
	err := c.do(ctx, call{method: http.MethodGet, path: "/monitors/system", out: &out, encrypted: true, opts: opts})
	return result(&out, err)
}

// CreateHistory calls POST /payments/histories: it registers a payment
// made in a PG's checkout window after the server confirmed it with the
// PG. A price other than the one paid is refused with 422, a source or PG
// id registered before with 409.
func (c *Client) CreateHistory(ctx context.Context, in HistoryCreate, opts ...CallOption) (*History, error) {
	var out History
	err := c.do(ctx, call{method: http.MethodPost, path: "/payments/histories", in: in, out: &out, encrypted: true, opts: opts})
	return result(&out, err)
}

// History calls PATCH /payments/histories/{id}: the payment with that id,
// which must be a UUID. A wrong password is refused with 403, an unknown id
// with 404.
func (c *Client) History(ctx context.Context, id, password string, opts ...CallOption) (*History, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	var out History
	err := c.do(ctx, call{method: http.MethodPatch, path: "/payments/histories/" + id, in: Password{Password: password}, out: &out, encrypted: true, opts: opts})
	return result(&out, err)
}

// HistoryBySource calls PATCH /payments/histories/get: the payment of the
// service's record in.Source.
func (c *Client) HistoryBySource(ctx context.Context, in Accessor, opts ...CallOption) (*History, error) {
	var out History
	err := c.do(ctx, call{method: http.MethodPatch, path: "/payments/histories/get", in: in, out: &out, encrypted: true, opts: opts})
	return result(&out, err)
}

// CancelHistory calls PUT /payments/histories/cancel: a full or partial
// refund at the PG. It returns the payment as updated from the PG's answer;
// the webhook that the PG sends for the cancel follows separately.
func (c *Client) CancelHistory(ctx context.Context, in CancelCreate, opts ...CallOption) (*History, error) {
	var out History
	err := c.do(ctx, call{method: http.MethodPut, path: "/payments/histories/cancel", in: in, out: &out, encrypted: true, opts: opts})
	return result(&out, err)
}

// CreateReservation calls POST /payments/reservations: it registers a
// saved card (billing key) after the server fetched it from the PG.
func (c *Client) CreateReservation(ctx context.Context, in ReservationCreate, opts ...CallOption) (*Reservation, error) {
	var out Reservation
	err := c.do(ctx, call{method: http.MethodPost, path: "/payments/reservations", in: in, out: &out, encrypted: true, opts: opts})
	return result(&out, err)
}

// Reservation calls PATCH /payments/reservations/{id}: the saved card with
// that id, which must be a UUID.
func (c *Client) Reservation(ctx context.Context, id, password string, opts ...CallOption) (*Reservation, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	var out Reservation
	err := c.do(ctx, call{method: http.MethodPatch, path: "/payments/reservations/" + id, in: Password{Password: password}, out: &out, encrypted: true, opts: opts})
	return result(&out, err)
}

// ReservationBySource calls PATCH /payments/reservations/get: the saved
// card of the service's record in.Source.
func (c *Client) ReservationBySource(ctx context.Context, in Accessor, opts ...CallOption) (*Reservation, error) {
	var out Reservation
	err := c.do(ctx, call{method: http.MethodPatch, path: "/payments/reservations/get", in: in, out: &out, encrypted: true, opts: opts})
	return result(&out, err)
}

// result returns out, or nil and err when the call failed.
func result[T any](out *T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkID refuses what is not a UUID in canonical form before it reaches
// a path: the server would refuse it too, except "get", which would be
// routed to the look-up by source instead.
func checkID(id string) error {
	if len(id) != 36 {
		return fmt.Errorf("id %q is not a uuid", id)
	}
	for i := range len(id) {
		ch := id[i]
		switch i {
		case 8, 13, 18, 23:
			if ch != '-' {
				return fmt.Errorf("id %q is not a uuid", id)
			}
		default:
			if !('0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f' || 'A' <= ch && ch <= 'F') {
				return fmt.Errorf("id %q is not a uuid", id)
			}
		}
	}
	return nil
}

// call describes one request.
type call struct {
	method, path string
	// in is the request body (JSON, encrypted when encrypted is set); nil
	// sends none.
	in any
	// out receives the decrypted response body; nil discards it.
	out       any
	encrypted bool
	opts      []CallOption
}

// do sends one call, retried as Options allow, and decodes its answer.
// Errors are prefixed with the method and path (and the number of
// attempts, when there were several); a non-2xx answer is a wrapped
// *Error.
func (c *Client) do(ctx context.Context, cl call) error {
	var o callOptions
	for _, opt := range cl.opts {
		opt(&o)
	}
	if o.idempotencyKey == "" && c.retry.max > 0 && (cl.method == http.MethodPost || cl.method == http.MethodPut) {
		o.idempotencyKey = uuid.NewString()
	}
	info := ResponseInfo{IdempotencyKey: o.idempotencyKey}
	err := c.send(ctx, cl, o.idempotencyKey, &info)
	if o.info != nil {
		*o.info = info
	}
	switch {
	case err == nil:
		return nil
	case info.Attempts > 1:
		return fmt.Errorf("%s %s (%d attempts): %w", cl.method, cl.path, info.Attempts, err)
	}
	return fmt.Errorf("%s %s: %w", cl.method, cl.path, err)
}

// send makes the attempts of a call, recording them in info.
func (c *Client) send(ctx context.Context, cl call, key string, info *ResponseInfo) error {
	var body []byte
	if cl.in != nil {
		plain, err := json.Marshal(cl.in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = plain
		if cl.encrypted {
			// Encrypted once: every attempt sends the same bytes.
			body = c.encrypt(plain)
		}
	}
	for n := 1; ; n++ {
		info.Attempts = n
		err := c.attempt(ctx, cl, key, body, info)
		if err == nil || n > c.retry.max {
			return err
		}
		ok, atLeast := retryable(ctx, err)
		if !ok {
			return err
		}
		d, ok := c.retry.delay(n, atLeast)
		if !ok || !wait(ctx, d) {
			return err
		}
	}
}

// attempt sends the request once and decodes its answer. An attempt that
// got no whole answer fails with a *transportError, a non-2xx answer with
// an *Error.
func (c *Client) attempt(ctx context.Context, cl call, key string, body []byte, info *ResponseInfo) error {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	u := *c.base
	u.Path += cl.path
	req, err := http.NewRequestWithContext(ctx, cl.method, u.String(), rd)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", c.userAgent)
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	if body != nil {
		if cl.encrypted {
			req.Header.Set("Content-Type", c.contentType())
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	if cl.encrypted && c.gcm != nil {
		// A request without a body chooses its answer's format this way.
		req.Header.Set("Accept", wirecrypt.GCMContentType)
	}
	if key != "" {
		req.Header.Set(IdempotencyKeyHeader, key)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return &transportError{err}
	}
	defer resp.Body.Close()
	info.record(resp)

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		raw, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		if err != nil {
			return &transportError{fmt.Errorf("%d %s: read error body: %w", resp.StatusCode, http.StatusText(resp.StatusCode), err)}
		}
		return newError(resp.StatusCode, resp.Header, raw)
	}

	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return &transportError{fmt.Errorf("read response: %w", err)}
	}
	if len(raw) > maxResponseBody {
		return fmt.Errorf("response body is larger than %d bytes", maxResponseBody)
	}
	if cl.out == nil {
		return nil
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return errors.New("empty response body")
	}
	if cl.encrypted {
		if raw, err = c.decrypt(resp.Header.Get("Content-Type"), raw); err != nil {
			return fmt.Errorf("decrypt response: %w", err)
		}
	}
	if err := json.Unmarshal(raw, cl.out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

// encrypt encrypts a request body in the client's format.
func (c *Client) encrypt(plain []byte) []byte {
	if c.gcm != nil {
		return c.gcm.Encrypt(plain, wirecrypt.Request)
	}
	return c.cipher.Encrypt(plain)
}

// contentType is the media type of the client's encrypted bodies.
func (c *Client) contentType() string {
	if c.gcm != nil {
		return wirecrypt.GCMContentType
	}
	return wirecrypt.ContentType
}

// decrypt decrypts a successful response body of media type contentType.
// A client in the authenticated format takes nothing else: a response in
// the CBC format would be unauthenticated.
func (c *Client) decrypt(contentType string, raw []byte) ([]byte, error) {
	if c.gcm == nil {
		return c.cipher.Decrypt(raw)
	}
	if mt, _, _ := mime.ParseMediaType(contentType); mt != wirecrypt.GCMContentType {
		return nil, fmt.Errorf("the answer is %q, not the authenticated format %s (does the server support it?)", contentType, wirecrypt.GCMContentType)
	}
	return c.gcm.Decrypt(raw, wirecrypt.Response)
}
