package openapitest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
)

// Transport is an http.RoundTripper that checks every exchange against
// the document: each answer with CheckResponse, and the request of each
// 2xx answer with CheckRequest (a test may send a bad request on purpose;
// one the server accepted must be documented). Failures go to Report, not
// to the caller, which gets the answer unchanged.
type Transport struct {
	// Spec is the document to check against.
	Spec *Spec
	// Keys decrypt the encrypted bodies.
	Keys *Keys
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Report receives each failed check, e.g. t.Errorf.
	Report func(format string, args ...any)

	mu   sync.Mutex
	seen map[string]bool
}

// RoundTrip sends req through Base, checks the exchange and returns the
// answer with its body buffered.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		clone := req.Clone(req.Context())
		clone.Body = io.NopCloser(bytes.NewReader(b))
		clone.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		req = clone
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))

	op, err := t.Spec.CheckResponse(req.Method, req.URL.Path, resp.StatusCode, resp.Header, body, t.Keys)
	if err != nil {
		t.Report("OpenAPI: %v", err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if err := t.Spec.CheckRequest(req.Method, req.URL.Path, req.Header, reqBody, t.Keys); err != nil {
			t.Report("OpenAPI: %v", err)
		}
	}
	if op != "" {
		t.mu.Lock()
		if t.seen == nil {
			t.seen = map[string]bool{}
		}
		t.seen[fmt.Sprintf("%s %d", op, resp.StatusCode)] = true
		t.mu.Unlock()
	}
	return resp, nil
}

// Seen returns the operations and statuses checked so far, as
// "METHOD /path/{template} status", sorted.
func (t *Transport) Seen() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.seen))
	for k := range t.seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
