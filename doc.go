// Package paymentctl is the root of the paymentctl module: an integrated
// payment server for micro-service backends, shipped as one binary that is
// also its own operations tool. This package holds no code; it documents
// the layout and hosts the repository-wide tests (every package and
// exported name documented).
//
// The packages, each importing only those below it. The PG wire packages
// (gateway/...) sit below server because the server, the fakes, the SDK
// and the operations tools all speak them:
//
//	cmd/paymentctl          the binary: one file per subcommand (serve, schema, update, monitor, reset, reconcile, webhooks, audit, fake, config, version)
//	config                  the typed Config: defaults < file < .env < environment < flags; validation; masking
//	buildinfo               version, commit and date stamped by the linker
//	server                  the gin HTTP API, its AES body middleware and handlers
//	server/throttle         lockouts after wrong record passwords and undecryptable bodies
//	server/store            storage on PostgreSQL and SQLite: gorm, the hot paths hand-written
//	server/seal             at-rest encryption (AES-256-GCM with key ids) and record-password hashing
//	gateway/iamport         wire types and Go client of the Iamport (PortOne v1) API
//	gateway/toss            wire types and Go client of the Toss Payments API
//	gateway/portone         wire types and Go client of the PortOne V2 API, and its webhook verifier
//	fakepg/...              fake Iamport, Toss and PortOne V2 servers as plain http.Handlers
//	wirecrypt               the original's AES-CBC body format, shared by server, SDK and ops
//	ops/...                 socket handoff, updater, monitor, schema bootstrap, reset
//	migrations              versioned SQL for both databases
//	sdk                     the Go client of the payment API
//	openapi                 the OpenAPI 3.1 document of the API, served at GET /openapi.json
//	openapi/openapitest     checks of Go types and HTTP traffic against it, for tests
//
// Design decisions are recorded in the package documentation of the
// package they concern and in docs/.
package paymentctl
