package updater

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/paymentctl/paymentctl/sdk"
)

// Files of the master's state directory.
const (
	membersFile = "members.json"
	lockFile    = "update.lock"
)

// staleLockAge is how old an unreadable lock file must be to be ignored
// (a file being written is unreadable for a moment).
const staleLockAge = time.Minute

// registry is the master's member list: itself first, then the slaves in
// the order they joined. It is persisted so that the master's successor
// (after its own handoff) knows the slaves at once.
type registry struct {
	mu     sync.Mutex
	self   Member
	slaves map[string]Member // by agent address
	ttl    time.Duration
	path   string
	now    func() time.Time
	log    *slog.Logger
}

func newRegistry(self Member, ttl time.Duration, dir string, now func() time.Time, log *slog.Logger) *registry {
	r := &registry{self: self, slaves: make(map[string]Member), ttl: ttl, now: now, log: log}
	if dir == "" {
		return r
	}
	r.path = filepath.Join(dir, membersFile)
	raw, err := os.ReadFile(r.path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			log.Warn("updater: cannot read the member list", "error", err)
		}
		return r
	}
	var saved []Member
	if err := json.Unmarshal(raw, &saved); err != nil {
		log.Warn("updater: ignoring a bad member list", "path", r.path, "error", err)
		return r
	}
	for i, m := range saved {
		if m.Master || m.Agent == self.Agent || now().Sub(m.LastSeen) > ttl {
			continue
		}
		m.firstSeen = time.Unix(0, int64(i)) // keep the saved order
		r.slaves[m.Agent] = m
	}
	if len(r.slaves) > 0 {
		log.Info("updater: loaded the member list", "slaves", len(r.slaves))
	}
	return r
}

// register adds or renews a slave and reports whether it is new.
func (r *registry) register(m Member) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m.Agent == r.self.Agent {
		return false
	}
	now := r.now()
	old, known := r.slaves[m.Agent]
	m.LastSeen = now
	m.firstSeen = now
	if known && now.Sub(old.LastSeen) <= r.ttl {
		m.firstSeen = old.firstSeen
	}
	r.slaves[m.Agent] = m
	r.saveLocked()
	return !known || old.PID != m.PID || old.Commit != m.Commit
}

// list returns the live members, the master first, and forgets the
// silent ones.
func (r *registry) list() []Member {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	self := r.self
	self.LastSeen = now
	out := []Member{self}
	var slaves []Member
	for addr, m := range r.slaves {
		if now.Sub(m.LastSeen) > r.ttl {
			r.log.Warn("updater: forgetting a silent slave", "name", m.Name, "agent", addr, "last_seen", m.LastSeen)
			delete(r.slaves, addr)
			continue
		}
		slaves = append(slaves, m)
	}
	slices.SortFunc(slaves, func(x, y Member) int {
		if c := x.firstSeen.Compare(y.firstSeen); c != 0 {
			return c
		}
		return strings.Compare(x.Agent, y.Agent)
	})
	return append(out, slaves...)
}

// saveLocked writes the slaves, in order, to the state file.
func (r *registry) saveLocked() {
	if r.path == "" {
		return
	}
	slaves := make([]Member, 0, len(r.slaves))
	for _, m := range r.slaves {
		slaves = append(slaves, m)
	}
	slices.SortFunc(slaves, func(x, y Member) int { return x.firstSeen.Compare(y.firstSeen) })
	raw, err := json.MarshalIndent(slaves, "", "  ")
	if err == nil {
		err = writeFileAtomic(r.path, raw)
	}
	if err != nil {
		r.log.Warn("updater: cannot save the member list", "error", err)
	}
}

// writeFileAtomic writes a file aside and renames it into place, creating
// its directory if needed.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + "." + randomSuffix()
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// rolloutRun is a rollout in progress: its holder and the events so far,
// which any number of followers read.
type rolloutRun struct {
	holder Holder

	mu      sync.Mutex
	events  []Event
	done    bool
	changed chan struct{}
}

func newRun(h Holder) *rolloutRun {
	return &rolloutRun{holder: h, changed: make(chan struct{})}
}

// add appends an event and wakes the followers; an event with a Result
// ends the run.
func (r *rolloutRun) add(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	if ev.Result != nil {
		r.done = true
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

// since returns the events from index i, whether the run is over, and a
// channel closed on the next change.
func (r *rolloutRun) since(i int) ([]Event, bool, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events[i:]), r.done, r.changed
}

func (r *rolloutRun) finished() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done
}

// handleUpdate takes the update lock, starts the rollout and streams its
// events. The rollout does not depend on this request: if the caller goes
// away, it runs to its end (see status).
func (a *Agent) handleUpdate(w http.ResponseWriter, r *http.Request) {
	var req UpdateRequest
	if !readJSON(w, r, &req) {
		return
	}
	run, err := a.startRollout(req)
	var busy *BusyError
	if errors.As(err, &busy) {
		a.log.Warn("updater: update refused, one is running", "by", req.By, "running_by", busy.Holder.By, "since", busy.Holder.Started)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		_ = json.NewEncoder(w).Encode(busyAnswer{Error: busy.Error(), Holder: busy.Holder})
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", ndjson)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	enc := json.NewEncoder(w)
	next := 0
	for {
		events, done, changed := run.since(next)
		// The stream lasts as long as the rollout; each write gets the
		// server's write timeout, so only a stalled caller is cut off.
		_ = rc.SetWriteDeadline(time.Now().Add(a.opts.WriteTimeout))
		for _, ev := range events {
			if err := enc.Encode(ev); err != nil {
				return // The caller left; the rollout goes on.
			}
		}
		next += len(events)
		if err := rc.Flush(); err != nil {
			return
		}
		if done {
			return
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		}
	}
}

func (a *Agent) handleStatus(w http.ResponseWriter, _ *http.Request) {
	st := MasterStatus{Members: a.members.list()}
	a.lockMu.Lock()
	run, last := a.run, a.last
	a.lockMu.Unlock()
	if run != nil {
		events, done, _ := run.since(0)
		st.Events = events
		if !done {
			h := run.holder
			st.Running = &h
		}
	}
	if st.Running == nil && a.opts.StateDir != "" {
		if h, ok := readLock(filepath.Join(a.opts.StateDir, lockFile)); ok && h.PID != a.opts.PID && alive(h.PID) {
			st.Running = &h
		}
	}
	st.Last = last
	writeJSON(w, st)
}

// startRollout takes the cluster's update lock and starts a rollout.
func (a *Agent) startRollout(req UpdateRequest) (*rolloutRun, error) {
	a.lockMu.Lock()
	defer a.lockMu.Unlock()
	if a.run != nil && !a.run.finished() {
		return nil, &BusyError{Holder: a.run.holder}
	}
	if a.handedOff.Load() {
		return nil, errors.New("this master has handed off to a new process; retry")
	}
	h := Holder{PID: a.opts.PID, Started: a.opts.Now(), By: req.By, Ref: req.Ref}
	if err := a.acquireLockFile(h); err != nil {
		return nil, err
	}
	run := newRun(h)
	a.run = run
	a.log.Info("updater: update requested", "by", req.By, "ref", req.Ref)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		res := a.rollout(a.life, req, run)
		a.releaseLockFile()
		a.lockMu.Lock()
		a.last = res
		a.lockMu.Unlock()
		run.add(Event{Time: a.opts.Now(), Step: StepDone, Status: doneStatus(res), Message: summary(res), Result: res})
	}()
	return run, nil
}

func doneStatus(res *Result) string {
	if res.OK {
		return StatusOK
	}
	return StatusFail
}

func summary(res *Result) string {
	if res.OK {
		return fmt.Sprintf("every instance serves %s", res.Target.Short())
	}
	if res.Failed != "" {
		return fmt.Sprintf("rollout stopped at %s: %s", res.Failed, res.Error)
	}
	return "rollout failed: " + res.Error
}

// acquireLockFile creates the lock file, refusing while another live
// process holds it: the master's successor after a handoff sees the lock
// of the rollout its predecessor is finishing.
func (a *Agent) acquireLockFile(h Holder) error {
	if a.opts.StateDir == "" {
		return nil
	}
	path := filepath.Join(a.opts.StateDir, lockFile)
	raw, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(a.opts.StateDir, 0o755); err != nil {
		return fmt.Errorf("update lock: %w", err)
	}
	for range 2 {
		tmp := path + "." + randomSuffix()
		if err := os.WriteFile(tmp, raw, 0o600); err != nil {
			return fmt.Errorf("update lock: %w", err)
		}
		err := os.Link(tmp, path) // fails if the lock exists
		os.Remove(tmp)
		if err == nil {
			return nil
		}
		if !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("update lock: %w", err)
		}
		held, ok := readLock(path)
		switch {
		case ok && held.PID != a.opts.PID && alive(held.PID):
			return &BusyError{Holder: held}
		case !ok:
			if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) < staleLockAge {
				return &BusyError{}
			}
		}
		a.log.Warn("updater: removing a stale update lock", "path", path, "pid", held.PID)
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("update lock: %w", err)
		}
	}
	return errors.New("update lock: could not take it")
}

func (a *Agent) releaseLockFile() {
	if a.opts.StateDir == "" {
		return
	}
	path := filepath.Join(a.opts.StateDir, lockFile)
	if h, ok := readLock(path); ok && h.PID != a.opts.PID {
		return
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		a.log.Warn("updater: cannot remove the update lock", "error", err)
	}
}

// readLock reads a lock file's holder.
func readLock(path string) (Holder, bool) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Holder{}, false
	}
	var h Holder
	if json.Unmarshal(raw, &h) != nil || h.PID <= 0 {
		return Holder{}, false
	}
	return h, true
}

// alive reports whether a process with the PID exists (signal 0).
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// SystemProbe returns a Probe that reads GET /monitors/system with the
// connection encryption key and IV, over a new connection each time so
// that it reaches the process now accepting.
func SystemProbe(key, iv string) Probe {
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	return func(ctx context.Context, apiURL string) (sdk.Commit, error) {
		c, err := sdk.New(sdk.Options{BaseURL: apiURL, Key: key, IV: iv, HTTPClient: hc, Timeout: -1, UserAgent: "paymentctl-updater"})
		if err != nil {
			return sdk.Commit{}, err
		}
		sys, err := c.System(ctx)
		if err != nil {
			return sdk.Commit{}, err
		}
		return sys.Commit, nil
	}
}
