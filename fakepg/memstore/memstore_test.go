package memstore

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// clock is a settable time source for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2024, 12, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// op is one step of a scripted scenario.
type op struct {
	set     string        // key to Set (value = key + "@" + step index)
	del     string        // key to Delete
	advance time.Duration // clock step
}

func TestScenarios(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		ops      []op
		want     map[string]bool // key → expected presence via Get
		wantLen  int
		wantLast string // "" → Last reports false
	}{
		{
			name:     "expiry is checked on read without any later insert",
			opts:     Options{TTL: time.Minute},
			ops:      []op{{set: "a"}, {advance: time.Minute}},
			want:     map[string]bool{"a": false},
			wantLen:  0,
			wantLast: "",
		},
		{
			name:     "just before expiry the record is live",
			opts:     Options{TTL: time.Minute},
			ops:      []op{{set: "a"}, {advance: time.Minute - time.Nanosecond}},
			want:     map[string]bool{"a": true},
			wantLen:  1,
			wantLast: "a@0",
		},
		{
			name:     "zero TTL defaults to three minutes",
			ops:      []op{{set: "a"}, {advance: 3*time.Minute - time.Second}, {set: "b"}, {advance: time.Second}},
			want:     map[string]bool{"a": false, "b": true},
			wantLen:  1,
			wantLast: "b@2",
		},
		{
			name:     "negative TTL never expires",
			opts:     Options{TTL: -1},
			ops:      []op{{set: "a"}, {advance: 10000 * time.Hour}},
			want:     map[string]bool{"a": true},
			wantLen:  1,
			wantLast: "a@0",
		},
		{
			name:     "replace refreshes expiry",
			opts:     Options{TTL: time.Minute},
			ops:      []op{{set: "a"}, {advance: 50 * time.Second}, {set: "a"}, {advance: 50 * time.Second}},
			want:     map[string]bool{"a": true},
			wantLen:  1,
			wantLast: "a@2",
		},
		{
			name:     "replaced key expires on its new schedule",
			opts:     Options{TTL: time.Minute},
			ops:      []op{{set: "a"}, {advance: 50 * time.Second}, {set: "a"}, {advance: 60 * time.Second}},
			want:     map[string]bool{"a": false},
			wantLen:  0,
			wantLast: "",
		},
		{
			name:     "capacity evicts the oldest inserted",
			opts:     Options{Capacity: 2},
			ops:      []op{{set: "a"}, {set: "b"}, {set: "c"}},
			want:     map[string]bool{"a": false, "b": true, "c": true},
			wantLen:  2,
			wantLast: "c@2",
		},
		{
			name:     "replacing moves a key to the newest position",
			opts:     Options{Capacity: 2},
			ops:      []op{{set: "a"}, {set: "b"}, {set: "a"}, {set: "c"}},
			want:     map[string]bool{"a": true, "b": false, "c": true},
			wantLen:  2,
			wantLast: "c@3",
		},
		{
			name:     "replacing in a full map evicts nothing",
			opts:     Options{Capacity: 2},
			ops:      []op{{set: "a"}, {set: "b"}, {set: "b"}},
			want:     map[string]bool{"a": true, "b": true},
			wantLen:  2,
			wantLast: "b@2",
		},
		{
			name:     "expired records free capacity before eviction",
			opts:     Options{Capacity: 2, TTL: time.Minute},
			ops:      []op{{set: "a"}, {advance: 30 * time.Second}, {set: "b"}, {advance: 30 * time.Second}, {set: "c"}},
			want:     map[string]bool{"a": false, "b": true, "c": true},
			wantLen:  2,
			wantLast: "c@4",
		},
		{
			name:     "negative capacity is unbounded",
			opts:     Options{Capacity: -1},
			ops:      []op{{set: "a"}, {set: "b"}, {set: "c"}},
			want:     map[string]bool{"a": true, "b": true, "c": true},
			wantLen:  3,
			wantLast: "c@2",
		},
		{
			name:     "delete the last falls back to the previous",
			ops:      []op{{set: "a"}, {set: "b"}, {del: "b"}},
			want:     map[string]bool{"a": true, "b": false},
			wantLen:  1,
			wantLast: "a@0",
		},
		{
			name:     "delete of an absent key is harmless",
			ops:      []op{{set: "a"}, {del: "zz"}},
			want:     map[string]bool{"a": true},
			wantLen:  1,
			wantLast: "a@0",
		},
		{
			name:     "last skips an expired newest record after the clock went back",
			opts:     Options{TTL: time.Minute},
			ops:      []op{{advance: time.Hour}, {set: "a"}, {advance: -time.Hour}, {set: "b"}, {advance: time.Hour}},
			want:     map[string]bool{"a": true, "b": false},
			wantLen:  1,
			wantLast: "a@1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			tt.opts.Now = c.Now
			m := New[string, string](tt.opts)
			for i, o := range tt.ops {
				switch {
				case o.set != "":
					m.Set(o.set, fmt.Sprintf("%s@%d", o.set, i))
				case o.del != "":
					m.Delete(o.del)
				default:
					c.Advance(o.advance)
				}
			}
			// Len and Last first: Get removes the expired records it meets.
			if n := m.Len(); n != tt.wantLen {
				t.Errorf("Len() = %d, want %d", n, tt.wantLen)
			}
			last, ok := m.Last()
			if ok != (tt.wantLast != "") || last != tt.wantLast {
				t.Errorf("Last() = %q, %v, want %q", last, ok, tt.wantLast)
			}
			got := make(map[string]bool)
			for k := range tt.want {
				_, got[k] = m.Get(k)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("presence (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGetValue(t *testing.T) {
	m := New[int, string](Options{})
	m.Set(1, "one")
	m.Set(1, "uno")
	if got, ok := m.Get(1); !ok || got != "uno" {
		t.Errorf("Get(1) = %q, %v, want %q, true", got, ok, "uno")
	}
	if got, ok := m.Get(2); ok || got != "" {
		t.Errorf("Get(2) = %q, %v, want zero, false", got, ok)
	}
}

func TestUpdate(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name      string
		key       string
		advance   time.Duration
		fn        func(int) (int, error)
		wantValue int // returned by Update
		wantErr   error
		wantAfter int // Get after Update
		wantLive  bool
	}{
		{
			name:      "modifies an existing key",
			key:       "a",
			fn:        func(v int) (int, error) { return v + 5, nil },
			wantValue: 15, wantAfter: 15, wantLive: true,
		},
		{
			name:    "absent key",
			key:     "nope",
			fn:      func(v int) (int, error) { t.Error("fn called for an absent key"); return v, nil },
			wantErr: ErrNotFound, wantAfter: 10, wantLive: true,
		},
		{
			name:    "expired key",
			key:     "a",
			advance: time.Minute,
			fn:      func(v int) (int, error) { t.Error("fn called for an expired key"); return v, nil },
			wantErr: ErrNotFound, wantAfter: 0, wantLive: false,
		},
		{
			name:    "fn error aborts without change",
			key:     "a",
			fn:      func(v int) (int, error) { return 99, errBoom },
			wantErr: errBoom, wantAfter: 10, wantLive: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			m := New[string, int](Options{TTL: time.Minute, Now: c.Now})
			m.Set("a", 10)
			c.Advance(tt.advance)
			got, err := m.Update(tt.key, tt.fn)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Update error = %v, want %v", err, tt.wantErr)
			}
			if got != tt.wantValue {
				t.Errorf("Update value = %d, want %d", got, tt.wantValue)
			}
			after, ok := m.Get("a")
			if after != tt.wantAfter || ok != tt.wantLive {
				t.Errorf("Get(a) after = %d, %v, want %d, %v", after, ok, tt.wantAfter, tt.wantLive)
			}
		})
	}
}

func TestUpdateKeepsPositionRefreshesExpiry(t *testing.T) {
	c := newClock()
	m := New[string, int](Options{TTL: time.Minute, Capacity: 2, Now: c.Now})
	m.Set("a", 1)
	c.Advance(10 * time.Second)
	m.Set("b", 2)
	c.Advance(40 * time.Second)
	if _, err := m.Update("a", func(v int) (int, error) { return v + 1, nil }); err != nil {
		t.Fatal(err)
	}
	if last, _ := m.Last(); last != 2 {
		t.Errorf("Last() after updating a = %d, want 2 (b stays newest)", last)
	}
	c.Advance(20 * time.Second) // a: 70 s since insert, 20 s since update; b: 60 s
	if v, ok := m.Get("a"); !ok || v != 2 {
		t.Errorf("Get(a) = %d, %v; want 2, true (lives a TTL after its update)", v, ok)
	}
	if _, ok := m.Get("b"); ok {
		t.Error("Get(b) = true, want expired")
	}
	c.Advance(40 * time.Second) // a: 60 s since update
	if _, ok := m.Get("a"); ok {
		t.Error("Get(a) = true a TTL after its update, want expired")
	}
}

func TestEvictionPrefersExpired(t *testing.T) {
	// a is the oldest insertion but was refreshed by Update; b expired
	// behind it. A full map must drop b, not evict the live a.
	c := newClock()
	m := New[string, int](Options{TTL: time.Minute, Capacity: 2, Now: c.Now})
	m.Set("a", 1)
	m.Set("b", 2)
	c.Advance(50 * time.Second)
	if _, err := m.Update("a", func(v int) (int, error) { return v, nil }); err != nil {
		t.Fatal(err)
	}
	c.Advance(10 * time.Second) // b expires now; a has 50 s left
	m.Set("c", 3)
	got := map[string]bool{}
	for _, k := range []string{"a", "b", "c"} {
		_, got[k] = m.Get(k)
	}
	if diff := cmp.Diff(map[string]bool{"a": true, "b": false, "c": true}, got); diff != "" {
		t.Errorf("presence (-want +got):\n%s", diff)
	}
}

func TestUpdateIsAtomic(t *testing.T) {
	m := New[string, int](Options{})
	m.Set("n", 0)
	const goroutines, increments = 8, 500
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range increments {
				if _, err := m.Update("n", func(v int) (int, error) { return v + 1, nil }); err != nil {
					t.Error(err)
					return
				}
				// Interleave other operations on other keys.
				m.Set("other", 1)
				m.Get("other")
				m.Len()
			}
		})
	}
	wg.Wait()
	if got, _ := m.Get("n"); got != goroutines*increments {
		t.Errorf("counter = %d, want %d", got, goroutines*increments)
	}
}

func TestConcurrentCapacity(t *testing.T) {
	const capacity = 50
	m := New[int, int](Options{Capacity: capacity})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				m.Set(g*1000+i, i)
				if n := m.Len(); n > capacity {
					t.Errorf("Len() = %d, exceeds capacity %d", n, capacity)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := m.Len(); n != capacity {
		t.Errorf("Len() = %d, want %d", n, capacity)
	}
}

func TestGetChecksExpiry(t *testing.T) {
	c := newClock()
	m := New[string, int](Options{TTL: time.Second, Now: c.Now})
	m.Set("a", 1)
	c.Advance(time.Second)
	// No other call in between: Get alone must notice the expiry.
	if v, ok := m.Get("a"); ok {
		t.Errorf("Get(a) = %d, true after its TTL", v)
	}
}
