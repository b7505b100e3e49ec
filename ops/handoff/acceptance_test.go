//go:build linux

package handoff

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Timing of the acceptance run. The drain is shorter than the production
// default to keep the test short. The ready timeout is also the time the
// "hang" binary costs.
const (
	accReadyTimeout = 4 * time.Second
	accDrain        = 500 * time.Millisecond
	accSlowDelay    = 700 * time.Millisecond // longer than the drain: Shutdown must wait for it
	accWait         = 20 * time.Second       // bound on every wait for the server
)

// TestHandoffUnderLoad is the acceptance test of the handoff. It builds
// testdata/handoffserver in three variants, serves POST load on loopback from
// keep-alive and non-keep-alive clients, and upgrades under that load: three
// good upgrades by SIGHUP, one binary that exits before it is ready (SIGHUP),
// one that never becomes ready (Upgrade through the server, twice
// concurrently), and a last good upgrade. Every failed request of any class
// fails the test. The load sends POSTs without an idempotency key and with no
// GetBody, so Go's transport retries none of them.
func TestHandoffUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs server binaries")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	becomeSubreaper(t)

	dir := t.TempDir()
	bins := map[string]string{}
	for _, mode := range []string{"ok", "exit", "hang"} {
		bins[mode] = filepath.Join(dir, "handoffserver-"+mode)
		build := exec.Command(goTool, "build", "-o", bins[mode], "-ldflags", "-X main.mode="+mode, "./testdata/handoffserver")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", mode, err, out)
		}
	}
	// exe is argv[0] of every generation: tableflip re-executes whatever file
	// is there at upgrade time, so installing a variant is a rename over it.
	exe := filepath.Join(dir, "paymentctl")
	install := func(mode string) {
		t.Helper()
		data, err := os.ReadFile(bins[mode])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(exe+".new", data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(exe+".new", exe); err != nil {
			t.Fatal(err)
		}
	}
	install("ok")

	pidFile := filepath.Join(dir, "paymentctl.pid")
	logs := &serverLog{path: filepath.Join(dir, "server.log")}
	logFile, err := os.OpenFile(logs.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(exe,
		"-listen", "127.0.0.1:0",
		"-pid-file", pidFile,
		"-ready-timeout", accReadyTimeout.String(),
		"-drain", accDrain.String(),
		"-shutdown-timeout", "10s")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile // inherited by every generation
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cur := cmd.Process.Pid
	procs := &processes{t: t, pgid: cur}
	cmd.Process.Release() // reaped with wait4 like the later generations
	t.Cleanup(procs.killAll)
	t.Cleanup(func() {
		if t.Failed() {
			data, _ := os.ReadFile(logs.path)
			t.Logf("server log:\n%s", data)
		}
	})

	gens := []int{cur}
	addr := logs.wait(t, "first process listening", func(r logRecord) bool { return r.Msg == "listening" && r.PID == cur }).Addr
	waitPIDFile(t, pidFile, func(pid int) bool { return pid == cur })
	base := "http://" + addr
	ctl := &control{t: t, base: base, client: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}}
	ctl.waitHealth(cur)

	load := startLoad(base)
	defer load.stop()
	load.waitOK(t, 100)

	// handoff sends SIGHUP and waits until the new process serves and the
	// old one exited cleanly.
	handoff := func() {
		t.Helper()
		old := cur
		if err := syscall.Kill(old, syscall.SIGHUP); err != nil {
			t.Fatalf("SIGHUP %d: %v", old, err)
		}
		cur = waitPIDFile(t, pidFile, func(pid int) bool { return pid != old })
		gens = append(gens, cur)
		ctl.waitHealth(cur)
		procs.waitExit(old, 0)
		load.waitOKFrom(t, cur, 20)
	}
	for range 3 {
		handoff()
	}

	// A binary that exits before it is ready: the current process reports it
	// and keeps serving.
	install("exit")
	if err := syscall.Kill(cur, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	failed := logs.wait(t, "failed upgrade to the exiting binary", func(r logRecord) bool {
		return r.Msg == "upgrade failed" && r.PID == cur
	})
	if !strings.Contains(failed.Error, "exit status 3") {
		t.Errorf("upgrade failure %q does not report the child's exit status 3", failed.Error)
	}
	if !strings.Contains(failed.Error, "the new process said: simulated crash before ready") {
		t.Errorf("upgrade failure %q does not carry the reason the child reported", failed.Error)
	}
	crashed := logs.wait(t, "crash of the exiting binary", func(r logRecord) bool { return r.Msg == "simulated crash before ready" })
	procs.waitGone(crashed.PID)
	load.waitOKFrom(t, cur, 20)

	// A binary that never becomes ready, upgraded through Upgrade; a second,
	// concurrent Upgrade is refused.
	install("hang")
	first := make(chan string, 1)
	go func() { first <- ctl.upgrade() }()
	logs.waitCount(t, "second upgrade attempt of the current process", 2, func(r logRecord) bool {
		return r.Msg == "upgrade started" && r.PID == cur
	})
	if got := ctl.upgrade(); !strings.HasPrefix(got, "409 ") || !strings.Contains(got, ErrUpgradeInProgress.Error()) {
		t.Errorf("concurrent upgrade answered %q, want 409 %q", got, ErrUpgradeInProgress)
	}
	if got := <-first; !strings.HasPrefix(got, "502 ") || !strings.Contains(got, "timed out") {
		t.Errorf("upgrade to the hanging binary answered %q, want 502 with \"timed out\"", got)
	}
	hung := logs.wait(t, "hanging binary listening", func(r logRecord) bool { return r.Msg == "listening" && r.Mode == "hang" })
	procs.waitGone(hung.PID)
	if pid := readPIDFile(t, pidFile); pid != cur {
		t.Errorf("PID file = %d after failed upgrades, want %d", pid, cur)
	}
	ctl.waitHealth(cur)
	load.waitOKFrom(t, cur, 20)

	// Put the good binary back: upgrades work again.
	install("ok")
	handoff()

	stats := load.stop()
	if err := syscall.Kill(cur, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	procs.waitExit(cur, 0)
	logs.wait(t, "graceful stop", func(r logRecord) bool { return r.Msg == "stopped" && r.PID == cur && r.Reason == "terminated" })

	var sent, ok int64
	for _, s := range stats {
		t.Logf("%-10s sent=%d ok=%d transport-errors=%v non-2xx=%d wrong-body=%d", s.name, s.sent, s.ok, s.transport, s.status, s.body)
		for _, e := range s.samples {
			t.Logf("%-10s   %s", s.name, e)
		}
		sent += s.sent
		ok += s.ok
	}
	byPID := mergePIDs(stats)
	t.Logf("upgrades: %d good, 2 bad; generations %v; POSTs answered per PID %v", len(gens)-1, gens, byPID)
	if ctl.failures > 0 {
		t.Errorf("%d control requests failed", ctl.failures)
	}
	if ok != sent {
		t.Errorf("%d of %d POSTs failed, want 0", sent-ok, sent)
	}
	for _, pid := range gens {
		if byPID[pid] == 0 {
			t.Errorf("generation %d answered no POST: the load did not cover it", pid)
		}
	}
}

// becomeSubreaper makes orphaned generations children of the test process,
// so that their exit status can be read and nothing is left as a zombie.
func becomeSubreaper(t *testing.T) {
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		t.Skipf("prctl(PR_SET_CHILD_SUBREAPER): %v", errno)
	}
}

// processes waits for and kills the server generations, all in process
// group pgid.
type processes struct {
	t    *testing.T
	pgid int
}

// waitExit waits for pid, a child of the test process by now, and checks its
// exit status.
func (p *processes) waitExit(pid, wantStatus int) {
	p.t.Helper()
	deadline := time.Now().Add(accWait)
	for time.Now().Before(deadline) {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		switch {
		case got == pid && ws.Exited() && ws.ExitStatus() == wantStatus:
			return
		case got == pid:
			p.t.Fatalf("process %d ended with %v, want exit status %d", pid, describe(ws), wantStatus)
		case errors.Is(err, syscall.ECHILD):
			p.t.Fatalf("process %d is not a child of the test", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.t.Fatalf("process %d did not exit within %s", pid, accWait)
}

// waitGone waits until pid, reaped by its own parent, no longer exists.
func (p *processes) waitGone(pid int) {
	p.t.Helper()
	deadline := time.Now().Add(accWait)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.t.Fatalf("process %d still exists after %s", pid, accWait)
}

// killAll kills the process group and reaps what it can.
func (p *processes) killAll() {
	if err := syscall.Kill(-p.pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		p.t.Errorf("kill process group %d: %v", p.pgid, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var ws syscall.WaitStatus
		if _, err := syscall.Wait4(-p.pgid, &ws, syscall.WNOHANG, nil); errors.Is(err, syscall.ECHILD) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func describe(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}

func readPIDFile(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("PID file %q: %v", data, err)
	}
	return pid
}

func waitPIDFile(t *testing.T, path string, want func(pid int) bool) int {
	t.Helper()
	deadline := time.Now().Add(accWait)
	for time.Now().Before(deadline) {
		if pid := readPIDFile(t, path); pid != 0 && want(pid) {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("PID file did not change as expected within %s (now %d)", accWait, readPIDFile(t, path))
	return 0
}

// logRecord is one JSON log line of handoffserver.
type logRecord struct {
	Msg    string `json:"msg"`
	PID    int    `json:"pid"`
	Mode   string `json:"mode"`
	Addr   string `json:"addr"`
	Error  string `json:"error"`
	Reason string `json:"reason"`
}

// serverLog reads the log file that all generations append to.
type serverLog struct{ path string }

func (l *serverLog) records(t *testing.T) []logRecord {
	t.Helper()
	data, err := os.ReadFile(l.path)
	if err != nil {
		t.Fatal(err)
	}
	var out []logRecord
	for line := range strings.Lines(string(data)) {
		var r logRecord
		if json.Unmarshal([]byte(line), &r) == nil { // skips a half-written last line
			out = append(out, r)
		}
	}
	return out
}

// waitCount waits until n records match.
func (l *serverLog) waitCount(t *testing.T, what string, n int, match func(logRecord) bool) {
	t.Helper()
	deadline := time.Now().Add(accWait)
	for time.Now().Before(deadline) {
		got := 0
		for _, r := range l.records(t) {
			if match(r) {
				got++
			}
		}
		if got >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("fewer than %d log records for %s within %s", n, what, accWait)
}

func (l *serverLog) wait(t *testing.T, what string, match func(logRecord) bool) logRecord {
	t.Helper()
	deadline := time.Now().Add(accWait)
	for time.Now().Before(deadline) {
		for _, r := range l.records(t) {
			if match(r) {
				return r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log record for %s within %s", what, accWait)
	return logRecord{}
}

// control sends the test's own requests, one connection each.
type control struct {
	t        *testing.T
	base     string
	client   *http.Client
	failures int
}

// waitHealth polls GET /health until pid answers.
func (c *control) waitHealth(pid int) {
	c.t.Helper()
	deadline := time.Now().Add(accWait)
	for time.Now().Before(deadline) {
		if c.health() == pid {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatalf("process %d did not answer /health within %s", pid, accWait)
}

// health returns the PID that answered GET /health, or 0 after counting a
// failure.
func (c *control) health() int {
	resp, err := c.client.Get(c.base + "/health")
	if err != nil {
		c.failures++
		c.t.Logf("GET /health: %v", err)
		return 0
	}
	defer resp.Body.Close()
	var h struct{ PID int }
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || resp.StatusCode != http.StatusOK {
		c.failures++
		c.t.Logf("GET /health: %d %v", resp.StatusCode, err)
		return 0
	}
	return h.PID
}

// upgrade calls POST /upgrade and returns "status body". It runs in its own
// goroutine in the test, so it reports instead of failing.
func (c *control) upgrade() string {
	resp, err := c.client.Post(c.base+"/upgrade", "text/plain", nil)
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
}

// workerStats counts one load worker's requests by outcome.
type workerStats struct {
	name      string
	sent, ok  int64
	transport map[string]int // transport errors by class
	status    int64          // non-2xx answers
	body      int64          // 2xx answers with another body
	pids      map[int]int64  // answered POSTs by server PID
	samples   []string       // the first failures
}

// loadRun is the POST load: keep-alive workers, a worker per new
// connection each, and a keep-alive worker of slow requests.
type loadRun struct {
	quit       chan struct{}
	wg         sync.WaitGroup
	okTotal    atomic.Int64
	mu         sync.Mutex
	okByPID    map[int]int64
	stats      []*workerStats
	transports []*http.Transport
	stopOnce   sync.Once
}

func startLoad(base string) *loadRun {
	l := &loadRun{quit: make(chan struct{}), okByPID: map[int]int64{}}
	keepAlive := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16, DisableCompression: true}
	oneShot := &http.Transport{Proxy: nil, DisableKeepAlives: true, DisableCompression: true}
	l.transports = []*http.Transport{keepAlive, oneShot}
	for i := range 3 {
		l.worker(fmt.Sprintf("keepalive%d", i), &http.Client{Transport: keepAlive, Timeout: 15 * time.Second}, base+"/echo")
		l.worker(fmt.Sprintf("close%d", i), &http.Client{Transport: oneShot, Timeout: 15 * time.Second}, base+"/echo")
	}
	l.worker("slow", &http.Client{Transport: keepAlive, Timeout: 15 * time.Second}, base+"/echo?delay="+accSlowDelay.String())
	return l
}

func (l *loadRun) worker(name string, client *http.Client, url string) {
	s := &workerStats{name: name, transport: map[string]int{}, pids: map[int]int64{}}
	l.stats = append(l.stats, s)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		pad := strings.Repeat("x", 200)
		for i := 0; ; i++ {
			select {
			case <-l.quit:
				return
			default:
			}
			payload := fmt.Sprintf("%s-%d-%s", name, i, pad)
			s.sent++
			pid, failure := post(client, url, payload)
			switch failure.class {
			case "":
				s.ok++
				s.pids[pid]++
				l.okTotal.Add(1)
				l.mu.Lock()
				l.okByPID[pid]++
				l.mu.Unlock()
				continue
			case "status":
				s.status++
			case "body":
				s.body++
			default:
				s.transport[failure.class]++
			}
			if len(s.samples) < 5 {
				s.samples = append(s.samples, failure.detail)
			}
		}
	}()
}

type postFailure struct{ class, detail string }

// post sends one POST that nothing may retry: no idempotency key, no GetBody.
func post(client *http.Client, url, payload string) (int, postFailure) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(payload))
	if err != nil {
		return 0, postFailure{"other", err.Error()}
	}
	req.GetBody = nil
	req.Header.Set("Content-Type", "text/plain")
	resp, err := client.Do(req)
	if err != nil {
		return 0, postFailure{classify(err), err.Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, postFailure{classify(err), "read body: " + err.Error()}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 0, postFailure{"status", fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body))}
	}
	if string(body) != payload {
		return 0, postFailure{"body", fmt.Sprintf("got %d bytes %.40q", len(body), body)}
	}
	pid, _ := strconv.Atoi(resp.Header.Get("X-Pid"))
	return pid, postFailure{}
}

func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case strings.Contains(err.Error(), "server closed idle connection"):
		return "closed-idle"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	default:
		return "other"
	}
}

// waitOK waits until n POSTs succeeded in total.
func (l *loadRun) waitOK(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(accWait)
	for l.okTotal.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("load: %d POSTs answered within %s, want %d", l.okTotal.Load(), accWait, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitOKFrom waits until pid answered n more POSTs, so that every phase of
// the test runs under load.
func (l *loadRun) waitOKFrom(t *testing.T, pid int, n int64) {
	t.Helper()
	l.mu.Lock()
	want := l.okByPID[pid] + n
	l.mu.Unlock()
	deadline := time.Now().Add(accWait)
	for {
		l.mu.Lock()
		got := l.okByPID[pid]
		l.mu.Unlock()
		if got >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("load: process %d answered %d POSTs within %s, want %d", pid, got, accWait, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop ends the load and returns the workers' counts.
func (l *loadRun) stop() []*workerStats {
	l.stopOnce.Do(func() {
		close(l.quit)
		l.wg.Wait()
		for _, tr := range l.transports {
			tr.CloseIdleConnections()
		}
	})
	return l.stats
}

func mergePIDs(stats []*workerStats) map[int]int64 {
	out := map[int]int64{}
	for _, s := range stats {
		for pid, n := range s.pids {
			out[pid] += n
		}
	}
	return out
}
