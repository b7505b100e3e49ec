package handoff

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeUpgrader stands in for tableflip in process: tableflip allows one
// upgrader per process, and its upgrades re-execute the binary.
type fakeUpgrader struct {
	ready     chan struct{} // closed by Ready
	exit      chan struct{} // closed by a successful Upgrade or by Stop
	exitOnce  sync.Once
	stopped   atomic.Bool
	upgrades  atomic.Int32
	hasParent bool
	inherited map[string]net.Listener         // by address, for Listener
	upgrade   func() error                    // nil: success
	waitPar   func(ctx context.Context) error // nil: parent gone
}

func newFakeUpgrader() *fakeUpgrader {
	return &fakeUpgrader{ready: make(chan struct{}), exit: make(chan struct{})}
}

func (f *fakeUpgrader) ListenWithCallback(network, addr string, create func(network, addr string) (net.Listener, error)) (net.Listener, error) {
	return create(network, addr)
}

func (f *fakeUpgrader) Listener(network, addr string) (net.Listener, error) {
	ln := f.inherited[addr]
	delete(f.inherited, addr)
	return ln, nil
}

func (f *fakeUpgrader) Ready() error {
	close(f.ready)
	return nil
}

func (f *fakeUpgrader) Exit() <-chan struct{} { return f.exit }

func (f *fakeUpgrader) Upgrade() error {
	f.upgrades.Add(1)
	if f.upgrade != nil {
		if err := f.upgrade(); err != nil {
			return err
		}
	}
	f.exitOnce.Do(func() { close(f.exit) })
	return nil
}

func (f *fakeUpgrader) Stop() {
	f.stopped.Store(true)
	f.exitOnce.Do(func() { close(f.exit) })
}

func (f *fakeUpgrader) HasParent() bool { return f.hasParent }

func (f *fakeUpgrader) WaitForParent(ctx context.Context) error {
	if f.waitPar == nil {
		return nil
	}
	return f.waitPar(ctx)
}

// logBuffer collects JSON log lines written from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the logged records with message msg.
func (b *logBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// testServer is a Server under test, serving on a loopback port.
type testServer struct {
	*Server
	fake   *fakeUpgrader
	logs   *logBuffer
	url    string
	cancel context.CancelFunc
	done   chan error // Serve's result
}

// startServer runs Serve with fake and waits until it signalled readiness.
func startServer(t *testing.T, fake *fakeUpgrader, opts Options, h http.Handler) *testServer {
	t.Helper()
	logs := &logBuffer{}
	opts.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	s := newServer(fake, opts)
	ln, err := s.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{Server: s, fake: fake, logs: logs, url: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- s.Serve(ctx, &http.Server{Handler: h}, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ts.done:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	select {
	case <-fake.ready:
	case err := <-ts.done:
		t.Fatalf("Serve returned before ready: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("server not ready")
	}
	return ts
}

// wait returns Serve's result.
func (ts *testServer) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-ts.done:
		ts.done <- err // for the cleanup
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
		return nil
	}
}

// slowHandler serves "/" at once and "/slow" once release is closed.
type slowHandler struct {
	entered chan struct{} // receives when /slow starts
	release chan struct{}
}

func newSlowHandler() *slowHandler {
	return &slowHandler{entered: make(chan struct{}, 8), release: make(chan struct{})}
}

func (h *slowHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/slow" {
		h.entered <- struct{}{}
		<-h.release
		io.WriteString(w, "slow done")
		return
	}
	io.WriteString(w, "ok")
}

// get sends GET and returns the response with its body read.
func get(client *http.Client, url string) (*http.Response, string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}

// slowRequest sends GET /slow in the background and waits until the handler
// has it.
func slowRequest(t *testing.T, ts *testServer, h *slowHandler) <-chan string {
	t.Helper()
	result := make(chan string, 1)
	go func() {
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, body, err := get(client, ts.url+"/slow")
		switch {
		case err != nil:
			result <- "error: " + err.Error()
		default:
			result <- fmt.Sprintf("%d %s", resp.StatusCode, body)
		}
	}()
	select {
	case <-h.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("slow request did not arrive")
	}
	return result
}

func TestServeUpgradeDrainsWithConnectionClose(t *testing.T) {
	h := newSlowHandler()
	ts := startServer(t, newFakeUpgrader(), Options{DrainWindow: 300 * time.Millisecond, ShutdownTimeout: 5 * time.Second}, h)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}

	resp, _, err := get(client, ts.url+"/")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Close {
		t.Fatal("response before the upgrade has Connection: close")
	}
	slow := slowRequest(t, ts, h)

	if err := ts.Upgrade(); err != nil {
		t.Fatalf("Upgrade() = %v, want nil", err)
	}
	// The keep-alive connection to this process must carry one more request
	// and be told to close; the Serve goroutine may need a moment to start
	// draining, so the first answers may still keep the connection open.
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, body, err := get(client, ts.url+"/")
		if err != nil {
			t.Fatalf("request on the kept-alive connection during the drain: %v", err)
		}
		if resp.StatusCode != http.StatusOK || body != "ok" {
			t.Fatalf("during the drain got %d %q, want 200 \"ok\"", resp.StatusCode, body)
		}
		if resp.Close {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no Connection: close response during the drain")
		}
	}
	if c, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "http://")); err == nil {
		c.Close()
		t.Error("listener still accepts after the upgrade")
	}

	close(h.release)
	if got := <-slow; got != "200 slow done" {
		t.Errorf("in-flight request across the drain got %q, want %q", got, "200 slow done")
	}
	if err := ts.wait(t); err != nil {
		t.Errorf("Serve() = %v, want nil after an upgrade", err)
	}
	if !ts.fake.stopped.Load() {
		t.Error("upgrader not stopped")
	}
	if recs := ts.logs.records(t, "draining"); len(recs) != 1 || recs[0]["reason"] != "upgraded" {
		t.Errorf("draining log records = %v, want one with reason upgraded", recs)
	}
	if n := len(ts.logs.records(t, "upgrade succeeded")); n != 1 {
		t.Errorf("%d \"upgrade succeeded\" records, want 1", n)
	}
}

func TestUpgradeFailureKeepsServingAndRefusesConcurrentUpgrade(t *testing.T) {
	fake := newFakeUpgrader()
	entered := make(chan struct{})
	finish := make(chan struct{})
	childErr := errors.New("child pid=42 exited: exit status 3")
	fake.upgrade = func() error {
		if fake.upgrades.Load() == 1 {
			close(entered)
			<-finish
		}
		return childErr
	}
	ts := startServer(t, fake, Options{DrainWindow: 10 * time.Millisecond}, newSlowHandler())

	first := make(chan error, 1)
	go func() { first <- ts.Upgrade() }()
	<-entered
	if err := ts.Upgrade(); !errors.Is(err, ErrUpgradeInProgress) {
		t.Errorf("concurrent Upgrade() = %v, want ErrUpgradeInProgress", err)
	}
	close(finish)
	if err := <-first; !errors.Is(err, childErr) {
		t.Errorf("Upgrade() = %v, want the child's failure", err)
	}

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, body, err := get(client, ts.url+"/"); err != nil || resp.StatusCode != http.StatusOK || body != "ok" {
		t.Fatalf("after a failed upgrade: %v %v %q, want 200 \"ok\"", err, resp, body)
	}
	select {
	case err := <-ts.done:
		t.Fatalf("Serve returned after a failed upgrade: %v", err)
	default:
	}

	// The guard is released: the next upgrade reaches tableflip again.
	if err := ts.Upgrade(); !errors.Is(err, childErr) {
		t.Errorf("second Upgrade() = %v, want the child's failure", err)
	}
	if got := fake.upgrades.Load(); got != 2 {
		t.Errorf("tableflip upgrades = %d, want 2 (the refused call must not reach it)", got)
	}
	failed := ts.logs.records(t, "upgrade failed")
	if len(failed) != 2 || !strings.Contains(fmt.Sprint(failed[0]["error"]), "exit status 3") {
		t.Errorf("upgrade failed records = %v, want 2 carrying the child's error", failed)
	}
	if n := len(ts.logs.records(t, "upgrade refused")); n != 1 {
		t.Errorf("%d \"upgrade refused\" records, want 1", n)
	}

	ts.cancel()
	if err := ts.wait(t); err != nil {
		t.Errorf("Serve() = %v after cancel, want nil", err)
	}
}

func TestServeReadyCheckFails(t *testing.T) {
	errDB := errors.New("database unreachable")
	tests := []struct {
		name  string
		ready func(ctx context.Context) error
		want  error
	}{
		{"error", func(context.Context) error { return errDB }, errDB},
		{"timeout", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeUpgrader()
			s := newServer(fake, Options{Ready: tt.ready, ReadyTimeout: 50 * time.Millisecond})
			ln, err := s.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			err = s.Serve(context.Background(), &http.Server{Handler: http.NotFoundHandler()}, ln)
			if !errors.Is(err, tt.want) {
				t.Errorf("Serve() = %v, want %v", err, tt.want)
			}
			select {
			case <-fake.ready:
				t.Error("readiness signalled although the check failed")
			default:
			}
			if !fake.stopped.Load() {
				t.Error("upgrader not stopped")
			}
			if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
				c.Close()
				t.Error("listener left open")
			}
		})
	}
}

func TestServeStopsGracefullyOnCancel(t *testing.T) {
	h := newSlowHandler()
	ts := startServer(t, newFakeUpgrader(), Options{DrainWindow: 50 * time.Millisecond}, h)
	slow := slowRequest(t, ts, h)
	ts.cancel()
	time.AfterFunc(100*time.Millisecond, func() { close(h.release) })
	if got := <-slow; got != "200 slow done" {
		t.Errorf("in-flight request got %q, want %q", got, "200 slow done")
	}
	if err := ts.wait(t); err != nil {
		t.Errorf("Serve() = %v, want nil", err)
	}
	if recs := ts.logs.records(t, "stopped"); len(recs) != 1 || recs[0]["reason"] != "context done" {
		t.Errorf("stopped records = %v, want one with reason \"context done\"", recs)
	}
	if ts.fake.upgrades.Load() != 0 {
		t.Error("stop triggered an upgrade")
	}
}

func TestServeCallsOnDrain(t *testing.T) {
	h := newSlowHandler()
	drained := make(chan struct{}, 2)
	ts := startServer(t, newFakeUpgrader(), Options{DrainWindow: 50 * time.Millisecond, OnDrain: func() { drained <- struct{}{} }}, h)
	select {
	case <-drained:
		t.Fatal("OnDrain called before the drain")
	default:
	}
	slow := slowRequest(t, ts, h)
	ts.cancel()
	select {
	case <-drained: // while the in-flight request still runs
	case <-time.After(5 * time.Second):
		t.Fatal("OnDrain not called when the drain started")
	}
	close(h.release)
	<-slow
	if err := ts.wait(t); err != nil {
		t.Errorf("Serve() = %v, want nil", err)
	}
	if n := len(drained); n != 0 {
		t.Errorf("OnDrain called %d more times, want once", n)
	}
}

func TestServeShutdownTimeout(t *testing.T) {
	h := newSlowHandler()
	defer close(h.release)
	ts := startServer(t, newFakeUpgrader(), Options{DrainWindow: 10 * time.Millisecond, ShutdownTimeout: 100 * time.Millisecond}, h)
	slow := slowRequest(t, ts, h)
	ts.cancel()
	if err := ts.wait(t); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Serve() = %v, want context.DeadlineExceeded", err)
	}
	if got := <-slow; !strings.HasPrefix(got, "error:") {
		t.Errorf("request still running at the shutdown bound got %q, want a closed connection", got)
	}
}

func TestServeTwice(t *testing.T) {
	ts := startServer(t, newFakeUpgrader(), Options{DrainWindow: 10 * time.Millisecond}, newSlowHandler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Serve(context.Background(), &http.Server{}, ln); err == nil {
		t.Error("second Serve() = nil, want an error")
	}
}

// TestServeRefusesNilHandler: a server without a handler is refused, not
// served as http.DefaultServeMux, where net/http/pprof (imported by this
// binary) registers the runtime's profiles.
func TestServeRefusesNilHandler(t *testing.T) {
	s := newServer(newFakeUpgrader(), Options{DrainWindow: 10 * time.Millisecond})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(context.Background(), &http.Server{}, ln); err == nil || !strings.Contains(err.Error(), "no handler") {
		t.Errorf("Serve() of a server without a handler = %v, want a refusal", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("the listener is still open after the refusal")
	}
}

func TestUpgradeWaitsForParent(t *testing.T) {
	errPipe := errors.New("unexpected data from parent process")
	tests := []struct {
		name         string
		hasParent    bool
		waitPar      func(ctx context.Context) error
		wantErr      string // substring; empty means nil
		wantUpgrades int32
	}{
		{"first process", false, func(context.Context) error { panic("must not wait") }, "", 1},
		{"parent exited", true, func(context.Context) error { return nil }, "", 1},
		{"parent exited uncleanly", true, func(context.Context) error { return errPipe }, "", 1},
		{"parent still draining", true, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, "previous process still running", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeUpgrader()
			fake.hasParent = tt.hasParent
			fake.waitPar = tt.waitPar
			s := newServer(fake, Options{})
			s.parentWait = 20 * time.Millisecond
			err := s.Upgrade()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Upgrade() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Upgrade() = %v, want an error containing %q", err, tt.wantErr)
			}
			if got := fake.upgrades.Load(); got != tt.wantUpgrades {
				t.Errorf("tableflip upgrades = %d, want %d", got, tt.wantUpgrades)
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Options
		want Options
	}{
		{"zero", Options{}, Options{ReadyTimeout: DefaultReadyTimeout, DrainWindow: DefaultDrainWindow, ShutdownTimeout: DefaultShutdownTimeout}},
		{"negative", Options{ReadyTimeout: -1, DrainWindow: -1, ShutdownTimeout: -1}, Options{ReadyTimeout: DefaultReadyTimeout, DrainWindow: DefaultDrainWindow, ShutdownTimeout: DefaultShutdownTimeout}},
		{"set", Options{PIDFile: "x.pid", ReadyTimeout: 2 * time.Second, DrainWindow: 3 * time.Second, ShutdownTimeout: 4 * time.Second}, Options{PIDFile: "x.pid", ReadyTimeout: 2 * time.Second, DrainWindow: 3 * time.Second, ShutdownTimeout: 4 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := withDefaults(tt.in)
			if got.Logger == nil {
				t.Error("Logger is nil")
			}
			got.Logger = nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("withDefaults() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandlerProbe(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) })
	mux.HandleFunc("GET /empty", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /nocontent", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /early-hints", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	mux.HandleFunc("GET /down", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("GET /ctx", func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Err() != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name    string
		target  string
		ctx     context.Context
		wantErr string // substring; empty means nil
	}{
		{"ok", "/health", context.Background(), ""},
		{"implicit 200", "/empty", context.Background(), ""},
		{"204", "/nocontent", context.Background(), ""},
		{"503 after 103", "/early-hints", context.Background(), "status 503"},
		{"503 with body", "/down", context.Background(), "status 503: database unreachable"},
		{"not found", "/missing", context.Background(), "status 404"},
		{"context reaches the handler", "/ctx", cancelled, "status 503"},
		{"bad target", "://", context.Background(), "probe ://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := HandlerProbe(mux, tt.target)(tt.ctx)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("probe = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("probe = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestSystemdUnit keeps the example unit that doc.go points to consistent
// with what tableflip needs.
func TestSystemdUnit(t *testing.T) {
	data, err := os.ReadFile("../../deploy/systemd/paymentctl.service")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("malformed line %q", line)
		}
		keys[k] = v
	}
	want := map[string]string{
		"ExecReload": "/bin/kill -HUP $MAINPID",
		"KillMode":   "control-group",
		"Type":       "simple",
	}
	for k, v := range want {
		if keys[k] != v {
			t.Errorf("%s=%q, want %q", k, keys[k], v)
		}
	}
	if pid := keys["PIDFile"]; pid == "" || !strings.Contains(keys["ExecStart"], "--pid-file "+pid) {
		t.Errorf("PIDFile=%q is not the --pid-file of ExecStart=%q", pid, keys["ExecStart"])
	}
	stop, err := time.ParseDuration(keys["TimeoutStopSec"])
	if err != nil {
		t.Fatalf("TimeoutStopSec: %v", err)
	}
	if bound := DefaultDrainWindow + DefaultShutdownTimeout; stop <= bound {
		t.Errorf("TimeoutStopSec=%s, want more than DrainWindow+ShutdownTimeout (%s)", stop, bound)
	}
}

func TestInherited(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	up := newFakeUpgrader()
	up.inherited = map[string]net.Listener{":37820": ln}
	s := newServer(up, Options{})
	for _, tt := range []struct {
		addr string
		want net.Listener
	}{
		{":37820", ln},
		{":37820", nil}, // taken already
		{"127.0.0.1:37820", nil},
	} {
		if got, err := s.Inherited("tcp", tt.addr); got != tt.want || err != nil {
			t.Errorf("Inherited(tcp, %q) = %v, %v; want %v", tt.addr, got, err, tt.want)
		}
	}
}
