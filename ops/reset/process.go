package reset

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults of the stop and start steps.
const (
	// DefaultStopTimeout bounds the wait for a stopped server to exit: its
	// drain, and a rollout it may be finishing as the updater master.
	DefaultStopTimeout = 60 * time.Second
	// DefaultStartTimeout bounds the wait for a started server to answer
	// its health check.
	DefaultStartTimeout = 60 * time.Second
	// processPoll is how often the stop and start steps look again.
	processPoll = 50 * time.Millisecond
	// logTail is how much of the server's log a start failure quotes.
	logTail = 1500
)

// Stopped is what StopServer did.
type Stopped struct {
	// PID is the process stopped, 0 when none ran.
	PID int
	// Why says why nothing was stopped, when PID is 0.
	Why string
}

// Summary describes the outcome in one line.
func (s Stopped) Summary() string {
	if s.PID == 0 {
		return s.Why
	}
	return fmt.Sprintf("stopped the server, PID %d (SIGTERM, drained)", s.PID)
}

// StopServer stops the paymentctl server whose PID the file pidFile holds:
// it sends SIGTERM, which makes serve drain and exit, and waits up to
// timeout (zero: DefaultStopTimeout) for the process to be gone. A missing
// file, or one naming a process that no longer runs (a stale file), is not
// an error: there is nothing to stop. A PID that runs something other than
// paymentctl is refused, as is one that outlives the timeout.
func StopServer(ctx context.Context, pidFile string, timeout time.Duration) (Stopped, error) {
	if timeout <= 0 {
		timeout = DefaultStopTimeout
	}
	raw, err := os.ReadFile(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return Stopped{Why: fmt.Sprintf("no server running (no PID file %s)", pidFile)}, nil
	}
	if err != nil {
		return Stopped{}, fmt.Errorf("read the PID file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 1 {
		return Stopped{}, fmt.Errorf("the PID file %s holds %q, not a PID", pidFile, strings.TrimSpace(string(raw)))
	}
	if !alive(pid) {
		return Stopped{Why: fmt.Sprintf("no server running (PID %d from %s has exited)", pid, pidFile)}, nil
	}
	if cmdline, ok := commandLine(pid); ok && !strings.Contains(cmdline, "paymentctl") {
		return Stopped{}, fmt.Errorf("PID %d from %s runs %q, not paymentctl; remove the file if it is stale", pid, pidFile, cmdline)
	}
	if err := terminate(pid); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return Stopped{Why: fmt.Sprintf("no server running (PID %d from %s has exited)", pid, pidFile)}, nil
		}
		return Stopped{}, fmt.Errorf("send SIGTERM to PID %d: %w", pid, err)
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(processPoll)
	defer tick.Stop()
	for alive(pid) {
		select {
		case <-ctx.Done():
			return Stopped{}, ctx.Err()
		case <-deadline.C:
			return Stopped{}, fmt.Errorf("PID %d still runs %s after SIGTERM; stop it yourself (kill %d) and run reset again", pid, timeout, pid)
		case <-tick.C:
		}
	}
	return Stopped{PID: pid}, nil
}

// alive reports whether pid is a process that has not exited: signal 0
// reaches it, and it is not a zombie waiting for its parent.
func alive(pid int) bool {
	if err := probe(pid); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		// No procfs: signal 0 is all there is to go by.
		return !errors.Is(err, os.ErrNotExist) || !procfs()
	}
	// pid (comm) state …: comm may hold spaces and parentheses.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z' && stat[i+2] != 'X'
	}
	return true
}

// procfs reports whether /proc is mounted.
func procfs() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// commandLine returns the arguments pid was started with, joined by
// spaces, when the system says (Linux's procfs).
func commandLine(pid int) (string, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(raw) == 0 {
		return "", false
	}
	return strings.Join(strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00"), " "), true
}

// StartOptions configures StartServer.
type StartOptions struct {
	// Binary is the executable to run, normally <releases>/current/paymentctl
	// so that the updater can switch it later.
	Binary string
	// Args are the arguments after the binary, e.g. serve --pid-file f.
	Args []string
	// Env is the server's environment; nil means this process's.
	Env []string
	// Dir is the server's working directory; "" means this process's.
	Dir string
	// LogFile receives the server's standard output and error, appended.
	LogFile string
	// PIDFile is where serve writes its PID once ready; the start is
	// complete when it names the started process.
	PIDFile string
	// HealthURL is the server's GET /monitors/health.
	HealthURL string
	// Timeout bounds the wait for the health check; zero means
	// DefaultStartTimeout.
	Timeout time.Duration
}

// Started is the server StartServer started.
type Started struct {
	PID int
	// URL is the health check URL that answered.
	HealthURL string
	LogFile   string
}

// StartServer starts the server detached from this process (a session of
// its own, standard input from /dev/null, output to LogFile) so that it
// outlives the caller, then waits until it has written its PID to PIDFile
// and HealthURL answers 200. If the process exits first, or the timeout
// passes, the error quotes the end of the log; a server still running
// after the timeout is left running.
func StartServer(ctx context.Context, opts StartOptions) (*Started, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultStartTimeout
	}
	if _, err := os.Stat(opts.Binary); err != nil {
		return nil, fmt.Errorf("no server binary: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(opts.LogFile), 0o755); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(opts.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the server log: %w", err)
	}
	defer logf.Close()
	logStart, _ := logf.Seek(0, io.SeekEnd)
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()

	// Not CommandContext: the server must outlive ctx and this process.
	cmd := exec.Command(opts.Binary, opts.Args...)
	cmd.Env, cmd.Dir = opts.Env, opts.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, logf, logf
	cmd.SysProcAttr = detached()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", opts.Binary, err)
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	// Reap the process if it exits while this one lives.
	go func() { exited <- cmd.Wait() }()

	failed := func(err error) error {
		return fmt.Errorf("%w; the end of %s:\n%s", err, opts.LogFile, readTail(opts.LogFile, logStart))
	}
	client := &http.Client{Timeout: time.Second}
	deadline := time.NewTimer(opts.Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(processPoll)
	defer tick.Stop()
	for {
		if ownsPIDFile(opts.PIDFile, pid) && healthy(ctx, client, opts.HealthURL) {
			return &Started{PID: pid, HealthURL: opts.HealthURL, LogFile: opts.LogFile}, nil
		}
		select {
		case err := <-exited:
			if err == nil {
				err = errors.New("exit status 0")
			}
			return nil, failed(fmt.Errorf("the server (PID %d) exited before it was ready: %w", pid, err))
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline.C:
			return nil, failed(fmt.Errorf("the server (PID %d) was not healthy at %s within %s; it is still running", pid, opts.HealthURL, opts.Timeout))
		case <-tick.C:
		}
	}
}

// ownsPIDFile reports whether the PID file names pid.
func ownsPIDFile(path string, pid int) bool {
	raw, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	got, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	return err == nil && got == pid
}

// healthy reports whether GET url answers 200.
func healthy(ctx context.Context, client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// readTail returns the end of the file from offset on, at most logTail
// bytes.
func readTail(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read it: %v)", err)
	}
	if offset > 0 && offset <= int64(len(b)) {
		b = b[offset:]
	}
	if len(b) > logTail {
		b = append([]byte("…"), b[len(b)-logTail:]...)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "(empty)"
	}
	return s
}
