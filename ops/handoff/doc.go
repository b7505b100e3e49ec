// Package handoff restarts an HTTP server into a new binary without dropping
// requests: the listening socket is handed to the new process, and the old
// process drains before it exits.
//
// It wraps github.com/cloudflare/tableflip (v1.2.3). tableflip passes the
// listening socket to a fresh copy of argv[0], waits for that copy to report
// that it is ready, and only then tells the old process to exit. If the new
// copy crashes or stays unready past the upgrade timeout, the old process
// keeps the socket and keeps serving. This package adds two things: a
// readiness check that runs before the new process accepts anything, and an
// HTTP drain in the old process.
//
// # Use
//
//	hs, err := handoff.New(handoff.Options{PIDFile: "/run/paymentctl/paymentctl.pid", Ready: handoff.HandlerProbe(router, "/readyz"), OnDrain: app.SetDraining})
//	ln, err := hs.Listen("tcp", "127.0.0.1:37001") // inherited after an upgrade, new otherwise
//	err = hs.Serve(ctx, &http.Server{Handler: router}, ln)
//	// return from main now: the next upgrade waits for this process to exit
//
// New may be called once per process, as tableflip allows only one upgrader.
// Serve handles SIGHUP (upgrade) and SIGINT/SIGTERM (graceful stop). An
// updater can also call Upgrade, which returns the new process's failure.
//
// # Sequence of one upgrade
//
//  1. SIGHUP or Upgrade in the old process. Only one upgrade runs at a time.
//     A second call gets ErrUpgradeInProgress. If the old process was itself
//     started by an upgrade, Upgrade first waits for its own parent to exit,
//     because tableflip refuses to upgrade while two generations are alive.
//  2. tableflip starts whatever file is at argv[0] now (through
//     exec.LookPath(os.Args[0]), in the first process's working directory),
//     with the same arguments and environment, and passes it the socket. The
//     updater therefore replaces the binary at that path first (rename over
//     it). argv[0] must name a real file: "go run" does not work.
//  3. The new process calls Listen with the same network and address string
//     and gets the inherited socket. In Serve it runs Options.Ready before it
//     accepts a single connection. Then it starts serving, writes the PID file
//     and signals tableflip that it is ready. A readiness failure makes Serve
//     return an error, and the process should exit non-zero.
//  4. The old process's Upgrade returns nil. Serve in the old process then
//     drains. It closes its copy of the listener. The socket stays open in
//     the new process, so no connection is refused. It marks every further
//     response "Connection: close", waits DrainWindow, and calls
//     http.Server.Shutdown bounded by ShutdownTimeout. Serve returns nil.
//     SIGINT, SIGTERM and ctx run the same drain, with nobody left to accept.
//  5. If the new process exits before it is ready, or is not ready within
//     ReadyTimeout (tableflip then kills it), Upgrade returns and logs the
//     error and the old process keeps serving. The binary at argv[0] is still
//     the bad one, so the updater must put the previous one back. A new
//     process that fails on its way up says why with ReportStartFailure (a
//     file named in its environment by the old process), and Upgrade's
//     error carries that reason rather than only "exit status 1".
//
// # Why the drain matters
//
// Handing over the socket removes refused connections but not the failures
// inside the old process. HTTP/1.1 keep-alive clients keep sending on
// connections to the old process. http.Server.Shutdown closes idle
// connections, and a client that is just writing a request on one of them
// gets EOF or a reset (golang/go#23829). A connection that was accepted just
// before Shutdown, but whose request is read after it started, is closed
// without a response (golang/go#75591). Go's client retries neither case for
// a POST without an Idempotency-Key. Measured on this project's machines
// (ops-anchors.md §3.3): tableflip with a plain Shutdown failed 9–16 POSTs per
// 10 upgrades. Closing the listener, answering with "Connection: close" for
// about a second, and only then calling Shutdown failed 0 in 26 upgrades
// (about 173k POSTs). During the drain, every connection that carries a
// request gets a response that tells the client to stop reusing it. The
// connections that remain are idle and unused for the whole window, so the
// race with Shutdown can hit only a client that reaches for a connection it
// has left idle that long.
//
// # Why a handler wrapper and not SetKeepAlivesEnabled(false)
//
// http.Server.SetKeepAlivesEnabled(false) also closes all idle connections at
// once. That is the same race the drain exists to avoid, only moved earlier.
// Serve instead wraps srv.Handler. While draining, the wrapper sets
// "Connection: close" on the response. net/http then closes that connection
// after the response, and the client sees the header and does not reuse it.
// Idle connections stay open until they carry one more request or until
// Shutdown. The drain is an HTTP/1.1 mechanism. HTTP/2 connections get a
// GOAWAY from Shutdown.
//
// # systemd
//
// deploy/systemd/paymentctl.service (in the repository and the release
// archives) is the unit to start from. systemd tracks the process through
// PIDFile= (tableflip writes it when a process becomes ready, before the
// old one exits). ExecReload= sends SIGHUP. "systemctl reload"
// upgrades. "systemctl restart" stops and starts, which is downtime. Reload
// only sends the signal and does not wait for the result, so read the log, or
// let the updater call Upgrade. KillMode stays control-group, so "systemctl
// stop" sends SIGTERM to both generations while one is still draining, and
// each stops gracefully. TimeoutStopSec must exceed DrainWindow +
// ShutdownTimeout.
//
// # Tests
//
// acceptance_test.go builds testdata/handoffserver, a minimal server on this
// package. It runs POST load from keep-alive and non-keep-alive clients, with
// no retries. Under that load it upgrades by SIGHUP three times, then swaps in
// a binary that exits before it is ready and one that never becomes ready,
// then upgrades once more. It requires zero failed requests and logs the
// counts. With the drain disabled, the same test saw 9 failures in 4 upgrades.
//
// # Limits
//
// Established connections are not moved: the old process finishes them.
// A long request delays the old process's exit, and with it the next upgrade
// (tableflip's model is one old and one new process). Linux and macOS only:
// on Windows New fails with tableflip.ErrNotSupported.
package handoff
