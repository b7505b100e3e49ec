// Package server is paymentctl's HTTP API: the original payment-backend's
// 13 routes on gin, wire-compatible with its published TypeScript SDK,
// plus what assembles a running instance (App) from the configuration.
//
// The route table is router.go. Around the handlers, in order: the
// request log (requestlog.go: every request gets an X-Request-Id, carried
// by its context into every log line and the webhook jobs it causes, and
// one access line once answered), the monitor's request counter and the
// metrics, the one error mapper (errors.go: every
// domain, storage and PG error becomes a status there, with a plain JSON
// body shaped like NestJS's), panic recovery, the API key check
// (apikey.go: "Authorization: Bearer <key>" picks the calling service of
// config services.list, compared with every key's SHA-256 in constant time,
// 401 before anything else; no header is the default service with the
// top-level keys, unless services.require_key), the AES body middleware
// (body.go: requests and successful responses of the encrypted routes are,
// under the calling service's key and IV, AES-CBC text/plain, or AES-256-GCM when the request asks for it; one
// answer for every body that cannot be used, so there is no padding
// oracle; errors stay plain JSON, as the original's SDK expects), and Idempotency-Key handling on POST and PUT (idempotency.go,
// Stripe's semantics; replies are stored sealed for 24 hours).
//
// Handlers decode and validate (decode.go, typia-style messages; extra
// fields tolerated) and call the payment service (server/payment) through
// the small interfaces they declare. Every string must be valid UTF-8
// without control characters and within its field's bound (the table is
// in docs/design.md, "Hostile input"); a refusal quotes at most a few
// dozen characters of the value, and logged causes are cleaned and
// bounded. A registration's webhook_url must also pass the address policy
// of server/egress, which the delivery queue's dialer applies again. The
// throttle (throttle.go, on server/throttle) wraps the handlers that check
// a record password and the body middleware: a client address with too
// many wrong passwords for a record, or too many bodies that did not
// decrypt, gets 429 with Retry-After before anything is checked or
// decrypted. The client address is the connection's unless
// api.trusted_proxies names its proxy. The PG webhook receivers take
// bodies of at most 64 KB and store the event as a job before answering,
// so a webhook is never lost (server/webhook); PortOne V2's receiver first
// checks the Standard Webhooks signature on the raw body (401 and nothing
// stored without a valid one). GET /livez and GET /readyz
// (health.go) are Kubernetes-style probes: /readyz fails while the
// database, its schema or the webhook workers are not usable, and from
// App.SetDraining on.
//
// NewApp builds an instance: store (SQLite is migrated automatically, a
// PostgreSQL schema must be current), PG clients (one per configured
// store and one for the top-level credentials, resolved per record by
// gateways.go; in local mode the fake PGs run in process, every store
// reaches them with their own credentials, and their webhooks are wired
// back to this server),
// payment service, webhook queue, monitor and router. Start serves one on
// a loopback port: that is how paymentctl's own end-to-end tests run, and
// how a client service's Go tests can embed paymentctl:
//
//	cfg, _ := config.Load(config.LoadOptions{})            // local mode defaults
//	srv, _ := server.Start(ctx, server.Options{Config: cfg,
//		FakeIamportAddr: "127.0.0.1:0", FakeTossAddr: "127.0.0.1:0", FakePortOneAddr: "127.0.0.1:0"}, "")
//	defer srv.Close(ctx)
//	client, _ := sdk.New(sdk.Options{BaseURL: srv.URL, Key: …, IV: …})
//
// In a test, servertest.Start(t, nil) does all of that on free ports and
// a temporary SQLite file, and stops the server when the test ends.
package server
