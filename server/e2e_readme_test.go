package server_test

import (
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestREADMETestReceiverLine: the README's "Two commands" section says
// which line of the server's log shows the deposit it walks through (a
// Toss virtual account, paid). A server logging as text writes that line,
// field for field ("…" stands for a value).
func TestREADMETestReceiverLine(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	quoted := regexp.MustCompile("`(msg=\"test receiver got a webhook event\"[^`]*)`").FindSubmatch(readme)
	if quoted == nil {
		t.Fatal("README.md no longer quotes the test receiver's log line")
	}
	parts := strings.Split(string(quoted[1]), "…")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	want := regexp.MustCompile(`level=INFO ` + strings.Join(parts, `\S+`))

	var logs logBuffer
	h := &harness{t: t, dsn: backends()[0].dsn(t), logger: slog.New(slog.NewTextHandler(&logs, nil))}
	h.boot()
	t.Cleanup(h.stop)
	var tossVBank *method
	for _, m := range methods() {
		if m.name == "toss_vbank" {
			tossVBank = &m
		}
	}
	if tossVBank == nil {
		t.Fatal("no toss_vbank payment method")
	}
	paid(t, h, *tossVBank, 19900)

	// The receiver logs after it has stored the event paid waited for.
	deadline := time.Now().Add(eventWaitTimeout)
	for {
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, "test receiver got a webhook event") && !strings.Contains(line, "paid_at=<nil>") {
				if !want.MatchString(line) {
					t.Errorf("the test receiver logged\n%s\nwhich is not the README's\n%s", line, quoted[1])
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no test receiver line with paid_at in:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
