package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestThrottleCounterLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		ctx := context.Background()
		now := clock.Now()
		blocks, err := s.ThrottleBlocks(ctx, "192.0.2.1", now)
		if err != nil || len(blocks) != 0 {
			t.Fatalf("ThrottleBlocks on an empty table = %v, %v; want none", blocks, err)
		}

		var seen ThrottleCounter
		got, err := s.UpdateThrottleCounter(ctx, "192.0.2.1", "password:a", func(c *ThrottleCounter) {
			seen = *c
			c.Failures, c.WindowStart, c.ExpiresAt = 1, now, now.Add(time.Hour)
		})
		if err != nil {
			t.Fatalf("first update: %v", err)
		}
		if seen.Address != "192.0.2.1" || seen.Scope != "password:a" || seen.Failures != 0 || seen.Lockouts != 0 || !seen.BlockedUntil.IsZero() {
			t.Errorf("a new counter was shown to the update as %+v, want a zero count", seen)
		}
		if got.Failures != 1 {
			t.Errorf("first update returned %+v", got)
		}

		until := now.Add(10 * time.Minute)
		got, err = s.UpdateThrottleCounter(ctx, "192.0.2.1", "password:a", func(c *ThrottleCounter) {
			seen = *c
			c.Failures, c.Lockouts, c.BlockedUntil = 0, 1, until
		})
		if err != nil {
			t.Fatalf("second update: %v", err)
		}
		want := ThrottleCounter{Address: "192.0.2.1", Scope: "password:a", Failures: 1,
			WindowStart: stamp(now), ExpiresAt: stamp(now.Add(time.Hour))}
		if diff := cmp.Diff(want, seen); diff != "" {
			t.Errorf("stored counter (-want +got):\n%s", diff)
		}

		// Another scope and another address do not interfere.
		if _, err := s.UpdateThrottleCounter(ctx, "192.0.2.1", "decrypt", func(c *ThrottleCounter) { c.Failures = 3 }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateThrottleCounter(ctx, "192.0.2.2", "password:a", func(c *ThrottleCounter) { c.BlockedUntil = until }); err != nil {
			t.Fatal(err)
		}
		blocks, err = s.ThrottleBlocks(ctx, "192.0.2.1", now)
		if diff := cmp.Diff(map[string]time.Time{"password:a": stamp(until)}, blocks); err != nil || diff != "" {
			t.Errorf("ThrottleBlocks (-want +got), err %v:\n%s", err, diff)
		}
		if blocks, err = s.ThrottleBlocks(ctx, "192.0.2.1", until); err != nil || len(blocks) != 0 {
			t.Errorf("ThrottleBlocks when the lockout ends = %v, %v; want none", blocks, err)
		}

		// Expiry drops the counters whose time is up, and only those.
		n, err := s.ExpireThrottleCounters(ctx, now.Add(30*time.Minute))
		if err != nil || n != 2 { // the decrypt and the 192.0.2.2 counters never set ExpiresAt
			t.Fatalf("ExpireThrottleCounters = %d, %v; want 2", n, err)
		}
		if n, err = s.ExpireThrottleCounters(ctx, now.Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("ExpireThrottleCounters at the hour = %d, %v; want 1", n, err)
		}
	})
}

// TestThrottleCounterConcurrent counts from many goroutines at once, each
// on its own connection: no increment is lost, the first included.
func TestThrottleCounterConcurrent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store, clock *testClock) {
		ctx := context.Background()
		const n = 12
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				_, err := s.UpdateThrottleCounter(ctx, "2001:db8::/64", "decrypt", func(c *ThrottleCounter) {
					c.Failures++
					c.ExpiresAt = clock.Now().Add(time.Hour)
				})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.UpdateThrottleCounter(ctx, "2001:db8::/64", "decrypt", func(*ThrottleCounter) {})
		if err != nil || got.Failures != n {
			t.Errorf("after %d concurrent increments: %+v, %v", n, got, err)
		}
	})
}
