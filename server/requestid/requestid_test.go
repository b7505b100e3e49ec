package requestid

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestFromClient(t *testing.T) {
	tests := []struct {
		name, in string
		kept     bool
	}{
		{"uuid", "0f8fad5b-d9cb-469f-a165-70867728950e", true},
		{"short token", "abc", true},
		{"punctuation", "req:1/2+3=@x", true},
		{"longest", strings.Repeat("a", MaxLen), true},
		{"empty", "", false},
		{"too long", strings.Repeat("a", MaxLen+1), false},
		{"space", "a b", false},
		{"newline", "a\nlevel=ERROR", false},
		{"non-ASCII", "요청", false},
		{"DEL", "a\x7f", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromClient(tt.in)
			if tt.kept && got != tt.in {
				t.Errorf("FromClient(%q) = %q, want it kept", tt.in, got)
			}
			if !tt.kept && (got == tt.in || !Valid(got)) {
				t.Errorf("FromClient(%q) = %q, want a new valid ID", tt.in, got)
			}
		})
	}
}

func TestHandlerAddsTheID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewHandler(NewHandler(slog.NewTextHandler(&buf, nil))))
	ctx := NewContext(context.Background(), "req-1")
	log.InfoContext(ctx, "with")
	log.With("a", 1).WithGroup("g").InfoContext(ctx, "grouped", "b", 2)
	log.Info("without")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines: %s", len(lines), buf.String())
	}
	for i, want := range []string{"request_id=req-1", "g.request_id=req-1", ""} {
		if want != "" && strings.Count(lines[i], want) != 1 {
			t.Errorf("line %d = %s, want one %s", i, lines[i], want)
		}
		if want == "" && strings.Contains(lines[i], Key) {
			t.Errorf("line %d = %s, want no request ID", i, lines[i])
		}
	}
}
