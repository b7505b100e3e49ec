package updater

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paymentctl/paymentctl/sdk"
)

// Commits of the fake cluster.
var (
	hashA = strings.Repeat("a", 40)
	hashB = strings.Repeat("b", 40)
	hashC = strings.Repeat("c", 40)
)

// fakeCluster is a master and slaves whose releases and handoffs are
// simulated in process, over real agents, real HTTP and real signatures.
// A handoff starts a new generation of the instance's Agent on a duplicate
// of the same listening socket, as tableflip does across processes, and
// the old generation closes its copy.
type fakeCluster struct {
	t         *testing.T
	key       []byte
	instances []*fakeInstance
	byAPI     map[string]*fakeInstance
	target    Target
	health    time.Duration
}

// fakeInstance is one instance: its socket, its agents (one per
// generation), what its API serves and the state of its release links.
type fakeInstance struct {
	c      *fakeCluster
	name   string
	apiURL string
	ln     *net.TCPListener
	opts   Options

	mu       sync.Mutex
	gens     []*Agent
	serving  string // the commit the API reports
	current  string
	previous string
	staged   map[string]bool
	log      []string

	// Faults.
	stageErr   map[string]error
	stageHook  func(ctx context.Context) error
	upgradeErr map[string]error // the new process fails its readiness check
	wrongAfter map[string]bool  // the new process serves, but not this commit
}

// newFakeCluster starts a master and n-1 slaves, all serving hashA, one
// after the other so that they join in order, and waits until the master
// knows every slave. health is the master's HealthTimeout.
func newFakeCluster(t *testing.T, n int, health time.Duration) *fakeCluster {
	t.Helper()
	key, _ := DeriveKey("test-password")
	c := &fakeCluster{t: t, key: key, byAPI: map[string]*fakeInstance{}, health: health}
	stateDir := t.TempDir()
	var masterAddr string
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("slave%d", i)
		if i == 0 {
			name = "master"
			masterAddr = ln.Addr().String()
		}
		apiPort := 40000 + i
		inst := &fakeInstance{
			c: c, name: name, ln: ln.(*net.TCPListener),
			apiURL:  fmt.Sprintf("http://127.0.0.1:%d", apiPort),
			serving: hashA, current: hashA,
			staged:     map[string]bool{hashA: true},
			stageErr:   map[string]error{},
			upgradeErr: map[string]error{},
			wrongAfter: map[string]bool{},
		}
		inst.opts = Options{
			Name:      name,
			Key:       key,
			APIURL:    inst.apiURL,
			APIPort:   apiPort,
			Releases:  &fakeReleaser{inst},
			Probe:     c.probe,
			Heartbeat: 20 * time.Millisecond,
			MemberTTL: 10 * time.Second,
			PID:       os.Getpid(),
			Logger:    testLogger(t, name),
		}
		if i == 0 {
			inst.opts.StateDir = stateDir
		} else {
			inst.opts.Master = masterAddr
		}
		c.instances = append(c.instances, inst)
		c.byAPI[inst.apiURL] = inst
	}
	t.Cleanup(func() {
		for _, inst := range c.instances {
			inst.close()
		}
	})
	for i, inst := range c.instances {
		inst.startGeneration(hashA)
		c.waitMembers(i + 1)
	}
	return c
}

// probe is the master's Probe: what the fake API at apiURL serves.
func (c *fakeCluster) probe(_ context.Context, apiURL string) (sdk.Commit, error) {
	inst := c.byAPI[apiURL]
	if inst == nil {
		return sdk.Commit{}, fmt.Errorf("no API at %s", apiURL)
	}
	inst.mu.Lock()
	defer inst.mu.Unlock()
	return sdk.Commit{Hash: inst.serving, Branch: "main", CommitedAt: "2026-11-24 12:00:00"}, nil
}

// client returns a CLI client of the master.
func (c *fakeCluster) client() *Client {
	cl, err := NewClient(c.instances[0].ln.Addr().String(), c.key, ClientOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	return cl
}

// waitMembers waits until the master lists n members.
func (c *fakeCluster) waitMembers(n int) {
	c.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ms, err := c.client().Members(context.Background())
		if err == nil && len(ms) == n {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the master knows %d members (%v), want %d", len(ms), err, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// update runs a rollout to c.target and returns its result and events.
func (c *fakeCluster) update(ref string) (*Result, []Event, error) {
	var events []Event
	res, err := c.client().Update(context.Background(), UpdateRequest{Ref: ref, By: "tester@host"}, func(ev Event) {
		events = append(events, ev)
	})
	return res, events, err
}

// startGeneration starts a new Agent of the instance, serving commit, on a
// duplicate of the instance's socket.
func (inst *fakeInstance) startGeneration(commit string) {
	f, err := inst.ln.File()
	if err != nil {
		inst.c.t.Fatal(err)
	}
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		inst.c.t.Fatal(err)
	}
	opts := inst.opts
	opts.Commit = commit
	opts.HealthTimeout = inst.c.health
	a, err := New(opts)
	if err != nil {
		inst.c.t.Fatal(err)
	}
	if err := a.Start(ln); err != nil {
		inst.c.t.Fatal(err)
	}
	inst.gens = append(inst.gens, a)
}

// upgrade simulates the handoff to the binary of commit: a new generation
// starts, or fails its readiness check and the old one keeps serving.
func (inst *fakeInstance) upgrade(commit string) error {
	inst.log = append(inst.log, "upgrade "+shortHash(commit))
	if err := inst.upgradeErr[commit]; err != nil {
		return err
	}
	inst.startGeneration(commit)
	if !inst.wrongAfter[commit] {
		inst.serving = commit
	}
	return nil
}

func (inst *fakeInstance) state() (serving, current string, gens int, log []string) {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	return inst.serving, inst.current, len(inst.gens), append([]string(nil), inst.log...)
}

func (inst *fakeInstance) close() {
	inst.mu.Lock()
	gens := append([]*Agent(nil), inst.gens...)
	inst.mu.Unlock()
	for _, a := range gens {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = a.Close(ctx)
		cancel()
	}
	inst.ln.Close()
}

// fakeReleaser is the Releaser of a fakeInstance.
type fakeReleaser struct{ inst *fakeInstance }

func (r *fakeReleaser) Resolve(_ context.Context, ref string) (Target, error) {
	if ref == "missing" {
		return Target{}, errors.New("resolve: missing is not a commit")
	}
	t := r.inst.c.target
	t.Ref = ref
	return t, nil
}

func (r *fakeReleaser) Stage(ctx context.Context, t Target) (*Staged, error) {
	inst := r.inst
	if inst.stageHook != nil {
		if err := inst.stageHook(ctx); err != nil {
			return nil, err
		}
	}
	inst.mu.Lock()
	defer inst.mu.Unlock()
	inst.log = append(inst.log, "stage "+t.Short())
	if err := inst.stageErr[t.Hash]; err != nil {
		return nil, err
	}
	inst.staged[t.Hash] = true
	return &Staged{Binary: "/releases/" + t.Hash + "/paymentctl"}, nil
}

func (r *fakeReleaser) Switch(_ context.Context, hash string) error {
	inst := r.inst
	inst.mu.Lock()
	defer inst.mu.Unlock()
	if !inst.staged[hash] {
		return fmt.Errorf("%s is not staged", shortHash(hash))
	}
	prev := inst.current
	inst.current, inst.previous = hash, prev
	if err := inst.upgrade(hash); err != nil {
		inst.current = prev
		return fmt.Errorf("hand off to %s: %w (current link put back to %s)", shortHash(hash), err, shortHash(prev))
	}
	return nil
}

func (r *fakeReleaser) Rollback(_ context.Context, hash string) error {
	inst := r.inst
	inst.mu.Lock()
	defer inst.mu.Unlock()
	if inst.current != hash || inst.previous == "" {
		return errors.New("nothing to roll back")
	}
	inst.current = inst.previous
	if err := inst.upgrade(inst.current); err != nil {
		inst.current = hash
		return err
	}
	return nil
}

func (r *fakeReleaser) State() ReleaseState {
	r.inst.mu.Lock()
	defer r.inst.mu.Unlock()
	return ReleaseState{Current: r.inst.current, Previous: r.inst.previous, Switchable: true}
}

// step is the comparable part of an event.
type step struct{ Instance, Step, Status string }

func steps(events []Event) []step {
	out := make([]step, len(events))
	for i, ev := range events {
		out[i] = step{ev.Instance, ev.Step, ev.Status}
	}
	return out
}

// prefix returns the steps every rollout of three instances begins with.
func prefix() []step {
	return []step{
		{"", StepResolve, StatusStart}, {"", StepResolve, StatusOK},
		{"", StepCheck, StatusInfo},
		{"slave1", StepCheck, StatusOK}, {"slave2", StepCheck, StatusOK}, {"master", StepCheck, StatusOK},
	}
}

func TestRolloutSuccess(t *testing.T) {
	c := newFakeCluster(t, 3, 2*time.Second)
	c.target = Target{Hash: hashB, Branch: "main"}
	res, events, err := c.update("")
	if err != nil {
		t.Fatal(err)
	}
	want := append(prefix(),
		step{"slave1", StepStage, StatusStart}, step{"slave1", StepStage, StatusOK},
		step{"slave2", StepStage, StatusStart}, step{"slave2", StepStage, StatusOK},
		step{"master", StepStage, StatusStart}, step{"master", StepStage, StatusOK},
		step{"slave1", StepSwitch, StatusStart}, step{"slave1", StepSwitch, StatusOK},
		step{"slave1", StepHealth, StatusOK},
		step{"slave2", StepSwitch, StatusStart}, step{"slave2", StepSwitch, StatusOK},
		step{"slave2", StepHealth, StatusOK},
		step{"master", StepSwitch, StatusStart}, step{"master", StepSwitch, StatusOK},
		step{"master", StepHealth, StatusOK},
		step{"", StepDone, StatusOK},
	)
	if diff := cmp.Diff(want, steps(events)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	for i := 1; i < len(events); i++ {
		if events[i].Time.Before(events[i-1].Time) {
			t.Errorf("event %d is older than event %d", i, i-1)
		}
	}
	if !res.OK || res.Target.Hash != hashB || res.By != "tester@host" || res.Failed != "" {
		t.Errorf("result = %+v", res)
	}
	var got []string
	for _, ic := range res.Instances {
		got = append(got, ic.Name+" "+shortHash(ic.Hash)+" "+ic.Branch)
	}
	if diff := cmp.Diff([]string{"master bbbbbbb main", "slave1 bbbbbbb main", "slave2 bbbbbbb main"}, got); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
	for _, inst := range c.instances {
		serving, current, gens, _ := inst.state()
		if serving != hashB || current != hashB || gens != 2 {
			t.Errorf("%s: serving %s, current %s, %d generations; want b, b, 2", inst.name, shortHash(serving), shortHash(current), gens)
		}
	}

	// The master's successor knows every slave at once (from its state
	// directory), so a second rollout reaches all of them; instances that
	// already serve the target are skipped.
	ms, err := c.client().Members(context.Background())
	if err != nil || len(ms) != 3 || !ms[0].Master || ms[0].Commit != hashB {
		t.Fatalf("members after the master's handoff = %+v, %v", ms, err)
	}
	s2 := c.instances[2] // handed off to hashC already
	s2.mu.Lock()
	s2.gens[len(s2.gens)-1].Retire()
	s2.startGeneration(hashC)
	s2.serving, s2.current, s2.staged[hashC] = hashC, hashC, true
	s2.mu.Unlock()
	c.target = Target{Hash: hashC, Branch: "main"}
	res, events, err = c.update("main")
	if err != nil || !res.OK {
		t.Fatalf("second rollout: %+v, %v", res, err)
	}
	var skipped []string
	for _, ev := range events {
		if ev.Status == StatusSkip {
			skipped = append(skipped, ev.Instance)
		}
	}
	if diff := cmp.Diff([]string{"slave2"}, skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	for _, inst := range c.instances {
		if serving, _, _, _ := inst.state(); serving != hashC {
			t.Errorf("%s serves %s after the second rollout", inst.name, shortHash(serving))
		}
	}
}

func TestRolloutBuildFailure(t *testing.T) {
	c := newFakeCluster(t, 3, 2*time.Second)
	c.target = Target{Hash: hashB}
	c.instances[2].stageErr[hashB] = errors.New("go build: exit status 1: syntax error")
	res, events, err := c.update("")
	if err != nil {
		t.Fatal(err)
	}
	want := append(prefix(),
		step{"slave1", StepStage, StatusStart}, step{"slave1", StepStage, StatusOK},
		step{"slave2", StepStage, StatusStart}, step{"slave2", StepStage, StatusFail},
		step{"", StepDone, StatusFail},
	)
	if diff := cmp.Diff(want, steps(events)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if res.OK || res.Failed != "slave2" || !strings.Contains(res.Error, "syntax error") {
		t.Errorf("result = %+v", res)
	}
	// Every instance is still on the old commit: nothing was switched.
	for _, inst := range c.instances {
		serving, current, gens, _ := inst.state()
		if serving != hashA || current != hashA || gens != 1 {
			t.Errorf("%s: serving %s, current %s, %d generations; want a, a, 1", inst.name, shortHash(serving), shortHash(current), gens)
		}
	}
	for _, ic := range res.Instances {
		if ic.Hash != hashA {
			t.Errorf("result says %s serves %s", ic.Name, ic.Hash)
		}
	}
}

func TestRolloutReadinessFailure(t *testing.T) {
	c := newFakeCluster(t, 3, 2*time.Second)
	c.target = Target{Hash: hashB}
	c.instances[2].upgradeErr[hashB] = errors.New("child pid 4242 exited: exit status 3")
	res, events, err := c.update("")
	if err != nil {
		t.Fatal(err)
	}
	want := append(prefix(),
		step{"slave1", StepStage, StatusStart}, step{"slave1", StepStage, StatusOK},
		step{"slave2", StepStage, StatusStart}, step{"slave2", StepStage, StatusOK},
		step{"master", StepStage, StatusStart}, step{"master", StepStage, StatusOK},
		step{"slave1", StepSwitch, StatusStart}, step{"slave1", StepSwitch, StatusOK},
		step{"slave1", StepHealth, StatusOK},
		step{"slave2", StepSwitch, StatusStart}, step{"slave2", StepSwitch, StatusFail},
		step{"", StepDone, StatusFail},
	)
	if diff := cmp.Diff(want, steps(events)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if res.OK || res.Failed != "slave2" || !strings.Contains(res.Error, "exit status 3") {
		t.Errorf("result = %+v", res)
	}
	// slave1 went first and stays on the new commit; slave2 kept serving the
	// old one with its link put back; the master was not touched.
	wantState := map[string][2]string{"slave1": {hashB, hashB}, "slave2": {hashA, hashA}, "master": {hashA, hashA}}
	for _, inst := range c.instances {
		serving, current, _, _ := inst.state()
		if w := wantState[inst.name]; serving != w[0] || current != w[1] {
			t.Errorf("%s: serving %s, current %s; want %s, %s", inst.name, shortHash(serving), shortHash(current), shortHash(w[0]), shortHash(w[1]))
		}
	}
}

func TestRolloutHealthFailureRollsBack(t *testing.T) {
	c := newFakeCluster(t, 2, 500*time.Millisecond)
	c.instances[1].mu.Lock()
	c.instances[1].wrongAfter[hashB] = true
	c.instances[1].mu.Unlock()

	c.target = Target{Hash: hashB}
	res, events, err := c.update("")
	if err != nil {
		t.Fatal(err)
	}
	got := steps(events)
	want := []step{
		{"slave1", StepSwitch, StatusStart}, {"slave1", StepSwitch, StatusOK},
		{"slave1", StepHealth, StatusFail},
		{"slave1", StepRollback, StatusStart}, {"slave1", StepRollback, StatusOK},
		{"", StepDone, StatusFail},
	}
	if len(got) < len(want) {
		t.Fatalf("events = %v", got)
	}
	if diff := cmp.Diff(want, got[len(got)-len(want):]); diff != "" {
		t.Errorf("last events (-want +got):\n%s", diff)
	}
	if res.OK || res.Failed != "slave1" || !strings.Contains(res.Error, "did not serve bbbbbbb") {
		t.Errorf("result = %+v", res)
	}
	serving, current, gens, log := c.instances[1].state()
	if serving != hashA || current != hashA || gens != 3 {
		t.Errorf("slave1: serving %s, current %s, %d generations; want a, a, 3 (old, new, rolled back)", shortHash(serving), shortHash(current), gens)
	}
	if diff := cmp.Diff([]string{"stage bbbbbbb", "upgrade bbbbbbb", "upgrade aaaaaaa"}, log); diff != "" {
		t.Errorf("slave1 did (-want +got):\n%s", diff)
	}
	if serving, _, gens, _ := c.instances[0].state(); serving != hashA || gens != 1 {
		t.Errorf("master: serving %s, %d generations; want a, 1", shortHash(serving), gens)
	}
}

func TestRolloutCheckFailure(t *testing.T) {
	c := newFakeCluster(t, 2, 2*time.Second)
	c.target = Target{Hash: hashB}

	// A ref that does not resolve stops before any instance is asked.
	res, events, err := c.update("missing")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]step{{"", StepResolve, StatusStart}, {"", StepResolve, StatusFail}, {"", StepDone, StatusFail}}, steps(events)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if res.OK || !strings.Contains(res.Error, "missing is not a commit") {
		t.Errorf("result = %+v", res)
	}

	// A slave that stopped answering but is still listed fails the check,
	// and nothing is staged anywhere.
	c.instances[1].close()
	res, events, err = c.update("")
	if err != nil {
		t.Fatal(err)
	}
	last := steps(events)[len(events)-2:]
	if diff := cmp.Diff([]step{{"slave1", StepCheck, StatusFail}, {"", StepDone, StatusFail}}, last); diff != "" {
		t.Errorf("last events (-want +got):\n%s", diff)
	}
	if res.Failed != "slave1" {
		t.Errorf("failed at %q", res.Failed)
	}
	if _, _, _, log := c.instances[0].state(); len(log) != 0 {
		t.Errorf("the master did %v", log)
	}
}

func TestRolloutOneAtATime(t *testing.T) {
	c := newFakeCluster(t, 2, 2*time.Second)
	c.target = Target{Hash: hashB}
	// slave1's build waits until the test has seen its start event on the
	// stream: this proves events are streamed as they happen, and holds
	// the lock while a second update is tried.
	seen := make(chan struct{})
	c.instances[1].stageHook = func(ctx context.Context) error {
		select {
		case <-seen:
			return nil
		case <-time.After(10 * time.Second):
			return errors.New("the stage-start event never reached the client")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	type outcome struct {
		res *Result
		err error
	}
	first := make(chan outcome, 1)
	go func() {
		var once sync.Once
		res, err := c.client().Update(context.Background(), UpdateRequest{By: "alice@ops"}, func(ev Event) {
			if ev.Instance == "slave1" && ev.Step == StepStage && ev.Status == StatusStart {
				// While this rollout holds the lock, a second is refused.
				_, err := c.client().Update(context.Background(), UpdateRequest{By: "bob@ops"}, nil)
				var busy *BusyError
				if !errors.As(err, &busy) {
					t.Errorf("second update: %v, want a BusyError", err)
				} else {
					if busy.Holder.By != "alice@ops" || busy.Holder.Started.IsZero() {
						t.Errorf("holder = %+v", busy.Holder)
					}
					if msg := busy.Error(); !strings.HasPrefix(msg, "an update is already running, started at ") || !strings.HasSuffix(msg, " by alice@ops") {
						t.Errorf("message = %q", msg)
					}
				}
				st, err := c.client().Status(context.Background())
				if err != nil || st.Running == nil || st.Running.By != "alice@ops" {
					t.Errorf("status while running = %+v, %v", st, err)
				}
				once.Do(func() { close(seen) })
			}
		})
		first <- outcome{res, err}
	}()
	select {
	case o := <-first:
		if o.err != nil || !o.res.OK {
			t.Fatalf("first update: %+v, %v", o.res, o.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the first update did not finish")
	}
	// Once it is over, the next update is accepted (nothing left to do).
	res, _, err := c.update("")
	if err != nil || !res.OK {
		t.Errorf("update after the first: %+v, %v", res, err)
	}
	st, err := c.client().Status(context.Background())
	if err != nil || st.Running != nil || st.Last == nil || !st.Last.OK {
		t.Errorf("status after = %+v, %v", st, err)
	}
}

// testLogger logs to t until the test ends.
func testLogger(t *testing.T, name string) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.stop)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})).With("instance", name)
}

type testWriter struct {
	mu      sync.Mutex
	t       *testing.T
	stopped bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
}

// TestRolloutOutlastsWriteTimeout runs a rollout whose builds take longer
// than the agents' write timeout: the stage verb and the update stream set
// deadlines of their own, so neither answer is cut off.
func TestRolloutOutlastsWriteTimeout(t *testing.T) {
	c := newFakeCluster(t, 2, 2*time.Second)
	const writeTimeout = 100 * time.Millisecond
	for _, inst := range c.instances {
		inst.mu.Lock()
		inst.opts.WriteTimeout = writeTimeout
		inst.gens[len(inst.gens)-1].Retire()
		inst.startGeneration(hashA)
		inst.stageHook = func(ctx context.Context) error {
			select {
			case <-time.After(3 * writeTimeout):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		inst.mu.Unlock()
	}
	c.waitMembers(2)
	c.target = Target{Hash: hashB, Branch: "main"}
	res, events, err := c.update("")
	if err != nil || !res.OK {
		t.Fatalf("rollout with builds slower than the write timeout: %+v, %v\nevents: %v", res, err, steps(events))
	}
	for _, inst := range c.instances {
		if serving, _, _, _ := inst.state(); serving != hashB {
			t.Errorf("%s serves %s, want b", inst.name, shortHash(serving))
		}
	}
}
