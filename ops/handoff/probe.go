package handoff

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// probeBodyLimit is how much of a failing probe's response body goes into the
// error.
const probeBodyLimit = 256

// HandlerProbe returns a readiness check for Options.Ready. The check sends
// GET target (a path such as "/monitors/health") through h in process, with
// the check's context, and requires a 2xx status. Going through the handler
// rather than the network matters: the listening socket is shared with the
// old process, which could answer a request sent to the address.
func HandlerProbe(h http.Handler, target string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return fmt.Errorf("probe %s: %w", target, err)
		}
		req.RemoteAddr = "127.0.0.1:0"
		w := &probeWriter{header: make(http.Header)}
		h.ServeHTTP(w, req)
		if w.status == 0 {
			w.status = http.StatusOK
		}
		if w.status < 200 || w.status > 299 {
			return fmt.Errorf("probe GET %s: status %d: %s", target, w.status, strings.TrimSpace(w.body.String()))
		}
		return nil
	}
}

// probeWriter is the http.ResponseWriter of HandlerProbe. It keeps the status
// and the start of the body.
type probeWriter struct {
	header http.Header
	status int
	body   strings.Builder
}

func (w *probeWriter) Header() http.Header { return w.header }

func (w *probeWriter) WriteHeader(status int) {
	// 1xx responses are informational; the final status follows.
	if w.status == 0 && (status < 100 || status > 199) {
		w.status = status
	}
}

func (w *probeWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if room := probeBodyLimit - w.body.Len(); room > 0 {
		w.body.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
