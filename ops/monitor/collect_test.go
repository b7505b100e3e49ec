package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/sdk"
	"github.com/paymentctl/paymentctl/wirecrypt"
)

// The connection key and IV the fake instances and the Collector share.
const (
	testKey = "MCKOxv9B23r7EatArCFcBP03nfaS03T8"
	testIV  = "9haeYD1tIf4v8xs7"
)

// t0 is the fake clock's start.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeInstance answers the two monitor routes with figures a test sets.
type fakeInstance struct {
	mu           sync.Mutex
	uid          string
	createdAt    time.Time
	user, system int64 // CPU microseconds
	fail         bool
}

func (f *fakeInstance) set(fn func(f *fakeInstance)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeInstance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"statusCode":503,"message":"draining","error":"Service Unavailable"}`))
		return
	}
	var body any
	switch r.URL.Path {
	case "/monitors/system":
		body = sdk.System{
			UID: f.uid, CreatedAt: f.createdAt.Format("2006-01-02T15:04:05.000Z07:00"),
			Commit:  sdk.Commit{ShortHash: "1a2b3c4", Hash: "1a2b3c4d5e6f7a8b", Branch: "main"},
			Package: sdk.Package{Version: "v1.4.0"},
		}
	case "/monitors/performance":
		var p sdk.Performance
		p.CPU.User, p.CPU.System = f.user, f.system
		p.Memory.RSS = 50 << 20
		p.Runtime = sdk.Runtime{Goroutines: 17, Requests: 1000, Errors: 3}
		body = p
	default:
		http.NotFound(w, r)
		return
	}
	c, err := wirecrypt.New(testKey, testIV)
	if err != nil {
		panic(err)
	}
	plain, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", wirecrypt.ContentType)
	w.Write(c.Encrypt(plain))
}

// fakeClock is a clock that moves only when slept on; onSleep runs at each
// sleep, after the clock moved, to change what the instances report.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	onSleep func()
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	fn := c.onSleep
	c.mu.Unlock()
	if fn != nil {
		fn()
	}
	return ctx.Err()
}

// deadURL returns the URL of a loopback port nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}

// view is the part of a row the collector tests compare.
type view struct {
	Status, UID string
	CPU         *float64
	Uptime      int64
	Restarts    int
}

func viewOf(r Row) view {
	return view{Status: r.Status, UID: r.UID, CPU: r.CPUPercent, Uptime: r.UptimeSeconds, Restarts: r.Restarts}
}

func TestCollectDeltasAndRestarts(t *testing.T) {
	inst := &fakeInstance{uid: "p1", createdAt: t0.Add(-time.Hour), user: 1_000_000, system: 500_000}
	srv := httptest.NewServer(inst)
	defer srv.Close()
	clock := &fakeClock{now: t0}
	c, err := New(Options{
		Instances: Static(srv.URL), Key: testKey, IV: testIV,
		Now: clock.Now, Sleep: clock.Sleep,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	steps := []struct {
		name string
		// before changes the instance, then the clock moves by wait
		// (only the first Collect waits one interval by itself).
		before func(f *fakeInstance)
		wait   time.Duration
		// during runs at the first Collect's own sleep.
		during func(f *fakeInstance)
		want   view
	}{
		{
			name:   "first report: two samples one second apart, 0.3 s user + 0.2 s system",
			during: func(f *fakeInstance) { f.user += 300_000; f.system += 200_000 },
			want:   view{Status: StatusUp, UID: "p1", CPU: ptr(50.0), Uptime: 3601},
		},
		{
			name:   "next refresh: compared with the previous report, 2 s apart",
			before: func(f *fakeInstance) { f.user += 250_000 },
			wait:   2 * time.Second,
			want:   view{Status: StatusUp, UID: "p1", CPU: ptr(12.5), Uptime: 3603},
		},
		{
			name:   "a new process: no CPU % yet, one restart",
			before: func(f *fakeInstance) { f.uid, f.createdAt, f.user, f.system = "p2", t0.Add(3*time.Second), 10_000, 0 },
			wait:   time.Second,
			want:   view{Status: StatusUp, UID: "p2", Uptime: 1, Restarts: 1},
		},
		{
			name:   "busy on more than one core",
			before: func(f *fakeInstance) { f.user += 1_500_000; f.system += 333_333 },
			wait:   time.Second,
			want:   view{Status: StatusUp, UID: "p2", CPU: ptr(183.33), Uptime: 2, Restarts: 1},
		},
		{
			name:   "failing: an error row that keeps the restarts",
			before: func(f *fakeInstance) { f.fail = true },
			wait:   time.Second,
			want:   view{Status: StatusError, Restarts: 1},
		},
		{
			name:   "back: compared with the last sample that worked",
			before: func(f *fakeInstance) { f.fail = false; f.user += 400_000 },
			wait:   time.Second,
			want:   view{Status: StatusUp, UID: "p2", CPU: ptr(20.0), Uptime: 4, Restarts: 1},
		},
		{
			name:   "the first process again counts as seen",
			before: func(f *fakeInstance) { f.uid, f.createdAt = "p1", t0.Add(-time.Hour) },
			wait:   time.Second,
			want:   view{Status: StatusUp, UID: "p1", Uptime: 3608, Restarts: 1},
		},
	}
	for i, s := range steps {
		clock.onSleep = nil
		if s.before != nil {
			inst.set(s.before)
		}
		if s.wait > 0 {
			clock.Sleep(ctx, s.wait)
		}
		if s.during != nil {
			clock.onSleep = func() { inst.set(s.during) }
		}
		rep, err := c.Collect(ctx)
		if err != nil {
			t.Fatalf("step %d (%s): %v", i, s.name, err)
		}
		if len(rep.Rows) != 1 {
			t.Fatalf("step %d (%s): %d rows, want 1", i, s.name, len(rep.Rows))
		}
		if diff := cmp.Diff(s.want, viewOf(rep.Rows[0])); diff != "" {
			t.Errorf("step %d (%s) (-want +got):\n%s", i, s.name, diff)
		}
		if !rep.At.Equal(clock.Now()) {
			t.Errorf("step %d: At = %v, want %v", i, rep.At, clock.Now())
		}
	}
	if got := c.Interval(); got != DefaultInterval {
		t.Errorf("Interval() = %v, want the default %v", got, DefaultInterval)
	}
}

func TestCollectRowFields(t *testing.T) {
	inst := &fakeInstance{uid: "p1", createdAt: t0.Add(-90 * time.Second)}
	srv := httptest.NewServer(inst)
	defer srv.Close()
	clock := &fakeClock{now: t0}
	c, err := New(Options{Instances: Static(srv.URL + "/"), Key: testKey, IV: testIV, Now: clock.Now, Sleep: clock.Sleep, Interval: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := rep.Rows[0]
	if got.System == nil || got.Performance == nil {
		t.Fatalf("raw answers missing: %+v", got)
	}
	if got.System.Commit.Hash != "1a2b3c4d5e6f7a8b" || got.Performance.Runtime.Goroutines != 17 {
		t.Errorf("raw answers = %+v, %+v", got.System, got.Performance)
	}
	got.System, got.Performance = nil, nil
	want := Row{
		Instance: strings.TrimPrefix(srv.URL, "http://"), URL: srv.URL + "/", Status: StatusUp,
		UID: "p1", Commit: "1a2b3c4", Branch: "main", Version: "v1.4.0",
		StartedAt: "2026-03-01T11:58:30.000Z", UptimeSeconds: 92, CPUPercent: ptr(0.0),
		RSSBytes: 50 << 20, Goroutines: 17, Requests: 1000, Errors: 3,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
}

// failingInstances is an Instances source that cannot list.
type failingInstances struct{}

func (failingInstances) Instances(context.Context) ([]Instance, error) {
	return nil, errors.New("master unreachable")
}

func TestCollectFailures(t *testing.T) {
	inst := &fakeInstance{uid: "p1", createdAt: t0}
	srv := httptest.NewServer(inst)
	defer srv.Close()
	dead := deadURL(t)

	t.Run("unreachable and malformed instances are error rows", func(t *testing.T) {
		clock := &fakeClock{now: t0}
		c, err := New(Options{
			Instances: Static(dead, srv.URL, "ftp://files.example.com", srv.URL),
			Key:       testKey, IV: testIV, Now: clock.Now, Sleep: clock.Sleep,
		})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := c.Collect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Rows) != 3 {
			t.Fatalf("%d rows, want 3 (a URL given twice is one instance)", len(rep.Rows))
		}
		statuses := []string{rep.Rows[0].Status, rep.Rows[1].Status, rep.Rows[2].Status}
		if diff := cmp.Diff([]string{StatusError, StatusUp, StatusError}, statuses); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
		if e := rep.Rows[0].Error; !strings.Contains(e, "GET /monitors/system") || !strings.Contains(e, strings.TrimPrefix(dead, "http://")) {
			t.Errorf("unreachable error = %q, want the route and the address", e)
		}
		if e := rep.Rows[2].Error; !strings.Contains(e, "not an absolute http or https url") {
			t.Errorf("malformed URL error = %q", e)
		}
		if rep.Rows[2].Instance != "files.example.com" {
			t.Errorf("instance name = %q, want the host", rep.Rows[2].Instance)
		}
		if err := rep.Err(); err != nil {
			t.Errorf("Err() = %v with one instance up", err)
		}
	})

	t.Run("wrong key", func(t *testing.T) {
		clock := &fakeClock{now: t0}
		c, err := New(Options{Instances: Static(srv.URL), Key: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", IV: testIV, Now: clock.Now, Sleep: clock.Sleep})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := c.Collect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Err() == nil || !strings.Contains(rep.Rows[0].Error, "decrypt") && !strings.Contains(rep.Rows[0].Error, "decode") {
			t.Errorf("row = %+v, want a decryption error", rep.Rows[0])
		}
	})

	tests := []struct {
		name string
		src  Instances
		want string
	}{
		{"listing fails", failingInstances{}, "list instances: master unreachable"},
		{"nothing to monitor", Static(), "no instances to monitor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(Options{Instances: tt.src, Key: testKey, IV: testIV})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Collect(context.Background()); err == nil || err.Error() != tt.want {
				t.Errorf("Collect: %v, want %q", err, tt.want)
			}
		})
	}

	t.Run("cancelled while waiting for the second sample", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		clock := &fakeClock{now: t0, onSleep: cancel}
		c, err := New(Options{Instances: Static(srv.URL), Key: testKey, IV: testIV, Now: clock.Now, Sleep: clock.Sleep})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Collect(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Collect: %v, want context.Canceled", err)
		}
	})
}

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no source", Options{}, "no instances source"},
		{"negative interval", Options{Instances: Static("http://h"), Interval: -time.Second}, "interval and timeout must not be negative"},
		{"negative timeout", Options{Instances: Static("http://h"), Timeout: -time.Second}, "interval and timeout must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.opts); err == nil || err.Error() != tt.want {
				t.Errorf("New: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestStatic(t *testing.T) {
	got, err := Static("http://127.0.0.1:37821", "https://pay.example.com/api/", "http://127.0.0.1:37821", "not a url", "https://127.0.0.1:37821").Instances(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []Instance{
		{Name: "127.0.0.1:37821", APIURL: "http://127.0.0.1:37821"},
		{Name: "pay.example.com/api", APIURL: "https://pay.example.com/api/"},
		{Name: "not a url", APIURL: "not a url"},
		{Name: "https://127.0.0.1:37821", APIURL: "https://127.0.0.1:37821"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
}
