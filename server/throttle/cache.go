package throttle

import (
	"maps"
	"sync"
	"time"
)

// DefaultStatusTTL is how long Status answers from memory before it reads
// the store again.
const DefaultStatusTTL = time.Second

// maxCached bounds the addresses the status cache holds; past it, stale
// entries are dropped, and if none are, all of them.
const maxCached = 8192

// statusCache holds recent lockouts per client key, so the hot path
// (every encrypted request, mostly from a few service addresses) does not
// query the store each time. A lockout this process counts is noted at
// once; one counted by another instance is seen within the TTL, or at
// this process's next failure for the same scope, whose update returns it.
type statusCache struct {
	ttl time.Duration

	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	blocks  map[string]time.Time // never changed once stored: copied on write
	fetched time.Time
}

func newStatusCache(ttl time.Duration) *statusCache {
	return &statusCache{ttl: ttl, entries: make(map[string]cacheEntry)}
}

// get returns the key's lockouts if they were read less than the TTL
// before now.
func (c *statusCache) get(key string, now time.Time) (map[string]time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !c.fresh(e, now) {
		return nil, false
	}
	return e.blocks, true
}

// fresh reports whether e was read less than the TTL before now (and not
// after it: a clock that went back invalidates it too).
func (c *statusCache) fresh(e cacheEntry, now time.Time) bool {
	age := now.Sub(e.fetched)
	return age >= 0 && age < c.ttl
}

// put stores the key's lockouts as read from the store at now.
func (c *statusCache) put(key string, blocks map[string]time.Time, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= maxCached {
		maps.DeleteFunc(c.entries, func(_ string, e cacheEntry) bool { return !c.fresh(e, now) })
		if len(c.entries) >= maxCached {
			clear(c.entries)
		}
	}
	c.entries[key] = cacheEntry{blocks: blocks, fetched: now}
}

// note records a lockout of scope until until, counted by this process,
// in the key's entry if it has one; the store has it either way.
func (c *statusCache) note(key, scope string, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !until.After(e.blocks[scope]) {
		return
	}
	blocks := maps.Clone(e.blocks)
	if blocks == nil {
		blocks = make(map[string]time.Time, 1)
	}
	blocks[scope] = until
	c.entries[key] = cacheEntry{blocks: blocks, fetched: e.fetched}
}
