// Package payment is paymentctl's domain logic: registering payments and
// saved cards after verifying them with the PG, look-ups guarded by the
// per-record password, full and partial cancels, and applying PG webhooks.
// The HTTP layer (package server) decodes and validates requests and maps
// the errors defined here to statuses; the storage layer (server/store)
// only stores; the PGs are reached through the small interfaces declared
// in vendor.go and portone.go, which the gateway clients satisfy, and
// picked per record by Gateways (stores.go).
//
// Decisions, and where they differ from the original payment-backend:
//
//   - Verification before writing. A payment is checked with its PG before
//     any row is written. A Toss payment still waiting for confirmation is
//     confirmed with the expected amount (Toss refuses a mismatch, and
//     nothing is captured).
//   - A paid payment of another amount than the expected price (Iamport,
//     a Toss one already captured, PortOne V2) is refused (422
//     amount_mismatch) and cancelled in full at the PG (refused.go): the
//     cancel is first recorded as a confirm operation in state
//     compensate, as a Toss capture whose registration failed is, and
//     made by the same code (cancelCapture, under the payment's lock, so
//     a payment registered meanwhile is left alone). A cancel that fails,
//     or whose answer is lost, leaves the operation for the reconciler,
//     which retries it: Toss with an Idempotency-Key derived from the
//     operation, Iamport by imp_uid after re-fetching the balance (sent as
//     amount and checksum), PortOne V2 with currentCancellableAmount, so
//     a retry never refunds twice. The refusal says the payment was
//     cancelled only when it was, and otherwise that the cancel will be
//     retried. A later registration of the payment is refused
//     (payment_not_paid). A payment that took nothing yet (a virtual
//     account not paid into, of Iamport or PortOne V2) is refused and
//     left alone; a Toss virtual account waiting for its deposit is
//     cancelled, so that it cannot be paid into.
//   - PortOne V2 (portone.go): the paymentId (vendor.uid) must be the
//     order's source.id and the payment of vendor.store_id, checked before
//     the PG is asked. Cancels send the balance as
//     currentCancellableAmount. Without a configured client (PortOne V2
//     off) a request naming it is refused (400).
//   - Cancels are serialised per payment and happen at most once per
//     request: each is recorded as an operation under the history's lock
//     before the PG is asked (with the balance as the PG's own guard), and
//     settled with the PG's answer in the transaction that stores it. A
//     call that may have acted without saying so (timeout, lost
//     connection, 5xx) is an operation of unknown outcome
//     (ErrOutcomeUnknown, 502/504): it is resolved by re-fetching the
//     payment before anything else touches it, so a retry returns the
//     first outcome instead of refunding again (cancel.go).
//     A PortOne V2 cancel taken as REQUESTED (an asynchronous PG) stays
//     unknown until PortOne shows it SUCCEEDED or FAILED; meanwhile other
//     cancels of the payment are refused (ErrCancelInProgress, 409)
//     before the PG is asked.
//   - A Toss registration is checked for everything that could refuse it
//     before it is confirmed; a capture the registration then fails to
//     record is cancelled at the PG, at once or by the reconciler.
//   - The reconciler (Reconcile, run as a River periodic job) re-fetches
//     what webhooks may have missed and settles operations of unknown
//     outcome, through the same code as a webhook (reconcile.go).
//   - cancelled_at is the time of the first cancel and never moves (the
//     original overwrote it with "now" on every update).
//   - Everything sensitive is sealed at rest (server/seal): PG payment,
//     saved-card and cancel objects, webhook snapshots and raw PG bodies,
//     each under its own keyring with the record id bound as additional
//     data. Record passwords are keyed hashes.
//   - Every PG call for a record uses the credentials of the record's
//     store, vendor.store_id: registration (verify, confirm, the cancel of
//     a wrong amount), cancel, re-fetch, reconciliation and webhook
//     processing, through Gateways. A webhook names only a payment; which
//     store it belongs to is the registered record's, never the body's.
//     A store the configuration refuses (real mode) is a 422
//     (ErrUnknownStore) before any row or PG call; a webhook or
//     reconciler job for such a record fails permanently.
//   - Tenancy (tenant.go): a request's service (WithService, set by the
//     server from its API key) owns what it registers; histories,
//     reservations and their sources are found for their own service only,
//     and another service's record is store.ErrNotFound before its password
//     is checked. Events are forwarded with the owning service's keys,
//     looked up when each delivery is made. Money events are appended to a
//     sealed audit trail in the transaction of the change (audit.go).
//   - PG webhooks are never trusted: the body only says which payment to
//     re-fetch. Processing runs as a stored job, keyed by that payment so
//     that a burst of webhooks about it shares one re-fetch per window
//     (server/webhook). An event is forwarded to the service only when the
//     re-fetched state differs from the stored one, so duplicate or forged
//     PG webhooks forward nothing; an API cancel forwards its own
//     {previous, current} event at once.
//   - A webhook for a payment not registered yet is kept (one per payment,
//     the latest) without asking the PG whether the payment exists, so
//     forged ids cost no PG call; a Toss deposit callback for an order
//     with no registered payment is kept by its order. The registration's
//     own PG fetch covers a webhook received before it; a later one is
//     replayed as a job. Kept webhooks whose payment is never registered
//     expire after store.DefaultPendingWebhookTTL (server sweeps them).
package payment
