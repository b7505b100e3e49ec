// Package safetext keeps client-controlled text from doing harm: it checks
// what the API and the PG webhooks accept (Valid, Token, CanonicalUUID),
// says what is wrong with a refused one without quoting it (Describe,
// DescribeToken), bounds what a log excerpt holds of it (Quote), and makes
// any text safe for a log line, a River error record or a PostgreSQL text
// column (Clean).
//
// PostgreSQL refuses NUL in text and jsonb (SQLSTATE 22021, 22P05) and
// invalid UTF-8 (22021); a refused River completion fails the whole batch
// it was written in. A value that passed Valid, or went through Clean,
// can be neither.
package safetext

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Ellipsis marks where Quote and Clean cut a text.
const Ellipsis = "…"

// Valid reports whether s is valid UTF-8 without control characters (NUL,
// the rest of C0, DEL and C1, tabs and newlines included) and holds at most
// n characters (Unicode code points). The empty string is valid.
func Valid(s string, n int) bool {
	count := 0
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return false
			}
		}
		if unicode.IsControl(r) {
			return false
		}
		count++
		if count > n {
			return false
		}
	}
	return true
}

// Token reports whether s is 1 to n ASCII letters, digits or bytes of
// extra: the charset of an id a PG or a client chose.
func Token(s string, n int, extra string) bool {
	if s == "" || len(s) > n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c < utf8.RuneSelf && strings.IndexByte(extra, c) >= 0:
		default:
			return false
		}
	}
	return true
}

// CanonicalUUID reports whether s is a UUID in the canonical form the
// database stores: 36 characters, hex digits (either case) grouped 8-4-4-4-12
// by hyphens. uuid.Parse also takes "urn:uuid:", braces and the hyphenless
// form, which PostgreSQL's uuid type partly refuses.
func CanonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// Describe says what is wrong with s, a text Valid(s, n) refused, without
// quoting any of it: a refusal carries none of the sender's bytes back
// (to the sender, or to whatever shows or logs the message). It names the
// first fault found: "an empty string", "invalid UTF-8 at byte 3", "a
// control character at character 2", "65 characters" (over n), "only
// white space", else "a string of 5 characters" (for a value of the wrong
// form, such as a URL that is not one).
func Describe(s string, n int) string { return describe(s, n, nil) }

// DescribeToken is Describe for a text Token(s, n, extra) refused: it also
// names the first character outside the token's set ("a character outside
// that set at character 4").
func DescribeToken(s string, n int, extra string) string {
	return describe(s, n, func(r rune) bool {
		c := byte(r)
		return r < utf8.RuneSelf && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(extra, c) >= 0)
	})
}

// describe is Describe, with allowed (when not nil) the characters the
// text may hold.
func describe(s string, n int, allowed func(rune) bool) string {
	if s == "" {
		return "an empty string"
	}
	count := 0
	for i, r := range s {
		count++
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return fmt.Sprintf("invalid UTF-8 at byte %d", i+1)
			}
		}
		if unicode.IsControl(r) {
			return fmt.Sprintf("a control character at character %d", count)
		}
		if allowed != nil && !allowed(r) {
			return fmt.Sprintf("a character outside that set at character %d", count)
		}
	}
	chars := fmt.Sprintf("%d characters", count)
	if count == 1 {
		chars = "1 character"
	}
	switch {
	case count > n:
		return chars
	case strings.TrimSpace(s) == "":
		return "only white space"
	}
	return "a string of " + chars
}

// Quote returns s as a Go-quoted string literal of at most n of its
// characters, with Ellipsis inside the quotes when it was cut: safe to put
// in a log line whatever s holds, since control characters and invalid
// UTF-8 come out escaped. A client's refusal quotes nothing the client
// sent: it uses Describe.
func Quote(s string, n int) string {
	cut, more := prefix(s, n)
	q := strconv.Quote(cut)
	if more {
		q = q[:len(q)-1] + Ellipsis + `"`
	}
	return q
}

// prefix returns the first n characters of s (an invalid byte counts as
// one) and whether anything was left out.
func prefix(s string, n int) (string, bool) {
	i := 0
	for k := 0; k < n; k++ {
		if i >= len(s) {
			return s, false
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i], i < len(s)
}

// Clean returns s made safe for logs and stored error text: invalid UTF-8
// and control characters other than tab and newline become U+FFFD, and the
// result is cut to at most limit bytes (at a character boundary, ending in
// Ellipsis when cut); a limit below len(Ellipsis) counts as len(Ellipsis).
func Clean(s string, limit int) string {
	limit = max(limit, len(Ellipsis))
	var b strings.Builder
	// fit is the longest output so far that leaves room for Ellipsis.
	fit := 0
	// An invalid byte comes out of range as utf8.RuneError.
	for _, r := range s {
		if r != '\t' && r != '\n' && unicode.IsControl(r) {
			r = utf8.RuneError
		}
		if b.Len()+utf8.RuneLen(r) > limit {
			return b.String()[:fit] + Ellipsis
		}
		b.WriteRune(r)
		if b.Len() <= limit-len(Ellipsis) {
			fit = b.Len()
		}
	}
	return b.String()
}
