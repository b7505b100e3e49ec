package throttle

import (
	"context"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/internal/pgschema"
	"github.com/paymentctl/paymentctl/server/store"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// forEachStore runs fn on a fresh, migrated store per database: SQLite,
// and PostgreSQL when pgschema.EnvTestDSN is set.
func forEachStore(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	type backend struct {
		name string
		dsn  func(t *testing.T) string
	}
	backends := []backend{{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "payments.db") }}}
	if base := pgschema.TestDSN(); base != "" {
		backends = append(backends, backend{"postgres", func(t *testing.T) string { return pgschema.ForTest(t, base, "t_throttle_") }})
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st, err := store.Open(ctx, b.dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			fn(t, st)
		})
	}
}

func newLimiter(t *testing.T, st Store, p Policy) (*Limiter, *clock) {
	t.Helper()
	c := &clock{now: time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)}
	l, err := New(Options{Store: st, Policy: p, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return l, c
}

// verdict reads the client's status and applies check to it.
func verdict(t *testing.T, l *Limiter, address string, check func(*Status) Verdict) Verdict {
	t.Helper()
	s, err := l.Status(context.Background(), address)
	if err != nil {
		t.Fatal(err)
	}
	return check(s)
}

func password(record string) func(*Status) Verdict {
	return func(s *Status) Verdict { return s.Password(record) }
}

func failPasswords(t *testing.T, l *Limiter, address, record string, n int) {
	t.Helper()
	for range n {
		if err := l.FailPassword(context.Background(), address, record); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPasswordLockoutBacksOff(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		l, clk := newLimiter(t, st, Policy{})
		const attacker, service = "203.0.113.7", "198.51.100.1"

		failPasswords(t, l, attacker, "history a", DefaultFailures-1)
		if v := verdict(t, l, attacker, password("history a")); v.Throttled() {
			t.Fatalf("after %d failures: %+v, want allowed", DefaultFailures-1, v)
		}
		failPasswords(t, l, attacker, "history a", 1)
		want := Verdict{Reason: Password, RetryAfter: DefaultWindow}
		if v := verdict(t, l, attacker, password("history a")); v != want {
			t.Fatalf("after %d failures: %+v, want %+v", DefaultFailures, v, want)
		}
		// Other records, other addresses and the address's bodies are free.
		for name, v := range map[string]Verdict{
			"another record":        verdict(t, l, attacker, password("history b")),
			"the service's address": verdict(t, l, service, password("history a")),
			"decryption":            verdict(t, l, attacker, (*Status).Decrypt),
		} {
			if v.Throttled() {
				t.Errorf("%s: %+v, want allowed", name, v)
			}
		}

		clk.Advance(DefaultWindow - time.Second)
		if v := verdict(t, l, attacker, password("history a")); v.RetryAfter != time.Second {
			t.Errorf("a second before the end: %+v, want 1s left", v)
		}
		// Each further lockout lasts twice as long, up to a day.
		for _, lockout := range []time.Duration{20 * time.Minute, 40 * time.Minute, 80 * time.Minute, 160 * time.Minute, 320 * time.Minute, 640 * time.Minute, 1280 * time.Minute, 24 * time.Hour, 24 * time.Hour} {
			clk.Advance(time.Second)
			if v := verdict(t, l, attacker, password("history a")); v.Throttled() {
				t.Fatalf("when the lockout ended: %+v", v)
			}
			failPasswords(t, l, attacker, "history a", DefaultFailures)
			if v := verdict(t, l, attacker, password("history a")); v.RetryAfter != lockout {
				t.Fatalf("next lockout: %+v, want %s", v, lockout)
			}
			clk.Advance(lockout - time.Second)
		}
	})
}

func TestWindowForgetsOldFailures(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		l, clk := newLimiter(t, st, Policy{})
		failPasswords(t, l, "203.0.113.7", "r", DefaultFailures-1)
		clk.Advance(DefaultWindow)
		failPasswords(t, l, "203.0.113.7", "r", DefaultFailures-1)
		if v := verdict(t, l, "203.0.113.7", password("r")); v.Throttled() {
			t.Errorf("%d failures in each of two windows: %+v, want allowed", DefaultFailures-1, v)
		}
	})
}

func TestAddressCapAcrossRecords(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		l, _ := newLimiter(t, st, Policy{AddressFailures: 3})
		for _, r := range []string{"r1", "r2", "r3"} {
			failPasswords(t, l, "203.0.113.7", r, 1)
		}
		want := Verdict{Reason: Address, RetryAfter: DefaultWindow}
		if v := verdict(t, l, "203.0.113.7", password("a record never tried")); v != want {
			t.Errorf("after 3 records: %+v, want %+v", v, want)
		}
		if v := verdict(t, l, "198.51.100.1", password("r1")); v.Throttled() {
			t.Errorf("another address: %+v, want allowed", v)
		}
	})
}

func TestDecryptFailures(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		l, clk := newLimiter(t, st, Policy{Failures: 2})
		ctx := context.Background()
		for range 2 {
			if err := l.FailDecrypt(ctx, "2001:db8:1:2::7"); err != nil {
				t.Fatal(err)
			}
		}
		// The whole /64 is one client; the next /64 is another.
		want := Verdict{Reason: Decrypt, RetryAfter: DefaultWindow}
		if v := verdict(t, l, "2001:db8:1:2:ffff::1", (*Status).Decrypt); v != want {
			t.Errorf("same /64: %+v, want %+v", v, want)
		}
		if v := verdict(t, l, "2001:db8:1:3::7", (*Status).Decrypt); v.Throttled() {
			t.Errorf("next /64: %+v, want allowed", v)
		}
		if v := verdict(t, l, "2001:db8:1:2::7", password("r")); v.Throttled() {
			t.Errorf("passwords after decryption failures: %+v, want allowed", v)
		}

		// Counters go once their lockout, window and memory are over.
		if n, err := l.Expire(ctx); err != nil || n != 0 {
			t.Errorf("Expire during the lockout = %d, %v; want 0", n, err)
		}
		clk.Advance(2*DefaultWindow + DefaultMaxLockout)
		if n, err := l.Expire(ctx); err != nil || n != 1 {
			t.Errorf("Expire after a day = %d, %v; want 1", n, err)
		}
	})
}

// TestServicesCountedApart: two services behind one address have their
// own counters; one failing locks out neither the other nor requests
// without a service.
func TestServicesCountedApart(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		l, _ := newLimiter(t, st, Policy{Failures: 2})
		ctx := context.Background()
		shop, billing := ServiceClient("shop", "203.0.113.7"), ServiceClient("billing", "203.0.113.7")
		for range 2 {
			if err := l.FailDecrypt(ctx, shop); err != nil {
				t.Fatal(err)
			}
		}
		if v := verdict(t, l, shop, (*Status).Decrypt); !v.Throttled() {
			t.Errorf("shop after its failures: %+v, want throttled", v)
		}
		for _, other := range []string{billing, "203.0.113.7"} {
			if v := verdict(t, l, other, (*Status).Decrypt); v.Throttled() {
				t.Errorf("%s after shop's failures: %+v, want allowed", other, v)
			}
		}
	})
}

func TestClientKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
		{"", "invalid"},
		{"not an address", "invalid"},
		{ServiceClient("shop", "2001:db8:1:2:3:4:5:6"), "shop|2001:db8:1:2::/64"},
		{ServiceClient("shop", "::ffff:192.0.2.1"), "shop|192.0.2.1"},
		{ServiceClient("", "192.0.2.1"), "192.0.2.1"},
		{ServiceClient("shop", "nonsense"), "shop|invalid"},
	}
	for _, tt := range tests {
		if got := clientKey(tt.in); got != tt.want {
			t.Errorf("clientKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLockoutLengths(t *testing.T) {
	p := Policy{Window: time.Minute, MaxLockout: 5 * time.Minute}.withDefaults()
	tests := []struct {
		n    int
		want time.Duration
	}{{1, time.Minute}, {2, 2 * time.Minute}, {3, 4 * time.Minute}, {4, 5 * time.Minute}, {1000, 5 * time.Minute}}
	for _, tt := range tests {
		if got := p.lockout(tt.n); got != tt.want {
			t.Errorf("lockout(%d) = %s, want %s", tt.n, got, tt.want)
		}
	}
}

// TestInstancesShareLockouts runs two limiters, as two instances, on one
// store: a lockout counted by one reaches the other within the status
// TTL, or at once on the other's next failure for it.
func TestInstancesShareLockouts(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		a, clk := newLimiter(t, st, Policy{})
		b, err := New(Options{Store: st, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		const attacker = "203.0.113.7"
		// b has read the attacker's (empty) status.
		if v := verdict(t, b, attacker, password("r")); v.Throttled() {
			t.Fatalf("before any failure: %+v", v)
		}
		failPasswords(t, a, attacker, "r", DefaultFailures)
		if v := verdict(t, a, attacker, password("r")); !v.Throttled() {
			t.Errorf("instance a after the lockout: %+v, want throttled", v)
		}
		if v := verdict(t, b, attacker, password("r")); v.Throttled() {
			t.Errorf("instance b within its status TTL: %+v; the cache was not used", v)
		}
		clk.Advance(DefaultStatusTTL)
		if v := verdict(t, b, attacker, password("r")); !v.Throttled() {
			t.Errorf("instance b after its status TTL: %+v, want throttled", v)
		}

		// Another record: b learns of a's lockout from its own next failure.
		failPasswords(t, a, attacker, "s", DefaultFailures)
		failPasswords(t, b, attacker, "s", 1)
		if v := verdict(t, b, attacker, password("s")); !v.Throttled() {
			t.Errorf("instance b after its own failure: %+v, want throttled", v)
		}
	})
}

func TestStatusCacheBounded(t *testing.T) {
	c := newStatusCache(time.Minute)
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	var last string
	for i := range maxCached + 10 {
		last = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()
		c.put(last, nil, now)
	}
	if n := len(c.entries); n > maxCached {
		t.Errorf("cache holds %d entries, want at most %d", n, maxCached)
	}
	if _, ok := c.get(last, now.Add(time.Minute-time.Nanosecond)); !ok {
		t.Error("the latest entry was not served within the TTL")
	}
	if _, ok := c.get(last, now.Add(time.Minute)); ok {
		t.Error("an entry as old as the TTL was served")
	}
}
