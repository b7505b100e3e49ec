package updater

import (
	"fmt"
	"time"
)

// The verbs, as request paths. The master answers the first four; every
// agent, the master included, answers the instance verbs and the operator
// verbs (operator.go). There is no other path and no verb that runs a
// command given by the caller.
const (
	pathRegister = "/v1/register" // POST registration: a slave joins or renews
	pathMembers  = "/v1/members"  // GET: the member list
	pathUpdate   = "/v1/update"   // POST UpdateRequest: run a rollout, stream Events
	pathStatus   = "/v1/status"   // GET: the running or last rollout

	pathInstance         = "/v1/instance"          // GET: InstanceStatus
	pathInstanceStage    = "/v1/instance/stage"    // POST Target: fetch, build, verify
	pathInstanceUpdate   = "/v1/instance/update"   // POST hashRequest: switch and hand off
	pathInstanceRollback = "/v1/instance/rollback" // POST hashRequest: back to the previous release
)

// ndjson is the media type of the update stream: one JSON Event a line.
const ndjson = "application/x-ndjson"

// maxRequestBody bounds a request body; every verb's body is a few
// hundred bytes.
const maxRequestBody = 64 << 10

// Target is the revision a rollout deploys, resolved once by the master.
type Target struct {
	// Ref is what was asked for ("" for the default branch).
	Ref string `json:"ref"`
	// Hash is the full commit hash every instance builds.
	Hash string `json:"hash"`
	// Branch is stamped into the binaries; empty for a tag or a bare hash.
	Branch string `json:"branch"`
}

// Short returns the first seven digits of the hash.
func (t Target) Short() string { return shortHash(t.Hash) }

// shortHash abbreviates a commit hash to seven digits.
func shortHash(h string) string {
	if len(h) > 7 {
		return h[:7]
	}
	return h
}

// Member is an instance known to the master.
type Member struct {
	// Name identifies the instance in progress and results: its host name
	// and API port unless configured.
	Name string `json:"name"`
	// Agent is the host:port of the instance's updater agent.
	Agent string `json:"agent"`
	// APIURL is the base URL of the instance's payment API.
	APIURL string `json:"api_url"`
	// Master is set on the master's own entry.
	Master bool `json:"master,omitempty"`
	// PID and Commit are the serving process and its commit when it last
	// registered.
	PID    int    `json:"pid"`
	Commit string `json:"commit"`
	// LastSeen is when it last registered (the master: now).
	LastSeen time.Time `json:"last_seen"`
	// firstSeen orders the slaves.
	firstSeen time.Time
}

// registration is the body of a slave's register verb. The master takes
// the host from the connection when AgentHost or APIHost is empty.
type registration struct {
	Name      string `json:"name"`
	AgentHost string `json:"agent_host,omitempty"`
	AgentPort int    `json:"agent_port"`
	APIHost   string `json:"api_host,omitempty"`
	APIPort   int    `json:"api_port"`
	PID       int    `json:"pid"`
	Commit    string `json:"commit"`
}

// registered is the master's answer to a registration.
type registered struct {
	// TTL is how long the entry lives without a renewal.
	TTL time.Duration `json:"ttl_ns"`
}

// UpdateRequest asks the master for a rollout.
type UpdateRequest struct {
	// Ref is the git ref to deploy; empty means the branch the master's
	// repository is on (its upstream, after a fetch, when it has one).
	Ref string `json:"ref"`
	// By says who asked (user@host); it is logged and shown to anyone
	// refused while this rollout runs.
	By string `json:"by"`
}

// hashRequest is the body of the instance update and rollback verbs.
type hashRequest struct {
	Hash string `json:"hash"`
}

// InstanceStatus is an agent's answer to the status verb.
type InstanceStatus struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
	// Commit is the hash the serving binary was built from.
	Commit  string `json:"commit"`
	Version string `json:"version"`
	// Release is the state of the release directory.
	Release ReleaseState `json:"release"`
	// HandedOff is set once this process has handed its sockets to a new
	// one; it then refuses every instance verb but status.
	HandedOff bool `json:"handed_off"`
	// Busy is set while a stage, update or rollback runs here.
	Busy bool `json:"busy"`
}

// ReleaseState describes an instance's release directory.
type ReleaseState struct {
	Dir string `json:"dir"`
	// Current and Previous are the hashes the current and previous links
	// point at ("" when missing).
	Current  string `json:"current"`
	Previous string `json:"previous"`
	// Executable is the path the server re-executes on a handoff.
	Executable string `json:"executable"`
	// Switchable says whether Executable goes through the current link,
	// so that re-pointing the link changes the binary a handoff starts;
	// NotSwitchable says why not.
	Switchable    bool   `json:"switchable"`
	NotSwitchable string `json:"not_switchable,omitempty"`
}

// Staged is the result of staging a release on an instance.
type Staged struct {
	// Binary is the verified binary, <releases>/<hash>/paymentctl.
	Binary string `json:"binary"`
	// Cached is set when the release was already built and verified.
	Cached bool `json:"cached"`
	// Took is how long fetching, building and verifying took.
	Took time.Duration `json:"took_ns"`
}

// Steps of a rollout, in Event.Step.
const (
	StepResolve  = "resolve"  // the master resolves the ref to a commit
	StepCheck    = "check"    // each instance is reachable and switchable
	StepStage    = "stage"    // fetch, build and verify on an instance
	StepSwitch   = "switch"   // re-point current and hand off the socket
	StepHealth   = "health"   // the new process serves the target commit
	StepRollback = "rollback" // back to the previous release
	StepDone     = "done"     // the last event; it carries the Result
)

// Statuses of an Event.
const (
	StatusStart = "start"
	StatusOK    = "ok"
	StatusFail  = "fail"
	StatusSkip  = "skip"
	StatusInfo  = "info"
)

// Event is one line of the update stream: a step of the rollout on one
// instance (or on the master, when Instance is empty).
type Event struct {
	Time     time.Time     `json:"time"`
	Instance string        `json:"instance,omitempty"`
	Step     string        `json:"step"`
	Status   string        `json:"status"`
	Message  string        `json:"message,omitempty"`
	Error    string        `json:"error,omitempty"`
	Took     time.Duration `json:"took_ns,omitempty"`
	// Result is set on the last event, Step StepDone.
	Result *Result `json:"result,omitempty"`
}

// Result is the outcome of a rollout.
type Result struct {
	OK     bool   `json:"ok"`
	Target Target `json:"target"`
	By     string `json:"by"`
	// Started and Finished bound the rollout.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Failed names the instance where the rollout stopped, and Error why.
	Failed string `json:"failed,omitempty"`
	Error  string `json:"error,omitempty"`
	// Instances lists the commit each instance serves at the end.
	Instances []InstanceCommit `json:"instances"`
}

// InstanceCommit is the commit an instance's API reports.
type InstanceCommit struct {
	Name        string `json:"name"`
	APIURL      string `json:"api_url"`
	Hash        string `json:"hash"`
	Branch      string `json:"branch"`
	CommittedAt string `json:"committed_at"`
	Subject     string `json:"subject"`
	// Error is set when the instance did not answer.
	Error string `json:"error,omitempty"`
}

// Holder describes the rollout that holds the cluster's update lock.
type Holder struct {
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	By      string    `json:"by"`
	Ref     string    `json:"ref"`
}

// BusyError is the master's refusal of an update while another runs.
type BusyError struct {
	Holder Holder
}

// Error says who runs the update and since when.
func (e *BusyError) Error() string {
	by := e.Holder.By
	if by == "" {
		by = "an unknown user"
	}
	return fmt.Sprintf("an update is already running, started at %s by %s",
		e.Holder.Started.Local().Format("2006-01-02 15:04:05 MST"), by)
}

// busyAnswer is the JSON body of a 409 answer to the update verb.
type busyAnswer struct {
	Error  string `json:"error"`
	Holder Holder `json:"holder"`
}

// MasterStatus is the master's answer to the status verb.
type MasterStatus struct {
	// Running is the holder of the update lock, if a rollout runs.
	Running *Holder `json:"running,omitempty"`
	// Events are those of the running rollout, or of the last one this
	// process ran.
	Events []Event `json:"events,omitempty"`
	// Last is the result of the last rollout this process finished.
	Last    *Result  `json:"last,omitempty"`
	Members []Member `json:"members"`
}

// errorAnswer is the JSON body of every other error answer.
type errorAnswer struct {
	Error string `json:"error"`
}
