//go:build unix

package updater_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paymentctl/paymentctl/buildinfo"
	"github.com/paymentctl/paymentctl/config"
	"github.com/paymentctl/paymentctl/ops/updater"
)

// TestEndToEnd builds this module's paymentctl at a commit A, runs a master
// and a slave from their <releases>/current links on loopback ports, and
// runs `paymentctl update local`, which rolls both to commit B (A plus an
// empty commit) through real builds and socket handoffs.
//
// The repository is a copy of this working tree (tracked and untracked,
// not ignored files), so uncommitted changes are what is tested.
//
// Every build runs the go command of this test with its environment, so
// they share one build cache (GOCACHE, the one `go test` uses), and A is
// built with the flags the updater uses (-trimpath): the two builds of B,
// the same sources, then only link. With a warm cache the test takes
// 30–60 s; a cold one compiles every dependency once for A, which takes
// minutes on a loaded machine. So the test has no time bound of its own
// but the deadline of `go test` (-timeout), minus a margin to stop the
// servers and report.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds paymentctl three times; skipped with -short")
	}
	for _, tool := range []string{"git", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found", tool)
		}
	}
	ctx, cancel := testContext(t, time.Minute)
	defer cancel()
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	copyWorkTree(ctx, t, repo)
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", repo, "-c", "user.name=e2e", "-c", "user.email=e2e@example.com"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-q", "-m", "A")
	hashA := git("rev-parse", "HEAD")
	git("commit", "-q", "--allow-empty", "-m", "B")
	hashB := git("rev-parse", "HEAD")

	// Release A, built by hand as an installation would.
	binA := filepath.Join(root, "build", "paymentctl")
	start := time.Now()
	build := exec.CommandContext(ctx, "go", "build", "-trimpath",
		"-ldflags", buildinfo.LDFlags(buildinfo.Info{Commit: hashA}, buildinfo.CommitInfo{Branch: "main"}),
		"-o", binA, "./cmd/paymentctl")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		if ctx.Err() != nil {
			t.Fatalf("build A did not finish within the deadline of go test (after %s): with a cold build cache it compiles every dependency once with -trimpath; run again (the cache is warm then) or raise -timeout", time.Since(start).Round(time.Second))
		}
		t.Fatalf("build A: %v\n%s", err, out)
	}
	t.Logf("built A in %s", time.Since(start).Round(time.Second))

	// Per instance: API, updater agent and metrics ports; no default
	// port, where a real `paymentctl serve` may run.
	ports := freePorts(t, 6)
	masterAgent := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[2]))
	var insts []*instance
	for i := range 2 {
		inst := &instance{dir: filepath.Join(root, fmt.Sprintf("i%d", i)), apiPort: ports[i]}
		releases := filepath.Join(inst.dir, "releases")
		if err := os.MkdirAll(filepath.Join(releases, hashA), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := copyFile(binA, filepath.Join(releases, hashA, "paymentctl")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(hashA, filepath.Join(releases, "current")); err != nil {
			t.Fatal(err)
		}
		master := ""
		if i > 0 {
			master = masterAgent
		}
		inst.env = append(cleanEnv(),
			"PAYMENT_MODE=local",
			"PAYMENT_API_PORT="+strconv.Itoa(ports[i]),
			"PAYMENT_UPDATOR_PORT="+strconv.Itoa(ports[2+i]),
			"PAYMENT_METRICS_ADDR=127.0.0.1:"+strconv.Itoa(ports[4+i]),
			"PAYMENT_UPDATOR_MASTER="+master,
			"PAYMENT_UPDATOR_REPO="+repo,
			"PAYMENT_UPDATOR_RELEASES="+releases,
			"PAYMENT_DATABASE_URL=sqlite:"+filepath.Join(inst.dir, "p.db"),
			// External PG URLs: no in-process fakes, whose ports a handoff
			// does not pass on.
			"PAYMENT_IAMPORT_URL=http://127.0.0.1:9",
			"PAYMENT_TOSS_PAYMENTS_URL=http://127.0.0.1:9",
		)
		inst.start(t, filepath.Join(releases, "current", "paymentctl"))
		insts = append(insts, inst)
	}
	t.Cleanup(func() {
		for _, inst := range insts {
			inst.stop(t)
		}
	})
	pidsBefore := []int{insts[0].waitPID(t, 0), insts[1].waitPID(t, 0)}

	// The master must know the slave before the update.
	key, _ := updater.DeriveKey("samchon") // the default system password
	client, err := updater.NewClient(masterAgent, key, updater.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ms, err := client.Members(ctx)
		if err == nil && len(ms) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("members: %v, %v", ms, err)
		}
	}

	update := exec.CommandContext(ctx, filepath.Join(insts[0].dir, "releases", "current", "paymentctl"), "update", "local")
	update.Dir = insts[0].dir
	update.Env = insts[0].env
	var stdout, stderr bytes.Buffer
	update.Stdout, update.Stderr = &stdout, &stderr
	start = time.Now()
	err = update.Run()
	t.Logf("update took %s:\n%s%s", time.Since(start).Round(time.Second), stdout.String(), stderr.String())
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if !strings.Contains(stdout.String(), "updated every instance to "+hashB) {
		t.Errorf("update did not report success")
	}

	cfg, err := config.Load(config.LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	probe := updater.SystemProbe(cfg.Connection.Encryption.Key.Reveal(), cfg.Connection.Encryption.IV.Reveal())
	for i, inst := range insts {
		c, err := probe(ctx, "http://127.0.0.1:"+strconv.Itoa(inst.apiPort))
		if err != nil || c.Hash != hashB || c.Branch != "main" {
			t.Errorf("instance %d serves %+v, %v; want %s on main", i, c, err, hashB)
		}
		if pid := inst.waitPID(t, pidsBefore[i]); pid == pidsBefore[i] {
			t.Errorf("instance %d still has pid %d", i, pid)
		}
		cur, _ := os.Readlink(filepath.Join(inst.dir, "releases", "current"))
		if cur != hashB {
			t.Errorf("instance %d: current → %s", i, cur)
		}
	}
}

// testContext returns a context that ends margin before the deadline of
// `go test` (-timeout), or never when there is none, so that a slow step
// fails the test with its own error and leaves time to clean up.
func testContext(t *testing.T, margin time.Duration) (context.Context, context.CancelFunc) {
	deadline, ok := t.Deadline()
	if !ok {
		return context.WithCancel(context.Background())
	}
	return context.WithDeadline(context.Background(), deadline.Add(-margin))
}

// instance is one paymentctl serve process tree.
type instance struct {
	dir     string
	apiPort int
	env     []string
	cmd     *exec.Cmd
	log     lockedBuffer
}

// lockedBuffer collects the output of a process and its successors.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start runs bin serve. Not under the test's context: stop ends the
// process tree with SIGTERM, as an operator would.
func (inst *instance) start(t *testing.T, bin string) {
	t.Helper()
	inst.cmd = exec.Command(bin, "serve", "--pid-file", filepath.Join(inst.dir, "pid"))
	// Its successors inherit its output; do not wait for them forever.
	inst.cmd.WaitDelay = 5 * time.Second
	inst.cmd.Dir = inst.dir
	inst.cmd.Env = inst.env
	inst.cmd.Stdout, inst.cmd.Stderr = &inst.log, &inst.log
	if err := inst.cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

// waitPID waits until the PID file names a process other than not.
func (inst *instance) waitPID(t *testing.T, not int) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		raw, err := os.ReadFile(filepath.Join(inst.dir, "pid"))
		if err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil && pid != not {
				return pid
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no new PID file; log:\n%s", inst.dir, inst.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM to the serving process (the PID file) and to the one
// started first, and waits for them.
func (inst *instance) stop(t *testing.T) {
	if raw, err := os.ReadFile(filepath.Join(inst.dir, "pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil {
			_ = syscall.Kill(pid, syscall.SIGTERM)
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				if syscall.Kill(pid, 0) != nil {
					break
				}
			}
		}
	}
	if inst.cmd != nil && inst.cmd.Process != nil {
		_ = inst.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- inst.cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = inst.cmd.Process.Kill()
		}
	}
	if t.Failed() {
		t.Logf("%s log:\n%s", inst.dir, inst.log.String())
	}
}

// copyWorkTree copies the files git lists in this working tree (tracked,
// and untracked but not ignored) to dest.
func copyWorkTree(ctx context.Context, t *testing.T, dest string) {
	t.Helper()
	top, err := exec.CommandContext(ctx, "git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git work tree: %v", err)
	}
	src := strings.TrimSpace(string(top))
	list, err := exec.CommandContext(ctx, "git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		from := filepath.Join(src, name)
		fi, err := os.Lstat(from)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the work tree
		}
		if err != nil {
			t.Fatal(err)
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		to := filepath.Join(dest, name)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := copyFile(from, to); err != nil {
			t.Fatal(err)
		}
	}
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	fi, err := os.Stat(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, fi.Mode().Perm())
}

// cleanEnv is the environment without PAYMENT_* settings.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PAYMENT_") {
			env = append(env, kv)
		}
	}
	return env
}

// freePorts returns n distinct free loopback ports.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}
