package metrics

import (
	"strings"
	"testing"
)

func TestThrottled(t *testing.T) {
	m := New()
	th, err := m.NewThrottled("password", "decrypt")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"password", "password", "made-up", "another made-up"} {
		th.Inc(r)
	}
	out := scrape(t, m)
	for _, want := range []string{
		`paymentctl_throttled_requests_total{reason="password"} 2`,
		`paymentctl_throttled_requests_total{reason="decrypt"} 0`,
		`paymentctl_throttled_requests_total{reason="other"} 2`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if _, err := m.NewThrottled("password"); err == nil {
		t.Error("a second NewThrottled on the same Metrics succeeded, want an error")
	}
}
