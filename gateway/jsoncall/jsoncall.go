// Package jsoncall sends one call to a PG's JSON REST API and reads its
// answer: the request body marshalled as JSON, the Authorization header
// of the API's credentials, a per-call timeout, at most MaxResponse bytes
// of the answer read, a 2xx answer decoded into the caller's value and any
// other turned into the PG's own error by the PG client's parser. The toss
// and portone clients send every call through it, and so does the fake
// PortOne V2's Browser (fakepg/portone).
//
// Every error Do returns starts with the PG's name, the method and the
// path (without the query), and wraps the cause: the transport's error
// (a timeout stays a net.Error and context.DeadlineExceeded), the PG's
// error, or the decoder's. The credentials are never in an error.
package jsoncall

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxResponse bounds how much of an answer Do reads.
const MaxResponse = 4 << 20

// Client sends the calls of one API. Its zero value is not usable: New of
// each PG client fills every field. It is safe for concurrent use.
type Client struct {
	// PG prefixes every error, as in "toss GET /v1/payments/x: …".
	PG string
	// Base is the API's origin (scheme and host, no trailing slash); a
	// call's path is appended to it.
	Base string
	// Auth is the Authorization header of every call. It is never put in
	// errors.
	Auth string
	// HTTP sends the requests.
	HTTP *http.Client
	// Timeout bounds each call; a context deadline that comes earlier
	// wins.
	Timeout time.Duration
	// ParseError turns a non-2xx answer (its status and at most
	// MaxResponse bytes of its body) into the PG's error, which Do wraps.
	ParseError func(status int, body []byte) error
}

// Call is one request.
type Call struct {
	// Method and Path are the HTTP method and the path after Base,
	// escaped already.
	Method, Path string
	// Query, when not empty, is appended as the URL's query.
	Query url.Values
	// Header is added to the request's headers; it replaces a header of
	// the same name that Do sets.
	Header http.Header
	// In, when not nil, is sent as the JSON body.
	In any
	// Out, when not nil, receives the JSON of a 2xx answer.
	Out any
}

// Do sends call and decodes a 2xx answer into call.Out; any other answer
// is returned as the error ParseError makes of it, wrapped.
func (c *Client) Do(ctx context.Context, call Call) error {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()

	var body io.Reader
	if call.In != nil {
		b, err := json.Marshal(call.In)
		if err != nil {
			return c.errorf(call, "encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	target := c.Base + call.Path
	if len(call.Query) > 0 {
		target += "?" + call.Query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, call.Method, target, body)
	if err != nil {
		return c.errorf(call, "%w", err)
	}
	req.Header.Set("Authorization", c.Auth)
	req.Header.Set("Accept", "application/json")
	if call.In != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range call.Header {
		req.Header[k] = v
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return c.errorf(call, "%w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse))
	if err != nil {
		return c.errorf(call, "read response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.errorf(call, "%w", c.ParseError(resp.StatusCode, raw))
	}
	if call.Out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, call.Out); err != nil {
		return c.errorf(call, "decode response: %w", err)
	}
	return nil
}

// errorf prefixes an error of call with the PG, the method and the path.
func (c *Client) errorf(call Call, format string, args ...any) error {
	return fmt.Errorf("%s %s %s: "+format, append([]any{c.PG, call.Method, call.Path}, args...)...)
}

// Snippet returns the start of an answer's body as one line of valid
// text, for the error of an answer that is not the PG's JSON.
func Snippet(raw []byte) string {
	const limit = 200
	s := strings.Join(strings.Fields(string(raw)), " ")
	if len(s) > limit {
		s = s[:limit]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "..."
	}
	return s
}
