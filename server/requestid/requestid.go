// Package requestid carries the ID of an API request (the X-Request-Id
// header, accepted from the client or generated) through contexts: into
// every log record written with that context, and into the webhook jobs
// the request causes, whose workers log under the same ID.
package requestid

import (
	"context"
	"log/slog"

	"github.com/google/uuid"
)

// Header is the request and response header holding the ID.
const Header = "X-Request-Id"

// Key is the log attribute holding the ID.
const Key = "request_id"

// MaxLen is the longest ID accepted from a client.
const MaxLen = 64

// contextKey is the context key of the ID.
type contextKey struct{}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, contextKey{}, id)
}

// FromContext returns the ID ctx carries, or "".
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(contextKey{}).(string)
	return id
}

// Valid reports whether a client's ID can be used as it is: 1 to MaxLen
// visible ASCII characters (no spaces or control characters, which could
// forge log lines or headers).
func Valid(id string) bool {
	if id == "" || len(id) > MaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// FromClient returns the client's ID if it is Valid, else a new one.
func FromClient(id string) string {
	if Valid(id) {
		return id
	}
	return New()
}

// New returns a fresh ID (a random UUID).
func New() string { return uuid.NewString() }

// NewHandler wraps next so that every record logged with a context
// carrying an ID gets it as the Key attribute. Wrapping a handler it
// returned returns it unchanged.
func NewHandler(next slog.Handler) slog.Handler {
	if h, ok := next.(*handler); ok {
		return h
	}
	return &handler{next: next}
}

type handler struct{ next slog.Handler }

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if id := FromContext(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String(Key, id))
	}
	return h.next.Handle(ctx, r)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &handler{next: h.next.WithAttrs(attrs)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{next: h.next.WithGroup(name)}
}
