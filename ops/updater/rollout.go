package updater

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// rollout is the state of one rollout on the master.
type rollout struct {
	a   *Agent
	run *rolloutRun
	res *Result
	// order is the switch order: the slaves as they joined, the master last.
	order []Member
	// running is the commit each instance served at the check, by agent.
	running map[string]string
}

// rollout runs the state machine: resolve the target once; check that
// every instance answers and can switch; stage (fetch, build, verify) on
// every instance; then, one instance at a time with the master last,
// switch and hand off and wait until the new process serves the target.
// The first failure stops it; a failed health check rolls that instance
// back first. Instances switched before a failure keep the new commit.
func (a *Agent) rollout(ctx context.Context, req UpdateRequest, run *rolloutRun) *Result {
	ro := &rollout{
		a: a, run: run,
		res:     &Result{Target: Target{Ref: req.Ref}, By: req.By, Started: run.holder.Started},
		running: map[string]string{},
	}
	if err := ro.resolve(ctx, req.Ref); err != nil {
		return ro.fail(ctx, "", err)
	}
	for _, step := range []func(context.Context) (string, error){ro.check, ro.stage, ro.switchAll} {
		if name, err := step(ctx); err != nil {
			return ro.fail(ctx, name, err)
		}
	}
	ro.res.OK = true
	a.finish(ctx, ro.res)
	return ro.res
}

// emit records an event, stamps its time and logs it.
func (ro *rollout) emit(ctx context.Context, ev Event) {
	ev.Time = ro.a.opts.Now()
	ro.run.add(ev)
	attrs := []any{"step", ev.Step, "status", ev.Status}
	for _, kv := range [][2]string{{"instance", ev.Instance}, {"detail", ev.Message}, {"error", ev.Error}} {
		if kv[1] != "" {
			attrs = append(attrs, kv[0], kv[1])
		}
	}
	level := slog.LevelInfo
	if ev.Status == StatusFail {
		level = slog.LevelError
	}
	ro.a.log.Log(ctx, level, "updater: rollout", attrs...)
}

// fail ends the rollout at the named instance ("" for the master's own
// steps).
func (ro *rollout) fail(ctx context.Context, name string, err error) *Result {
	ro.res.Failed, ro.res.Error = name, err.Error()
	ro.a.finish(ctx, ro.res)
	return ro.res
}

// resolve turns the ref into the target and plans the order.
func (ro *rollout) resolve(ctx context.Context, ref string) error {
	what := ref
	if what == "" {
		what = "the deployed branch"
	}
	ro.emit(ctx, Event{Step: StepResolve, Status: StatusStart, Message: "resolving " + what})
	t, err := ro.a.opts.Releases.Resolve(ctx, ref)
	if err != nil {
		ro.emit(ctx, Event{Step: StepResolve, Status: StatusFail, Error: err.Error()})
		return err
	}
	ro.res.Target = t
	msg := "target " + t.Hash
	if t.Branch != "" {
		msg += " (branch " + t.Branch + ")"
	}
	ro.emit(ctx, Event{Step: StepResolve, Status: StatusOK, Message: msg})

	members := ro.a.members.list()
	ro.order = append(slices.Clone(members[1:]), members[0])
	names := make([]string, len(ro.order))
	for i, m := range ro.order {
		names[i] = m.Name
	}
	ro.emit(ctx, Event{Step: StepCheck, Status: StatusInfo,
		Message: fmt.Sprintf("%d instance(s), in order: %s", len(ro.order), strings.Join(names, ", "))})
	return nil
}

// check asks every instance for its status before anything changes.
func (ro *rollout) check(ctx context.Context) (string, error) {
	for _, m := range ro.order {
		st, err := ro.a.instanceStatus(ctx, m)
		if err == nil {
			switch {
			case st.HandedOff:
				err = errors.New("it is handing off to a new process")
			case st.Busy:
				err = errors.New("it is busy with another stage, update or rollback")
			case !st.Release.Switchable:
				err = errors.New(st.Release.NotSwitchable)
			}
		}
		if err != nil {
			ro.emit(ctx, Event{Instance: m.Name, Step: StepCheck, Status: StatusFail, Error: err.Error()})
			return m.Name, stepError(StepCheck, err)
		}
		ro.running[m.Agent] = st.Commit
		ro.emit(ctx, Event{Instance: m.Name, Step: StepCheck, Status: StatusOK,
			Message: fmt.Sprintf("serving %s (pid %d)", shortHash(st.Commit), st.PID)})
	}
	return "", nil
}

// stage builds the target everywhere first, so that a build failure
// leaves every instance on the old commit.
func (ro *rollout) stage(ctx context.Context) (string, error) {
	t := ro.res.Target
	for _, m := range ro.order {
		if ro.running[m.Agent] == t.Hash {
			ro.emit(ctx, Event{Instance: m.Name, Step: StepStage, Status: StatusSkip, Message: "already serving " + t.Short()})
			continue
		}
		ro.emit(ctx, Event{Instance: m.Name, Step: StepStage, Status: StatusStart, Message: "fetch, build and verify " + t.Short()})
		start := time.Now()
		s, err := ro.a.stageOn(ctx, m, t)
		if err != nil {
			ro.emit(ctx, Event{Instance: m.Name, Step: StepStage, Status: StatusFail, Error: err.Error(), Took: time.Since(start)})
			return m.Name, stepError(StepStage, err)
		}
		msg := "built and verified " + s.Binary
		if s.Cached {
			msg = "already built: " + s.Binary
		}
		ro.emit(ctx, Event{Instance: m.Name, Step: StepStage, Status: StatusOK, Message: msg, Took: time.Since(start)})
	}
	return "", nil
}

// switchAll switches one instance at a time and waits for its health.
func (ro *rollout) switchAll(ctx context.Context) (string, error) {
	hash := ro.res.Target.Hash
	for _, m := range ro.order {
		old := ro.running[m.Agent]
		if old == hash {
			continue
		}
		ro.emit(ctx, Event{Instance: m.Name, Step: StepSwitch, Status: StatusStart, Message: "switch to " + shortHash(hash) + " and hand off"})
		start := time.Now()
		if err := ro.a.switchOn(ctx, m, hash); err != nil {
			ro.emit(ctx, Event{Instance: m.Name, Step: StepSwitch, Status: StatusFail,
				Message: "still serving " + shortHash(old), Error: err.Error(), Took: time.Since(start)})
			return m.Name, stepError(StepSwitch, err)
		}
		ro.emit(ctx, Event{Instance: m.Name, Step: StepSwitch, Status: StatusOK, Message: "handed off", Took: time.Since(start)})

		start = time.Now()
		if err := ro.a.waitCommit(ctx, m.APIURL, hash); err != nil {
			ro.emit(ctx, Event{Instance: m.Name, Step: StepHealth, Status: StatusFail, Error: err.Error(), Took: time.Since(start)})
			ro.rollback(ctx, m, hash, old)
			return m.Name, stepError(StepHealth, err)
		}
		ro.emit(ctx, Event{Instance: m.Name, Step: StepHealth, Status: StatusOK, Message: "serving " + shortHash(hash), Took: time.Since(start)})
	}
	return "", nil
}

// rollback asks the new process of m, serving hash, to go back to the
// previous release, and waits until prev serves again.
func (ro *rollout) rollback(ctx context.Context, m Member, hash, prev string) {
	ro.emit(ctx, Event{Instance: m.Name, Step: StepRollback, Status: StatusStart, Message: "back to " + shortHash(prev)})
	start := time.Now()
	c, err := ro.a.peer(m.Agent)
	if err == nil {
		cctx, cancel := context.WithTimeout(ctx, ro.a.opts.SwitchTimeout)
		err = c.rollback(cctx, hash)
		cancel()
	}
	if err == nil {
		err = ro.a.waitCommit(ctx, m.APIURL, prev)
	}
	if err != nil {
		ro.emit(ctx, Event{Instance: m.Name, Step: StepRollback, Status: StatusFail, Error: err.Error(), Took: time.Since(start)})
		return
	}
	ro.emit(ctx, Event{Instance: m.Name, Step: StepRollback, Status: StatusOK, Message: "serving " + shortHash(prev) + " again", Took: time.Since(start)})
}

// stepError prefixes err with the step unless its message starts with it.
func stepError(step string, err error) error {
	if strings.HasPrefix(err.Error(), step+": ") {
		return err
	}
	return fmt.Errorf("%s: %w", step, err)
}

// finish records the end time and the commit each instance serves.
func (a *Agent) finish(ctx context.Context, res *Result) {
	for _, m := range a.members.list() {
		ic := InstanceCommit{Name: m.Name, APIURL: m.APIURL}
		cctx, cancel := context.WithTimeout(ctx, DefaultCallTimeout)
		c, err := a.opts.Probe(cctx, m.APIURL)
		cancel()
		if err != nil {
			ic.Error = err.Error()
		} else {
			ic.Hash, ic.Branch, ic.CommittedAt, ic.Subject = c.Hash, c.Branch, c.CommitedAt, c.Subject
		}
		res.Instances = append(res.Instances, ic)
	}
	res.Finished = a.opts.Now()
}

func (a *Agent) instanceStatus(ctx context.Context, m Member) (*InstanceStatus, error) {
	c, err := a.peer(m.Agent)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultCallTimeout)
	defer cancel()
	return c.InstanceStatus(ctx)
}

func (a *Agent) stageOn(ctx context.Context, m Member, t Target) (*Staged, error) {
	c, err := a.peer(m.Agent)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.StageTimeout)
	defer cancel()
	return c.stage(ctx, t)
}

func (a *Agent) switchOn(ctx context.Context, m Member, hash string) error {
	c, err := a.peer(m.Agent)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.SwitchTimeout)
	defer cancel()
	return c.update(ctx, hash)
}

// waitCommit polls the API at apiURL until it reports hash, within
// HealthTimeout.
func (a *Agent) waitCommit(ctx context.Context, apiURL, hash string) error {
	ctx, cancel := context.WithTimeout(ctx, a.opts.HealthTimeout)
	defer cancel()
	t := time.NewTicker(healthInterval)
	defer t.Stop()
	var last string
	for {
		c, err := a.opts.Probe(ctx, apiURL)
		switch {
		case err == nil && c.Hash == hash:
			return nil
		case err == nil:
			last = "it reports " + shortHash(c.Hash)
		default:
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not serve %s within %s: %s", apiURL, shortHash(hash), a.opts.HealthTimeout, last)
		case <-t.C:
		}
	}
}
