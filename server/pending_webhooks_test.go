package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/server/metrics"
	"github.com/paymentctl/paymentctl/server/store"
)

// stepClock is a clock the test moves.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestSweepPendingWebhooks: the sweep deletes pending webhooks older than
// the TTL and sets the gauge to the number left.
func TestSweepPendingWebhooks(t *testing.T) {
	ctx := context.Background()
	clock := &stepClock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "payments.db"), store.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := Migrate(ctx, st); err != nil {
		t.Fatal(err)
	}
	keep := func(uid string) {
		t.Helper()
		if err := st.KeepPendingWebhook(ctx, &store.PendingWebhook{VendorCode: "iamport", VendorUID: uid, Data: "v1.k1.x"}); err != nil {
			t.Fatal(err)
		}
	}
	keep("imp_forged_1")
	keep("imp_forged_2")
	clock.Advance(store.DefaultPendingWebhookTTL - time.Hour)
	keep("imp_recent")

	a := &App{Store: st, Metrics: metrics.New(), log: slog.New(slog.DiscardHandler)}
	gauge := func() string {
		t.Helper()
		rec := httptest.NewRecorder()
		a.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		for line := range strings.SplitSeq(rec.Body.String(), "\n") {
			if strings.HasPrefix(line, "paymentctl_pending_webhooks ") {
				return line
			}
		}
		return ""
	}
	for _, tc := range []struct {
		advance time.Duration
		want    string
	}{
		{0, "paymentctl_pending_webhooks 3"},
		{2 * time.Hour, "paymentctl_pending_webhooks 1"},
		{store.DefaultPendingWebhookTTL, "paymentctl_pending_webhooks 0"},
	} {
		clock.Advance(tc.advance)
		a.sweepPendingOnce(ctx)
		if got := gauge(); got != tc.want {
			t.Errorf("after %v more: gauge %q, want %q", tc.advance, got, tc.want)
		}
	}
}
