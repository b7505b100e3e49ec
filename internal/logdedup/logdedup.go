// Package logdedup wraps a slog.Handler so that a warning or error
// repeated over and over (every request failing the same way while the
// database is down) is written once per interval, and the next copy
// written says how many were held back in between.
package logdedup

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// SuppressedKey is the attribute a written record carries when copies of
// it were held back since the previous one: their number.
const SuppressedKey = "suppressed"

// Defaults for the zero values of Options.
const (
	DefaultInterval = 10 * time.Second
	// DefaultMaxKeys bounds the distinct records remembered; past it,
	// records are written unlimited rather than forgotten.
	DefaultMaxKeys = 1024
)

// Options configure New.
type Options struct {
	// Interval is how long after a record is written its copies are held
	// back. Default DefaultInterval.
	Interval time.Duration
	// Level is the least level limited; records below it are always
	// written. Nil means slog.LevelWarn: info lines (access logs, money
	// events) are never held back.
	Level slog.Leveler
	// Ignore lists attribute keys left out when records are compared, such
	// as a request ID that differs on every copy.
	Ignore []string
	// MaxKeys bounds the distinct records remembered. Default
	// DefaultMaxKeys.
	MaxKeys int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// New returns a handler that passes records to next, holding back copies
// of a record at Options.Level or above written less than
// Options.Interval ago. Copies are records with the same level, message
// and attributes (those of With included, Options.Ignore excluded): the
// same failure on the same route, not two payments failing alike.
func New(next slog.Handler, opts Options) slog.Handler {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Level == nil {
		opts.Level = slog.LevelWarn
	}
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = DefaultMaxKeys
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &handler{next: next, state: &state{opts: opts, seen: map[string]*entry{}}}
}

// state is shared by a handler and those derived from it with WithAttrs
// and WithGroup.
type state struct {
	opts Options
	mu   sync.Mutex
	seen map[string]*entry
}

// entry remembers when a record was last written and how many copies of
// it were held back since.
type entry struct {
	written    time.Time
	suppressed int
}

type handler struct {
	next   slog.Handler
	state  *state
	prefix string // the attributes and groups of With, as compared
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < h.state.opts.Level.Level() {
		return h.next.Handle(ctx, r)
	}
	write, suppressed := h.state.admit(h.key(r))
	if !write {
		return nil
	}
	if suppressed > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int(SuppressedKey, suppressed))
	}
	return h.next.Handle(ctx, r)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.prefix)
	for _, a := range attrs {
		h.state.writeAttr(&b, a)
	}
	return &handler{next: h.next.WithAttrs(attrs), state: h.state, prefix: b.String()}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{next: h.next.WithGroup(name), state: h.state, prefix: h.prefix + "[" + name + "]"}
}

// key identifies a record's copies.
func (h *handler) key(r slog.Record) string {
	var b strings.Builder
	b.WriteString(r.Level.String())
	b.WriteByte('\x00')
	b.WriteString(r.Message)
	b.WriteByte('\x00')
	b.WriteString(h.prefix)
	r.Attrs(func(a slog.Attr) bool {
		h.state.writeAttr(&b, a)
		return true
	})
	return b.String()
}

// writeAttr appends an attribute to a key, unless it is ignored.
func (s *state) writeAttr(b *strings.Builder, a slog.Attr) {
	if slices.Contains(s.opts.Ignore, a.Key) {
		return
	}
	b.WriteString(a.Key)
	b.WriteByte('=')
	b.WriteString(a.Value.Resolve().String())
	b.WriteByte('\x00')
}

// admit reports whether the record with key is written now and, if so,
// how many of its copies were held back since it last was.
func (s *state) admit(key string) (write bool, suppressed int) {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.seen[key]
	if ok && now.Sub(e.written) < s.opts.Interval {
		e.suppressed++
		return false, 0
	}
	if ok {
		suppressed = e.suppressed
		e.written, e.suppressed = now, 0
		return true, suppressed
	}
	if len(s.seen) >= s.opts.MaxKeys {
		s.prune(now)
		if len(s.seen) >= s.opts.MaxKeys {
			return true, 0 // too many distinct records to track: write them all
		}
	}
	s.seen[key] = &entry{written: now}
	return true, 0
}

// prune forgets the records whose interval is over (with the count of
// the copies they held back, which no later copy will report).
func (s *state) prune(now time.Time) {
	for k, e := range s.seen {
		if now.Sub(e.written) >= s.opts.Interval {
			delete(s.seen, k)
		}
	}
}
