// Package throttle limits how often a client may fail: wrong record
// passwords, counted per client address and record and per client address
// across all records, and request bodies that do not decrypt, counted per
// client address. A client over a limit is refused (429, Retry-After) until
// its lockout ends, before the password is checked or the body decrypted.
//
// Counting per (address, record) means an attacker cannot lock the
// legitimate service out of a record: the service's own address has its
// own counter. The per-address count across records bounds what one
// address can do to many records, and with it the number of counters it
// can create. IPv6 addresses are counted by their /64, which one host or
// one customer of a provider usually has whole.
//
// A client is an address, or a service's address (ServiceClient): the
// services of a hub that share an address (one NAT, one host) are
// counted apart, so one service's failures never lock another out.
//
// A counter allows Policy.Failures failures (Policy.AddressFailures for the
// per-address one) in a window of Policy.Window that starts at the first;
// the failure that reaches the limit locks the scope out for a window, and
// every further lockout within a day lasts twice the one before, up to
// Policy.MaxLockout. With the defaults: 10 wrong passwords for a record in
// 10 minutes, then 10 minutes of 429, then 20, 40, … up to a day.
//
// The counters live in the database (a Store, *store.Store in production),
// so every instance on a PostgreSQL database shares them, and they outlive
// restarts and hot updates on SQLite too. Only failures write. Checking
// (Limiter.Status) reads an address's lockouts with one indexed query and
// keeps them in memory for Options.StatusTTL (a second), so the services'
// own requests cost no query most of the time: a lockout counted by this
// process applies at once, one counted by another instance within the TTL
// or at this instance's next failure for it. A check and the count that
// follows are not one atomic step either: requests already in flight when
// a limit is reached are still answered. Expired counters are deleted by
// Limiter.Prune.
package throttle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/paymentctl/paymentctl/server/store"
)

// Reason names the limit that refused a request. The values are the
// metrics label of throttled requests, so there are only these.
type Reason string

// The reasons.
const (
	// Password is too many wrong passwords for one record from one client
	// address.
	Password Reason = "password"
	// Address is too many wrong passwords for any records from one client
	// address.
	Address Reason = "address"
	// Decrypt is too many request bodies from one client address that did
	// not decrypt.
	Decrypt Reason = "decrypt"
)

// Reasons lists every Reason.
func Reasons() []Reason { return []Reason{Password, Address, Decrypt} }

// The counters' scopes: all of an address's wrong passwords, its bodies
// that did not decrypt, and the prefix of one record's.
const (
	scopeAddress = "password"
	scopeDecrypt = "decrypt"
	scopeRecord  = "password:"
)

// Default limits (see the package documentation).
const (
	DefaultFailures        = 10
	DefaultAddressFailures = 100
	DefaultWindow          = 10 * time.Minute
	DefaultMaxLockout      = 24 * time.Hour
)

// Policy sets the limits; a zero field takes its default.
type Policy struct {
	// Failures is how many wrong passwords for one record, or bodies that
	// do not decrypt, one client address may send within Window.
	Failures int
	// AddressFailures is how many wrong passwords, for any records, one
	// client address may send within Window.
	AddressFailures int
	// Window is the counting window and the first lockout.
	Window time.Duration
	// MaxLockout caps the doubling lockouts; counters are also remembered
	// for this long after their last window, so lockouts keep doubling.
	MaxLockout time.Duration
}

// withDefaults fills the zero fields.
func (p Policy) withDefaults() Policy {
	if p.Failures <= 0 {
		p.Failures = DefaultFailures
	}
	if p.AddressFailures <= 0 {
		p.AddressFailures = DefaultAddressFailures
	}
	if p.Window <= 0 {
		p.Window = DefaultWindow
	}
	if p.MaxLockout <= 0 {
		p.MaxLockout = DefaultMaxLockout
	}
	return p
}

// count applies one failure at now to c under limit.
func (p Policy) count(c *store.ThrottleCounter, limit int, now time.Time) {
	if !now.Before(c.WindowStart.Add(p.Window)) {
		c.WindowStart, c.Failures = now, 0
	}
	c.Failures++
	if c.Failures >= limit {
		c.Lockouts++
		c.BlockedUntil = now.Add(p.lockout(c.Lockouts))
		// The next window opens when the lockout ends.
		c.WindowStart, c.Failures = c.BlockedUntil, 0
	}
	c.ExpiresAt = c.WindowStart.Add(p.Window).Add(p.MaxLockout)
}

// lockout is the length of the nth lockout: Window, doubled each time, at
// most MaxLockout.
func (p Policy) lockout(n int) time.Duration {
	d := p.Window
	for i := 1; i < n && d < p.MaxLockout; i++ {
		d *= 2
	}
	return min(d, p.MaxLockout)
}

// Store keeps the counters; *store.Store implements it.
type Store interface {
	ThrottleBlocks(ctx context.Context, address string, now time.Time) (map[string]time.Time, error)
	UpdateThrottleCounter(ctx context.Context, address, scope string, update func(*store.ThrottleCounter)) (store.ThrottleCounter, error)
	ExpireThrottleCounters(ctx context.Context, now time.Time) (int64, error)
}

// Options configure a Limiter.
type Options struct {
	// Store keeps the counters. Required.
	Store Store
	// Policy sets the limits; zero fields take the defaults.
	Policy Policy
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives Prune's reports; nil discards them.
	Logger *slog.Logger
	// StatusTTL is how long Status answers from memory; zero means
	// DefaultStatusTTL, a negative value always reads the store.
	StatusTTL time.Duration
}

// Limiter counts failures and says who is locked out. It is safe for
// concurrent use.
type Limiter struct {
	store  Store
	policy Policy
	now    func() time.Time
	log    *slog.Logger
	cache  *statusCache
}

// New returns a Limiter.
func New(o Options) (*Limiter, error) {
	if o.Store == nil {
		return nil, fmt.Errorf("throttle: a store is required")
	}
	ttl := o.StatusTTL
	if ttl == 0 {
		ttl = DefaultStatusTTL
	}
	l := &Limiter{store: o.Store, policy: o.Policy.withDefaults(), now: o.Now, log: o.Logger, cache: newStatusCache(ttl)}
	if l.now == nil {
		l.now = time.Now
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	return l, nil
}

// Policy returns the limits in force, defaults filled in.
func (l *Limiter) Policy() Policy { return l.policy }

// Verdict is whether a request may go ahead.
type Verdict struct {
	// Reason is the limit that refused it; empty when it may go ahead.
	Reason Reason
	// RetryAfter is how long until the lockout ends; zero when it may go
	// ahead.
	RetryAfter time.Duration
}

// Throttled reports whether the request is refused.
func (v Verdict) Throttled() bool { return v.RetryAfter > 0 }

// Status is what is locked out for one client address at one moment.
type Status struct {
	blocks map[string]time.Time
	now    time.Time
}

// Status returns the lockouts of the client at address (an IP address as
// the HTTP layer sees it), for every check of one request: from memory
// when read less than the StatusTTL ago, else with one query.
func (l *Limiter) Status(ctx context.Context, address string) (*Status, error) {
	now := l.now()
	key := clientKey(address)
	if blocks, ok := l.cache.get(key, now); ok {
		return &Status{blocks: blocks, now: now}, nil
	}
	blocks, err := l.store.ThrottleBlocks(ctx, key, now)
	if err != nil {
		return nil, fmt.Errorf("throttle: %w", err)
	}
	l.cache.put(key, blocks, now)
	return &Status{blocks: blocks, now: now}, nil
}

// Password is the verdict on checking the password of record, an
// identifier of the record that is the same however it is looked up and
// distinct from every other record's.
func (s *Status) Password(record string) Verdict {
	v := s.verdict(Password, recordScope(record))
	if a := s.verdict(Address, scopeAddress); a.RetryAfter > v.RetryAfter {
		v = a
	}
	return v
}

// Decrypt is the verdict on decrypting a request body.
func (s *Status) Decrypt() Verdict { return s.verdict(Decrypt, scopeDecrypt) }

func (s *Status) verdict(r Reason, scope string) Verdict {
	if until, ok := s.blocks[scope]; ok && until.After(s.now) {
		return Verdict{Reason: r, RetryAfter: until.Sub(s.now)}
	}
	return Verdict{}
}

// FailPassword counts a wrong password for record from the client at
// address, against the record and against the address.
func (l *Limiter) FailPassword(ctx context.Context, address, record string) error {
	key := clientKey(address)
	if err := l.fail(ctx, key, recordScope(record), l.policy.Failures); err != nil {
		return err
	}
	return l.fail(ctx, key, scopeAddress, l.policy.AddressFailures)
}

// FailDecrypt counts a request body from the client at address that did
// not decrypt.
func (l *Limiter) FailDecrypt(ctx context.Context, address string) error {
	return l.fail(ctx, clientKey(address), scopeDecrypt, l.policy.Failures)
}

func (l *Limiter) fail(ctx context.Context, key, scope string, limit int) error {
	now := l.now()
	c, err := l.store.UpdateThrottleCounter(ctx, key, scope, func(c *store.ThrottleCounter) {
		l.policy.count(c, limit, now)
	})
	if err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	// This failure or another instance's may have locked the scope out.
	if c.BlockedUntil.After(now) {
		l.cache.note(key, scope, c.BlockedUntil)
	}
	return nil
}

// Expire deletes the counters that are over and returns how many.
func (l *Limiter) Expire(ctx context.Context) (int64, error) {
	n, err := l.store.ExpireThrottleCounters(ctx, l.now())
	if err != nil {
		return 0, fmt.Errorf("throttle: %w", err)
	}
	return n, nil
}

// PruneInterval is how often Prune deletes expired counters.
const PruneInterval = 10 * time.Minute

// Prune deletes expired counters now and then every PruneInterval until
// ctx ends, so the table holds only live counters.
func (l *Limiter) Prune(ctx context.Context) {
	t := time.NewTicker(PruneInterval)
	defer t.Stop()
	for {
		if n, err := l.Expire(ctx); err != nil && ctx.Err() == nil {
			l.log.Warn("expire throttle counters", "err", err)
		} else if n > 0 {
			l.log.Debug("expired throttle counters", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// recordScope is the scope of one record's password: a digest, so that a
// long or odd identifier makes a short key.
func recordScope(record string) string {
	sum := sha256.Sum256([]byte(record))
	return scopeRecord + hex.EncodeToString(sum[:16])
}

// serviceSeparator joins a service's name and an address in a client
// (ServiceClient); neither holds it.
const serviceSeparator = "|"

// ServiceClient is the client the Limiter counts a request of the named
// service from address under: its own counters, apart from those of other
// services and of requests without a service (service "": the address
// alone, as before services existed).
func ServiceClient(service, address string) string {
	if service == "" {
		return address
	}
	return service + serviceSeparator + address
}

// clientKey is the address failures are counted under: an IPv4 address (an
// IPv4-mapped IPv6 one too) as it is, an IPv6 address as its /64 prefix,
// anything else as "invalid"; for a ServiceClient, the service's name and
// that.
func clientKey(address string) string {
	if service, addr, ok := strings.Cut(address, serviceSeparator); ok {
		return service + serviceSeparator + clientKey(addr)
	}
	ip, err := netip.ParseAddr(address)
	if err != nil {
		return "invalid"
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return ip.String()
	}
	p, err := ip.Prefix(64)
	if err != nil {
		return "invalid"
	}
	return p.String()
}
