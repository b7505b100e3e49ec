package iamport

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Amount is a sum of money in the currency's smallest unit (won for KRW).
//
// Iamport sends amounts as JSON numbers. Amount accepts integers and
// integral floats (1000, 1000.0, 1e3) and refuses fractions, strings and
// values outside int64, so callers only ever see whole numbers. null decodes
// as 0.
type Amount int64

// UnmarshalJSON decodes a JSON number that has no fractional part.
func (a *Amount) UnmarshalJSON(b []byte) error {
	n, err := parseWhole(b, false)
	if err != nil {
		return fmt.Errorf("amount: %w", err)
	}
	*a = Amount(n)
	return nil
}

// Timestamp is a Unix time in seconds as Iamport sends it; 0 means "not set".
//
// The real API sends integers; the original TypeScript fake sent fractional
// seconds, which are truncated. null decodes as 0.
type Timestamp int64

// UnmarshalJSON decodes a JSON number, truncating any fraction.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	n, err := parseWhole(b, true)
	if err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	*t = Timestamp(n)
	return nil
}

// Time converts t to a time.Time; the zero Timestamp gives the zero time.
func (t Timestamp) Time() time.Time {
	if t == 0 {
		return time.Time{}
	}
	return time.Unix(int64(t), 0)
}

// TimestampOf converts a time to a Timestamp; the zero time gives 0.
func TimestampOf(t time.Time) Timestamp {
	if t.IsZero() {
		return 0
	}
	return Timestamp(t.Unix())
}

var errNotNumber = errors.New("not a JSON number")

// parseWhole parses a JSON number token into an int64. With truncate false a
// fractional value is an error; with truncate true it is cut towards zero.
func parseWhole(b []byte, truncate bool) (int64, error) {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return 0, nil
	}
	if len(b) == 0 || !(b[0] == '-' || (b[0] >= '0' && b[0] <= '9')) {
		return 0, fmt.Errorf("%w: %.20s", errNotNumber, b)
	}
	s := string(b)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%w: %.20s", errNotNumber, s)
	}
	if f >= math.MaxInt64 || f < math.MinInt64 {
		return 0, fmt.Errorf("%s is out of range", s)
	}
	if w := math.Trunc(f); w != f {
		if !truncate {
			return 0, fmt.Errorf("%s is not a whole number", s)
		}
		f = w
	}
	return int64(f), nil
}
