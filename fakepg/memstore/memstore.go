// Package memstore is the in-memory record store of the fake payment
// gateways: a bounded, expiring, concurrency-safe map.
//
// It replaces the VolatileMap of the original TypeScript fakes and fixes its
// two surprises (fake-pg.md §1.1, §8.11): expiry is checked on every read, not
// only when another record is inserted, and capacity eviction removes expired
// records first and then the oldest-inserted live one. A record lives TTL
// after its last write (Set or Update). A key that is Set again also moves to
// the newest position, so it is never evicted on the schedule of its first
// insertion; Update keeps the position.
package memstore

import (
	"container/list"
	"errors"
	"sync"
	"time"
)

// ErrNotFound is returned by Update when the key is absent or expired.
var ErrNotFound = errors.New("not found")

// Default limits used when Options leaves them zero. They match the original
// fakes; the fakes built on this package pass more generous values.
const (
	DefaultTTL      = 3 * time.Minute
	DefaultCapacity = 1000
)

// Options configures a Map.
type Options struct {
	// TTL is how long a record lives after its last write. Zero means
	// DefaultTTL; a negative value means records never expire.
	TTL time.Duration
	// Capacity bounds the number of records. Zero means DefaultCapacity;
	// a negative value means unbounded. When a new key is Set into a full
	// map, expired records are dropped and, if it is still full, the
	// oldest-inserted record is evicted.
	Capacity int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Map is a bounded, expiring map safe for concurrent use. Create it with New;
// the zero value is not usable.
type Map[K comparable, V any] struct {
	mu       sync.Mutex
	ttl      time.Duration
	capacity int
	now      func() time.Time
	items    map[K]*list.Element // values are *entry[K, V]
	order    *list.List          // insertion order, oldest at the front
}

type entry[K comparable, V any] struct {
	key     K
	value   V
	expires time.Time // zero: never
}

// New returns an empty Map configured by opts.
func New[K comparable, V any](opts Options) *Map[K, V] {
	m := &Map[K, V]{
		ttl:      opts.TTL,
		capacity: opts.Capacity,
		now:      opts.Now,
		items:    make(map[K]*list.Element),
		order:    list.New(),
	}
	if m.ttl == 0 {
		m.ttl = DefaultTTL
	}
	if m.capacity == 0 {
		m.capacity = DefaultCapacity
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m
}

// Get returns the value stored under k. It reports false if k is absent or
// its record has expired; an expired record is removed.
func (m *Map[K, V]) Get(k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.live(k, m.now())
	if !ok {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Set inserts v under k, or replaces the value already there. Either way the
// record becomes the newest one and its expiry restarts from now.
func (m *Map[K, V]) Set(k K, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.purge(now)
	if el, ok := m.items[k]; ok {
		m.order.Remove(el)
		delete(m.items, k)
	}
	if m.capacity > 0 && m.order.Len() >= m.capacity {
		m.sweep(now)
		for m.order.Len() >= m.capacity {
			m.remove(m.order.Front())
		}
	}
	e := &entry[K, V]{key: k, value: v}
	if m.ttl > 0 {
		e.expires = now.Add(m.ttl)
	}
	m.items[k] = m.order.PushBack(e)
}

// Update atomically replaces the value of an existing, unexpired key with
// the result of fn, which runs with the map locked and must not call back
// into the map. If k is absent or expired Update returns ErrNotFound without
// calling fn; if fn returns an error the stored value is left unchanged and
// that error is returned. A successful Update restarts the record's expiry
// but keeps its insertion position: it is a modification, not a new
// insertion, so Last and capacity eviction ignore it.
func (m *Map[K, V]) Update(k K, fn func(v V) (V, error)) (V, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var zero V
	now := m.now()
	e, ok := m.live(k, now)
	if !ok {
		return zero, ErrNotFound
	}
	v, err := fn(e.value)
	if err != nil {
		return zero, err
	}
	e.value = v
	if m.ttl > 0 {
		e.expires = now.Add(m.ttl)
	}
	return v, nil
}

// Delete removes k if present.
func (m *Map[K, V]) Delete(k K) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.items[k]; ok {
		m.remove(el)
	}
}

// Len returns the number of live records. It scans the whole map, removing
// every expired record.
func (m *Map[K, V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(m.now())
	return m.order.Len()
}

// Last returns the value of the most recently inserted live record. Update
// does not count as an insertion; Set of an existing key does.
func (m *Map[K, V]) Last() (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.purge(now)
	for el := m.order.Back(); el != nil; el = el.Prev() {
		if e := el.Value.(*entry[K, V]); !expired(e.expires, now) {
			return e.value, true
		}
	}
	var zero V
	return zero, false
}

// live returns k's entry if it exists and has not expired at now, removing
// it when it has. The caller holds m.mu.
func (m *Map[K, V]) live(k K, now time.Time) (*entry[K, V], bool) {
	el, ok := m.items[k]
	if !ok {
		return nil, false
	}
	e := el.Value.(*entry[K, V])
	if expired(e.expires, now) {
		m.remove(el)
		return nil, false
	}
	return e, true
}

// purge removes the expired records at the front of the insertion order, a
// cheap scan that catches most of them: they all share one TTL, so the
// oldest insertions expire first. Records refreshed by Update, or a clock
// that went backwards, can hide expired records behind live ones; those are
// caught on read and by sweep. The caller holds m.mu.
func (m *Map[K, V]) purge(now time.Time) {
	for el := m.order.Front(); el != nil; el = m.order.Front() {
		if !expired(el.Value.(*entry[K, V]).expires, now) {
			return
		}
		m.remove(el)
	}
}

// sweep removes every expired record, scanning the whole map. The caller
// holds m.mu.
func (m *Map[K, V]) sweep(now time.Time) {
	for el := m.order.Front(); el != nil; {
		next := el.Next()
		if expired(el.Value.(*entry[K, V]).expires, now) {
			m.remove(el)
		}
		el = next
	}
}

// remove drops el from both indexes. The caller holds m.mu.
func (m *Map[K, V]) remove(el *list.Element) {
	delete(m.items, el.Value.(*entry[K, V]).key)
	m.order.Remove(el)
}

func expired(expires, now time.Time) bool {
	return !expires.IsZero() && !now.Before(expires)
}
