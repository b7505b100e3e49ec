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
	}
	for _, tt := range tests {
		got := recordable(tt.in)
		if got != tt.want {
			t.Errorf("%s: recordable(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
		if !utf8.ValidString(got) || strings.ContainsRune(got, 0) {
			t.Errorf("%s: %q is not storable", tt.name, got)
		}
	}
}
