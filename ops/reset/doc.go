// Package reset rebuilds a local or dev deployment from scratch: the
// original's `npm run reset:dev` (git pull, build, stop, reset the
// database through the test program, restart the updater and the
// server), behind `paymentctl reset <local|dev>`.
//
// # Steps
//
// Run executes six steps in order and prints one line per step with its
// outcome and duration; the first failure stops the rest and is returned
// as a *StepError naming the step:
//
//  1. pull: `git pull --ff-only` in updator.repo (skippable).
//  2. build: stage the commit now checked out with the updater's Releases
//     (<releases>/<hash>/paymentctl, built with the version stamps and
//     checked with `version --json`) and point <releases>/current at it
//     (skippable).
//  3. stop: if the PID file (<releases>/paymentctl.pid) names a live
//     paymentctl, send it SIGTERM and wait, bounded, for its graceful
//     drain to end; a missing or stale PID file means nothing runs.
//  4. schema: River's tables down to nothing, the app's migrations down to
//     version zero, then both up again (RecreateSchema), on SQLite or on
//     the PostgreSQL schema of the configured DSN.
//  5. seed: run the payment flows against fake PGs through an instance
//     started in process on the same database, as a service would (Seed),
//     and print the records made and their password, SamplePassword.
//  6. start: run <releases>/current/paymentctl serve --pid-file <pid file>
//     detached, output to <releases>/paymentctl.log, and wait, bounded,
//     until it has written its PID and /monitors/health answers
//     (skippable). The updater agent runs inside serve, so this restarts
//     it too.
//
// Real mode is refused, and so is a mode other than the configuration's:
// the database and the release directory a reset drops and rebuilds are
// the configuration's.
package reset
