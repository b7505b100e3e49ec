package updater

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/paymentctl/paymentctl/sdk"
)

// startAgent starts an agent with a fake releaser on loopback.
func startAgent(t *testing.T, opts Options) (*Agent, string) {
	t.Helper()
	if opts.Key == nil {
		opts.Key, _ = DeriveKey("test-password")
	}
	if opts.Releases == nil {
		inst := &fakeInstance{current: hashA, staged: map[string]bool{}, stageErr: map[string]error{}}
		opts.Releases = &fakeReleaser{inst}
	}
	if opts.Probe == nil {
		opts.Probe = func(context.Context, string) (sdk.Commit, error) { return sdk.Commit{}, errors.New("no API") }
	}
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ln); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Close(ctx)
	})
	return a, ln.Addr().String()
}

func TestAgentRefusals(t *testing.T) {
	key, _ := DeriveKey("test-password")
	master, masterAddr := startAgent(t, Options{Key: key, Name: "m"})
	slave, slaveAddr := startAgent(t, Options{Key: key, Name: "s", Master: masterAddr, APIPort: 1234})
	if !master.IsMaster() || slave.IsMaster() {
		t.Fatal("roles")
	}

	// Unsigned, and signed with another key: 401 before any verb runs.
	resp, err := http.Get("http://" + masterAddr + pathMembers)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned: %d", resp.StatusCode)
	}
	other, _ := DeriveKey("wrong")
	wrong, _ := NewClient(masterAddr, other, ClientOptions{})
	var ae *AnswerError
	if _, err := wrong.Members(context.Background()); !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Errorf("wrong key: %v", err)
	}

	// A slave refuses the master's verbs and says where the master is.
	sc, _ := NewClient(slaveAddr, key, ClientOptions{})
	if _, err := sc.Update(context.Background(), UpdateRequest{}, nil); err == nil || !strings.Contains(err.Error(), "its master is "+masterAddr) {
		t.Errorf("update at a slave: %v", err)
	}

	// A malformed hash is refused before the releaser sees it.
	if err := sc.update(context.Background(), "main"); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Errorf("update main: %v", err)
	}

	// After a handoff the old agent refuses instance verbs, and its status
	// says so; it stops accepting new connections (here, nothing else
	// listens, so the dial fails).
	st, err := sc.InstanceStatus(context.Background())
	if err != nil || st.HandedOff || st.Name != "s" || st.Commit == "" {
		t.Fatalf("status = %+v, %v", st, err)
	}
	slave.Retire()
	if _, err := sc.InstanceStatus(context.Background()); err == nil {
		t.Error("a retired agent still accepts connections")
	}
}

func TestRegistry(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	log := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	self := Member{Name: "m", Agent: "127.0.0.1:1", Master: true}
	r := newRegistry(self, 10*time.Second, dir, clock, log)

	if !r.register(Member{Name: "b", Agent: "10.0.0.2:37820"}) {
		t.Error("a new slave is not new")
	}
	now = now.Add(time.Second)
	r.register(Member{Name: "a", Agent: "10.0.0.1:37820"})
	r.register(self) // the master's own address is not a slave
	now = now.Add(time.Second)
	if r.register(Member{Name: "b", Agent: "10.0.0.2:37820"}) {
		t.Error("a renewal is reported as new")
	}
	if !r.register(Member{Name: "b", Agent: "10.0.0.2:37820", PID: 7}) {
		t.Error("a new process of a slave is not reported")
	}
	names := func(ms []Member) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Name)
		}
		return out
	}
	// Join order, not name order, and it survives renewals.
	if diff := cmp.Diff([]string{"m", "b", "a"}, names(r.list())); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}

	// The master's successor reads the list, dropping stale entries.
	now = now.Add(9500 * time.Millisecond) // a: 10.5 s silent, b: 9.5 s
	r2 := newRegistry(self, 10*time.Second, dir, clock, log)
	if diff := cmp.Diff([]string{"m", "b"}, names(r2.list())); diff != "" {
		t.Errorf("reloaded list (-want +got):\n%s", diff)
	}
	// Silent slaves are forgotten.
	now = now.Add(2 * time.Second)
	if diff := cmp.Diff([]string{"m"}, names(r.list())); diff != "" {
		t.Errorf("list after silence (-want +got):\n%s", diff)
	}
}

func TestLockFile(t *testing.T) {
	dir := t.TempDir()
	a, err := New(Options{Key: []byte("k"), Releases: &fakeReleaser{}, Probe: func(context.Context, string) (sdk.Commit, error) {
		return sdk.Commit{}, nil
	}, StateDir: dir, PID: os.Getpid()})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, lockFile)
	write := func(h Holder) {
		raw, _ := json.Marshal(h)
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skipf("true: %v", err)
	}
	started := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		holder *Holder // nil: no lock file
		busy   bool
	}{
		{"free", nil, false},
		{"held by a live process", &Holder{PID: os.Getppid(), Started: started, By: "alice@ops"}, true},
		{"left by a dead process", &Holder{PID: dead.Process.Pid, Started: started, By: "bob@ops"}, false},
		{"left by this process", &Holder{PID: os.Getpid(), Started: started}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(path)
			if tt.holder != nil {
				write(*tt.holder)
			}
			mine := Holder{PID: os.Getpid(), Started: started.Add(time.Hour), By: "me@here"}
			err := a.acquireLockFile(mine)
			var busy *BusyError
			if tt.busy {
				if !errors.As(err, &busy) || busy.Holder.By != tt.holder.By {
					t.Fatalf("acquire = %v, want busy by %s", err, tt.holder.By)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, ok := readLock(path)
			if diff := cmp.Diff(mine, got, cmpopts.EquateApproxTime(0)); !ok || diff != "" {
				t.Errorf("lock file (-want +got):\n%s", diff)
			}
			a.releaseLockFile()
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("released lock still there: %v", err)
			}
		})
	}
}
