package updater

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
)

// instanceVerb refuses changes after a handoff and runs one at a time.
func (a *Agent) instanceVerb(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.handedOff.Load() {
			writeError(w, http.StatusServiceUnavailable, errors.New("this process has handed off to a new one; retry"))
			return
		}
		if !a.busy.TryLock() {
			writeError(w, http.StatusConflict, errors.New("this instance is busy with another stage, update or rollback"))
			return
		}
		defer a.busy.Unlock()
		h(w, r)
	}
}

func (a *Agent) handleInstance(w http.ResponseWriter, _ *http.Request) {
	busy := !a.busy.TryLock()
	if !busy {
		a.busy.Unlock()
	}
	writeJSON(w, InstanceStatus{
		Name:      a.opts.Name,
		PID:       a.opts.PID,
		Commit:    a.opts.Commit,
		Version:   a.opts.Version,
		Release:   a.opts.Releases.State(),
		HandedOff: a.handedOff.Load(),
		Busy:      busy,
	})
}

func (a *Agent) handleStage(w http.ResponseWriter, r *http.Request) {
	var t Target
	if !readJSON(w, r, &t) {
		return
	}
	if !validHash(t.Hash) {
		writeError(w, http.StatusBadRequest, fmt.Errorf("%q is not a full commit hash", t.Hash))
		return
	}
	a.log.Info("updater: staging", "commit", t.Short(), "branch", t.Branch)
	s, err := a.opts.Releases.Stage(r.Context(), t)
	if err != nil {
		a.log.Error("updater: stage failed", "commit", t.Short(), "error", err)
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, s)
}

func (a *Agent) handleSwitch(w http.ResponseWriter, r *http.Request) {
	var req hashRequest
	if !readJSON(w, r, &req) {
		return
	}
	if !validHash(req.Hash) {
		writeError(w, http.StatusBadRequest, fmt.Errorf("%q is not a full commit hash", req.Hash))
		return
	}
	a.log.Info("updater: switching", "from", shortHash(a.opts.Commit), "to", shortHash(req.Hash))
	if err := a.opts.Releases.Switch(r.Context(), req.Hash); err != nil {
		a.log.Error("updater: switch failed; still serving", "commit", shortHash(a.opts.Commit), "error", err)
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	a.Retire()
	writeJSON(w, struct{}{})
}

func (a *Agent) handleRollback(w http.ResponseWriter, r *http.Request) {
	var req hashRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.Hash != a.opts.Commit {
		writeError(w, http.StatusConflict, fmt.Errorf("this process runs %s, not %s", shortHash(a.opts.Commit), shortHash(req.Hash)))
		return
	}
	a.log.Warn("updater: rolling back", "from", shortHash(req.Hash))
	if err := a.opts.Releases.Rollback(r.Context(), req.Hash); err != nil {
		a.log.Error("updater: rollback failed", "error", err)
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	a.Retire()
	writeJSON(w, struct{}{})
}

func (a *Agent) handleRegister(w http.ResponseWriter, r *http.Request) {
	var reg registration
	if !readJSON(w, r, &reg) {
		return
	}
	if reg.Name == "" || !validPort(reg.AgentPort) || !validPort(reg.APIPort) {
		writeError(w, http.StatusBadRequest, errors.New("registration needs a name, an agent port and an API port"))
		return
	}
	remote, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		remote = r.RemoteAddr
	}
	agentHost, apiHost := reg.AgentHost, reg.APIHost
	if agentHost == "" {
		agentHost = remote
	}
	if apiHost == "" {
		apiHost = remote
	}
	m := Member{
		Name:   reg.Name,
		Agent:  net.JoinHostPort(agentHost, strconv.Itoa(reg.AgentPort)),
		APIURL: "http://" + net.JoinHostPort(apiHost, strconv.Itoa(reg.APIPort)),
		PID:    reg.PID,
		Commit: reg.Commit,
	}
	if a.members.register(m) {
		a.log.Info("updater: slave joined", "name", m.Name, "agent", m.Agent, "api", m.APIURL, "commit", shortHash(m.Commit), "pid", m.PID)
	}
	writeJSON(w, registered{TTL: a.opts.MemberTTL})
}

func (a *Agent) handleMembers(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, a.members.list())
}

func validPort(p int) bool { return p > 0 && p < 65536 }

// readJSON decodes the request body into v, answering 400 on failure.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("bad request body: %w", err))
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorAnswer{Error: err.Error()})
}
