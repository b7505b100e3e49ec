package iamport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// DefaultBaseURL is the real Iamport API.
const DefaultBaseURL = "https://api.iamport.kr"

// DefaultTimeout bounds one API call when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// tokenMargin is how long before expired_at a cached token is replaced. The
// real API hands back the same token, extended, when asked within a minute
// of expiry, so refreshing a minute early costs nothing.
const tokenMargin = time.Minute

// maxBody caps how much of an answer is read.
const maxBody = 4 << 20

// Options configure a Client.
type Options struct {
	// BaseURL of the API; "" means DefaultBaseURL.
	BaseURL string
	// Key and Secret are the imp_key / imp_secret pair.
	Key    string
	Secret string
	// HTTPClient sends the requests; nil means a client whose own timeout
	// is Timeout.
	HTTPClient *http.Client
	// Timeout bounds each call (token fetch included); 0 means
	// DefaultTimeout, a negative value no bound beyond the caller's ctx.
	Timeout time.Duration
	// Now is the clock used for token expiry; nil means time.Now.
	Now func() time.Time
}

// Error is a failure reported by Iamport: a non-2xx HTTP status or an
// envelope whose code is not 0. Status is the HTTP status (200 for a
// refusal inside a 200 envelope), Code the envelope code (0 when the body
// was not an envelope) and Message the envelope message or a bit of the
// body.
type Error struct {
	Status  int
	Code    int
	Message string
	// Response is the envelope's response member when it was not null
	// (for a declined card payment it holds the failed payment).
	Response json.RawMessage
}

// Error describes e.
func (e *Error) Error() string {
	return fmt.Sprintf("iamport: http %d, code %d: %s", e.Status, e.Code, e.Message)
}

// NotFound reports whether e means the requested object does not exist.
func (e *Error) NotFound() bool { return e.Status == http.StatusNotFound }

// Client calls the Iamport REST API. It is safe for concurrent use.
type Client struct {
	base    string
	key     string
	secret  string
	http    *http.Client
	timeout time.Duration
	now     func() time.Time

	group singleflight.Group

	mu      sync.Mutex
	token   string
	refresh time.Time // local time after which token is replaced
}

// New returns a Client for opts.
func New(opts Options) *Client {
	c := &Client{
		base:    strings.TrimRight(opts.BaseURL, "/"),
		key:     opts.Key,
		secret:  opts.Secret,
		http:    opts.HTTPClient,
		timeout: opts.Timeout,
		now:     opts.Now,
	}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.http == nil {
		c.http = &http.Client{}
		if c.timeout > 0 {
			c.http.Timeout = c.timeout
		}
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// BaseURL is the API address the client talks to.
func (c *Client) BaseURL() string { return c.base }

// Token returns a valid access token, fetching one when none is cached or
// the cached one is about to expire. Concurrent callers share one fetch.
func (c *Client) Token(ctx context.Context) (string, error) {
	if tok, ok := c.cached(); ok {
		return tok, nil
	}
	return c.fetchToken(ctx)
}

// cached returns the cached token if it is not due for replacement.
func (c *Client) cached() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token, c.token != "" && c.now().Before(c.refresh)
}

// fetchToken runs one getToken call for all waiting callers. The call is
// detached from the first caller's cancellation so a caller giving up does
// not fail the others; each caller still stops waiting when its ctx ends.
func (c *Client) fetchToken(ctx context.Context) (string, error) {
	ch := c.group.DoChan("token", func() (any, error) {
		// A flight that just ended may have left a fresh token behind.
		if tok, ok := c.cached(); ok {
			return tok, nil
		}
		fctx, cancel := c.callContext(context.WithoutCancel(ctx))
		defer cancel()
		var t Token
		err := c.do(fctx, http.MethodPost, "/users/getToken", TokenRequest{ImpKey: c.key, ImpSecret: c.secret}, "", &t)
		if err != nil {
			return "", fmt.Errorf("get iamport token: %w", err)
		}
		if t.AccessToken == "" {
			return "", errors.New("get iamport token: empty access_token")
		}
		// Lifetime by the server's own clock, applied to ours, so clock
		// skew between the two does not matter. A server that leaves out
		// now is measured against our clock.
		life := time.Duration(t.ExpiredAt-t.Now) * time.Second
		if t.Now == 0 {
			life = t.ExpiredAt.Time().Sub(c.now())
		}
		margin := min(tokenMargin, life/2)
		c.mu.Lock()
		c.token = t.AccessToken
		c.refresh = c.now().Add(life - margin)
		c.mu.Unlock()
		return t.AccessToken, nil
	})
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	}
}

// forget drops tok from the cache if it is still the cached token.
func (c *Client) forget(tok string) {
	c.mu.Lock()
	if c.token == tok {
		c.token = ""
	}
	c.mu.Unlock()
}

// callContext applies the per-call timeout.
func (c *Client) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout > 0 {
		return context.WithTimeout(ctx, c.timeout)
	}
	return context.WithCancel(ctx)
}

// call sends an authenticated request and decodes the envelope's response
// into out (if not nil). On 401 it fetches a new token once and retries.
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.Token(ctx)
		if err != nil {
			return err
		}
		cctx, cancel := c.callContext(ctx)
		err = c.do(cctx, method, path, in, tok, out)
		cancel()
		var e *Error
		if attempt == 0 && errors.As(err, &e) && e.Status == http.StatusUnauthorized {
			c.forget(tok)
			continue
		}
		return err
	}
}

// do performs one HTTP exchange. in is sent as JSON when not nil; out
// receives the envelope's response member.
func (c *Client) do(ctx context.Context, method, path string, in any, token string, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("build %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		// The real API documents "Bearer <token>"; the fake takes both.
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	var env Envelope[json.RawMessage]
	jerr := json.Unmarshal(raw, &env)
	if res.StatusCode < 200 || res.StatusCode > 299 {
		e := &Error{Status: res.StatusCode, Message: snippet(raw, res.Status)}
		if jerr == nil {
			e.Code, e.Response = env.Code, nonNull(env.Response)
			if env.Message != "" {
				e.Message = env.Message
			}
		}
		return e
	}
	if jerr != nil {
		return fmt.Errorf("%s %s: decode envelope: %w", method, path, jerr)
	}
	if env.Code != 0 {
		return &Error{Status: res.StatusCode, Code: env.Code, Message: env.Message, Response: nonNull(env.Response)}
	}
	if out == nil {
		return nil
	}
	if len(nonNull(env.Response)) == 0 {
		return fmt.Errorf("%s %s: empty response", method, path)
	}
	if err := json.Unmarshal(env.Response, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

func nonNull(m json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(m)) == 0 || string(bytes.TrimSpace(m)) == "null" {
		return nil
	}
	return m
}

// snippet is a short printable excerpt of a non-envelope error body.
func snippet(b []byte, fallback string) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return fallback
	}
	const limit = 200
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return s
}
