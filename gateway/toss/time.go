package toss

import (
	"fmt"
	"time"
)

// kst returns Korea Standard Time (UTC+9, no daylight saving), the zone of
// every Toss timestamp.
func kst() *time.Location {
	return time.FixedZone("KST", 9*60*60)
}

// Layouts of the timestamps Toss sends.
const (
	// TimeLayout is the payment and cancel timestamp: ISO 8601 with the
	// +09:00 offset.
	TimeLayout = "2006-01-02T15:04:05-07:00"
	// WebhookTimeLayout is a webhook's createdAt: KST without a zone, with
	// microseconds.
	WebhookTimeLayout = "2006-01-02T15:04:05.000000"
)

// FormatTime writes t as the real API does (TimeLayout, in KST).
func FormatTime(t time.Time) string {
	return t.In(kst()).Format(TimeLayout)
}

// FormatWebhookTime writes t as a webhook's createdAt (WebhookTimeLayout, in
// KST).
func FormatWebhookTime(t time.Time) string {
	return t.In(kst()).Format(WebhookTimeLayout)
}

// ParseTime reads a Toss timestamp: RFC 3339 with an offset or Z (real API,
// latest fake), a zone-less date-time taken as KST (webhook createdAt), or a
// bare date taken as KST midnight (the SDK's dueDate).
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, kst()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("parse toss time %q: unknown layout", s)
}
