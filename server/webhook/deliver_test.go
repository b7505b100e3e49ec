package webhook

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRecordable(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"plain", []byte("ok"), "ok"},
		{"korean", []byte("성공"), "성공"},
		{"cut rune", []byte("성공")[:4], "성\uFFFD"},
		{"nul", []byte("a\x00b"), "a\uFFFDb"},
		{"at the limit", []byte(strings.Repeat("a", maxRecordedBody)), strings.Repeat("a", maxRecordedBody)},
		// The reader stops at maxRecordedBody; replacements may grow it.
		{"nuls grow", make([]byte, maxRecordedBody), strings.Repeat("\uFFFD", maxRecordedBody/3)},
		{"invalid bytes grow", []byte(strings.Repeat("\xffa", maxRecordedBody/2)), strings.Repeat("\uFFFDa", maxRecordedBody/4)},
		{"cut before a rune", []byte(strings.Repeat("a", maxRecordedBody-1) + "성"), strings.Repeat("a", maxRecordedBody-1)},
	}
	for _, tt := range tests {
		got := recordable(tt.in)
		if got != tt.want {
			t.Errorf("%s: recordable(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
		if !utf8.ValidString(got) || strings.ContainsRune(got, 0) || len(got) > maxRecordedBody {
			t.Errorf("%s: %q is not storable", tt.name, got)
		}
	}
}
