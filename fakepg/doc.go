// Package fakepg holds the fake payment gateways of paymentctl: in-memory
// stand-ins for the Iamport (PortOne v1) and Toss Payments APIs, re-created in
// Go from samchon's fake-iamport-server and fake-toss-payments-server, and
// for the PortOne V2 API, which the official @portone/server-sdk drives
// unchanged (scripts/portone-compat checks it).
//
// # What they are for
//
//   - paymentctl's own tests mount a fake on httptest and point the gateway
//     client (gateway/iamport, gateway/toss, gateway/portone) at it.
//   - `paymentctl fake` runs the three with Start, Iamport and Toss on their
//     historical ports (10851, 30771) and PortOne V2 on 10861, for other
//     projects' tests and manual checks.
//   - `paymentctl serve` in local mode points its gateway base URLs at them.
//
// Production code reaches a gateway only through a base URL, so none of these
// uses needs a special code path in the server.
//
// # Shape
//
// Each fake (iamport.Server, toss.Server, portone.Server) is a plain
// http.Handler speaking the real wire types of gateway/<pg>. Everything is
// kept in memory and lost on restart. Shared parts live in subpackages:
//
//   - skeleton: the server frame all three are built on (routes and the
//     answer to unknown ones, fault middleware, webhook sender and target,
//     webhooks sent only once the answer is written, store settings);
//   - memstore: the bounded, expiring record store;
//   - hook: webhook delivery with retries on the real schedules and a record
//     of every attempt;
//   - fault: fault injection knobs, off by default.
//
// # Knobs
//
// Each fake's Options set credentials, the webhook target (also changeable
// with SetWebhookURL; "" records deliveries without sending them), record
// lifetime and capacity (3 h and 10,000 records by default, against the
// originals' 3 min and 1,000), the webhook retry schedule (the real one by
// default; tests shrink it with hook.Scale), a clock, a logger and the HTTP
// client for webhooks. Server.Faults returns a fault.Injector whose knobs may
// change while serving (Fakes.SetFaults sets every fake's): DeclineRate (card
// and billing payments are declined with the gateway's own error), Latency
// and ErrorRate (every API call), RouteLatency and DropResponse (calls of
// chosen routes are handled, then answered late or not at all), and
// WebhookDelay, WebhookDuplicate, WebhookReorder and WebhookDropRate
// (deliveries). Server.Webhooks exposes the deliveries for assertions.
//
// A test of the payment server that runs the fakes in process switches a
// fault on for one step like this:
//
//	cancel := fault.Route{Method: "POST", Path: "/v1/payments/*/cancel"}
//	app.Fakes.Toss.Faults().Set(fault.Faults{
//		RouteLatency: []fault.RouteLatency{{Route: cancel, Latency: time.Minute}},
//	})
//	defer app.Fakes.Toss.Faults().Set(fault.Faults{})
//
// # Where they differ from the originals
//
// The originals have known bugs (fake-pg.md §8) that a client tested against
// them would learn to depend on. These fakes side with the real APIs instead:
//
//   - Records expire when read after their lifetime and the oldest is evicted
//     at capacity; the originals cleaned up only on insert (§8.11).
//   - Webhooks leave after the state change is stored and the API answer is
//     written, are retried on errors and non-2xx answers, and every attempt is
//     recorded; the originals fired once, before answering, and swallowed
//     errors (§8.12).
//   - Success is HTTP 200 and errors use each gateway's own body and status,
//     not NestJS's 201 and {statusCode, message, error} (§8.13).
//   - Iamport: access tokens expire and are then refused with 401, "Bearer"
//     is accepted (§8.1, §8.6); cash receipts can be issued once and
//     cancelled (§8.2, §8.3); a partial cancel keeps the payment "paid" and
//     checksum is checked (§8.4); input fields are echoed and times are in
//     seconds (§8.5).
//   - Toss: approval requires a READY or IN_PROGRESS payment and
//     __approved: false is honoured for virtual accounts (§8.7); partial
//     cancels lower the balance and store PARTIAL_CANCELED (§8.8); orderName
//     is echoed, billing payments are of type BILLING and check the
//     customerKey (§8.9); Basic credentials are decoded whole (§8.10).
//
// Kept on purpose: the fake-only /internal routes (webhook self-sink, virtual
// account deposit), the default credentials and ports, and webhooks for API
// cancels, which samchon's payment-backend relies on. The subpackages'
// documentation owns the details, route by route.
package fakepg
