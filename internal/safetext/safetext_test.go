package safetext

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestValid(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want bool
	}{
		{"", 0, true},
		{"some-schema", 64, true},
		{"결제 취소", 5, true},
		{"결제 취소", 4, false},
		{"\uFFFD", 1, true}, // a replacement character typed in is fine
		{"a\x00b", 64, false},
		{"a\x01", 64, false},
		{"tab\there", 64, false},
		{"new\nline", 64, false},
		{"del\x7f", 64, false},
		{"c1\u0085", 64, false},
		{"bad\xffutf8", 64, false},
		{"cut\xea\xb2", 64, false},
		{strings.Repeat("a", 64), 64, true},
		{strings.Repeat("a", 65), 64, false},
	}
	for _, tt := range tests {
		if got := Valid(tt.in, tt.n); got != tt.want {
			t.Errorf("Valid(%q, %d) = %v, want %v", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestToken(t *testing.T) {
	tests := []struct {
		in    string
		n     int
		extra string
		want  bool
	}{
		{"imp_123456789012", 64, "_", true},
		{"", 64, "_", false},
		{"imp-1", 64, "_", false},
		{"a/b", 64, "-_", false},
		{"a\x00", 64, "-_", false},
		{"é", 64, "-_", false},
		{"Z_t5vOvQxrj4499PeiJcjen28-V2RyqgYTwN44Rdzk0=", 200, "-_=", true},
		{strings.Repeat("a", 201), 200, "", false},
	}
	for _, tt := range tests {
		if got := Token(tt.in, tt.n, tt.extra); got != tt.want {
			t.Errorf("Token(%q, %d, %q) = %v, want %v", tt.in, tt.n, tt.extra, got, tt.want)
		}
	}
}

func TestCanonicalUUID(t *testing.T) {
	const id = "0b7e2f4c-8c1a-4e55-9f1e-3c2d6a7b8e90"
	tests := []struct {
		in   string
		want bool
	}{
		{id, true},
		{strings.ToUpper(id), true},
		{"urn:uuid:" + id, false},
		{"{" + id + "}", false},
		{strings.ReplaceAll(id, "-", ""), false},
		{id[:35], false},
		{id + "0", false},
		{"0b7e2f4c-8c1a-4e55-9f1e-3c2d6a7b8e9g", false},
		{"0b7e2f4c_8c1a-4e55-9f1e-3c2d6a7b8e90", false},
		{"0b7e2f4c-8c1a-4e55-9f1e-3c2d6a7b8e\x00", false},
	}
	for _, tt := range tests {
		if got := CanonicalUUID(tt.in); got != tt.want {
			t.Errorf("CanonicalUUID(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		in    string
		n     int
		extra string // "-": DescribeToken with no extra characters
		want  string
	}{
		{"", 8, "", "an empty string"},
		{"a\x00b", 8, "", "a control character at character 2"},
		{"\x00", 8, "", "a control character at character 1"},
		{"결a\nb", 8, "", "a control character at character 3"},
		{"a\xffb", 8, "", "invalid UTF-8 at byte 2"},
		{"결"[:2], 8, "", "invalid UTF-8 at byte 1"},
		{"   ", 8, "", "only white space"},
		{"abcdefghi", 8, "", "9 characters"},
		{strings.Repeat("결", 9), 8, "", "9 characters"},
		{strings.Repeat("x", 1<<20), 256, "", "1048576 characters"},
		{"not a url", 1024, "", "a string of 9 characters"},
		{`a"b`, 8, "-", "a character outside that set at character 2"},
		{"imp_1/2", 64, "_", "a character outside that set at character 6"},
		{"é", 64, "_", "a character outside that set at character 1"},
		{strings.Repeat("k", 201), 200, "_", "201 characters"},
		{"abc", 64, "_", "a string of 3 characters"},
		{"x", 64, "", "a string of 1 character"},
		{"xy", 1, "", "2 characters"},
		{"x", 0, "", "1 character"},
	}
	for _, tt := range tests {
		got := Describe(tt.in, tt.n)
		if tt.extra != "" {
			got = DescribeToken(tt.in, tt.n, strings.TrimPrefix(tt.extra, "-"))
		}
		if got != tt.want {
			t.Errorf("Describe(%.20q, %d) (extra %q) = %q, want %q", tt.in, tt.n, tt.extra, got, tt.want)
		}
	}
}

// FuzzDescribe: a description never holds the text it describes, however
// it is escaped, beyond what the description's own words hold.
func FuzzDescribe(f *testing.F) {
	for _, s := range []string{"", "\x00", "a\xffb", `"quoted"`, "new\nline", strings.Repeat("m", 1<<20), "zqxjv"} {
		f.Add(s, 64)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		const marker = "zqxjv"
		for _, got := range []string{Describe(marker+s, n), DescribeToken(marker+s, n, "-_")} {
			if strings.Contains(got, marker) || len(got) > 64 || !Valid(got, 64) {
				t.Fatalf("Describe(%.40q, %d) = %q: it quotes the text or is not short, clean text", s, n, got)
			}
		}
	})
}

func TestQuote(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"", 8, `""`},
		{"abc", 8, `"abc"`},
		{"abcdefghij", 8, `"abcdefgh…"`},
		{"\x00", 8, `"\x00"`},
		{"a\xffb", 8, `"a\xffb"`},
		{"결제취소요청", 2, `"결제…"`},
		{strings.Repeat("x", 760<<10), 32, `"` + strings.Repeat("x", 32) + `…"`},
	}
	for _, tt := range tests {
		if got := Quote(tt.in, tt.n); got != tt.want {
			t.Errorf("Quote(%.20q, %d) = %s, want %s", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"plain text", 512, "plain text"},
		{"imp_uid \x00 not found", 512, "imp_uid \uFFFD not found"},
		{"bad \xff byte", 512, "bad \uFFFD byte"},
		{"keeps\ttab\nand newline", 512, "keeps\ttab\nand newline"},
		{"esc\x1b[31m", 512, "esc\uFFFD[31m"},
		{"abcdefghij", 6, "abc…"},
		{"abcdef", 6, "abcdef"},
		{"가나다라", 9, "가나…"},
		{"가나다", 9, "가나다"},
		{"가나다라", 8, "가…"},
		// Each invalid byte grows to three: the output is still bounded.
		{"\xff\xff\xff", 6, "\uFFFD…"},
		{"abc", 0, "abc"},
		{"abcd", 0, "…"},
	}
	for _, tt := range tests {
		if got := Clean(tt.in, tt.limit); got != tt.want {
			t.Errorf("Clean(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "a\x00b", "\xff\xfe", "가나다", "tab\tnl\n\r", strings.Repeat("é", 300)} {
		f.Add(s, 16)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		limit %= 1 << 12
		got := Clean(s, limit)
		if !utf8.ValidString(got) {
			t.Fatalf("Clean(%q, %d) = %q: invalid UTF-8", s, limit, got)
		}
		if len(got) > max(limit, len(Ellipsis)) {
			t.Fatalf("Clean(%q, %d) = %q: %d bytes", s, limit, got, len(got))
		}
		for _, r := range got {
			if r != '\t' && r != '\n' && unicode.IsControl(r) {
				t.Fatalf("Clean(%q, %d) = %q: control character %U", s, limit, got, r)
			}
		}
		if Valid(s, len(s)) && len(s) <= limit && got != s {
			t.Fatalf("Clean(%q, %d) = %q: changed valid text", s, limit, got)
		}
	})
}
