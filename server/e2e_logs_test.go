package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/paymentctl/paymentctl/sdk"
)

// logBuffer collects a server's logs; the server writes from many
// goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDuplicateRegistrationLogsNoSQL registers one payment twice: the
// second answer is a 409, and no SQL statement reaches the logs, at any
// level.
func TestDuplicateRegistrationLogsNoSQL(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn func(t *testing.T) string) {
		var logs logBuffer
		h := &harness{t: t, dsn: dsn(t), logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
		h.boot()
		t.Cleanup(h.stop)
		hist := paid(t, h, methods()[0], 10000)

		_, err := h.api.CreateHistory(context.Background(), sdk.HistoryCreate{
			Vendor: hist.Vendor, Source: hist.Source, Price: hist.Price, Password: testPassword, WebhookURL: h.webhookURL(),
		})
		if statusOf(err) != 409 {
			t.Fatalf("second registration: %v, want 409", err)
		}
		out := logs.String()
		// A query slower than the store's threshold is reported, with
		// placeholders and no values (a loaded machine makes some); any
		// other statement in the logs is a leak.
		var rest []string
		for _, line := range strings.Split(out, "\n") {
			if !strings.Contains(line, "SLOW SQL") {
				rest = append(rest, line)
			}
		}
		for _, sql := range []string{"INSERT", "SELECT", "UPDATE"} {
			if strings.Contains(strings.Join(rest, "\n"), sql) {
				t.Errorf("logs hold an SQL statement (%s):\n%s", sql, out)
			}
		}
		if !strings.Contains(out, "request refused") {
			t.Errorf("logs lack the refusal at debug level:\n%s", out)
		}
	})
}
