package logdedup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func TestNewHoldsBackCopies(t *testing.T) {
	type line struct {
		after time.Duration // since the previous line
		log   func(*slog.Logger)
	}
	dbDown := func(l *slog.Logger) {
		l.Error("request failed", "route", "/a", "err", errors.New("db down"), "request_id", "x")
	}
	tests := []struct {
		name  string
		lines []line
		want  []string // the lines written, in order, as "msg suppressed"
	}{
		{
			name:  "copies within the interval are held back and counted",
			lines: []line{{0, dbDown}, {time.Second, dbDown}, {time.Second, dbDown}, {10 * time.Second, dbDown}},
			want:  []string{"request failed 0", "request failed 2"},
		},
		{
			name:  "a copy after the interval is written",
			lines: []line{{0, dbDown}, {11 * time.Second, dbDown}},
			want:  []string{"request failed 0", "request failed 0"},
		},
		{
			name: "different attributes are different records",
			lines: []line{
				{0, dbDown},
				{time.Second, func(l *slog.Logger) { l.Error("request failed", "route", "/b", "err", errors.New("db down")) }},
				{time.Second, func(l *slog.Logger) { l.Warn("request failed", "route", "/a", "err", errors.New("db down")) }},
			},
			want: []string{"request failed 0", "request failed 0", "request failed 0"},
		},
		{
			name: "the ignored request ID does not tell copies apart",
			lines: []line{
				{0, dbDown},
				{time.Second, func(l *slog.Logger) {
					l.Error("request failed", "route", "/a", "err", errors.New("db down"), "request_id", "y")
				}},
			},
			want: []string{"request failed 0"},
		},
		{
			name: "info lines are never held back",
			lines: []line{
				{0, func(l *slog.Logger) { l.Info("payment registered", "history", "h1") }},
				{0, func(l *slog.Logger) { l.Info("payment registered", "history", "h1") }},
			},
			want: []string{"payment registered 0", "payment registered 0"},
		},
		{
			name: "attributes of With count",
			lines: []line{
				{0, func(l *slog.Logger) { l.With("job", 1).Error("given up", "err", "x") }},
				{0, func(l *slog.Logger) { l.With("job", 2).Error("given up", "err", "x") }},
				{0, func(l *slog.Logger) { l.With("job", 2).Error("given up", "err", "x") }},
			},
			want: []string{"given up 0", "given up 0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			c := &clock{now: time.Unix(1_700_000_000, 0)}
			log := slog.New(New(slog.NewJSONHandler(&buf, nil), Options{Ignore: []string{"request_id"}, Now: c.Now}))
			for _, l := range tt.lines {
				c.now = c.now.Add(l.after)
				l.log(log)
			}
			var got []string
			for _, rec := range decode(t, &buf) {
				n, _ := rec[SuppressedKey].(float64)
				got = append(got, fmt.Sprintf("%s %d", rec["msg"], int(n)))
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("written %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewBoundsMemory(t *testing.T) {
	var buf bytes.Buffer
	c := &clock{now: time.Unix(1_700_000_000, 0)}
	log := slog.New(New(slog.NewJSONHandler(&buf, nil), Options{MaxKeys: 2, Now: c.Now}))
	for i := range 4 {
		log.Error("failed", "err", i) // four distinct records, two tracked
	}
	log.Error("failed", "err", 3) // untracked: written again
	log.Error("failed", "err", 0) // tracked: held back
	if got := len(decode(t, &buf)); got != 5 {
		t.Errorf("wrote %d lines, want 5", got)
	}
	c.now = c.now.Add(time.Minute) // every interval over: tracked ones are pruned
	log.Error("failed", "err", 9)
	log.Error("failed", "err", 9)
	if got := len(decode(t, &buf)); got != 1 {
		t.Errorf("after the interval wrote %d lines, want 1", got)
	}
}

func TestNewKeepsEnabled(t *testing.T) {
	h := New(slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn}), Options{})
	if h.Enabled(context.Background(), slog.LevelInfo) || !h.Enabled(context.Background(), slog.LevelError) {
		t.Error("Enabled does not follow the wrapped handler")
	}
}

// decode returns the JSON records in buf and empties it.
func decode(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		out = append(out, rec)
	}
	buf.Reset()
	return out
}
