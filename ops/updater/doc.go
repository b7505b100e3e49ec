// Package updater rolls a new revision out to every paymentctl instance of
// a deployment without downtime: the master/slave agents behind
// `paymentctl update <mode>`.
//
// # Agents
//
// Every `paymentctl serve` runs an Agent: a small HTTP server on
// updator.port whose socket, like the API's, is inherited across handoffs
// (ops/handoff). An agent with no updator.master is the master. A slave
// registers with its master at start and every Heartbeat (2 s), sending its
// name, PID, commit and the ports of its agent and API; the master takes the
// host from the connection unless one is configured. The master keeps the
// member list, itself first and then the slaves in the order they joined,
// forgets a slave silent for MemberTTL (10 s), and saves the list in its
// state directory (<releases>/members.json), so that its successor after
// its own handoff knows the slaves at once.
//
// # Authentication
//
// Every request, from the CLI to the master and between the master and the
// slaves, is signed with HMAC-SHA256 under a key derived from
// system.password with HKDF-SHA256 and a fixed label; the password never
// goes on the wire. The signature covers the method, the path and query,
// a Unix timestamp, a random 128-bit nonce and the SHA-256 of the body.
// Verifier refuses timestamps more than MaxSkew (60 s) away, nonces seen
// within the window (a cache bounded in time and size, which only requests
// with a valid signature enter), and compares in constant time. Responses
// are not signed and the channel is not encrypted: run it on a private
// network. The verbs are fixed; none runs a command given by the caller:
//
//	master:   register, members, update {ref, by}, status
//	instance: status, stage {hash, branch}, update {hash}, rollback {hash}
//	operator: deliveries {mode, limit}, deliveries/retry {mode, event_id,
//	          wait}, audit {mode, history}
//
// The operator verbs (operator.go) serve `paymentctl webhooks` and `audit`:
// any agent answers them from the Operator serve injects (the server's
// queue, store and audit trail), metadata only, never a body, a password,
// card data or a list of payments. The commands ask the mode's master and
// read the database directly when nothing listens there. The interface and
// its plain types live here, so that this package imports nothing of
// server.
//
// stage is kept apart from the instance's update so that a rollout builds
// everywhere before it switches anywhere.
//
// # Rollout
//
// The master takes the update lock: in memory, and as <releases>/update.lock
// holding its PID, so that its successor refuses a new update while it
// finishes the current one. A second update is refused at once with a
// BusyError naming who started the running one and when. Then:
//
//  1. resolve: `git fetch` and `git rev-parse` in the master's repository,
//     once: the ref asked for, or the branch the repository is on (its
//     upstream when it has one);
//  2. check: every member answers, is not busy, and runs through
//     <releases>/current (ReleaseState.Switchable);
//  3. stage, on every instance in turn: fetch the commit if missing,
//     export it with `git archive` into a fresh directory (the working tree
//     is never touched), `go build -trimpath` with buildinfo.LDFlags,
//     check that `<binary> version --json` reports the hash, and move it to
//     <releases>/<hash>/paymentctl. A build or check failure stops the
//     rollout here, before any instance switched: all of them stay on the
//     old commit;
//  4. switch, one instance at a time, slaves in join order and the master
//     last: point <releases>/previous at the old release and
//     <releases>/current at the new one (symlink made aside and renamed over
//     the old), and call handoff.Server.Upgrade. tableflip re-executes
//     exec.LookPath(os.Args[0]), which goes through the current link, so
//     the new process runs the new binary. If it fails to start or to
//     become ready, Upgrade fails, the old process keeps serving, the link
//     is put back, and the rollout stops;
//  5. health: the master polls the instance's GET /monitors/system over new
//     connections until it reports the target hash (HealthTimeout, 60 s).
//     If it does not, the master sends rollback to the instance's agent,
//     which is now the new process's: it points current back at previous
//     and hands off again; the rollout stops.
//
// Instances switched before a failure keep the new commit: both commits
// run against the same database during any rollout anyway (migrations are
// expand/contract), and `paymentctl update <mode> --ref <old>` goes back.
// The last event carries the Result: the commit each instance serves.
//
// # The master updates itself last
//
// The rollout's state (the lock, the member list, the progress stream to
// the CLI) lives in the master's process. Updated last, the master has
// nothing left to orchestrate when it hands off but its own health check
// and the summary, which the old process can still do: after Upgrade
// returns, its agent closes its copy of the listener (the successor's agent
// answers there now) and stops registering, but it keeps the update
// stream open; serve's shutdown waits for the rollout, bounded, before the
// old process exits. The successor loads the member list and sees the
// predecessor's lock file until it is released.
//
// # Progress
//
// The update verb answers with newline-delimited JSON Events, one per step
// and instance, flushed as they happen. The rollout runs on the master
// whatever happens to the request: a CLI that goes away does not stop it,
// and status shows its events.
package updater
