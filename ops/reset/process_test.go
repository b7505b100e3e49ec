package reset

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/ops/handoff"
	"github.com/paymentctl/paymentctl/server"
)

// helperEnv makes the test binary run as `paymentctl serve` (helperServe)
// instead of the tests.
const helperEnv = "PAYMENTCTL_RESET_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "serve" {
		os.Exit(helperServe(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// helperServe is the test binary run as `paymentctl serve --pid-file f`:
// the App on the configured port behind the socket-handoff server, which
// writes the PID file once the App is ready and drains on SIGTERM, as
// serve does (without the updater agent).
func helperServe(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	pidFile := fs.String("pid-file", "", "")
	if len(args) == 0 || args[0] != "serve" || fs.Parse(args[1:]) != nil {
		fmt.Fprintln(os.Stderr, "usage: serve --pid-file FILE")
		return 2
	}
	gin.SetMode(gin.ReleaseMode)
	ctx := context.Background()
	cfg, err := config.Load(config.LoadOptions{LookupEnv: os.LookupEnv})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var app *server.App
	hs, err := handoff.New(handoff.Options{
		PIDFile:     *pidFile,
		DrainWindow: 50 * time.Millisecond,
		Ready:       func(ctx context.Context) error { return handoff.HandlerProbe(app.Handler, "/monitors/health")(ctx) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ln, err := hs.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.API.Port)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if app, err = server.NewApp(ctx, server.Options{Config: cfg, Listen: hs.Listen}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer app.Close(context.Background())
	if err := app.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintln(os.Stderr, "helper serving on", ln.Addr())
	if err := hs.Serve(ctx, &http.Server{Handler: app.Handler, ReadHeaderTimeout: time.Second}, ln); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	fmt.Fprintln(os.Stderr, "helper stopped")
	return 0
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// script writes an executable shell script named name into a fresh
// directory and returns its path.
func script(t *testing.T, name, body string) string {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// startProcess starts a process the test owns, and kills it at the end.
func startProcess(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	return cmd
}

// writePID writes pid into a fresh PID file and returns its path.
func writePID(t *testing.T, pid string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "paymentctl.pid")
	if err := os.WriteFile(path, []byte(pid+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStopServerWithoutServer(t *testing.T) {
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Skipf("true: %v", err)
	}
	tests := []struct {
		name    string
		pidFile string
		wantWhy string
	}{
		{"no PID file", filepath.Join(t.TempDir(), "none.pid"), "no server running (no PID file "},
		{"stale PID file", writePID(t, strconv.Itoa(exited.Process.Pid)), fmt.Sprintf("no server running (PID %d from ", exited.Process.Pid)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := StopServer(context.Background(), tt.pidFile, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if s.PID != 0 || !strings.HasPrefix(s.Summary(), tt.wantWhy) {
				t.Errorf("StopServer = %+v (%q), want nothing stopped because %q…", s, s.Summary(), tt.wantWhy)
			}
		})
	}
}

func TestStopServerRefuses(t *testing.T) {
	other := startProcess(t, "sleep", "30")
	stubborn := script(t, "paymentctl", "trap '' TERM\nwhile :; do sleep 0.05; done\n")
	ignoring := startProcess(t, stubborn)
	// The script runs once its shell has set the trap; give it the time.
	waitUntil(t, "the script runs", func() bool {
		cmdline, ok := commandLine(ignoring.Process.Pid)
		return ok && strings.Contains(cmdline, "paymentctl")
	})
	time.Sleep(100 * time.Millisecond)

	tests := []struct {
		name    string
		pidFile string
		wantErr string
		alive   *exec.Cmd
	}{
		{"not a PID", writePID(t, "paymentctl"), `holds "paymentctl", not a PID`, nil},
		{"another program", writePID(t, strconv.Itoa(other.Process.Pid)), "not paymentctl; remove the file if it is stale", other},
		{"a server that ignores SIGTERM", writePID(t, strconv.Itoa(ignoring.Process.Pid)), "still runs 300ms after SIGTERM", ignoring},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := StopServer(context.Background(), tt.pidFile, 300*time.Millisecond)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("StopServer = %v, want an error containing %q", err, tt.wantErr)
			}
			if tt.alive != nil && !alive(tt.alive.Process.Pid) {
				t.Errorf("PID %d was stopped", tt.alive.Process.Pid)
			}
		})
	}
}

func TestStartServerFailures(t *testing.T) {
	t.Run("exits before it is ready", func(t *testing.T) {
		bin := script(t, "paymentctl", "echo \"listen tcp 127.0.0.1:37821: address already in use\" >&2\nexit 3\n")
		dir := t.TempDir()
		_, err := StartServer(context.Background(), StartOptions{
			Binary: bin, Args: []string{"serve"}, LogFile: filepath.Join(dir, "paymentctl.log"),
			PIDFile: filepath.Join(dir, "paymentctl.pid"), HealthURL: "http://127.0.0.1:" + freePort(t) + "/monitors/health",
			Timeout: 10 * time.Second,
		})
		if err == nil || !strings.Contains(err.Error(), "exited before it was ready: exit status 3") ||
			!strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("StartServer = %v, want the exit and the log's end", err)
		}
	})
	t.Run("never healthy", func(t *testing.T) {
		dir := t.TempDir()
		pidFile := filepath.Join(dir, "paymentctl.pid")
		// Writes its PID file, never answers.
		bin := script(t, "paymentctl", "echo $$ > \"$1\"\necho waiting\nexec sleep 30\n")
		_, err := StartServer(context.Background(), StartOptions{
			Binary: bin, Args: []string{pidFile}, LogFile: filepath.Join(dir, "paymentctl.log"),
			PIDFile: pidFile, HealthURL: "http://127.0.0.1:" + freePort(t) + "/monitors/health",
			Timeout: 500 * time.Millisecond,
		})
		if raw, rerr := os.ReadFile(pidFile); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(raw))); perr == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if err == nil || !strings.Contains(err.Error(), "was not healthy") || !strings.Contains(err.Error(), "waiting") {
			t.Fatalf("StartServer = %v, want a timeout quoting the log", err)
		}
	})
	t.Run("no binary", func(t *testing.T) {
		_, err := StartServer(context.Background(), StartOptions{Binary: filepath.Join(t.TempDir(), "current", "paymentctl")})
		if err == nil || !strings.Contains(err.Error(), "no server binary") {
			t.Fatalf("StartServer = %v", err)
		}
	})
}

// TestStopAndStartSteps runs the stop and start steps of a reset twice
// against real server processes (this test binary as paymentctl serve,
// through <releases>/current): the first round finds nothing to stop and
// starts a server; the second stops it (SIGTERM, drain) and starts a new
// one.
func TestStopAndStartSteps(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	releases := filepath.Join(dir, "releases")
	if err := os.MkdirAll(filepath.Join(releases, "rel1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(releases, "rel1", "paymentctl")); err != nil {
		t.Fatal(err)
	}
	if err := pointCurrent(releases, "rel1"); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"PAYMENT_DATABASE_URL":      "sqlite:" + filepath.Join(dir, "p.db"),
		"PAYMENT_API_PORT":          freePort(t),
		"PAYMENT_FAKE_IAMPORT_PORT": freePort(t),
		"PAYMENT_FAKE_TOSS_PORT":    freePort(t),
		"PAYMENT_FAKE_PORTONE_PORT": freePort(t),
		"PAYMENT_METRICS_ADDR":      "127.0.0.1:0",
		"PAYMENT_UPDATOR_RELEASES":  releases,
	}
	cfg := testConfig(t, env)
	childEnv := append(os.Environ(), helperEnv+"=serve")
	for k, v := range env {
		childEnv = append(childEnv, k+"="+v)
	}
	steps, err := Steps(Options{Config: cfg, Mode: config.ModeLocal, Env: childEnv, StopTimeout: 20 * time.Second, StartTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var stopStart []Step
	for _, s := range steps {
		if s.Name == StepStop || s.Name == StepStart {
			stopStart = append(stopStart, s)
		}
	}
	pidFile := filepath.Join(releases, PIDFileName)
	t.Cleanup(func() { _, _ = StopServer(context.Background(), pidFile, 20*time.Second) })
	readPID := func() int {
		raw, err := os.ReadFile(pidFile)
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	health := "http://127.0.0.1:" + env["PAYMENT_API_PORT"] + "/monitors/health"

	var out bytes.Buffer
	if err := (&Runner{Out: &out}).Run(context.Background(), stopStart); err != nil {
		t.Fatalf("round 1: %v\n%s", err, out.String())
	}
	first := readPID()
	wantLines := func(round int, stop string, pid int) {
		t.Helper()
		for _, re := range []string{
			`(?m)^\[1/2\] stop   ok +\S+  ` + stop,
			fmt.Sprintf(`(?m)^\[2/2\] start  ok +\S+  serving at http://127\.0\.0\.1:%s, PID %d, log %s$`,
				env["PAYMENT_API_PORT"], pid, regexp.QuoteMeta(filepath.Join(releases, LogFileName))),
		} {
			if !regexp.MustCompile(re).MatchString(out.String()) {
				t.Errorf("round %d: output does not match %s:\n%s", round, re, out.String())
			}
		}
	}
	wantLines(1, regexp.QuoteMeta("no server running (no PID file "+pidFile+")"), first)
	if cmdline, _ := commandLine(first); !strings.Contains(cmdline, filepath.Join(releases, "current", "paymentctl")+" serve --pid-file "+pidFile) {
		t.Errorf("the server runs %q, not through the current link", cmdline)
	}
	if !healthy(context.Background(), http.DefaultClient, health) {
		t.Fatal("the first server does not answer")
	}

	out.Reset()
	if err := (&Runner{Out: &out}).Run(context.Background(), stopStart); err != nil {
		t.Fatalf("round 2: %v\n%s", err, out.String())
	}
	second := readPID()
	if second == first {
		t.Fatalf("the server was not restarted: PID %d", first)
	}
	wantLines(2, regexp.QuoteMeta(fmt.Sprintf("stopped the server, PID %d (SIGTERM, drained)", first)), second)
	if alive(first) {
		t.Errorf("the first server, PID %d, still runs", first)
	}
	if !healthy(context.Background(), http.DefaultClient, health) {
		t.Fatal("the second server does not answer")
	}
	logged, err := os.ReadFile(filepath.Join(releases, LogFileName))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(logged), "helper stopped"); got != 1 {
		t.Errorf("the log shows %d graceful stops, want 1:\n%s", got, logged)
	}
}
